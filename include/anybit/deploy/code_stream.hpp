// anybit/deploy/code_stream.hpp — b-bit codes stored densely, as a model file holds its weights.
//
// Code i occupies bits [i * b, (i + 1) * b) of the stream, least significant bit first; stream
// bit j is bit j % 8 of byte j / 8. So n codes of b bits take ceil(n * b / 8) bytes, and the
// bits after the last code in the last byte are zero.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"

namespace anybit::deploy {

/// Bytes of `count` codes of `bits` bits.
constexpr std::size_t code_stream_bytes(std::size_t count, int bits) noexcept {
  return (count * static_cast<std::size_t>(bits) + 7) / 8;
}

/// Appends the stream of `count` codes (each < 2^bits: the caller checked) to `out`.
inline void append_code_stream(const std::uint8_t* codes, std::size_t count, int bits, std::vector<std::uint8_t>& out) {
  std::uint32_t pending = 0;  // stream bits not yet written, lowest first
  int held = 0;
  out.reserve(out.size() + code_stream_bytes(count, bits));
  for (std::size_t i = 0; i < count; ++i) {
    pending |= static_cast<std::uint32_t>(codes[i]) << held;
    held += bits;
    for (; held >= 8; held -= 8, pending >>= 8) out.push_back(static_cast<std::uint8_t>(pending & 0xFFu));
  }
  if (held > 0) out.push_back(static_cast<std::uint8_t>(pending));
}

/// The `count` codes of `bits` bits in the code_stream_bytes(count, bits) bytes at `bytes`.
/// Throws format_error if a padding bit after the last code is set (a corrupt stream).
inline std::vector<std::uint8_t> read_code_stream(const std::uint8_t* bytes, std::size_t count, int bits) {
  std::vector<std::uint8_t> codes(count);
  const std::uint32_t mask = max_code(bits);
  std::uint32_t pending = 0;
  int held = 0;
  std::size_t next = 0;
  for (std::size_t i = 0; i < count; ++i) {
    for (; held < bits; held += 8) pending |= static_cast<std::uint32_t>(bytes[next++]) << held;
    codes[i] = static_cast<std::uint8_t>(pending & mask);
    pending >>= bits;
    held -= bits;
  }
  if (pending != 0) {
    throw format_error(detail::message("anybit: code stream of ", count, " ", bits, "-bit codes has padding bits ", pending,
                                       " after its last code, expected zeros"));
  }
  return codes;
}

}  // namespace anybit::deploy
