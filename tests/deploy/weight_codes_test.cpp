// The weight code helpers: the dense code stream of model files, the training-order <-> NHWC
// permutation, and reading codes back out of packed weights.
#include <cstdint>
#include <string>
#include <vector>

#include "anybit/deploy/code_stream.hpp"
#include "anybit/deploy/weight_order.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::deploy;

TEST_CASE("code stream holds code i at stream bits i*b .. i*b+b-1, least significant first") {
  for (int bits = 1; bits <= 8; ++bits) {
    for (std::size_t count : {0u, 1u, 2u, 3u, 7u, 8u, 9u, 15u, 17u, 1000u}) {
      const std::vector<std::uint8_t> codes = test::random_codes(count, bits, static_cast<std::uint64_t>(bits) * 1000 + count);
      std::vector<std::uint8_t> stream = {0xAB};  // appending keeps what was there
      append_code_stream(codes.data(), count, bits, stream);
      REQUIRE(stream.size() == 1 + (count * static_cast<std::size_t>(bits) + 7) / 8);
      CHECK(stream[0] == 0xAB);
      std::size_t wrong = 0;
      for (std::size_t i = 0; i < count; ++i) {
        for (int j = 0; j < bits; ++j) {
          const std::size_t at = i * static_cast<std::size_t>(bits) + static_cast<std::size_t>(j);
          const int stored = (stream[1 + at / 8] >> (at % 8)) & 1;
          wrong += stored != ((codes[i] >> j) & 1);
        }
      }
      for (std::size_t at = count * static_cast<std::size_t>(bits); at < (stream.size() - 1) * 8; ++at) {
        wrong += ((stream[1 + at / 8] >> (at % 8)) & 1) != 0;  // padding is zero
      }
      CHECK_MESSAGE(wrong == 0, bits, "-bit stream of ", count, " codes has ", wrong, " wrong bits");
      CHECK(read_code_stream(stream.data() + 1, count, bits) == codes);
    }
  }
}

TEST_CASE("code stream rejects set padding bits") {
  const std::vector<std::uint8_t> codes = {5, 2, 7};  // 9 bits of 3-bit codes: 7 padding bits
  std::vector<std::uint8_t> stream;
  append_code_stream(codes.data(), codes.size(), 3, stream);
  REQUIRE(stream.size() == 2);
  stream[1] = static_cast<std::uint8_t>(stream[1] | 0x80);
  const std::string message = test::thrown_message<format_error>([&] { read_code_stream(stream.data(), 3, 3); });
  CHECK(message.find("padding bits 64") != std::string::npos);
}

TEST_CASE("channels_last moves each row's leading axis last, and channels_first undoes it") {
  const std::size_t rows = 3, c = 4, h = 2, w = 5, k = c * h * w;
  const std::vector<std::uint8_t> codes = test::random_codes(rows * k, 8, 11);
  const std::vector<std::uint8_t> last = channels_last(codes, rows, c, h, w);
  std::size_t wrong = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t ch = 0; ch < c; ++ch) {
      for (std::size_t y = 0; y < h; ++y) {
        for (std::size_t x = 0; x < w; ++x) wrong += last[r * k + (y * w + x) * c + ch] != codes[r * k + (ch * h + y) * w + x];
      }
    }
  }
  CHECK(wrong == 0);
  CHECK(channels_first(last, rows, c, h, w) == codes);
}

TEST_CASE("unpack_weight_codes reads back the codes packed_weights holds") {
  for (int bits = 1; bits <= 8; ++bits) {
    for (std::size_t n : {1u, 7u, 9u, 17u}) {
      for (std::size_t k : {1u, 63u, 64u, 65u, 130u}) {
        const std::vector<std::uint8_t> codes = test::random_codes(n * k, bits, n * 977 + k * 13 + static_cast<std::size_t>(bits));
        const packed_weights w = packed_weights::from_codes(codes.data(), n, k, bits);
        CHECK_MESSAGE(unpack_weight_codes(w.view()) == codes, "W", bits, " ", n, " x ", k);
      }
    }
  }
}
