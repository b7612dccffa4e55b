// anybit/data/inflate.hpp — a DEFLATE (RFC 1951) decoder: stored, fixed- and dynamic-Huffman
// blocks.
//
// Written here so that reading gzip'd datasets needs no zlib. Huffman codes are decoded with
// two-level lookup tables (a first level indexed by the next 10 bits, sub-tables for longer
// codes), so a symbol costs one or two loads, never a walk down a tree. Every read is checked:
// malformed or truncated input throws format_error naming the problem and the byte offset, and
// the output never grows past a limit the caller gives, so a corrupt or hostile stream can
// neither crash the reader nor exhaust memory.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "anybit/core/error.hpp"

namespace anybit {

/// What a stream contained. Tests use it to prove a fixture exercises the case it claims to.
struct inflate_stats {
  std::size_t stored_blocks = 0;
  std::size_t fixed_blocks = 0;
  std::size_t dynamic_blocks = 0;
  std::size_t longest_distance = 0;  // farthest back-reference, in bytes
};

/// Output of `inflate`: the decoded bytes and where the compressed stream ended.
struct inflate_result {
  std::vector<std::uint8_t> bytes;
  std::size_t end_offset = 0;  // offset of the first input byte after the final block
};

namespace data_detail {

// A canonical Huffman code as a two-level lookup table indexed by the next input bits. DEFLATE
// packs Huffman codes most-significant bit first into an LSB-first bit stream, so the table is
// indexed by bit-reversed codes. Codes up to `primary_bits` long resolve in one load; a longer
// code's first `primary_bits` bits select a link to a sub-table sized for the longest code with
// that prefix.
class huffman_table {
 public:
  static constexpr int max_code_length = 15;
  static constexpr int max_primary_bits = 10;
  static constexpr std::size_t max_symbols = 288;

  // Entry layout: bits 0-4 the full code length, bit 5 link, bit 6 unassigned code, bits 8-11
  // the sub-table's index bits (links only), bits 16-31 the symbol or the sub-table's start.
  static constexpr std::uint32_t length_mask = 0x1Fu;
  static constexpr std::uint32_t link_flag = 1u << 5;
  static constexpr std::uint32_t unassigned_flag = 1u << 6;

  /// Builds the table for `count` code lengths (0 = symbol not used). Returns nullptr on
  /// success, otherwise why the lengths are not a usable prefix code. Incomplete codes are
  /// refused except a lone code of length 1 (RFC 1951 3.2.7 sends a single distance code with
  /// one bit) when `allow_single`; no codes at all only when `allow_empty`. Input bits that
  /// reach an unused code decode as "unassigned".
  const char* build(const std::uint8_t* lengths, std::size_t count, int primary_bits, bool allow_single,
                    bool allow_empty) {
    std::array<std::uint32_t, max_code_length + 1> per_length{};
    for (std::size_t s = 0; s < count; ++s) ++per_length[lengths[s]];
    per_length[0] = 0;
    std::int64_t unused = 1;  // code space left, in units of 2^-length
    std::uint32_t used = 0;
    for (int len = 1; len <= max_code_length; ++len) {
      unused = 2 * unused - per_length[static_cast<std::size_t>(len)];
      if (unused < 0) return "over-subscribed";
      used += per_length[static_cast<std::size_t>(len)];
    }
    if (used == 0 && !allow_empty) return "empty";
    if (unused > 0 && used > 0 && !(allow_single && used == 1 && per_length[1] == 1)) return "incomplete";

    // Canonical code values (RFC 1951 3.2.2): shorter codes first, equal lengths by symbol.
    std::array<std::uint32_t, max_code_length + 1> next_code{};
    std::uint32_t code = 0;
    for (std::size_t len = 1; len <= max_code_length; ++len) {
      code = (code + per_length[len - 1]) << 1;
      next_code[len] = code;
    }

    primary_bits_ = primary_bits;
    const std::uint32_t primary_size = 1u << primary_bits;
    const std::uint32_t primary_mask = primary_size - 1;
    entries_.assign(primary_size, unassigned_flag);

    std::array<std::uint16_t, max_symbols> reversed{};
    std::array<std::uint8_t, 1u << max_primary_bits> sub_bits{};
    for (std::size_t s = 0; s < count; ++s) {
      const int len = lengths[s];
      if (len == 0) continue;
      const std::uint32_t value = next_code[static_cast<std::size_t>(len)]++;
      std::uint32_t r = 0;
      for (int b = 0; b < len; ++b) r |= ((value >> b) & 1u) << (len - 1 - b);
      reversed[s] = static_cast<std::uint16_t>(r);
      if (len > primary_bits) {
        std::uint8_t& bits = sub_bits[r & primary_mask];
        bits = std::max(bits, static_cast<std::uint8_t>(len - primary_bits));
      }
    }
    for (std::uint32_t prefix = 0; prefix < primary_size; ++prefix) {
      if (sub_bits[prefix] == 0) continue;
      const auto start = static_cast<std::uint32_t>(entries_.size());
      entries_[prefix] = start << 16 | static_cast<std::uint32_t>(sub_bits[prefix]) << 8 | link_flag;
      entries_.resize(start + (std::size_t{1} << sub_bits[prefix]), unassigned_flag);
    }
    // Each code fills every slot whose low bits equal it: the slots that differ only in the
    // bits after the code.
    for (std::size_t s = 0; s < count; ++s) {
      const int len = lengths[s];
      if (len == 0) continue;
      const std::uint32_t r = reversed[s];
      const std::uint32_t leaf = static_cast<std::uint32_t>(s) << 16 | static_cast<std::uint32_t>(len);
      if (len <= primary_bits) {
        for (std::uint32_t i = r; i < primary_size; i += 1u << len) entries_[i] = leaf;
      } else {
        const std::uint32_t link = entries_[r & primary_mask];
        const std::uint32_t start = link >> 16, size = 1u << ((link >> 8) & 0xFu);
        for (std::uint32_t i = r >> primary_bits; i < size; i += 1u << (len - primary_bits)) entries_[start + i] = leaf;
      }
    }
    return nullptr;
  }

