// The DEFLATE decoder and gzip container against streams built here by an independent encoder
// written from RFC 1951 and RFC 1952: every block type, every length and distance symbol with its
// extra bits, codes up to 15 bits (the sub-tables), and each kind of malformed stream.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/data/gzip.hpp"
#include "anybit/data/inflate.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

// ---- An encoder, written from the RFCs, independent of the decoder ----

class bit_writer {
 public:
  void put(std::uint32_t value, int n) {  // data fields: least significant bit first
    for (int i = 0; i < n; ++i) put_bit((value >> i) & 1u);
  }
  void put_code(std::uint32_t code, int length) {  // Huffman codes: most significant bit first
    for (int i = length - 1; i >= 0; --i) put_bit((code >> i) & 1u);
  }
  void align() {
    while (used_ != 0) put_bit(0);
  }
  void put_byte(std::uint8_t b) {
    align();
    bytes.push_back(b);
  }
  std::vector<std::uint8_t> bytes;

 private:
  void put_bit(std::uint32_t bit) {
    if (used_ == 0) bytes.push_back(0);
    bytes.back() = static_cast<std::uint8_t>(bytes.back() | bit << used_);
    used_ = (used_ + 1) % 8;
  }
  int used_ = 0;
};

struct token {
  int literal = 0;          // used when length == 0
  std::size_t length = 0;   // 3..258 for a match
  std::size_t distance = 0; // 1..32768
};

token lit(int byte) { return token{byte, 0, 0}; }
token match(std::size_t length, std::size_t distance) { return token{0, length, distance}; }

// The bytes the tokens stand for, copied one at a time (the oracle).
std::vector<std::uint8_t> expand(const std::vector<token>& tokens, std::vector<std::uint8_t> out = {}) {
  for (const token& t : tokens) {
    if (t.length == 0) {
      out.push_back(static_cast<std::uint8_t>(t.literal));
    } else {
      for (std::size_t i = 0; i < t.length; ++i) out.push_back(out[out.size() - t.distance]);
    }
  }
  return out;
}

// RFC 1951 3.2.5, typed in from the RFC's tables.
struct symbol_with_extra {
  int symbol;
  int extra_bits;
  std::uint32_t extra;
};

