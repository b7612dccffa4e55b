// gemm_bench, family onednn_int8: oneDNN's int8 matmul (u8 activations x s8 weights -> s32),
// weights reordered once to the layout oneDNN prefers, ISA of oneDNN's own choice (cap it with
// ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA). Built when oneDNN is installed (benchmark-only).
// Name: onednn_int8/<isa>/W8A8/<M>x<N>x<K>; GOPS = 2*M*N*K / s, result checked once first.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

namespace {

struct onednn_shape {
  std::size_t m, n, k;
};

const char* isa_name(dnnl::cpu_isa isa) {
  static const std::unordered_map<int, const char*> names = {
      {static_cast<int>(dnnl::cpu_isa::sse41), "sse41"},
      {static_cast<int>(dnnl::cpu_isa::avx), "avx"},
      {static_cast<int>(dnnl::cpu_isa::avx2), "avx2"},
      {static_cast<int>(dnnl::cpu_isa::avx2_vnni), "avx2_vnni"},
      {static_cast<int>(dnnl::cpu_isa::avx512_core), "avx512_core"},
      {static_cast<int>(dnnl::cpu_isa::avx512_core_vnni), "avx512_core_vnni"},
      {static_cast<int>(dnnl::cpu_isa::avx512_core_bf16), "avx512_core_bf16"},
      {static_cast<int>(dnnl::cpu_isa::avx512_core_amx), "avx512_core_amx"},
  };
  const auto it = names.find(static_cast<int>(isa));
  return it == names.end() ? "onednn" : it->second;
}

void onednn_int8(benchmark::State& state, onednn_shape s) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  const auto m = static_cast<dnnl::memory::dim>(s.m), n = static_cast<dnnl::memory::dim>(s.n),
             k = static_cast<dnnl::memory::dim>(s.k);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const dnnl::memory::desc a_md({m, k}, dt::u8, tag::ab), w_any({k, n}, dt::s8, tag::any), w_md({k, n}, dt::s8, tag::ba),
      c_md({m, n}, dt::s32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, w_any, c_md), eng);
  std::mt19937 rng(9);
  std::vector<std::uint8_t> a(s.m * s.k);
  std::vector<std::int8_t> w(s.n * s.k);  // N x K row-major = K x N in tag::ba
  // 7-bit activations: without VNNI oneDNN multiplies with vpmaddubsw, whose int16 pair sums
  // saturate for 8-bit x 8-bit values (a documented oneDNN behaviour); speed does not depend on it.
  for (auto& x : a) x = static_cast<std::uint8_t>(rng() & 0x7F);
  for (auto& x : w) x = static_cast<std::int8_t>(static_cast<int>(rng() & 0xFF) - 128);
  std::vector<std::int32_t> c(s.m * s.n);
  dnnl::memory a_mem(a_md, eng, a.data()), w_user(w_md, eng, w.data()), c_mem(c_md, eng, c.data());
  dnnl::memory w_mem(pd.weights_desc(), eng);
  dnnl::reorder(w_user, w_mem).execute(strm, w_user, w_mem);  // once, outside the timed loop
  const dnnl::matmul mm(pd);
  const std::unordered_map<int, dnnl::memory> args = {
      {DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_DST, c_mem}};
  mm.execute(strm, args);
  strm.wait();
  for (std::size_t row : {std::size_t{0}, s.m - 1}) {
    for (std::size_t col = 0; col < s.n; col += 97) {
      std::int64_t expected = 0;
      for (std::size_t x = 0; x < s.k; ++x) expected += std::int64_t{a[row * s.k + x]} * w[col * s.k + x];
      if (c[row * s.n + col] != expected) return state.SkipWithError("oneDNN result differs from the loop");
    }
  }
  state.SetLabel(isa_name(dnnl::get_effective_cpu_isa()));
  for (auto _ : state) {
    mm.execute(strm, args);
    strm.wait();
  }
  state.counters["GOPS"] = benchmark::Counter(2.0 * static_cast<double>(s.m * s.n * s.k) *
                                                  static_cast<double>(state.iterations()) / 1e9,
                                              benchmark::Counter::kIsRate);
}

const bool registered = [] {
  for (onednn_shape s : {onednn_shape{1024, 1024, 1024}, {64, 1024, 1024}, {1, 4096, 4096}}) {
    const std::string name = "onednn_int8/" + std::string(isa_name(dnnl::get_effective_cpu_isa())) + "/W8A8/" +
                             std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
    benchmark::RegisterBenchmark(name.c_str(), onednn_int8, s)->Unit(benchmark::kMillisecond);
  }
  return true;
}();

}  // namespace
