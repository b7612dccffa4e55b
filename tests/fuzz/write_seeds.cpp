// Writes the fuzzers' seed corpora: real files of every format, made by the library's own
// writers (models of the deploy tests' fixtures, a parameter file) or shipped as test fixtures
// (gzip), so the fuzzers start from inputs that get deep into each reader.
//
//   anybit_fuzz_write_seeds MODEL_DIR FORMATS_DIR
//
// The model fixtures include doctest for the tests' checks; this program runs none of them.
#define DOCTEST_CONFIG_DISABLE
#include <anybit/data/gzip.hpp>
#include <anybit/deploy/model_file.hpp>
#include <anybit/nn/parameter_file.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "deploy/model_fixtures.hpp"

namespace {

using namespace anybit;
using bytes = std::vector<std::uint8_t>;

void write(const std::filesystem::path& path, const bytes& content) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  if (!out) throw io_error("anybit_fuzz_write_seeds: cannot write " + path.string());
}

bytes read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error("anybit_fuzz_write_seeds: cannot open " + path);
  bytes content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (content.empty()) throw io_error("anybit_fuzz_write_seeds: " + path + " is empty");
  return content;
}

// file_formats_fuzz's input: the byte that picks the reader, then the reader's input.
bytes for_reader(std::uint8_t reader, const bytes& input) {
  bytes out{reader};
  out.insert(out.end(), input.begin(), input.end());
  return out;
}

// The DEFLATE stream inside a gzip member: after its header, as gunzip finds it.
bytes deflate_stream(const bytes& gz, const std::string& name) {
  const std::size_t body = data_detail::gzip_body_offset(gz.data(), gz.size(), name);
  return bytes(gz.begin() + static_cast<std::ptrdiff_t>(body), gz.end());
}

void write_models(const std::filesystem::path& dir) {
  using namespace anybit::deploy_test;
  const auto save = [&](const std::string& name, const recipe& layers) {
    write(dir / name, deploy::encode_model_file(build(layers)));
  };
  const bit_config configs[] = {{{1, 1, 1}, {8, 2, 2}}, {{4, 4, 4}, {8, 4, 4}}, {{8, 2, 3}, {5, 8, 3}}};
  std::uint64_t seed = 1;
  for (const bit_config& bits : configs) {
    const std::string n = std::to_string(seed);
    const bool zero_channel = seed == 2;  // one CNN with an output multiplier of 0
    save("cnn" + n, random_cnn(bits, random_images(2, {2, 10, 10}, seed), 2, seed, zero_channel));
    save("mlp" + n, random_mlp(bits, random_images(2, {1, 6, 6}, seed), 2, seed));
    save("conv_head" + n, random_conv_head(bits, random_images(2, {3, 7, 7}, seed), 2, seed));
    ++seed;
  }
}

void write_formats(const std::filesystem::path& dir) {
  for (const char* name : {"tiny_fixed", "text_dynamic", "random_stored", "long_distance", "tiny-images-idx3-ubyte"}) {
    const bytes gz = read(test::fixture_path("data", std::string(name) + ".gz"));
    write(dir / (std::string("deflate_") + name), for_reader(0, deflate_stream(gz, name)));
    write(dir / (std::string("gzip_") + name), for_reader(1, gz));
  }
  const bytes gz = read(test::fixture_path("data", "tiny-images-idx3-ubyte.gz"));
  write(dir / "idx_images", for_reader(2, gunzip(gz.data(), gz.size(), std::size_t{1} << 20)));
  write(dir / "idx_labels", for_reader(3, {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3}));
  dense_tensor weight(dense_shape({2, 3})), bias(dense_shape({4}));
  for (std::size_t i = 0; i < weight.size(); ++i) weight[i] = 0.5f * static_cast<float>(i) - 1.0f;
  const bytes parameters = nn::encode_parameter_file({{"layer.weight", &weight}, {"layer.bias", &bias}});
  write(dir / "parameters", for_reader(4, parameters));
  for (const char* paths : {"avx2,scalar", "all", "neon_dot"}) {
    const std::string text(paths);
    write(dir / ("paths_" + std::to_string(text.size())), for_reader(5, bytes(text.begin(), text.end())));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL_DIR FORMATS_DIR\n", argv[0]);
    return 2;
  }
  try {
    for (int i = 1; i < 3; ++i) std::filesystem::create_directories(argv[i]);
    write_models(argv[1]);
    write_formats(argv[2]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