  int primary_bits() const { return primary_bits_; }
  const std::uint32_t* entries() const { return entries_.data(); }

 private:
  std::vector<std::uint32_t> entries_;
  int primary_bits_ = 0;
};

// LSB-first bit reader over a byte range. `bits` holds `count` valid bits at the bottom; bits
// above them are zero or copies of the next input bits, so a table may be indexed with more bits
// than are valid, and the decoded length is then checked against `count`.
struct bit_reader {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  std::size_t pos = 0;  // next byte not yet loaded into `bits`
  std::uint64_t bits = 0;
  int count = 0;

  // Tops `bits` up to at least 56 valid bits, or to every input bit that is left.
  void refill() {
    if (size - pos >= 8) {
      std::uint64_t word = 0;
      for (int i = 7; i >= 0; --i) word = word << 8 | data[pos + static_cast<std::size_t>(i)];
      bits |= word << count;
      pos += static_cast<std::size_t>((63 - count) >> 3);
      count |= 56;
    } else {
      while (count <= 56 && pos < size) {
        bits |= std::uint64_t{data[pos++]} << count;
        count += 8;
      }
    }
  }
  // Makes `n` bits valid; false if the input ends first.
  bool ensure(int n) {
    if (count < n) refill();
    return count >= n;
  }
  std::uint32_t peek(int n) const { return static_cast<std::uint32_t>(bits & ((std::uint64_t{1} << n) - 1)); }
  void consume(int n) {
    bits >>= n;
    count -= n;
  }
  std::uint32_t take(int n) {
    const std::uint32_t value = peek(n);
    consume(n);
    return value;
  }
  // Offset of the byte holding the next unread bit.
  std::size_t byte_offset() const { return pos - static_cast<std::size_t>((count + 7) / 8); }
  // Offset just past the last byte any consumed bit came from.
  std::size_t end_offset() const { return pos - static_cast<std::size_t>(count / 8); }
};

inline constexpr int symbol_unassigned = -1;
inline constexpr int symbol_truncated = -2;

// Decodes one symbol: the symbol, symbol_unassigned or symbol_truncated.
inline int decode_symbol(bit_reader& in, const huffman_table& table) {
  if (in.count < huffman_table::max_code_length) in.refill();
  const std::uint32_t* entries = table.entries();
  const int primary = table.primary_bits();
  std::uint32_t entry = entries[in.bits & ((std::uint64_t{1} << primary) - 1)];
  if ((entry & huffman_table::link_flag) != 0) {
    const std::uint32_t sub_mask = (1u << ((entry >> 8) & 0xFu)) - 1;
    entry = entries[(entry >> 16) + (static_cast<std::uint32_t>(in.bits >> primary) & sub_mask)];
  }
  if ((entry & huffman_table::unassigned_flag) != 0) return symbol_unassigned;
  const int length = static_cast<int>(entry & huffman_table::length_mask);
  if (length > in.count) return symbol_truncated;
  in.consume(length);
  return static_cast<int>(entry >> 16);
}

// RFC 1951 3.2.5: base values and extra bits of length symbols 257..285 and distance symbols.
inline constexpr std::array<std::uint16_t, 29> length_base = {3,  4,  5,  6,  7,  8,  9,  10,  11,  13,
                                                              15, 17, 19, 23, 27, 31, 35, 43,  51,  59,
                                                              67, 83, 99, 115, 131, 163, 195, 227, 258};
inline constexpr std::array<std::uint8_t, 29> length_extra = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                                              2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
inline constexpr std::array<std::uint16_t, 30> distance_base = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
inline constexpr std::array<std::uint8_t, 30> distance_extra = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                                                6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// Order in which a dynamic block sends the code lengths of the code-length alphabet.
inline constexpr std::array<std::uint8_t, 19> code_length_order = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
                                                                   11, 4,  12, 3, 13, 2, 14, 1, 15};

inline constexpr int litlen_primary_bits = 10;
inline constexpr int distance_primary_bits = 8;
inline constexpr int code_length_primary_bits = 7;  // the longest code-length code is 7 bits

inline const huffman_table& fixed_litlen_table() {
  static const huffman_table table = [] {
    std::array<std::uint8_t, 288> lengths{};
    for (std::size_t s = 0; s < 288; ++s) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    huffman_table t;
    t.build(lengths.data(), lengths.size(), litlen_primary_bits, false, false);
    return t;
  }();
  return table;
}

inline const huffman_table& fixed_distance_table() {
  static const huffman_table table = [] {
    std::array<std::uint8_t, 32> lengths{};
    lengths.fill(5);
    huffman_table t;
    t.build(lengths.data(), lengths.size(), distance_primary_bits, false, false);
    return t;
  }();
  return table;
}

// Decodes one DEFLATE stream starting at data[start]. Offsets in messages are from data[0].
class inflater {
 public:
  inflater(const std::uint8_t* data, std::size_t size, std::size_t start, std::size_t max_output, std::string source)
      : max_output_(max_output), source_(std::move(source)) {
    in_.data = data;
    in_.size = size;
    in_.pos = start;
  }