symbol_with_extra length_symbol(std::size_t length) {
  static const int base[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
  static const int extra[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
  for (int i = 28; i >= 0; --i) {
    if (static_cast<std::size_t>(base[i]) <= length) return {257 + i, extra[i], static_cast<std::uint32_t>(length - static_cast<std::size_t>(base[i]))};
  }
  FAIL("length below 3");
  return {};
}

symbol_with_extra distance_symbol(std::size_t distance) {
  static const int base[] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
  for (int i = 29; i >= 0; --i) {
    if (static_cast<std::size_t>(base[i]) <= distance) {
      const int extra = i < 4 ? 0 : (i - 2) / 2;
      return {i, extra, static_cast<std::uint32_t>(distance - static_cast<std::size_t>(base[i]))};
    }
  }
  FAIL("distance below 1");
  return {};
}

// Canonical Huffman codes from code lengths, RFC 1951 3.2.2 step by step.
std::vector<std::uint32_t> canonical_codes(const std::vector<int>& lengths) {
  std::vector<std::uint32_t> bl_count(16, 0), next_code(16, 0), codes(lengths.size(), 0);
  for (int l : lengths) bl_count[static_cast<std::size_t>(l)]++;
  bl_count[0] = 0;
  std::uint32_t code = 0;
  for (std::size_t bits = 1; bits <= 15; ++bits) {
    code = (code + bl_count[bits - 1]) << 1;
    next_code[bits] = code;
  }
  for (std::size_t n = 0; n < lengths.size(); ++n) {
    if (lengths[n] != 0) codes[n] = next_code[static_cast<std::size_t>(lengths[n])]++;
  }
  return codes;
}

struct huffman_code {
  std::vector<int> lengths;
  std::vector<std::uint32_t> codes;
  explicit huffman_code(std::vector<int> l) : lengths(std::move(l)), codes(canonical_codes(lengths)) {}
  void put(bit_writer& w, int symbol) const {
    const auto s = static_cast<std::size_t>(symbol);
    REQUIRE(lengths[s] != 0);
    w.put_code(codes[s], lengths[s]);
  }
};

// The fixed code of RFC 1951 3.2.6, from its table of code ranges.
void put_fixed_litlen(bit_writer& w, int symbol) {
  const auto s = static_cast<std::uint32_t>(symbol);
  if (symbol <= 143) w.put_code(0x30 + s, 8);
  else if (symbol <= 255) w.put_code(0x190 + s - 144, 9);
  else if (symbol <= 279) w.put_code(s - 256, 7);
  else w.put_code(0xC0 + s - 280, 8);
}

void write_fixed_block(bit_writer& w, const std::vector<token>& tokens, bool final_block) {
  w.put(final_block ? 1 : 0, 1);
  w.put(1, 2);
  for (const token& t : tokens) {
    if (t.length == 0) {
      put_fixed_litlen(w, t.literal);
      continue;
    }
    const auto l = length_symbol(t.length);
    put_fixed_litlen(w, l.symbol);
    w.put(l.extra, l.extra_bits);
    const auto d = distance_symbol(t.distance);
    w.put_code(static_cast<std::uint32_t>(d.symbol), 5);
    w.put(d.extra, d.extra_bits);
  }
  put_fixed_litlen(w, 256);
}

void write_stored_block(bit_writer& w, const std::vector<std::uint8_t>& data, bool final_block) {
  w.put(final_block ? 1 : 0, 1);
  w.put(0, 2);
  w.align();
  const auto n = static_cast<std::uint32_t>(data.size());
  w.put(n, 16);
  w.put(~n & 0xFFFFu, 16);
  for (std::uint8_t b : data) w.put_byte(b);
}

// Code lengths as code-length symbols, run-length coded with 16/17/18 when `use_repeats`.
std::vector<std::pair<int, std::uint32_t>> code_length_symbols(const std::vector<int>& all, bool use_repeats) {
  std::vector<std::pair<int, std::uint32_t>> out;  // (symbol, extra value)
  for (std::size_t i = 0; i < all.size();) {
    std::size_t run = 1;
    while (i + run < all.size() && all[i + run] == all[i]) ++run;
    if (use_repeats && all[i] == 0 && run >= 11) {
      const std::size_t n = std::min<std::size_t>(run, 138);
      out.push_back({18, static_cast<std::uint32_t>(n - 11)});
      i += n;
    } else if (use_repeats && all[i] == 0 && run >= 3) {
      const std::size_t n = std::min<std::size_t>(run, 10);
      out.push_back({17, static_cast<std::uint32_t>(n - 3)});
      i += n;
    } else if (use_repeats && run >= 4) {
      out.push_back({all[i], 0});  // the length once, then "repeat previous" 3..6 times
      const std::size_t n = std::min<std::size_t>(run - 1, 6);
      out.push_back({16, static_cast<std::uint32_t>(n - 3)});
      i += 1 + n;
    } else {
      out.push_back({all[i], 0});
      ++i;
    }
  }
  return out;
}

const int code_length_order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

// A dynamic block header: HLIT, HDIST, HCLEN, the code-length code, then the code lengths.
void write_dynamic_header(bit_writer& w, const huffman_code& litlen, const huffman_code& dist,
                          const huffman_code& code_lengths, bool final_block, bool use_repeats) {
  w.put(final_block ? 1 : 0, 1);
  w.put(2, 2);
  w.put(static_cast<std::uint32_t>(litlen.lengths.size() - 257), 5);
  w.put(static_cast<std::uint32_t>(dist.lengths.size() - 1), 5);
  w.put(19 - 4, 4);
  for (int s : code_length_order) w.put(static_cast<std::uint32_t>(code_lengths.lengths[static_cast<std::size_t>(s)]), 3);
  std::vector<int> all = litlen.lengths;
  all.insert(all.end(), dist.lengths.begin(), dist.lengths.end());
  for (const auto& [symbol, extra] : code_length_symbols(all, use_repeats)) {
    code_lengths.put(w, symbol);
    if (symbol == 16) w.put(extra, 2);
    if (symbol == 17) w.put(extra, 3);
    if (symbol == 18) w.put(extra, 7);
  }
}

void write_dynamic_block(bit_writer& w, const std::vector<token>& tokens, const huffman_code& litlen, const huffman_code& dist,
                         const huffman_code& code_lengths, bool final_block, bool use_repeats) {
  write_dynamic_header(w, litlen, dist, code_lengths, final_block, use_repeats);
  for (const token& t : tokens) {
    if (t.length == 0) {
      litlen.put(w, t.literal);
      continue;
    }
    const auto l = length_symbol(t.length);
    litlen.put(w, l.symbol);
    w.put(l.extra, l.extra_bits);
    const auto d = distance_symbol(t.distance);
    dist.put(w, d.symbol);
    w.put(d.extra, d.extra_bits);
  }
  litlen.put(w, 256);
}

// Complete codes whose lengths reach 15 bits, so codes longer than the first-level tables
// (10 bits for literal/length, 8 for distance) are exercised. `seed` spreads the lengths over
// the symbols.
std::vector<int> shuffled(std::vector<int> lengths, std::uint64_t seed) {
  test::rng r(seed);
  for (std::size_t i = lengths.size(); i > 1; --i) std::swap(lengths[i - 1], lengths[r.below(static_cast<std::uint32_t>(i))]);
  return lengths;
}

std::vector<int> deep_litlen_lengths(std::uint64_t seed) {
  // 232 x 8 + 46 x 9 + {9, 10, ..., 15, 15}: Kraft sum (464 + 46 + 2) / 512 = 1.
  std::vector<int> l(232, 8);
  l.insert(l.end(), 46, 9);
  for (int len = 9; len <= 15; ++len) l.push_back(len);
  l.push_back(15);
  REQUIRE(l.size() == 286);
  return shuffled(l, seed);
}

std::vector<int> deep_distance_lengths(std::uint64_t seed) {
  // 12 x 4 + 6 x 5 + {5, 6, ..., 15, 15}: Kraft sum 12/16 + 6/32 + 1/16 = 1.
  std::vector<int> l(12, 4);
  l.insert(l.end(), 6, 5);
  for (int len = 5; len <= 15; ++len) l.push_back(len);
  l.push_back(15);
  REQUIRE(l.size() == 30);
  return shuffled(l, seed);
}

std::vector<int> code_length_lengths(std::uint64_t seed) {
  std::vector<int> l(13, 4);  // 13 x 4 + 6 x 5: complete over 19 symbols
  l.insert(l.end(), 6, 5);
  return shuffled(l, seed);
}

// Random literals and matches; distances include the extremes (1 and up to 32768) and lengths
// 3 and 258, so every length and distance symbol appears in a long enough stream.
std::vector<token> random_tokens(std::size_t count, std::size_t already_written, std::uint64_t seed) {
  test::rng r(seed);
  std::vector<token> tokens;
  std::size_t written = already_written;
  for (std::size_t i = 0; i < count; ++i) {
    if (written == 0 || r.below(3) == 0) {
      tokens.push_back(lit(static_cast<int>(r.below(256))));
      ++written;
      continue;
    }
    const std::size_t reach = std::min<std::size_t>(written, 32768);
    std::size_t distance = 0;
    switch (r.below(4)) {
      case 0: distance = 1 + r.below(static_cast<std::uint32_t>(std::min<std::size_t>(reach, 8))); break;
      case 1: distance = reach; break;
      default: distance = 1 + r.below(static_cast<std::uint32_t>(reach)); break;
    }
    std::size_t length = 0;
    switch (r.below(4)) {
      case 0: length = 3; break;
      case 1: length = 258; break;
      default: length = 3 + r.below(256); break;
    }
    tokens.push_back(match(length, distance));
    written += length;
  }
  return tokens;
}

std::vector<std::uint8_t> decode(const std::vector<std::uint8_t>& stream, std::size_t limit = 1u << 24,
                                 inflate_stats* stats = nullptr) {
  return inflate(stream.data(), stream.size(), limit, stats).bytes;
}

std::string decode_error(const std::vector<std::uint8_t>& stream, std::size_t limit = 1u << 24) {
  return test::thrown_message<format_error>([&] { decode(stream, limit); });
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// CRC-32 bit by bit, straight from the definition (reflected polynomial 0xEDB88320).
std::uint32_t crc32_bitwise(const std::vector<std::uint8_t>& data) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
  }
  return ~c;
}

void put_le32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

TEST_CASE("a fixed-Huffman block decodes every length and distance symbol with every extra-bit edge") {
  // Enough output first that every distance up to 32768 reaches into it.
  std::vector<std::uint8_t> prefix(32768);
  test::rng r(7);
  for (auto& b : prefix) b = static_cast<std::uint8_t>(r.below(256));
  std::vector<token> tokens;
  for (std::size_t length = 3; length <= 258; ++length) tokens.push_back(match(length, 1 + length % 300));
  const std::size_t distances[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 24, 25, 32, 33, 48, 49, 64, 65, 96, 97,
                                   128, 129, 192, 193, 256, 257, 384, 385, 512, 513, 768, 769, 1024, 1025, 1536,
                                   1537, 2048, 2049, 3072, 3073, 4096, 4097, 6144, 6145, 8192, 8193, 12288, 12289,
                                   16384, 16385, 24576, 24577, 32767, 32768};
  for (std::size_t d : distances) tokens.push_back(match(3 + d % 256, d));
  for (int b = 0; b < 256; ++b) tokens.push_back(lit(b));

  bit_writer w;
  // Two stored blocks (65535 bytes at most each), then the fixed block referring back into them.
  write_stored_block(w, std::vector<std::uint8_t>(prefix.begin(), prefix.begin() + 20000), false);
  write_stored_block(w, std::vector<std::uint8_t>(prefix.begin() + 20000, prefix.end()), false);
  write_fixed_block(w, tokens, true);
  inflate_stats stats;
  CHECK(decode(w.bytes, 1u << 24, &stats) == expand(tokens, prefix));
  CHECK(stats.stored_blocks == 2);
  CHECK(stats.fixed_blocks == 1);
  CHECK(stats.longest_distance == 32768);
}

TEST_CASE("dynamic blocks with codes up to 15 bits decode random streams across block boundaries") {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    CAPTURE(seed);
    const huffman_code litlen(deep_litlen_lengths(seed));
    const huffman_code dist(deep_distance_lengths(seed + 100));
    const huffman_code code_lengths(code_length_lengths(seed + 200));
    const auto first = random_tokens(3000, 0, seed);
    const auto first_bytes = expand(first);
    const auto second = random_tokens(3000, first_bytes.size(), seed + 1000);
    std::vector<token> first_two = first;
    first_two.insert(first_two.end(), second.begin(), second.end());
    const auto third = random_tokens(500, expand(first_two).size(), seed + 2000);
    bit_writer w;
    write_dynamic_block(w, first, litlen, dist, code_lengths, false, seed % 2 == 0);
    write_fixed_block(w, second, false);  // matches reach back across the block boundary
    write_dynamic_block(w, third, litlen, dist, code_lengths, true, seed % 2 == 1);
    std::vector<token> all = first_two;
    all.insert(all.end(), third.begin(), third.end());
    inflate_stats stats;
    CHECK(decode(w.bytes, 1u << 24, &stats) == expand(all));
    CHECK(stats.dynamic_blocks == 2);
    CHECK(stats.fixed_blocks == 1);
  }
}

