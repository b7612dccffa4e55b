// IDX parsing against buffers built here byte by byte, and reading from files, plain and gzip'd.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "anybit/data/idx.hpp"
#include "support/test_support.hpp"

using namespace anybit;

namespace {

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

std::vector<std::uint8_t> idx_buffer(std::uint32_t magic, const std::vector<std::uint32_t>& dims,
                                     const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out;
  put_be32(out, magic);
  for (std::uint32_t d : dims) put_be32(out, d);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string images_error(const std::vector<std::uint8_t>& b) {
  return test::thrown_message<format_error>([&] { parse_idx_images(b.data(), b.size(), "t.idx"); });
}



// The pixels make_fixtures.py wrote into tiny-images-idx3-ubyte.gz: 3 images of 4 x 5.
std::vector<std::uint8_t> tiny_fixture_pixels() {
  std::vector<std::uint8_t> pixels;
  for (int i = 0; i < 3; ++i)
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 5; ++c) pixels.push_back(static_cast<std::uint8_t>((i * 64 + r * 5 + c) & 0xFF));
  return pixels;
}

}  // namespace

TEST_CASE("IDX images and labels round-trip through hand-built buffers") {
  const auto pixels = test::random_codes(3 * 2 * 4, 8, 11);
  const auto buffer = idx_buffer(0x00000803, {3, 2, 4}, pixels);
  const idx_images images = parse_idx_images(buffer.data(), buffer.size());
  CHECK(images.count == 3);
  CHECK(images.rows == 2);
  CHECK(images.cols == 4);
  CHECK(images.pixels_per_image() == 8);
  CHECK(images.pixels == pixels);
  CHECK(images.image(2)[5] == pixels[2 * 8 + 5]);

  const std::vector<std::uint8_t> values = {9, 0, 3, 3, 7};
  const auto label_buffer = idx_buffer(0x00000801, {5}, values);
  CHECK(parse_idx_labels(label_buffer.data(), label_buffer.size()).values == values);

  const auto none = idx_buffer(0x00000803, {0, 28, 28}, {});  // no images is a valid file
  CHECK(parse_idx_images(none.data(), none.size()).count == 0);
  const auto big_dims = idx_buffer(0x00000803, {1, 300, 2}, std::vector<std::uint8_t>(600, 1));  // dims past one byte
  CHECK(parse_idx_images(big_dims.data(), big_dims.size()).rows == 300);
}

TEST_CASE("a wrong IDX magic names the value found and the one expected") {
  const auto labels = idx_buffer(0x00000801, {2}, {1, 2});
  CHECK(contains(images_error(labels), "t.idx: IDX magic is 0x00000801 (uint8 labels, 1 dimension), expected 0x00000803 "
                                       "(uint8 images, 3 dimensions)"));
  const auto floats = idx_buffer(0x00000D03, {1, 1, 1}, {0, 0, 0, 0});
  CHECK(contains(images_error(floats), "IDX magic is 0x00000D03, expected 0x00000803"));
  const auto images = idx_buffer(0x00000803, {1, 1, 1}, {5});
  CHECK(contains(test::thrown_message<format_error>([&] { parse_idx_labels(images.data(), images.size()); }),
                 "IDX magic is 0x00000803 (uint8 images, 3 dimensions), expected 0x00000801"));
}

TEST_CASE("truncated, over-long and absurd IDX data are format errors with the byte counts") {
  const auto good = idx_buffer(0x00000803, {3, 2, 4}, test::random_codes(24, 8, 1));
  CHECK(contains(images_error(std::vector<std::uint8_t>(good.begin(), good.begin() + 3)),
                 "IDX data is 3 bytes, too short for the 4-byte magic"));
  CHECK(contains(images_error(std::vector<std::uint8_t>(good.begin(), good.begin() + 12)),
                 "IDX data ends inside the header: 12 bytes, expected at least 16"));
  CHECK(contains(images_error(std::vector<std::uint8_t>(good.begin(), good.end() - 1)),
                 "IDX data holds 23 bytes after the header, expected 24 (dimensions 3 x 2 x 4)"));
  std::vector<std::uint8_t> longer = good;
  longer.push_back(0);
  CHECK(contains(images_error(longer), "IDX data holds 25 bytes after the header, expected 24"));
  for (std::size_t n = 0; n < good.size(); ++n) {
    const std::vector<std::uint8_t> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK_THROWS_AS(parse_idx_images(cut.data(), cut.size()), format_error);
  }
  CHECK(contains(images_error(idx_buffer(0x00000803, {2, 0, 4}, {})), "IDX image size 0 x 4, expected at least 1 x 1"));
  if (sizeof(std::size_t) == 8) {
    CHECK(contains(images_error(idx_buffer(0x00000803, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {})),
                   "IDX dimensions 4294967295 x 4294967295 x 4294967295 are absurd"));
  }
  const auto labels = idx_buffer(0x00000801, {4}, {1, 2, 3});
  CHECK(contains(test::thrown_message<format_error>([&] { parse_idx_labels(labels.data(), labels.size()); }),
                 "IDX data holds 3 bytes after the header, expected 4 (dimensions 4)"));
}

TEST_CASE("IDX files are read plain, gzip'd by name, or gzip'd by magic") {
  const idx_images from_gz = read_idx_images(test::fixture_path("data", "tiny-images-idx3-ubyte.gz"));
  CHECK(from_gz.count == 3);
  CHECK(from_gz.rows == 4);
  CHECK(from_gz.cols == 5);
  CHECK(from_gz.pixels == tiny_fixture_pixels());

  const test::scratch_dir dir("idx_test");
  std::ifstream in(test::fixture_path("data", "tiny-images-idx3-ubyte.gz"), std::ios::binary);
  const std::vector<std::uint8_t> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string unnamed = dir.write("images-without-suffix", gz);
  CHECK(read_idx_images(unnamed).pixels == tiny_fixture_pixels());

  const std::vector<std::uint8_t> values = {1, 2, 3};
  const std::string plain_labels = dir.write("labels-idx1-ubyte", idx_buffer(0x00000801, {3}, values));
  CHECK(read_idx_labels(plain_labels).values == values);

  const std::string fake_gz = dir.write("labels.gz", idx_buffer(0x00000801, {3}, values));
  const std::string m = test::thrown_message<format_error>([&] { read_idx_labels(fake_gz); });
  CHECK(contains(m, "labels.gz: not gzip data: starts with 0x00 0x00, expected 0x1F 0x8B"));

  const std::string wrong_kind = test::thrown_message<format_error>([&] { read_idx_labels(unnamed); });
  CHECK(contains(wrong_kind, unnamed + ": IDX magic is 0x00000803"));

  const std::string limit =
      test::thrown_message<format_error>([&] { read_idx_images(test::fixture_path("data", "tiny-images-idx3-ubyte.gz"), 50); });
  CHECK(contains(limit, "output exceeds the limit of 50 bytes"));
}

TEST_CASE("a missing IDX file is an io_error naming the path") {
  const std::string path = "/nonexistent/anybit/train-images-idx3-ubyte";
  const std::string m = test::thrown_message<io_error>([&] { read_idx_images(path); });
  CHECK(contains(m, "cannot open '" + path + "'"));
  CHECK(contains(m, "No such file or directory"));
}