  // `size_hint` (the expected output size, if known) sizes the first allocation only.
  inflate_result run(std::size_t size_hint, inflate_stats* stats) {
    // No stream expands more than 1032-fold (a 258-byte match in two bits), so a lying hint
    // cannot make us allocate more than the input could ever produce.
    const std::size_t input = in_.size - in_.pos;
    const std::size_t most_possible = input > (SIZE_MAX - 1024) / 1032 ? SIZE_MAX : input * 1032 + 1024;
    out_.resize(std::min({size_hint, max_output_, most_possible}));
    bool final_block = false;
    while (!final_block) {
      final_block = read_bits(1, "block header") != 0;
      switch (read_bits(2, "block header")) {
        case 0:
          copy_stored_block();
          ++stats_.stored_blocks;
          break;
        case 1:
          decode_block(fixed_litlen_table(), fixed_distance_table());
          ++stats_.fixed_blocks;
          break;
        case 2:
          read_dynamic_tables();
          decode_block(litlen_, distance_);
          ++stats_.dynamic_blocks;
          break;
        default:
          fail(in_.byte_offset(), "invalid block type 3");
      }
    }
    if (stats != nullptr) {
      stats->stored_blocks += stats_.stored_blocks;
      stats->fixed_blocks += stats_.fixed_blocks;
      stats->dynamic_blocks += stats_.dynamic_blocks;
      stats->longest_distance = std::max(stats->longest_distance, stats_.longest_distance);
    }
    out_.resize(produced_);
    inflate_result result;
    result.bytes = std::move(out_);
    result.end_offset = in_.end_offset();
    return result;
  }

