// The codec: row-major uint8 codes <-> bit-planes, against the layout written in bitplane_view.hpp.
#include <cstdint>
#include <tuple>
#include <vector>

#include "anybit/tensor/bitplane_tensor.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

// Every bit of every plane word, checked against the documented layout directly:
// bit (k % 64) of word(p, r, k / 64) is bit p of code (r, k), and every other bit is zero.
void check_layout(const bitplane_tensor<>& t, const std::vector<std::uint8_t>& codes) {
  const std::size_t words = t.words_per_row();
  CHECK(words % 8 == 0);
  CHECK(words * 64 >= t.cols());
  CHECK(words * 64 < t.cols() + 512 + (t.cols() == 0 ? 0 : 64));
  for (int p = 0; p < t.bits(); ++p) {
    for (std::size_t r = 0; r < t.rows(); ++r) {
      const std::uint64_t* row = t.plane_row(p, r);
      CHECK(reinterpret_cast<std::uintptr_t>(row) % 64 == 0);
      for (std::size_t bit = 0; bit < words * 64; ++bit) {
        const unsigned stored = (row[bit / 64] >> (bit % 64)) & 1u;
        const unsigned expected = bit < t.cols() ? (codes[r * t.cols() + bit] >> p) & 1u : 0u;
        if (stored != expected) {
          FAIL_CHECK("plane ", p, " row ", r, " bit ", bit, ": stored ", stored, ", expected ", expected);
          return;
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("codec round trip for every bit-width and every K in 1..130") {
  const std::size_t rows = 3;
  for (int b = 1; b <= 8; ++b) {
    for (std::size_t k = 1; k <= 130; ++k) {
      CAPTURE(b);
      CAPTURE(k);
      const auto codes = test::random_codes(rows * k, b, 1000 * b + k);
      const auto t = bitplane_tensor<>::from_codes(codes.data(), rows, k, b);
      REQUIRE(t.bits() == b);
      CHECK(t.to_codes() == codes);
      check_layout(t, codes);
      CHECK(t.storage_bytes() == static_cast<std::size_t>(b) * rows * t.words_per_row() * 8);  // no 4 KiB planes here
    }
  }
}

TEST_CASE("planes that would be a multiple of 4 KiB are one 64-byte line apart more, and round-trip") {
  // 8 rows x 512 cols: 8 words per row, 64 words (512 bytes) per plane: no padding. 64 x 1024:
  // 16 words per row, 1024 words (8 KiB) per plane: padded by 8 words, so word 0 of plane p sits
  // p lines past a 4 KiB boundary, in a different L1 set for each plane.
  for (const auto& [rows, cols, padded] : {std::tuple{8u, 512u, false}, std::tuple{64u, 1024u, true}, std::tuple{8u, 4096u, true},
                                           std::tuple{3u, 130u, false}}) {
    for (int b : {1, 2, 8}) {
      const auto codes = test::random_codes(std::size_t{rows} * cols, b, rows + cols + static_cast<std::size_t>(b));
      const auto t = bitplane_tensor<>::from_codes(codes.data(), rows, cols, b);
      const std::size_t plane_words = std::size_t{rows} * t.words_per_row();
      CHECK(t.view().plane_stride() == plane_words + (padded ? 8 : 0));
      CHECK(t.storage_bytes() == static_cast<std::size_t>(b) * t.view().plane_stride() * 8);
      if (padded) {
        for (int p = 1; p < b; ++p) {
          const auto offset = reinterpret_cast<std::uintptr_t>(t.plane_row(p, 0)) - reinterpret_cast<std::uintptr_t>(t.plane_row(0, 0));
          CHECK(offset % 4096 == static_cast<std::size_t>(p) * 64 % 4096);
        }
      }
      CHECK(t.to_codes() == codes);
      check_layout(t, codes);
      const bitplane_view top = t.top(1);  // the nested view steps over the padding line too
      for (std::size_t i = 0; i < codes.size(); i += 37) CHECK(top.code(i / cols, i % cols) == codes[i] >> (b - 1));
    }
  }
}

TEST_CASE("extreme codes survive the round trip") {
  for (int b = 1; b <= 8; ++b) {
    const std::size_t k = 67;
    std::vector<std::uint8_t> codes(2 * k);
    for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = (i % 2 == 0) ? 0 : static_cast<std::uint8_t>(max_code(b));
    const auto t = bitplane_tensor<>::from_codes(codes.data(), 2, k, b);
    CHECK(t.to_codes() == codes);
  }
}

TEST_CASE("compile-time and run-time widths store identical planes") {
  const std::size_t rows = 4, k = 97;
  const auto codes = test::random_codes(rows * k, 5, 7);
  const auto s = bitplane_tensor<5>::from_codes(codes.data(), rows, k);
  const auto d = bitplane_tensor<>::from_codes(codes.data(), rows, k, 5);
  static_assert(bitplane_tensor<5>::static_width && !bitplane_tensor<>::static_width);
  REQUIRE(s.storage_bytes() == d.storage_bytes());
  for (int p = 0; p < 5; ++p) {
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t w = 0; w < s.words_per_row(); ++w) CHECK(s.plane_row(p, r)[w] == d.plane_row(p, r)[w]);
    }
  }
}

TEST_CASE("a new tensor holds zero codes") {
  bitplane_tensor<3> t(5, 70);
  for (auto c : t.to_codes()) CHECK(c == 0);
  CHECK(t.rows() == 5);
  CHECK(t.cols() == 70);
}

TEST_CASE("empty tensors are allowed") {
  bitplane_tensor<> none(0, 10, 2);
  CHECK(none.to_codes().empty());
  CHECK(none.row_sums().empty());
  bitplane_tensor<> no_cols(3, 0, 2);
  CHECK(no_cols.words_per_row() == 0);
  CHECK(no_cols.row_sums() == std::vector<std::int64_t>{0, 0, 0});
  no_cols.assign_codes(nullptr);  // nothing to read
}

TEST_CASE("a code that does not fit its width is rejected, naming it, and changes nothing") {
  const std::size_t k = 10;
  std::vector<std::uint8_t> codes(2 * k, 1);
  bitplane_tensor<> t = bitplane_tensor<>::from_codes(codes.data(), 2, k, 2);
  codes[k + 3] = 4;  // row 1, column 3: needs 3 bits
  const std::string msg = test::thrown_message<bit_width_error>([&] { t.assign_codes(codes.data()); });
  CHECK(msg.find("code 4") != std::string::npos);
  CHECK(msg.find("row 1, column 3") != std::string::npos);
  CHECK(msg.find("2 bits") != std::string::npos);
  for (auto c : t.to_codes()) CHECK(c == 1);
  CHECK_THROWS_AS(bitplane_tensor<1>::from_codes(codes.data(), 2, k), bit_width_error);
}

TEST_CASE("invalid widths and arguments throw") {
  CHECK_THROWS_AS(bitplane_tensor<>(2, 2, 0), bit_width_error);
  CHECK_THROWS_AS(bitplane_tensor<>(2, 2, 9), bit_width_error);
  const std::string msg = test::thrown_message<bit_width_error>([] { bitplane_tensor<4>(2, 2, 3); });
  CHECK(msg.find("bitplane_tensor<4>") != std::string::npos);
  CHECK(msg.find("bits = 3") != std::string::npos);
  bitplane_tensor<> t(2, 3, 4);
  CHECK_THROWS_AS(t.assign_codes(nullptr), shape_error);
  CHECK_THROWS_AS(bitplane_tensor<>(~std::size_t{0} / 2, 1000, 1), shape_error);
}
