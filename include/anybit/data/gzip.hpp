// anybit/data/gzip.hpp — decodes a gzip file (RFC 1952): header, DEFLATE body, and the CRC-32
// and size check of the trailer.
//
// One member only (what `gzip` writes for one file); anything after it is an error rather than
// silently ignored data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/core/error.hpp"
#include "anybit/core/crc32.hpp"
#include "anybit/data/hex.hpp"
#include "anybit/data/inflate.hpp"

namespace anybit {

/// True if the bytes start with the gzip magic 1f 8b.
inline bool is_gzip(const std::uint8_t* data, std::size_t size) noexcept {
  return size >= 2 && data[0] == 0x1F && data[1] == 0x8B;
}

namespace data_detail {

inline format_error gzip_error(const std::string& source, std::size_t offset, const std::string& what) {
  return format_error(detail::message("anybit: ", source, ": ", what, " at byte offset ", offset));
}

// Offset of the first byte after the zero-terminated field starting at `pos`.
inline std::size_t skip_zero_terminated(const std::uint8_t* data, std::size_t size, std::size_t pos,
                                        const std::string& source, const char* field) {
  for (std::size_t i = pos; i < size; ++i) {
    if (data[i] == 0) return i + 1;
  }
  throw gzip_error(source, size, detail::message("input ends inside the gzip header's ", field));
}

// Checks the gzip header (magic, method, flags, optional fields, header CRC) and returns the
// offset of the DEFLATE body after it.
inline std::size_t gzip_body_offset(const std::uint8_t* data, std::size_t size, const std::string& source) {
  if (!is_gzip(data, size)) {
    throw gzip_error(source, 0,
                     detail::message("not gzip data: starts with ", size > 0 ? hex(data[0], 2) : "(nothing)", " ",
                                     size > 1 ? hex(data[1], 2) : "", ", expected 0x1F 0x8B"));
  }
  constexpr std::size_t fixed_header = 10;
  if (size < fixed_header) throw gzip_error(source, size, "input ends inside the 10-byte gzip header");
  if (data[2] != 8) throw gzip_error(source, 2, detail::message("compression method ", int{data[2]}, ", expected 8 (deflate)"));
  const std::uint8_t flags = data[3];
  constexpr std::uint8_t header_crc = 0x02, extra = 0x04, name = 0x08, comment = 0x10, reserved = 0xE0;
  if ((flags & reserved) != 0) {
    throw gzip_error(source, 3, detail::message("reserved gzip header flags ", hex(static_cast<unsigned>(flags & reserved), 2), " are set"));
  }

  std::size_t pos = fixed_header;
  if ((flags & extra) != 0) {
    if (size - pos < 2) throw gzip_error(source, size, "input ends inside the gzip extra field length");
    const std::size_t extra_length = std::size_t{data[pos]} | std::size_t{data[pos + 1]} << 8;
    pos += 2;
    if (size - pos < extra_length) {
      throw gzip_error(source, size, detail::message("input ends inside the ", extra_length, "-byte gzip extra field"));
    }
    pos += extra_length;
  }
  if ((flags & name) != 0) pos = skip_zero_terminated(data, size, pos, source, "file name");
  if ((flags & comment) != 0) pos = skip_zero_terminated(data, size, pos, source, "comment");
  if ((flags & header_crc) != 0) {
    if (size - pos < 2) throw gzip_error(source, size, "input ends inside the gzip header CRC");
    const std::uint32_t stored = std::uint32_t{data[pos]} | std::uint32_t{data[pos + 1]} << 8;
    const std::uint32_t computed = crc32(data, pos) & 0xFFFFu;
    if (stored != computed) {
      throw gzip_error(source, pos, detail::message("gzip header CRC ", hex(stored, 4), " does not match the header (",
                                                    hex(computed, 4), ")"));
    }
    pos += 2;
  }
  return pos;
}

}  // namespace data_detail

/// Decodes a single-member gzip stream, verifying the header, the CRC-32 and the stored size.
/// Throws format_error naming `source`, the problem and its byte offset if the input is not
/// gzip, is malformed or truncated, fails a check, has bytes after the member, or would decode
/// to more than `max_output` bytes.
inline std::vector<std::uint8_t> gunzip(const std::uint8_t* data, std::size_t size, std::size_t max_output,
                                        const std::string& source = "gzip stream", inflate_stats* stats = nullptr) {
  using data_detail::gzip_error;
  const std::size_t pos = data_detail::gzip_body_offset(data, size, source);

  // The trailer's size field (mod 2^32) sizes the output buffer; it is checked at the end.
  const std::size_t size_hint = size - pos >= 8 ? detail::load_le32(data + size - 4) : 0;
  inflate_result body = data_detail::inflater(data, size, pos, max_output, source).run(size_hint, stats);

  const std::size_t end = body.end_offset;
  if (size - end < 8) throw gzip_error(source, size, "input ends inside the 8-byte gzip trailer (CRC-32 and size)");
  const std::uint32_t stored_crc = detail::load_le32(data + end);
  const std::uint32_t computed_crc = crc32(body.bytes.data(), body.bytes.size());
  if (stored_crc != computed_crc) {
    throw gzip_error(source, end, detail::message("CRC-32 mismatch: the trailer says ", data_detail::hex(stored_crc, 8),
                                                  ", the decoded data gives ", data_detail::hex(computed_crc, 8)));
  }
  const std::uint32_t stored_size = detail::load_le32(data + end + 4);
  if (stored_size != static_cast<std::uint32_t>(body.bytes.size())) {
    throw gzip_error(source, end + 4, detail::message("size mismatch: the trailer says ", stored_size,
                                                      " bytes (mod 2^32), decoded ", body.bytes.size()));
  }
  if (end + 8 != size) {
    throw gzip_error(source, end + 8, detail::message(size - end - 8, " bytes follow the gzip member, expected none (",
                                                      "multi-member gzip is not supported)"));
  }
  return std::move(body.bytes);
}

}  // namespace anybit
