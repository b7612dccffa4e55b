// float_gemm_bench: anybit's float GEMM against OpenBLAS sgemm in the same run (linked into
// gemm_bench next to the bit-serial families).
//
// Names: float_gemm/<impl>/<M>x<N>x<K>/<op(A)><op(B)>, op N (as stored) or T (transposed).
//   anybit           float_gemm with the kernel it picks on this CPU (AVX2+FMA here)
//   anybit_portable  float_gemm forced to the portable xsimd kernel
//   openblas         cblas_sgemm (when OpenBLAS is found)
// GOPS = 2*M*N*K / s. Every benchmark checks sampled outputs against the oracle once before
// timing and fails loudly otherwise. Compare single-threaded:
//   OPENBLAS_NUM_THREADS=1 taskset -c 0 gemm_bench --benchmark_filter=float_gemm/
// or threaded with ANYBIT_NUM_THREADS=n OPENBLAS_NUM_THREADS=n (GOPS then by wall-clock time).
#include <anybit/gemm/float_gemm.hpp>
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#if ANYBIT_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

using namespace anybit;

struct float_shape {
  std::size_t m, n, k;
  transpose ta, tb;
};

constexpr transpose N = transpose::no, T = transpose::yes;

// Square and wide-batch shapes, then an MNIST MLP layer (batch 128, 784 -> 256) as autograd
// calls it: forward X * W^T, backward dX = dY * W and dW = dY^T * X.
constexpr float_shape float_shapes[] = {
    {1024, 1024, 1024, N, N}, {64, 1024, 1024, N, N}, {128, 256, 784, N, N}, {128, 256, 784, N, T},
    {128, 784, 256, N, N},    {128, 784, 256, N, T},  {256, 784, 128, T, N}, {784, 256, 128, T, N},
};

std::string bench_name(const char* impl, const float_shape& s) {
  return std::string("float_gemm/") + impl + "/" + std::to_string(s.m) + "x" + std::to_string(s.n) + "x" +
         std::to_string(s.k) + "/" + (s.ta == T ? "T" : "N") + (s.tb == T ? "T" : "N");
}

struct float_operands {
  std::size_t lda, ldb;
  std::vector<float> a, b, c;
};

float_operands make_operands(const float_shape& s) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  float_operands o{s.ta == N ? s.k : s.m, s.tb == N ? s.n : s.k, std::vector<float>(s.m * s.k),
                   std::vector<float>(s.k * s.n), std::vector<float>(s.m * s.n)};
  for (auto& x : o.a) x = uniform(rng);
  for (auto& x : o.b) x = uniform(rng);
  return o;
}

// Sampled outputs against a double dot product, with the float summation bound (K + 2) u sum|ab|.
bool sample_matches(const float_shape& s, const float_operands& o) {
  for (std::size_t i : {std::size_t{0}, s.m / 2, s.m - 1}) {
    for (std::size_t j = 0; j < s.n; j += 13) {
      double sum = 0, magnitude = 0;
      for (std::size_t p = 0; p < s.k; ++p) {
        const double x = s.ta == N ? o.a[i * o.lda + p] : o.a[p * o.lda + i];
        const double y = s.tb == N ? o.b[p * o.ldb + j] : o.b[j * o.ldb + p];
        sum += x * y;
        magnitude += std::fabs(x * y);
      }
      const double tolerance = (static_cast<double>(s.k) + 2.0) * 0x1p-24 * magnitude;
      if (!(std::fabs(o.c[i * s.n + j] - sum) <= tolerance)) return false;
    }
  }
  return true;
}

template <class Run>
void time_gemm(benchmark::State& state, const float_shape& s, float_operands& o, Run run) {
  run();
  if (!sample_matches(s, o)) return state.SkipWithError("float GEMM result differs from the oracle");
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(o.c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GOPS"] = benchmark::Counter(2.0 * static_cast<double>(s.m * s.n * s.k) *
                                                  static_cast<double>(state.iterations()) / 1e9,
                                              benchmark::Counter::kIsRate);
}

void anybit_float_gemm(benchmark::State& state, float_shape s, float_kernel kernel) {
  float_operands o = make_operands(s);
  gemm_context ctx = gemm_context::from_environment();
  float_gemm_plan plan;
  plan.kernel = kernel;
  time_gemm(state, s, o, [&] {
    float_gemm(plan, s.ta, s.tb, s.m, s.n, s.k, 1.0f, o.a.data(), o.lda, o.b.data(), o.ldb, 0.0f, o.c.data(), s.n,
               ctx);
  });
}

#if ANYBIT_BENCH_OPENBLAS
void openblas_float_gemm(benchmark::State& state, float_shape s) {
  float_operands o = make_operands(s);
  const auto op = [](transpose t) { return t == T ? CblasTrans : CblasNoTrans; };
  time_gemm(state, s, o, [&] {
    cblas_sgemm(CblasRowMajor, op(s.ta), op(s.tb), static_cast<int>(s.m), static_cast<int>(s.n),
                static_cast<int>(s.k), 1.0f, o.a.data(), static_cast<int>(o.lda), o.b.data(), static_cast<int>(o.ldb),
                0.0f, o.c.data(), static_cast<int>(s.n));
  });
}
#endif

const bool float_registered = [] {
  const float_kernel best = choose_float_kernel(gemm_context{});
  // With worker threads, the main thread's CPU time undercounts: rate by wall-clock time then.
  const bool threaded = gemm_context::from_environment().threads > 1;
  const auto configure = [threaded](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond);
    if (threaded) b->UseRealTime();
  };
  for (const float_shape& s : float_shapes) {
    configure(benchmark::RegisterBenchmark(bench_name("anybit", s).c_str(), anybit_float_gemm, s, best));
#if ANYBIT_BENCH_OPENBLAS
    configure(benchmark::RegisterBenchmark(bench_name("openblas", s).c_str(), openblas_float_gemm, s));
#endif
    if (best != float_kernel::portable) {
      configure(benchmark::RegisterBenchmark(bench_name("anybit_portable", s).c_str(), anybit_float_gemm, s,
                                             float_kernel::portable));
    }
  }
  return true;
}();

}  // namespace
