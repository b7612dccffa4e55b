// gunzip against files made by the system gzip tool (tests/data/fixtures, written by
// make_fixtures.py), whose content the tests rebuild from the same generator; then every
// truncation and every single-bit flip of those files, which must be rejected with format_error
// (or, for bits no check covers, such as the timestamp, decode to the original bytes).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/core/crc32.hpp"
#include "anybit/data/gzip.hpp"
#include "anybit/data/read_file.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {


// The generators of make_fixtures.py.
std::vector<std::uint8_t> random_bytes(std::size_t count, std::uint64_t seed) {
  test::rng r(seed);
  std::vector<std::uint8_t> out(count);
  for (auto& b : out) b = static_cast<std::uint8_t>(r.next() & 0xFF);
  return out;
}

std::vector<std::uint8_t> word_text(std::size_t count, std::uint64_t seed) {
  static const char* const words[] = {"quantized", "bit",       "plane",  "kernel", "popcount", "weight",
                                      "activation", "scale",    "zero",   "point",  "nested",   "precision",
                                      "tensor",    "gradient",  "step",   "layer"};
  test::rng r(seed);
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    text += words[r.below(16)];
    text += (i % 12 == 11 || i + 1 == count) ? "\n" : " ";
  }
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

std::vector<std::uint8_t> long_distance() {
  const std::vector<std::uint8_t> x = random_bytes(300, 3);
  std::vector<std::uint8_t> out = x;
  out.resize(out.size() + 32000, 0);
  out.insert(out.end(), x.begin(), x.end());
  return out;
}

std::vector<std::uint8_t> text_bytes(const std::string& s) { return std::vector<std::uint8_t>(s.begin(), s.end()); }

struct fixture_case {
  std::string file;
  std::vector<std::uint8_t> content;
  std::size_t stored, fixed, dynamic;  // block counts the fixture is meant to exercise
};

std::vector<fixture_case> fixture_cases() {
  return {
      {"random_stored.gz", random_bytes(4000, 1), 1, 0, 0},  // gzip -1 of random bytes
      {"tiny_fixed.gz", text_bytes("anybit: a tiny gzip fixture, fixed Huffman codes\n"), 0, 1, 0},
      {"text_dynamic.gz", word_text(1500, 2), 0, 0, 1},
      {"long_distance.gz", long_distance(), 0, 0, 1},
  };
}

std::vector<std::uint8_t> read_fixture(const std::string& name) { return read_file_bytes(test::fixture_path("data", name), 1u << 20); }

std::vector<std::uint8_t> try_gunzip(const std::vector<std::uint8_t>& gz, bool& threw, std::size_t limit = 1u << 20) {
  threw = false;
  try {
    return gunzip(gz.data(), gz.size(), limit);
  } catch (const format_error&) {
    threw = true;
  }
  return {};
}

}  // namespace

TEST_CASE("gzip fixtures decode to their generated content, with the block types they claim") {
  for (const fixture_case& f : fixture_cases()) {
    CAPTURE(f.file);
    const auto gz = read_fixture(f.file);
    inflate_stats stats;
    CHECK(gunzip(gz.data(), gz.size(), 1u << 20, f.file, &stats) == f.content);
    CHECK(stats.stored_blocks == f.stored);
    CHECK(stats.fixed_blocks == f.fixed);
    CHECK(stats.dynamic_blocks == f.dynamic);
  }
  const auto tiny = read_fixture("tiny_fixed.gz");
  CHECK(tiny[3] == 0x08);  // FNAME set: the header's file-name field is parsed
  inflate_stats stats;
  const auto gz = read_fixture("long_distance.gz");
  gunzip(gz.data(), gz.size(), 1u << 20, "long_distance.gz", &stats);
  CHECK(stats.longest_distance == 32300);  // the second copy of the 300 random bytes
}

TEST_CASE("every truncation of every gzip fixture is a format error") {
  for (const fixture_case& f : fixture_cases()) {
    CAPTURE(f.file);
    const auto gz = read_fixture(f.file);
    for (std::size_t n = 0; n < gz.size(); ++n) {
      bool threw = false;
      try_gunzip(std::vector<std::uint8_t>(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(n)), threw);
      if (!threw) FAIL_CHECK("cut to ", n, " of ", gz.size(), " bytes, the fixture still decoded");
    }
  }
}