 private:
  [[noreturn]] void fail(std::size_t offset, const std::string& what) const {
    throw format_error(detail::message("anybit: ", source_, ": ", what, " at byte offset ", offset));
  }

  std::uint32_t read_bits(int n, const char* what) {
    if (!in_.ensure(n)) fail(in_.byte_offset(), detail::message("input ends inside the ", what));
    return in_.take(n);
  }

  // Makes room for `extra` more bytes after `produced`; returns the (possibly moved) buffer.
  std::uint8_t* grow(std::size_t produced, std::size_t extra, std::size_t offset) {
    if (extra > max_output_ - produced) {
      fail(offset, detail::message("output exceeds the limit of ", max_output_, " bytes"));
    }
    const std::size_t doubled = out_.size() > max_output_ / 2 ? max_output_ : std::max<std::size_t>(2 * out_.size(), 1u << 16);
    out_.resize(std::max(produced + extra, std::min(doubled, max_output_)));
    return out_.data();
  }

  void copy_stored_block() {
    in_.consume(in_.count & 7);  // a stored block starts at a byte boundary
    const std::uint32_t length = read_bits(16, "stored block length");
    const std::uint32_t complement = read_bits(16, "stored block length");
    if ((length ^ 0xFFFFu) != complement) {
      fail(in_.byte_offset(), detail::message("stored block length ", length, " does not match its complement ", complement));
    }
    // Give back the whole bytes the reader loaded ahead, then copy straight from the input.
    in_.pos -= static_cast<std::size_t>(in_.count / 8);
    in_.bits = 0;
    in_.count = 0;
    if (in_.size - in_.pos < length) {
      fail(in_.size, detail::message("input ends inside a stored block of ", length, " bytes (", in_.size - in_.pos,
                                     " left)"));
    }
    if (out_.size() - produced_ < length) grow(produced_, length, in_.pos);
    if (length != 0) std::memcpy(out_.data() + produced_, in_.data + in_.pos, length);
    produced_ += length;
    in_.pos += length;
  }

  void read_dynamic_tables() {
    const std::uint32_t litlen_count = read_bits(5, "dynamic block header") + 257;
    const std::uint32_t distance_count = read_bits(5, "dynamic block header") + 1;
    const std::uint32_t code_length_count = read_bits(4, "dynamic block header") + 4;
    if (litlen_count > 286) fail(in_.byte_offset(), detail::message(litlen_count, " literal/length codes, expected at most 286"));
    if (distance_count > 30) fail(in_.byte_offset(), detail::message(distance_count, " distance codes, expected at most 30"));

    std::array<std::uint8_t, 19> code_length_lengths{};
    for (std::uint32_t i = 0; i < code_length_count; ++i) {
      code_length_lengths[code_length_order[i]] = static_cast<std::uint8_t>(read_bits(3, "code length code"));
    }
    if (const char* why = code_lengths_.build(code_length_lengths.data(), 19, code_length_primary_bits, false, false)) {
      fail(in_.byte_offset(), detail::message("code length code is ", why));
    }

    // Literal/length and distance code lengths form one sequence; repeats may cross between them.
    const std::uint32_t total = litlen_count + distance_count;
    std::array<std::uint8_t, 286 + 30> lengths{};
    for (std::uint32_t i = 0; i < total;) {
      const int symbol = decode_symbol(in_, code_lengths_);
      if (symbol == symbol_truncated) fail(in_.byte_offset(), "input ends inside the code lengths");
      if (symbol == symbol_unassigned) fail(in_.byte_offset(), "invalid code length code");
      if (symbol < 16) {
        lengths[i++] = static_cast<std::uint8_t>(symbol);
        continue;
      }
      std::uint8_t value = 0;
      std::uint32_t repeat = 0;
      if (symbol == 16) {
        if (i == 0) fail(in_.byte_offset(), "code length repeat (16) with no previous length");
        value = lengths[i - 1];
        repeat = 3 + read_bits(2, "code length repeat");
      } else if (symbol == 17) {
        repeat = 3 + read_bits(3, "code length repeat");
      } else {
        repeat = 11 + read_bits(7, "code length repeat");
      }
      if (repeat > total - i) {
        fail(in_.byte_offset(), detail::message("code length repeat of ", repeat, " at length ", i, " runs past the ", total,
                                                " lengths of the block"));
      }
      for (std::uint32_t r = 0; r < repeat; ++r) lengths[i++] = value;
    }
    if (lengths[256] == 0) fail(in_.byte_offset(), "block has no end-of-block code (length of symbol 256 is 0)");
    if (const char* why = litlen_.build(lengths.data(), litlen_count, litlen_primary_bits, true, false)) {
      fail(in_.byte_offset(), detail::message("literal/length code is ", why));
    }
    if (const char* why = distance_.build(lengths.data() + litlen_count, distance_count, distance_primary_bits, true, true)) {
      fail(in_.byte_offset(), detail::message("distance code is ", why));
    }
  }

