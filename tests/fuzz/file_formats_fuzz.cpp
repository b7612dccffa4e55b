// libFuzzer target: every other reader of outside bytes. The first byte picks the reader, the
// rest is its input; each must raise anybit::error on bad input and never crash.
#include <anybit/core/crc32.hpp>
#include <anybit/data/gzip.hpp>
#include <anybit/data/idx.hpp>
#include <anybit/data/inflate.hpp>
#include <anybit/gemm/path.hpp>
#include <anybit/nn/parameter_file.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::size_t max_output = std::size_t{1} << 20;

void decode_parameters(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  if (bytes.size() >= 20) {  // the header checksum rewritten, so mutations reach the tensors
    const std::uint32_t crc = anybit::crc32(bytes.data(), 16);
    std::memcpy(bytes.data() + 16, &crc, 4);
  }
  anybit::nn::decode_parameter_file(bytes.data(), bytes.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t* input = data + 1;
  const std::size_t n = size - 1;
  try {
    switch (data[0] % 6) {
      case 0: anybit::inflate(input, n, max_output); break;
      case 1: anybit::gunzip(input, n, max_output); break;
      case 2: anybit::parse_idx_images(input, n); break;
      case 3: anybit::parse_idx_labels(input, n); break;
      case 4: decode_parameters(input, n); break;
      default: anybit::parse_paths(std::string(reinterpret_cast<const char*>(input), n)); break;
    }
  } catch (const anybit::error&) {
  }
  return 0;
}
