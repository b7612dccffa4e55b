// gemm_bench, family onednn_int8: oneDNN's int8 matmul (u8 activations x s8 weights -> s32),
// weights reordered once to the layout oneDNN prefers, ISA of oneDNN's own choice (cap it with
// ONEDNN_MAX_CPU_ISA / DNNL_MAX_CPU_ISA). Built when oneDNN is installed (benchmark-only).
// Name: onednn_int8/<isa>/W8A8/<M>x<N>x<K>; GOPS = 2*M*N*K / s, result checked once first.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "bench_case.hpp"

namespace anybit_bench {

namespace {

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

}  // namespace

std::string onednn_isa() { return isa_name(dnnl::get_effective_cpu_isa()); }

bench_case onednn_case(shape s) {
  using dt = dnnl::memory::data_type;
  using tag = dnnl::memory::format_tag;
  struct data {
    std::vector<std::uint8_t> a;
    std::vector<std::int8_t> w;  // N x K row-major = K x N in tag::ba
    std::vector<std::int32_t> c;
    dnnl::engine eng{dnnl::engine::kind::cpu, 0};
    dnnl::stream strm{eng};
    dnnl::memory w_mem;
    dnnl::matmul mm;
    std::unordered_map<int, dnnl::memory> args;
  };
  const auto m = static_cast<dnnl::memory::dim>(s.m), n = static_cast<dnnl::memory::dim>(s.n),
             k = static_cast<dnnl::memory::dim>(s.k);
  auto d = std::make_shared<data>();
  const dnnl::memory::desc a_md({m, k}, dt::u8, tag::ab), w_any({k, n}, dt::s8, tag::any), w_md({k, n}, dt::s8, tag::ba),
      c_md({m, n}, dt::s32, tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, w_any, c_md), d->eng);
  std::mt19937 rng(9);
  d->a.resize(s.m * s.k);
  d->w.resize(s.n * s.k);
  d->c.resize(s.m * s.n);
  // 7-bit activations: without VNNI oneDNN multiplies with vpmaddubsw, whose int16 pair sums
  // saturate for 8-bit x 8-bit values (a documented oneDNN behaviour); speed does not depend on it.
  for (auto& x : d->a) x = static_cast<std::uint8_t>(rng() & 0x7F);
  for (auto& x : d->w) x = static_cast<std::int8_t>(static_cast<int>(rng() & 0xFF) - 128);
  dnnl::memory a_mem(a_md, d->eng, d->a.data()), w_user(w_md, d->eng, d->w.data()), c_mem(c_md, d->eng, d->c.data());
  d->w_mem = dnnl::memory(pd.weights_desc(), d->eng);
  dnnl::reorder(w_user, d->w_mem).execute(d->strm, w_user, d->w_mem);  // once, outside the timed loop
  d->mm = dnnl::matmul(pd);
  d->args = {{DNNL_ARG_SRC, a_mem}, {DNNL_ARG_WEIGHTS, d->w_mem}, {DNNL_ARG_DST, c_mem}};
  bench_case c;
  c.run = [d] {
    d->mm.execute(d->strm, d->args);
    d->strm.wait();
  };
  c.run();
  for (std::size_t row : {std::size_t{0}, s.m - 1}) {
    for (std::size_t col = 0; col < s.n; col += 97) {
      std::int64_t expected = 0;
      for (std::size_t x = 0; x < s.k; ++x) expected += std::int64_t{d->a[row * s.k + x]} * d->w[col * s.k + x];
      if (d->c[row * s.n + col] != expected) return bench_case::failed("oneDNN result differs from the loop");
    }
  }
  c.ops = 2.0 * static_cast<double>(s.m * s.n * s.k);
  c.label = onednn_isa();
  return c;
}

namespace {

const bool registered = [] {
  for (shape s : {shape{1024, 1024, 1024}, {64, 1024, 1024}, {1, 4096, 4096}}) {
    register_timed(bench_name("onednn_int8", onednn_isa(), 8, 8, s), [s] { return onednn_case(s); });
  }
  return true;
}();

}  // namespace

}  // namespace anybit_bench
