// Model files: save -> load -> forward is bit-identical; saving is atomic; truncated, bit-flipped
// and field-corrupted files raise anybit::error (never crash: run under ASan + UBSan too); the
// messages name what is wrong.
#include <sys/resource.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "anybit/core/crc32.hpp"
#include "anybit/deploy/model_file.hpp"
#include "anybit/nn/file_io.hpp"
#include "deploy/model_fixtures.hpp"
#include "support/test_support.hpp"

using namespace anybit;
using namespace anybit::deploy;
using namespace anybit::deploy_test;

namespace {

struct sample {
  integer_model model;
  std::vector<float> images;
  std::size_t batch;
};

sample cnn_sample(const bit_config& bits, std::uint64_t seed, bool zero_channel = false) {
  const std::size_t batch = 8;
  std::vector<float> images = random_images(batch, {2, 10, 10}, seed);
  integer_model model = build(random_cnn(bits, images, batch, seed, zero_channel));
  return {std::move(model), std::move(images), batch};
}

std::vector<float> logits_of(integer_model& model, const std::vector<float>& images, std::size_t batch) {
  gemm_context ctx;
  std::vector<float> logits(batch * model.output_size());
  model.forward(images.data(), batch, logits.data(), ctx);
  return logits;
}

// A model file's sections, parsed by the test itself (not the loader), to rewrite them with
// valid checksums.
struct section {
  std::uint32_t tag;
  std::vector<std::uint8_t> payload;
};

std::uint32_t le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 | static_cast<std::uint32_t>(p[2]) << 16 |
         static_cast<std::uint32_t>(p[3]) << 24;
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void set32(std::vector<std::uint8_t>& bytes, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}

std::vector<section> sections_of(const std::vector<std::uint8_t>& file) {
  std::vector<section> out;
  for (std::size_t at = 12; at < file.size();) {
    const std::uint32_t length = le32(file.data() + at + 4);
    out.push_back({le32(file.data() + at), std::vector<std::uint8_t>(file.begin() + static_cast<std::ptrdiff_t>(at + 8),
                                                                     file.begin() + static_cast<std::ptrdiff_t>(at + 8 + length))});
    at += 12 + length;
  }
  return out;
}

std::vector<std::uint8_t> file_of(const std::vector<section>& sections) {
  std::vector<std::uint8_t> out = {'A', 'N', 'Y', 'B', 'I', 'T', 'I', 'M'};
  put32(out, 1);
  for (const section& s : sections) {
    const std::size_t start = out.size();
    put32(out, s.tag);
    put32(out, static_cast<std::uint32_t>(s.payload.size()));
    out.insert(out.end(), s.payload.begin(), s.payload.end());
    put32(out, crc32(out.data() + start, out.size() - start));
  }
  return out;
}

// Decodes from an allocation of exactly `size` bytes, so AddressSanitizer sees any overread.
integer_model decode_exact(const std::vector<std::uint8_t>& bytes, std::size_t size) {
  const std::unique_ptr<std::uint8_t[]> copy(new std::uint8_t[size == 0 ? 1 : size]);
  if (size != 0) std::memcpy(copy.get(), bytes.data(), size);
  return decode_model_file(copy.get(), size);
}

template <class F>
std::string format_message(F&& f) {
  return test::thrown_message<format_error>(f);
}

}  // namespace

TEST_CASE("save, load and forward give bit-identical logits") {
  const bit_config configs[] = {{{1, 1, 1}, {8, 2, 2}}, {{4, 4, 4}, {8, 4, 4}}, {{8, 2, 3}, {5, 8, 3}}};
  test::scratch_dir dir("deploy_round_trip");
  std::uint64_t seed = 40;
  for (const bit_config& bits : configs) {
    sample s = cnn_sample(bits, ++seed, true);
    const std::string path = (dir.path / "model.aim").string();
    save_model(s.model, path);
    integer_model loaded = load_model(path);
    const std::vector<float> expected = logits_of(s.model, s.images, s.batch);
    const std::vector<float> got = logits_of(loaded, s.images, s.batch);
    CHECK(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)) == 0);
    CHECK(encode_model_file(loaded) == encode_model_file(s.model));  // the file holds the model as it runs
    CHECK(loaded.model_bytes() == s.model.model_bytes());
    CHECK(loaded.bitops() == s.model.bitops());
    CHECK(loaded.describe() == s.model.describe());
    // Everything model_bytes counts, plus framing: at most 12 bytes of section header and 32 of
    // shape fields per layer.
    const auto size = static_cast<std::size_t>(std::filesystem::file_size(path));
    CHECK(size > s.model.model_bytes());
    CHECK(size < s.model.model_bytes() + 44 * (s.model.layers().size() + 2) + 12);
  }
  for (std::uint64_t mseed : {7u, 8u}) {  // the mlp (per-feature normalisation) and a last conv2d
    const std::size_t batch = 5;
    const std::vector<float> images = random_images(batch, mseed == 7 ? tensor_shape{1, 6, 6} : tensor_shape{3, 7, 7}, mseed);
    integer_model model = build(mseed == 7 ? random_mlp({{2, 4, 8}, {8, 3, 6}}, images, batch, mseed)
                                           : random_conv_head({{4, 2}, {8, 4}}, images, batch, mseed));
    const std::vector<std::uint8_t> bytes = encode_model_file(model);
    integer_model loaded = decode_model_file(bytes.data(), bytes.size());
    CHECK(logits_of(loaded, images, batch) == logits_of(model, images, batch));
    CHECK(encode_model_file(loaded) == bytes);
  }
}

