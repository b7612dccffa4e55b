// Parameter files: bit-exact round trips, atomic saves, and every kind of corruption (each
// truncation length, random bit flips, wrong magic, version, names and shapes) rejected with
// format_error or io_error while the model stays unchanged.
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "anybit/core/crc32.hpp"
#include "anybit/nn/models.hpp"
#include "anybit/nn/parameter_file.hpp"
#include "support/test_support.hpp"

using namespace anybit;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under the system's temporary directory, removed at the end of the test.
struct scratch_dir {
  fs::path path;
  scratch_dir() {
    path = fs::temp_directory_path() / ("anybit-nn-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

std::unique_ptr<nn::sequential> small_cnn(std::uint64_t seed) {
  xoshiro256ss rng(seed);
  return nn::make_cnn(nn::cnn_spec{1, 4, 2, 3, 2}, rng);
}

std::vector<std::vector<float>> snapshot(nn::module& m) {
  std::vector<std::vector<float>> out;
  for (const auto& s : m.state()) out.emplace_back(s.tensor->begin(), s.tensor->end());
  return out;
}

bool same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size() || std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("save then load restores every parameter and running statistic bit for bit") {
  scratch_dir dir;
  auto a = small_cnn(1);
  a->state()[3].tensor->fill(0.25f);  // a running mean that is not its initial value
  const std::string file = (dir.path / "model.abp").string();
  nn::save_parameters(*a, file);
  auto b = small_cnn(2);
  REQUIRE_FALSE(same_bits(snapshot(*a), snapshot(*b)));
  nn::load_parameters(*b, file);
  CHECK(same_bits(snapshot(*a), snapshot(*b)));
  // Atomic save: the directory holds the file and nothing else (no temporary left behind).
  std::size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) entries += e.path().filename() == "model.abp" ? std::size_t{1} : std::size_t{100};
  CHECK(entries == 1);
  // Saving over an existing file replaces it.
  nn::save_parameters(*b, file);
  nn::load_parameters(*a, file);
  CHECK(same_bits(snapshot(*a), snapshot(*b)));
}

TEST_CASE("the file layout is the documented one: magic, version, count, header CRC, sections") {
  parameter p(dense_tensor(dense_shape{2}, {1.0f, -2.0f}));
  const std::vector<nn::named_tensor> state{{"w", &p.value}};
  const std::vector<std::uint8_t> bytes = nn::encode_parameter_file(state);
  REQUIRE(bytes.size() == 20 + (4 + 1 + 4 + 8 + 8 + 4));
  CHECK(std::string(bytes.begin(), bytes.begin() + 8) == "ABNNPARM");
  CHECK(bytes[8] == 1);   // version 1, little-endian
  CHECK(bytes[12] == 1);  // one tensor
  CHECK(detail::load_le32(bytes.data() + 16) == crc32(bytes.data(), 16));
  CHECK(bytes[20] == 1);                          // name length
  CHECK(bytes[24] == 'w');
  CHECK(bytes[25] == 1);                          // rank
  CHECK(bytes[29] == 2);                          // extent 2 as u64
  CHECK(detail::load_le32(bytes.data() + 37) == 0x3F800000u);  // 1.0f
  CHECK(detail::load_le32(bytes.data() + 41) == 0xC0000000u);  // -2.0f
  CHECK(detail::load_le32(bytes.data() + 45) == crc32(bytes.data() + 20, 25));
  const auto decoded = nn::decode_parameter_file(bytes.data(), bytes.size());
  REQUIRE(decoded.size() == 1);
  CHECK(decoded[0].name == "w");
  CHECK(decoded[0].values.shape() == dense_shape{2});
  CHECK(decoded[0].values[1] == -2.0f);
}

TEST_CASE("every truncation of a saved file is a format_error, and the model stays unchanged") {
  auto model = small_cnn(3);
  const std::vector<std::uint8_t> bytes = nn::encode_parameter_file(model->state());
  auto target = small_cnn(4);
  const auto before = snapshot(*target);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    CAPTURE(length);
    CHECK_THROWS_AS(nn::assign_state(*target, nn::decode_parameter_file(bytes.data(), length)), format_error);
  }
  CHECK(same_bits(before, snapshot(*target)));
  // Through the file system too, for a few lengths, and a trailing byte is rejected as well.
  scratch_dir dir;
  const std::string file = (dir.path / "cut.abp").string();
  for (const std::size_t length : {std::size_t{0}, std::size_t{7}, std::size_t{21}, bytes.size() - 1}) {
    nn::write_file_atomically(file, bytes.data(), length);
    CHECK_THROWS_AS(nn::load_parameters(*target, file), format_error);
  }
  std::vector<std::uint8_t> longer = bytes;
  longer.push_back(0);
  CHECK(test::thrown_message<format_error>([&] { nn::decode_parameter_file(longer.data(), longer.size()); })
            .find("1 bytes after") != std::string::npos);
  CHECK(same_bits(before, snapshot(*target)));
}

TEST_CASE("random bit flips anywhere in a saved file are caught by the checksums") {
  auto model = small_cnn(5);
  const std::vector<std::uint8_t> bytes = nn::encode_parameter_file(model->state());
  auto target = small_cnn(6);
  const auto before = snapshot(*target);
  xoshiro256ss rng(99);
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::uint8_t> corrupt = bytes;
    const int flips = 1 + static_cast<int>(rng.below(3));
    for (int f = 0; f < flips; ++f) corrupt[rng.below(corrupt.size())] ^= static_cast<std::uint8_t>(1u << rng.below(8));
    if (corrupt == bytes) continue;  // two flips of one bit cancel
    CAPTURE(trial);
    CHECK_THROWS_AS(nn::assign_state(*target, nn::decode_parameter_file(corrupt.data(), corrupt.size())), format_error);
  }
  CHECK(same_bits(before, snapshot(*target)));
}