TEST_CASE("a lone distance code of one bit, an empty distance code and a lone end-of-block code are valid") {
  std::vector<int> litlen_lengths(257, 0);
  litlen_lengths[std::size_t{'a'}] = 1;  // 'a' and end-of-block: a complete two-symbol code
  litlen_lengths[256] = 1;
  const huffman_code only_literals(litlen_lengths);
  const huffman_code code_lengths(code_length_lengths(1));
  {
    bit_writer w;  // HDIST = 1 with length 0: no distance codes at all
    write_dynamic_block(w, {lit('a'), lit('a')}, only_literals, huffman_code({0}), code_lengths, true, true);
    CHECK(decode(w.bytes) == std::vector<std::uint8_t>{'a', 'a'});
  }
  std::vector<int> with_length(258, 0);
  with_length[std::size_t{'a'}] = 1;
  with_length[256] = 2;
  with_length[257] = 2;  // length 3
  const huffman_code one_match(with_length);
  {
    bit_writer w;  // one distance code (symbol 0, distance 1) sent with one bit; code "1" unused
    write_dynamic_block(w, {lit('a'), match(3, 1)}, one_match, huffman_code({1}), code_lengths, true, false);
    CHECK(decode(w.bytes) == std::vector<std::uint8_t>{'a', 'a', 'a', 'a'});
  }
  {
    bit_writer w;  // the same header, then the unused distance code
    write_dynamic_header(w, one_match, huffman_code({1}), code_lengths, true, false);
    one_match.put(w, 'a');
    one_match.put(w, 257);
    w.put_code(1, 1);
    CHECK(contains(decode_error(w.bytes), "invalid distance code"));
  }
  {
    std::vector<int> eob_only(257, 0);
    eob_only[256] = 1;
    bit_writer w;
    write_dynamic_block(w, {}, huffman_code(eob_only), huffman_code({0}), code_lengths, true, true);
    CHECK(decode(w.bytes).empty());
  }
}