TEST_CASE("saving is atomic") {
  sample s = cnn_sample({{2, 2, 2}, {8, 2, 2}}, 3);
  test::scratch_dir dir("deploy_atomic");
  const std::filesystem::path missing = dir.path / "missing" / "model.aim";
  const std::string message = test::thrown_message<io_error>([&] { save_model(s.model, missing.string()); });
  CHECK(message.find("missing") != std::string::npos);
  CHECK(!std::filesystem::exists(missing.parent_path()));

  // A save that fails midway (the file size limit stops the write) leaves the old file as it
  // was and no temporary file behind.
  const std::vector<std::uint8_t> old_bytes = {1, 2, 3};
  const std::string target = dir.write("model.aim", old_bytes);
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
  rlimit small = saved;
  small.rlim_cur = 100;  // the model file is larger
  const auto previous = std::signal(SIGXFSZ, SIG_IGN);
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  bool failed = false;
  try {
    save_model(s.model, target);
  } catch (const io_error&) {
    failed = true;
  }
  setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous);
  CHECK(failed);
  CHECK(nn::read_whole_file(target) == old_bytes);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path)) files += entry.is_regular_file();
  CHECK(files == 1);

  save_model(s.model, target);  // and a save that succeeds replaces it
  integer_model loaded = load_model(target);
  CHECK(logits_of(loaded, s.images, s.batch) == logits_of(s.model, s.images, s.batch));
}

TEST_CASE("1000 truncated or bit-flipped model files each raise anybit::error") {
  sample cnn = cnn_sample({{1, 4, 8}, {8, 3, 5}}, 21, true);
  const std::vector<float> mlp_images = random_images(4, {1, 6, 6}, 22);
  const integer_model mlp = build(random_mlp({{2, 2, 8}, {8, 2, 4}}, mlp_images, 4, 22));
  const std::vector<std::uint8_t> files[] = {encode_model_file(cnn.model), encode_model_file(mlp)};
  test::rng r(2024);
  std::size_t format_errors = 0, other_errors = 0, loaded = 0;
  for (int i = 0; i < 1000; ++i) {
    std::vector<std::uint8_t> bytes = files[i % 2];
    std::size_t size = bytes.size();
    if (i % 4 < 2) {
      size = r.below(static_cast<std::uint32_t>(bytes.size()));  // truncated: 0 .. size - 1 bytes
    } else {
      const std::uint32_t flips = 1 + r.below(3);
      for (std::uint32_t f = 0; f < flips; ++f) {
        const std::uint32_t bit = r.below(static_cast<std::uint32_t>(bytes.size() * 8));
        bytes[bit / 8] = static_cast<std::uint8_t>(bytes[bit / 8] ^ (1u << (bit % 8)));
      }
      if (bytes == files[i % 2]) continue;  // two flips of one bit cancel: not corrupt
    }
    try {
      decode_exact(bytes, size);
      ++loaded;
    } catch (const format_error&) {
      ++format_errors;
    } catch (const error&) {
      ++other_errors;
    }
  }
  CHECK(loaded == 0);
  CHECK(other_errors == 0);
  CHECK(format_errors >= 990);
  MESSAGE(format_errors, " format errors");
}

