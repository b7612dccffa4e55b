// Codec throughput: encoding uint8 codes into bit-planes and decoding them back, against a pass
// that only reads every code once (summing them), measured in the same run: the floor of any
// packer. (glibc's memcpy was not used as the floor: on the AMD EPYC guest used here it copies
// 64 KiB at only ~3 GB/s.) Names: codec/<encode|decode|read>/B<bits>/<rows>x<cols>.
// Counter codes_per_s.
#include <anybit/anybit.hpp>
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr std::size_t rows = 64, cols = 1024;

std::vector<std::uint8_t> random_codes(int bits) {
  std::mt19937 rng(bits);
  std::vector<std::uint8_t> codes(rows * cols);
  for (auto& c : codes) c = static_cast<std::uint8_t>(rng() & anybit::max_code(bits));
  return codes;
}

void set_rate(benchmark::State& state) {
  state.counters["codes_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * rows * cols),
                                                     benchmark::Counter::kIsRate);
}

void encode(benchmark::State& state, int bits) {
  const auto codes = random_codes(bits);
  anybit::bitplane_tensor<> t(rows, cols, bits);
  t.assign_codes(codes.data());
  if (t.to_codes() != codes) {
    state.SkipWithError("encode: round trip differs from the input");
    return;
  }
  for (auto _ : state) {
    t.assign_codes(codes.data());
    benchmark::DoNotOptimize(t.plane_row(0, 0));
    benchmark::ClobberMemory();
  }
  set_rate(state);
}

void decode(benchmark::State& state, int bits) {
  const auto codes = random_codes(bits);
  const auto t = anybit::bitplane_tensor<>::from_codes(codes.data(), rows, cols, bits);
  std::vector<std::uint8_t> out(codes.size());
  t.view().to_codes(out.data());
  if (out != codes) {
    state.SkipWithError("decode: round trip differs from the input");
    return;
  }
  for (auto _ : state) {
    t.view().to_codes(out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  set_rate(state);
}

void read_baseline(benchmark::State& state) {
  const auto codes = random_codes(8);
  for (auto _ : state) {
    benchmark::DoNotOptimize(codes.data());
    std::uint64_t sum = 0;
    for (std::uint8_t c : codes) sum += c;
    benchmark::DoNotOptimize(sum);
  }
  set_rate(state);
}

const bool registered = [] {
  const std::string shape = "/" + std::to_string(rows) + "x" + std::to_string(cols);
  benchmark::RegisterBenchmark(("codec/read/B8" + shape).c_str(), read_baseline);
  for (int b : {1, 2, 4, 8}) {
    const std::string tag = "/B" + std::to_string(b) + shape;
    benchmark::RegisterBenchmark(("codec/encode" + tag).c_str(), encode, b);
    benchmark::RegisterBenchmark(("codec/decode" + tag).c_str(), decode, b);
  }
  return true;
}();

}  // namespace