// Bits no check can cover: FTEXT (a hint), MTIME, XFL, OS, a file-name byte that stays nonzero,
// the padding between a stored block's 3-bit header and its byte-aligned length, and the padding
// after the final block. Any other flipped bit must be rejected.
TEST_CASE("every single-bit flip of every gzip fixture is rejected or harmless") {
  for (const fixture_case& f : fixture_cases()) {
    CAPTURE(f.file);
    const auto gz = read_fixture(f.file);
    std::size_t name_end = 10;
    if (gz[3] & 0x08) {
      while (gz[name_end] != 0) ++name_end;
    }
    const std::size_t deflate_start = (gz[3] & 0x08) ? name_end + 1 : 10;
    const std::size_t last_deflate_byte = gz.size() - 9;
    for (std::size_t offset = 0; offset < gz.size(); ++offset) {
      for (int bit = 0; bit < 8; ++bit) {
        std::vector<std::uint8_t> corrupt = gz;
        corrupt[offset] = static_cast<std::uint8_t>(corrupt[offset] ^ (1u << bit));
        bool threw = false;
        const auto out = try_gunzip(corrupt, threw);
        if (threw) continue;
        const bool stored_padding = f.stored == 1 && offset == deflate_start && bit >= 3;
        const bool uncovered = (offset == 3 && bit == 0) || (offset >= 4 && offset <= 9) ||
                               (offset >= 10 && offset < name_end && corrupt[offset] != 0) || stored_padding ||
                               offset == last_deflate_byte;
        if (!uncovered) FAIL_CHECK("flipping bit ", bit, " of byte ", offset, " was accepted");
        if (out != f.content) FAIL_CHECK("flipping bit ", bit, " of byte ", offset, " decoded to different bytes");
      }
    }
  }
}

TEST_CASE("random multi-byte corruption never crashes: format error or the original bytes") {
  test::rng r(77);
  for (const fixture_case& f : fixture_cases()) {
    CAPTURE(f.file);
    const auto gz = read_fixture(f.file);
    for (int trial = 0; trial < 1500; ++trial) {
      std::vector<std::uint8_t> corrupt = gz;
      const std::uint32_t changes = 1 + r.below(6);
      for (std::uint32_t c = 0; c < changes; ++c) {
        corrupt[10 + r.below(static_cast<std::uint32_t>(gz.size() - 10))] = static_cast<std::uint8_t>(r.below(256));
      }
      bool threw = false;
      const auto out = try_gunzip(corrupt, threw);
      if (!threw && out != f.content) FAIL_CHECK("trial ", trial, " decoded to different bytes without an error");
    }
  }
}

TEST_CASE("a changed stored byte is caught by the CRC-32, and the output limit holds for a gzip file") {
  const auto gz = read_fixture("random_stored.gz");
  std::vector<std::uint8_t> corrupt = gz;
  corrupt[1000] = static_cast<std::uint8_t>(corrupt[1000] ^ 0x40);  // inside the stored block's data
  const std::string m = test::thrown_message<format_error>([&] { gunzip(corrupt.data(), corrupt.size(), 1u << 20, "x.gz"); });
  CHECK(m.find("x.gz: CRC-32 mismatch: the trailer says 0x") != std::string::npos);
  CHECK(m.find("at byte offset " + std::to_string(gz.size() - 8)) != std::string::npos);

  const std::string limit = test::thrown_message<format_error>([&] { gunzip(gz.data(), gz.size(), 3999); });
  CHECK(limit.find("output exceeds the limit of 3999 bytes") != std::string::npos);
  CHECK(gunzip(gz.data(), gz.size(), 4000).size() == 4000);
}

TEST_CASE("CRC-32 matches the standard check value and a bitwise computation, whole or in pieces") {
  const std::string check = "123456789";
  CHECK(crc32(reinterpret_cast<const std::uint8_t*>(check.data()), check.size()) == 0xCBF43926u);
  CHECK(crc32(nullptr, 0) == 0u);
  const auto data = random_bytes(1000, 5);
  for (std::size_t n : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 17u, 63u, 64u, 65u, 999u, 1000u}) {
    std::uint32_t bitwise = 0xFFFFFFFFu;
    for (std::size_t i = 0; i < n; ++i) {
      bitwise ^= data[i];
      for (int k = 0; k < 8; ++k) bitwise = (bitwise & 1u) ? (bitwise >> 1) ^ 0xEDB88320u : bitwise >> 1;
    }
    CHECK(crc32(data.data(), n) == ~bitwise);
    const std::size_t half = n / 3;
    CHECK(crc32(data.data() + half, n - half, crc32(data.data(), half)) == ~bitwise);
  }
}