TEST_CASE("end_offset is the first byte after the final block, and later bytes are not read") {
  bit_writer w;
  write_fixed_block(w, {lit('x'), match(10, 1)}, true);
  const std::size_t length = w.bytes.size();
  std::vector<std::uint8_t> with_junk = w.bytes;
  with_junk.insert(with_junk.end(), {0xFF, 0xFF, 0xFF});
  const inflate_result result = inflate(with_junk.data(), with_junk.size(), 100);
  CHECK(result.end_offset == length);
  CHECK(result.bytes == std::vector<std::uint8_t>(11, 'x'));
}

TEST_CASE("malformed block headers and symbols are format errors that say what and where") {
  {
    bit_writer w;
    w.put(1, 1);
    w.put(3, 2);
    const std::string m = decode_error(w.bytes);
    CHECK(contains(m, "invalid block type 3"));
    CHECK(contains(m, "at byte offset 0"));
  }
  {
    bit_writer w;
    w.put(1, 1);
    w.put(0, 2);
    w.align();
    w.put(5, 16);
    w.put(0x1234, 16);
    CHECK(contains(decode_error(w.bytes), "stored block length 5 does not match its complement 4660"));
  }
  {
    bit_writer w;
    write_stored_block(w, std::vector<std::uint8_t>(100, 7), true);
    w.bytes.resize(w.bytes.size() - 90);
    CHECK(contains(decode_error(w.bytes), "input ends inside a stored block of 100 bytes (10 left)"));
  }
  for (int symbol : {286, 287}) {
    bit_writer w;
    w.put(1, 1);
    w.put(1, 2);
    put_fixed_litlen(w, 'a');
    put_fixed_litlen(w, symbol);
    CHECK(contains(decode_error(w.bytes), "invalid length symbol " + std::to_string(symbol)));
  }
  for (std::uint32_t symbol : {30u, 31u}) {
    bit_writer w;
    w.put(1, 1);
    w.put(1, 2);
    put_fixed_litlen(w, 'a');
    put_fixed_litlen(w, 257);
    w.put_code(symbol, 5);
    CHECK(contains(decode_error(w.bytes), "invalid distance symbol " + std::to_string(symbol)));
  }
  {
    bit_writer w;
    write_fixed_block(w, {lit('a'), match(3, 2)}, true);
    CHECK(contains(decode_error(w.bytes), "distance 2 reaches back before the start of the output (1 bytes written)"));
  }
}

