// libFuzzer target: decode_model_file on any bytes, then a forward pass of what it accepts.
//
// The loader must raise anybit::error for anything that is not a model and never crash; a model
// it accepts must run. Section checksums are rewritten first, so mutations reach the parsing of
// the payloads and the builder's checks rather than stopping at the CRC (which a real corrupt
// file mostly does).
#include <anybit/deploy/model_file.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace {

// The file's sections as the loader walks them (12-byte header, then tag, length, payload,
// CRC), each CRC recomputed as far as the lengths stay inside the bytes.
void rewrite_checksums(std::vector<std::uint8_t>& bytes) {
  std::size_t at = 12;
  while (at + 8 <= bytes.size()) {
    std::uint32_t length = 0;
    std::memcpy(&length, bytes.data() + at + 4, 4);  // little-endian, as the file
    if (length > bytes.size() - at - 8 || bytes.size() - at - 8 - length < 4) return;
    const std::uint32_t crc = anybit::crc32(bytes.data() + at, 8 + std::size_t{length});
    std::memcpy(bytes.data() + at + 8 + length, &crc, 4);
    at += 12 + std::size_t{length};
  }
}

// The limits let a file describe large layers; running those would only time the fuzzer out.
bool quick_to_run(const anybit::deploy::integer_model& model) {
  if (model.input_size() > 4096) return false;
  for (const auto& layer : model.layers()) {
    if (layer.output.size() > (std::size_t{1} << 16)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  rewrite_checksums(bytes);
  try {
    anybit::deploy::integer_model model = anybit::deploy::decode_model_file(bytes.data(), bytes.size());
    if (quick_to_run(model)) {
      anybit::gemm_context ctx;
      const std::size_t batch = 2;
      std::vector<float> images(batch * model.input_size(), 0.25f), logits(batch * model.output_size());
      model.forward(images.data(), batch, logits.data(), ctx);
    }
  } catch (const anybit::error&) {
  }
  return 0;
}