TEST_CASE("corrupt fields behind valid checksums are rejected, or give a model that runs") {
  sample cnn = cnn_sample({{2, 3, 4}, {8, 4, 3}}, 31);
  const std::vector<section> original = sections_of(encode_model_file(cnn.model));
  REQUIRE(original.size() == 9);  // HEAD, 7 layers, END.
  test::rng r(99);
  std::size_t rejected = 0, ran = 0;
  for (int i = 0; i < 1000; ++i) {
    std::vector<section> sections = original;
    std::size_t index = r.below(8);  // HEAD or a layer with fields (not the flatten)
    while (sections[index].payload.empty()) index = r.below(8);
    section& s = sections[index];
    const std::size_t at = r.below(static_cast<std::uint32_t>(s.payload.size()));
    switch (i % 3) {
      case 0: s.payload[at] = static_cast<std::uint8_t>(r.below(256)); break;  // any byte
      case 1:                                                                   // a field: any u32
        if (s.payload.size() >= 4) set32(s.payload, at / 4 * 4 % (s.payload.size() - 3), static_cast<std::uint32_t>(r.next()));
        break;
      default: {  // a field: a boundary value
        const std::uint32_t values[] = {0u, 1u, 2u, 9u, 65536u, 65537u, 0x7F800000u, 0x7FC00000u, 0xFFFFFFFFu};
        if (s.payload.size() >= 4) set32(s.payload, at / 4 * 4 % (s.payload.size() - 3), values[r.below(9)]);
      }
    }
    const std::vector<std::uint8_t> bytes = file_of(sections);
    try {
      integer_model m = decode_exact(bytes, bytes.size());
      if (m.input_size() * cnn.batch <= cnn.images.size()) {  // a corrupt but valid model must still run
        gemm_context ctx;
        std::vector<float> logits(cnn.batch * m.output_size());
        m.forward(cnn.images.data(), cnn.batch, logits.data(), ctx);
      }
      ++ran;
    } catch (const error&) {
      ++rejected;
    }
  }
  MESSAGE(rejected, " rejected, ", ran, " loaded and ran");
  CHECK(rejected > 300);
  CHECK(rejected + ran == 1000);
}

TEST_CASE("model file errors name what is wrong") {
  sample cnn = cnn_sample({{1, 1, 1}, {8, 2, 2}}, 12);
  const std::vector<std::uint8_t> good = encode_model_file(cnn.model);
  const std::vector<section> sections = sections_of(good);
  const auto check = [](const std::vector<std::uint8_t>& bytes, const std::string& part) {
    const std::string message = format_message([&] { decode_exact(bytes, bytes.size()); });
    CHECK_MESSAGE(message.find(part) != std::string::npos, "'", part, "' not in: ", message);
  };

  std::vector<std::uint8_t> bytes = good;
  bytes[0] = 'X';
  check(bytes, "not an anybit integer model file");
  bytes = good;
  set32(bytes, 8, 2);
  check(bytes, "version 2, expected 1");
  check(std::vector<std::uint8_t>(good.begin(), good.begin() + 10), "version at byte 8 needs 4 bytes, only 2 remain");
  check(std::vector<std::uint8_t>(good.begin(), good.end() - 12), "without an END. section");
  check(std::vector<std::uint8_t>(good.begin(), good.end() - 13), "needs 4 bytes, only 3 remain");
  bytes = good;
  bytes.push_back(0);
  check(bytes, "1 bytes after its END. section");
  bytes = good;
  bytes[40] ^= 0x10;
  check(bytes, "the file is corrupt");

  std::vector<section> edited = sections;
  edited[3].tag = 0x21214F4Eu;  // "NO!!"
  check(file_of(edited), "unknown section tag NO!!");
  edited = sections;
  edited[3].tag = 0x01020304u;
  check(file_of(edited), "unknown section tag 0x01020304");
  edited = sections;
  set32(edited[0].payload, 0, 9);
  check(file_of(edited), "END. after 7 layers, the header announces 9");
  edited = sections;
  set32(edited[0].payload, 0, 5000);
  check(file_of(edited), "layer count = 5000, expected at most 1024");
  edited = sections;
  std::swap(edited[0], edited[1]);
  check(file_of(edited), "expected HEAD as the first section");
  edited = sections;
  edited.erase(edited.begin() + 1);  // no input layer
  set32(edited[0].payload, 0, 6);
  check(file_of(edited), "does not describe a valid layer");
  edited = sections;
  edited[2].payload.back() |= 0x80;  // conv1: 6 x 18 one-bit codes end 4 bits into a byte
  check(file_of(edited), "padding bits 8");
  edited = sections;
  edited[2].payload.push_back(0);
  check(file_of(edited), "holds 15 bytes of weight codes, expected ceil(6 x 18 x 1 bits / 8) = 14");
  edited = sections;
  set32(edited[2].payload, 4, 70000);  // conv1 kernel_h
  check(file_of(edited), "kernel_h = 70000, expected at most 65536");
  edited = sections;
  set32(edited[2].payload, 20, 9);  // conv1 weight bits
  check(file_of(edited), "weight bits = 9, expected 1..8");
  edited = sections;
  set32(edited[2].payload, 24, 0xFF800000u);  // conv1 weight scale[0] = -inf
  check(file_of(edited), "weight scale[0] = -inf");
  edited = sections;
  edited.erase(edited.end() - 2);  // the linear layer: the model ends in codes
  set32(edited[0].payload, 0, 6);
  check(file_of(edited), "does not describe a complete model");

  test::scratch_dir dir("deploy_errors");
  const std::string missing = (dir.path / "none.aim").string();
  CHECK(test::thrown_message<io_error>([&] { load_model(missing); }).find("none.aim") != std::string::npos);
  bytes = good;
  bytes[0] = 'X';
  const std::string corrupt = dir.write("corrupt.aim", bytes);
  CHECK(format_message([&] { load_model(corrupt); }).find("corrupt.aim") != std::string::npos);
}