TEST_CASE("the output limit is enforced exactly") {
  bit_writer w;
  write_fixed_block(w, {lit('a'), match(258, 1), match(258, 1)}, true);
  CHECK(decode(w.bytes, 517).size() == 517);
  CHECK(contains(decode_error(w.bytes, 516), "output exceeds the limit of 516 bytes"));
  bit_writer stored;
  write_stored_block(stored, std::vector<std::uint8_t>(1000, 1), true);
  CHECK(decode(stored.bytes, 1000).size() == 1000);
  CHECK(contains(decode_error(stored.bytes, 999), "output exceeds the limit of 999 bytes"));
  CHECK(contains(decode_error(stored.bytes, 0), "output exceeds the limit of 0 bytes"));
}

TEST_CASE("malformed dynamic block headers are format errors naming the fault") {
  const huffman_code code_lengths(code_length_lengths(3));
  const huffman_code litlen(deep_litlen_lengths(3));
  const huffman_code dist(deep_distance_lengths(3));
  auto header_with_counts = [](std::uint32_t hlit, std::uint32_t hdist) {
    bit_writer w;
    w.put(1, 1);
    w.put(2, 2);
    w.put(hlit, 5);
    w.put(hdist, 5);
    w.put(15, 4);
    for (int i = 0; i < 19 * 3 + 8; ++i) w.put(0, 1);
    return w.bytes;
  };
  CHECK(contains(decode_error(header_with_counts(30, 0)), "287 literal/length codes, expected at most 286"));
  CHECK(contains(decode_error(header_with_counts(31, 0)), "288 literal/length codes, expected at most 286"));
  CHECK(contains(decode_error(header_with_counts(0, 30)), "31 distance codes, expected at most 30"));

  auto with_code_length_lengths = [](const std::vector<int>& lengths19) {
    bit_writer w;
    w.put(1, 1);
    w.put(2, 2);
    w.put(0, 5);
    w.put(0, 5);
    w.put(15, 4);
    for (int s : code_length_order) w.put(static_cast<std::uint32_t>(lengths19[static_cast<std::size_t>(s)]), 3);
    for (int i = 0; i < 64; ++i) w.put(0, 1);
    return w.bytes;
  };
  CHECK(contains(decode_error(with_code_length_lengths(std::vector<int>(19, 1))), "code length code is over-subscribed"));
  std::vector<int> two(19, 0);
  two[0] = 2;
  two[8] = 2;  // half of the code space unused
  CHECK(contains(decode_error(with_code_length_lengths(two)), "code length code is incomplete"));
  CHECK(contains(decode_error(with_code_length_lengths(std::vector<int>(19, 0))), "code length code is empty"));

  {
    bit_writer v;  // "repeat previous" as the very first length
    v.put(1, 1);
    v.put(2, 2);
    v.put(29, 5);
    v.put(29, 5);
    v.put(15, 4);
    for (int s : code_length_order) v.put(static_cast<std::uint32_t>(code_lengths.lengths[static_cast<std::size_t>(s)]), 3);
    code_lengths.put(v, 16);
    v.put(0, 2);
    CHECK(contains(decode_error(v.bytes), "code length repeat (16) with no previous length"));
  }
  {
    bit_writer v;  // 257 + 1 lengths, but a run of 138 zeros twice overshoots
    v.put(1, 1);
    v.put(2, 2);
    v.put(0, 5);
    v.put(0, 5);
    v.put(15, 4);
    for (int s : code_length_order) v.put(static_cast<std::uint32_t>(code_lengths.lengths[static_cast<std::size_t>(s)]), 3);
    code_lengths.put(v, 18);
    v.put(127, 7);
    code_lengths.put(v, 18);
    v.put(127, 7);
    CHECK(contains(decode_error(v.bytes), "code length repeat of 138 at length 138 runs past the 258 lengths of the block"));
  }
  {
    std::vector<int> all8(286, 0);
    for (int s = 0; s < 256; ++s) all8[static_cast<std::size_t>(s)] = 8;  // complete without 256
    bit_writer w;
    write_dynamic_header(w, huffman_code(all8), dist, code_lengths, true, true);
    CHECK(contains(decode_error(w.bytes), "no end-of-block code"));
  }
  {
    std::vector<int> over(286, 8);  // 286 codes of 8 bits: more than 256 fit
    bit_writer w;
    write_dynamic_header(w, huffman_code(over), dist, code_lengths, true, true);
    CHECK(contains(decode_error(w.bytes), "literal/length code is over-subscribed"));
  }
  {
    std::vector<int> incomplete = litlen.lengths;
    for (std::size_t s = 0; s < incomplete.size(); ++s) {
      if (incomplete[s] == 15 && s != 256) {
        incomplete[s] = 0;  // one 15-bit code gone: the code no longer fills its space
        break;
      }
    }
    bit_writer w;
    write_dynamic_header(w, huffman_code(incomplete), dist, code_lengths, true, true);
    CHECK(contains(decode_error(w.bytes), "literal/length code is incomplete"));
  }
  {
    std::vector<int> dist_over(30, 4);  // 30 codes of 4 bits: more than 16 fit
    bit_writer w;
    write_dynamic_header(w, litlen, huffman_code(dist_over), code_lengths, true, true);
    CHECK(contains(decode_error(w.bytes), "distance code is over-subscribed"));
  }
}