TEST_CASE("wrong magic, version, names and shapes are format_errors that say what is wrong") {
  auto model = small_cnn(7);
  std::vector<std::uint8_t> bytes = nn::encode_parameter_file(model->state());
  std::vector<std::uint8_t> magic = bytes;
  magic[0] = 'X';
  CHECK(test::thrown_message<format_error>([&] { nn::decode_parameter_file(magic.data(), magic.size()); })
            .find("not an anybit parameter file") != std::string::npos);
  std::vector<std::uint8_t> version = bytes;
  version[8] = 2;  // with a matching header checksum: only the version is wrong
  const std::uint32_t crc = crc32(version.data(), 16);
  for (int i = 0; i < 4; ++i) version[16 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
  CHECK(test::thrown_message<format_error>([&] { nn::decode_parameter_file(version.data(), version.size()); })
            .find("version 2, expected 1") != std::string::npos);

  // A model of another shape: the message names the tensor and both shapes.
  xoshiro256ss rng(8);
  auto wider = nn::make_cnn(nn::cnn_spec{1, 4, 3, 3, 2}, rng);
  const auto loaded = nn::decode_parameter_file(bytes.data(), bytes.size());
  const std::string shape_message = test::thrown_message<format_error>([&] { nn::assign_state(*wider, loaded); });
  CHECK(shape_message.find("'0.weight' has shape [2, 1, 3, 3], the model expects [3, 1, 3, 3]") != std::string::npos);
  // A model with other names (an MLP).
  xoshiro256ss rng2(9);
  auto mlp = nn::make_mlp({16, 2}, rng2);
  CHECK(test::thrown_message<format_error>([&] { nn::assign_state(*mlp, loaded); }).find("the model expects") !=
        std::string::npos);
  // Extra tensors in the file.
  std::vector<nn::named_tensor> state = model->state();
  dense_tensor extra(dense_shape{1});
  state.push_back({"extra", &extra});
  const std::vector<std::uint8_t> more = nn::encode_parameter_file(state);
  CHECK(test::thrown_message<format_error>(
            [&] { nn::assign_state(*model, nn::decode_parameter_file(more.data(), more.size())); })
            .find("'extra', which the model does not have") != std::string::npos);
  // Duplicate names.
  std::vector<nn::named_tensor> twice{{"w", &extra}, {"w", &extra}};
  const std::vector<std::uint8_t> dup = nn::encode_parameter_file(twice);
  CHECK(test::thrown_message<format_error>([&] { nn::decode_parameter_file(dup.data(), dup.size()); })
            .find("'w' twice") != std::string::npos);
}

TEST_CASE("missing files and unwritable paths are io_errors naming the path") {
  scratch_dir dir;
  auto model = small_cnn(10);
  const std::string missing = (dir.path / "absent.abp").string();
  CHECK(test::thrown_message<io_error>([&] { nn::load_parameters(*model, missing); }).find(missing) != std::string::npos);
  const std::string unwritable = (dir.path / "no-such-dir" / "m.abp").string();
  CHECK(test::thrown_message<io_error>([&] { nn::save_parameters(*model, unwritable); }).find("no-such-dir") !=
        std::string::npos);
  CHECK_THROWS_AS(nn::load_parameters(*model, dir.path.string()), io_error);  // a directory
}

TEST_CASE("state_checksum changes with any value and agrees for equal states") {
  auto a = small_cnn(11), b = small_cnn(11), c = small_cnn(12);
  CHECK(nn::state_checksum(*a) == nn::state_checksum(*b));
  CHECK(nn::state_checksum(*a) != nn::state_checksum(*c));
  (*b->state().back().tensor)[0] += 1e-6f;  // one float of the last tensor
  CHECK(nn::state_checksum(*a) != nn::state_checksum(*b));
}