  // The hot loop. Reader and output state live in locals: stores through the uint8_t output
  // pointer may alias anything, so members would be reloaded after every byte written.
  void decode_block(const huffman_table& litlen, const huffman_table& distance) {
    bit_reader in = in_;
    std::uint8_t* out = out_.data();
    std::size_t produced = produced_;
    std::size_t capacity = out_.size();
    std::size_t longest = stats_.longest_distance;
    for (;;) {
      const int symbol = decode_symbol(in, litlen);
      if (symbol < 256) {
        if (symbol < 0) {
          fail(in.byte_offset(), symbol == symbol_truncated ? "input ends inside a literal/length code" : "invalid literal/length code");
        }
        if (produced == capacity) {
          out = grow(produced, 1, in.byte_offset());
          capacity = out_.size();
        }
        out[produced++] = static_cast<std::uint8_t>(symbol);
        continue;
      }
      if (symbol == 256) break;
      const auto length_index = static_cast<std::size_t>(symbol - 257);
      if (length_index >= length_base.size()) fail(in.byte_offset(), detail::message("invalid length symbol ", symbol));
      const int length_bits = length_extra[length_index];
      if (!in.ensure(length_bits)) fail(in.byte_offset(), "input ends inside a length");
      const std::size_t length = length_base[length_index] + in.take(length_bits);

      const int distance_symbol = decode_symbol(in, distance);
      if (distance_symbol < 0) {
        fail(in.byte_offset(), distance_symbol == symbol_truncated ? "input ends inside a distance code" : "invalid distance code");
      }
      const auto distance_index = static_cast<std::size_t>(distance_symbol);
      if (distance_index >= distance_base.size()) fail(in.byte_offset(), detail::message("invalid distance symbol ", distance_symbol));
      const int distance_bits = distance_extra[distance_index];
      if (!in.ensure(distance_bits)) fail(in.byte_offset(), "input ends inside a distance");
      const std::size_t back = distance_base[distance_index] + in.take(distance_bits);
      if (back > produced) {
        fail(in.byte_offset(), detail::message("distance ", back, " reaches back before the start of the output (", produced,
                                               " bytes written)"));
      }
      longest = std::max(longest, back);
      if (capacity - produced < length) {
        out = grow(produced, length, in.byte_offset());
        capacity = out_.size();
      }
      std::uint8_t* dst = out + produced;
      const std::uint8_t* src = dst - back;
      if (back >= length) {
        std::memcpy(dst, src, length);
      } else if (back == 1) {
        std::memset(dst, *src, length);
      } else {
        for (std::size_t i = 0; i < length; ++i) dst[i] = src[i];  // overlapping: repeats the last `back` bytes
      }
      produced += length;
    }
    in_ = in;
    produced_ = produced;
    stats_.longest_distance = longest;
  }

  bit_reader in_;
  std::vector<std::uint8_t> out_;  // size() is the capacity in use; produced_ bytes are valid
  std::size_t produced_ = 0;
  std::size_t max_output_;
  std::string source_;
  inflate_stats stats_;
  huffman_table litlen_, distance_, code_lengths_;
};

}  // namespace data_detail

/// Decodes a raw DEFLATE stream (RFC 1951; no zlib or gzip wrapper) that starts at data[0].
/// Throws format_error, naming the problem and its byte offset, if the stream is malformed or
/// truncated or would decode to more than `max_output` bytes. Bytes after the final block are
/// not read; `end_offset` tells where they start.
inline inflate_result inflate(const std::uint8_t* data, std::size_t size, std::size_t max_output,
                              inflate_stats* stats = nullptr) {
  return data_detail::inflater(data, size, 0, max_output, "deflate stream").run(0, stats);
}

}  // namespace anybit
