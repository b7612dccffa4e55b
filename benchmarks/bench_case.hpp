// bench_case.hpp — the work of one gemm_bench line, set up and checked once, so that the same
// work can be timed alone (timed) or against a baseline in the same loop (ratio_bench.cpp).
#pragma once

#include <anybit/gemm/path.hpp>
#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <string>
#include <utility>

namespace anybit_bench {

struct shape {
  std::size_t m, n, k;
};

/// One benchmark's work. run() is what is timed; it owns its data (captured by the closure).
struct bench_case {
  std::function<void()> run;
  double ops = 0;     // effective operations per run (2*M*N*K for a GEMM); 0: not a GEMM
  std::string label;  // what ran (the path the front end chose), shown as the line's label
  std::string error;  // set when the check against the reference failed: the line fails loudly

  static bench_case failed(std::string why) {
    bench_case c;
    c.error = std::move(why);
    return c;
  }
};

// The cases (gemm_bench.cpp, and onednn_bench.cpp when oneDNN is found). Each checks its result
// once against an independent reference; a mismatch gives a failed case.

/// The path's micro-kernel on one full W1A1 tile whose operands stay in L1, `repeats` times.
bench_case roofline_case(anybit::path p, std::size_t repeats);
/// bitserial_gemm forced to `allowed` (bitserial_only) or gemm_sums (int8, lookup, auto); nested:
/// weights packed at 8 bits, used through their top wb planes.
bench_case gemm_case(anybit::path_mask allowed, bool bitserial_only, int wb, int ab, shape s, int threads, bool nested);
/// Activation packing of M x K (s.n unused) with the packer `allowed` leads to: from floats
/// (quantize) or from uint8 codes.
bench_case pack_case(anybit::path_mask allowed, int ab, shape s, bool from_codes);
#if ANYBIT_BENCH_OPENBLAS
bench_case openblas_case(shape s);
#endif
#if ANYBIT_BENCH_ONEDNN
bench_case onednn_case(shape s);
/// oneDNN's ISA in its own naming (what ONEDNN_MAX_CPU_ISA allowed).
std::string onednn_isa();
#endif

/// <family>/<path>/W<w>A<a>/<M>x<N>x<K>
inline std::string bench_name(const std::string& family, const std::string& path, int w, int a, shape s) {
  return family + "/" + path + "/W" + std::to_string(w) + "A" + std::to_string(a) + "/" + std::to_string(s.m) + "x" +
         std::to_string(s.n) + "x" + std::to_string(s.k);
}

/// A counter of `amount` per iteration, as a rate per second (GOPS: amount = ops / 1e9).
inline void set_rate(benchmark::State& state, const char* counter, double amount_per_iteration) {
  state.counters[counter] =
      benchmark::Counter(amount_per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

/// The plain benchmark: c.run() in the timed loop; GOPS when c is a GEMM.
inline void timed(benchmark::State& state, const bench_case& c) {
  if (!c.error.empty()) return state.SkipWithError(c.error.c_str());
  if (!c.label.empty()) state.SetLabel(c.label);
  for (auto _ : state) {
    c.run();
    benchmark::ClobberMemory();
  }
  if (c.ops > 0) set_rate(state, "GOPS", c.ops / 1e9);
}

/// Registers a line that builds its case when it runs (set-up costs nothing for filtered-out lines).
template <class Make>
benchmark::internal::Benchmark* register_timed(const std::string& name, Make make) {
  return benchmark::RegisterBenchmark(name.c_str(), [make](benchmark::State& state) { timed(state, make()); })
      ->Unit(benchmark::kMillisecond);
}

}  // namespace anybit_bench