TEST_CASE("every truncation of a multi-block stream is a format error") {
  const huffman_code litlen(deep_litlen_lengths(5));
  const huffman_code dist(deep_distance_lengths(5));
  const huffman_code code_lengths(code_length_lengths(5));
  bit_writer w;
  write_stored_block(w, {1, 2, 3, 4, 5}, false);
  const auto tokens = random_tokens(400, 5, 9);
  write_dynamic_block(w, tokens, litlen, dist, code_lengths, false, true);
  write_fixed_block(w, {lit('z'), match(258, 300)}, true);
  REQUIRE_NOTHROW(decode(w.bytes));
  for (std::size_t n = 0; n < w.bytes.size(); ++n) {
    const std::vector<std::uint8_t> cut(w.bytes.begin(), w.bytes.begin() + static_cast<std::ptrdiff_t>(n));
    bool threw = false;
    try {
      decode(cut);
    } catch (const format_error&) {
      threw = true;
    }
    CHECK_MESSAGE(threw, "a stream cut to ", n, " of ", w.bytes.size(), " bytes decoded");
  }
}

TEST_CASE("gzip header fields (extra, name, comment, header CRC) are parsed and checked") {
  bit_writer body;
  write_fixed_block(body, {lit('h'), lit('i'), match(20, 2)}, true);
  const std::vector<std::uint8_t> content = expand({lit('h'), lit('i'), match(20, 2)});

  std::vector<std::uint8_t> gz = {0x1F, 0x8B, 8, 0x02 | 0x04 | 0x08 | 0x10, 1, 2, 3, 4, 0, 3};
  gz.insert(gz.end(), {3, 0, 'a', 'b', 'c'});       // FEXTRA: 3 bytes
  gz.insert(gz.end(), {'n', 'a', 'm', 'e', 0});     // FNAME
  gz.insert(gz.end(), {'h', 'e', 'l', 'l', 'o', 0});  // FCOMMENT
  const std::uint32_t header_crc = crc32_bitwise(gz) & 0xFFFFu;
  gz.push_back(static_cast<std::uint8_t>(header_crc));
  gz.push_back(static_cast<std::uint8_t>(header_crc >> 8));
  gz.insert(gz.end(), body.bytes.begin(), body.bytes.end());
  put_le32(gz, crc32_bitwise(content));
  put_le32(gz, static_cast<std::uint32_t>(content.size()));
  CHECK(gunzip(gz.data(), gz.size(), 1000) == content);

  auto error_of = [](std::vector<std::uint8_t> bytes) {
    return test::thrown_message<format_error>([&] { gunzip(bytes.data(), bytes.size(), 1000, "test.gz"); });
  };
  auto changed = [&](std::size_t offset, std::uint8_t value) {
    std::vector<std::uint8_t> copy = gz;
    copy[offset] = value;
    return copy;
  };
  CHECK(contains(error_of(changed(21, 'x')), "gzip header CRC"));  // a comment byte: header CRC no longer matches
  CHECK(contains(error_of(changed(2, 7)), "test.gz: compression method 7, expected 8 (deflate)"));
  CHECK(contains(error_of(changed(3, 0x20 | 0x02 | 0x04 | 0x08 | 0x10)), "reserved gzip header flags 0x20 are set"));
  CHECK(contains(error_of(changed(0, 0x1E)), "not gzip data: starts with 0x1E 0x8B, expected 0x1F 0x8B"));
  CHECK(contains(error_of(changed(gz.size() - 8, static_cast<std::uint8_t>(gz[gz.size() - 8] ^ 1))), "CRC-32 mismatch: the trailer says 0x"));
  CHECK(contains(error_of(changed(gz.size() - 4, static_cast<std::uint8_t>(gz[gz.size() - 4] ^ 1))), "size mismatch: the trailer says"));
  std::vector<std::uint8_t> trailing = gz;
  trailing.push_back(0);
  CHECK(contains(error_of(trailing), "1 bytes follow the gzip member, expected none"));
  std::vector<std::uint8_t> no_name_end(gz.begin(), gz.begin() + 19);
  CHECK(contains(error_of(no_name_end), "input ends inside the gzip header's file name"));
  CHECK(contains(error_of(std::vector<std::uint8_t>(gz.begin(), gz.begin() + 11)), "input ends inside the gzip extra field length"));
  CHECK(contains(error_of(std::vector<std::uint8_t>{}), "not gzip data: starts with (nothing)"));
}
