// gemm_bench: bit-serial GEMM per path against same-run baselines.
//
// Names: <family>/<path>/W<w>A<a>/<M>x<N>x<K>. Families:
//   roofline        the path's micro-kernel on one full tile whose operands stay in L1 (W1A1):
//                   the most its AND-popcount loop can do; GOPS counts 2 ops per bit ANDed.
//   bitserial       bitserial_gemm forced to that path.
//   int8            gemm_sums forced to one int8 path (codes as bytes: avx512_int8 vpdpbusd,
//                   avx2_int8 vpmaddubsw, neon_int8), one line per int8 path this CPU runs.
//   lut             gemm_sums forced to a lookup path (activation tables, weight nibbles as
//                   indices), one line per lookup path this CPU runs, at the few-row shapes.
//   auto            gemm_sums with every path allowed: the cost model's choice.
//   nested          as bitserial, with weights packed at 8 bits used through their top W planes
//                   (compare with the bitserial line of the same W, A and shape).
//   openblas_sgemm  cblas_sgemm on float copies of the same codes (when OpenBLAS is found).
//   pack            quantize_activations: M x K floats to A-bit planes (the run-time packing
//                   every layer pays); Gcodes = codes packed per second, not a GEMM rate.
//   pack_codes      pack_activations: M x K uint8 codes to A-bit planes; Gcodes as for pack.
// GOPS = effective 2*M*N*K operations per second for every GEMM. Each benchmark checks its
// result once before timing (sampled rows against the reference) and fails loudly otherwise.
#include <anybit/anybit.hpp>
#include <anybit/gemm/bitserial_gemm.hpp>
#include <anybit/gemm/gemm.hpp>
#include <anybit/gemm/pack_activations.hpp>
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#if ANYBIT_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

using namespace anybit;

struct shape {
  std::size_t m, n, k;
};
constexpr shape shapes[] = {{1024, 1024, 1024}, {64, 1024, 1024}, {1, 4096, 4096}};

std::vector<std::uint8_t> random_codes(std::size_t count, int bits, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> codes(count);
  for (auto& c : codes) c = static_cast<std::uint8_t>(rng() & max_code(bits));
  return codes;
}

std::string name(const char* family, const char* path, int w, int a, shape s) {
  return std::string(family) + "/" + path + "/W" + std::to_string(w) + "A" + std::to_string(a) + "/" +
         std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
}

void set_gops(benchmark::State& state, double ops_per_iteration) {
  state.counters["GOPS"] =
      benchmark::Counter(ops_per_iteration * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

// One full mr x np tile, W1A1, K = 64 words (4096 codes): operands of a few KiB, all in L1.
void roofline(benchmark::State& state, path p) {
  const auto* k = detail::find_kernel(p);
  const std::size_t k_words = 64, kc = k_words * 64;
  const std::size_t rows = static_cast<std::size_t>(k->mr), cols = static_cast<std::size_t>(k->np) * kernels::panel_width;
  const auto ac = random_codes(rows * kc, 1, 1), wc = random_codes(cols * kc, 1, 2);
  const auto a = bitplane_tensor<1>::from_codes(ac.data(), rows, kc);
  const auto wt = bitplane_tensor<1>::from_codes(wc.data(), cols, kc);
  const packed_weights w(wt);
  std::vector<std::int64_t> c(rows * cols), expected(rows * cols);
  const kernels::tile_args t{a.plane_row(0, 0), a.words_per_row(), a.plane_stride(), 1, w.view().data(),
                             w.view().panel_stride(), w.view().plane_stride(), 1, k_words, k->mr, k->np, c.data(), cols};
  k->run(t);
  reference::gemm(a, wt, expected.data(), cols);
  if (c != expected) return state.SkipWithError("roofline tile differs from the reference");
  for (auto _ : state) {
    k->run(t);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, 2.0 * static_cast<double>(rows * cols * kc));
}

// bitserial_gemm on one path, or gemm_sums (int8 / auto): the same exact int64 sums either way.
// nested: the weights are packed at 8 bits and used through their top wb planes.
void integer_gemm(benchmark::State& state, path_mask allowed, bool bitserial_only, int wb, int ab, shape s,
                  int threads, bool nested) {
  const auto ac = random_codes(s.m * s.k, ab, 3), wc8 = random_codes(s.n * s.k, 8, 4);
  std::vector<std::uint8_t> wc(wc8.size());
  for (std::size_t i = 0; i < wc.size(); ++i) wc[i] = static_cast<std::uint8_t>(wc8[i] >> (8 - wb));
  const auto a = bitplane_tensor<>::from_codes(ac.data(), s.m, s.k, ab);
  const auto wt = bitplane_tensor<>::from_codes(wc.data(), s.n, s.k, wb);
  const packed_weights native(wt), packed8 = packed_weights::from_codes(wc8.data(), s.n, s.k, 8);
  const packed_weights_view w = nested ? packed8.top(wb) : native.view();
  gemm_context ctx;
  ctx.allowed = allowed;
  ctx.threads = threads;
  std::vector<std::int64_t> c(s.m * s.n);
  const auto run = [&] { bitserial_only ? bitserial_gemm(a, w, c.data(), s.n, ctx) : gemm_sums(a, w, c.data(), s.n, ctx); };
  run();
  for (std::size_t row : {std::size_t{0}, s.m / 2, s.m - 1}) {  // sampled rows against the reference
    for (std::size_t col = 0; col < s.n; col += 7) {
      if (c[row * s.n + col] != reference::bitserial_dot(a, row, wt, col)) {
        return state.SkipWithError("gemm result differs from the reference");
      }
    }
  }
  state.SetLabel(path_name(ctx.last_path));
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, 2.0 * static_cast<double>(s.m * s.n * s.k));
}

void pack(benchmark::State& state, path p, int ab, shape s) {
  std::mt19937 rng(7);
  std::vector<float> x(s.m * s.k);
  for (auto& v : x) v = static_cast<float>(rng() % 2001) / 1000.0f - 1.0f;
  const activation_quant q{2.0f / static_cast<float>(max_code(ab)), static_cast<float>(max_code(ab)) / 2.0f};
  gemm_context ctx;
  ctx.allowed = mask_of(p);
  bitplane_tensor<> out(s.m, s.k, ab);
  quantize_activations(x.data(), s.m, s.k, s.k, q, ab, out, ctx);
  for (std::size_t i = 0; i < x.size(); i += 101) {  // sampled codes against quantize_code
    if (out.view().code(i / s.k, i % s.k) != quantize_code(x[i], 1.0f / q.scale, q.zero_point, static_cast<float>(max_code(ab)))) {
      return state.SkipWithError("packed code differs from quantize_code");
    }
  }
  for (auto _ : state) {
    quantize_activations(x.data(), s.m, s.k, s.k, q, ab, out, ctx);
    benchmark::DoNotOptimize(out.plane_row(0, 0));
    benchmark::ClobberMemory();
  }
  state.counters["Gcodes"] =
      benchmark::Counter(static_cast<double>(s.m * s.k) * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

void pack_codes(benchmark::State& state, path p, int ab, shape s) {
  const auto codes = random_codes(s.m * s.k, ab, 8);
  gemm_context ctx;
  ctx.allowed = mask_of(p);
  bitplane_tensor<> out(s.m, s.k, ab);
  pack_activations(codes.data(), s.m, s.k, s.k, ab, out, ctx);
  const auto expected = bitplane_tensor<>::from_codes(codes.data(), s.m, s.k, ab);
  for (std::size_t i = 0; i < codes.size(); i += 101) {  // sampled codes against the codec
    if (out.view().code(i / s.k, i % s.k) != expected.view().code(i / s.k, i % s.k)) {
      return state.SkipWithError("packed code differs from the codec");
    }
  }
  for (auto _ : state) {
    pack_activations(codes.data(), s.m, s.k, s.k, ab, out, ctx);
    benchmark::DoNotOptimize(out.plane_row(0, 0));
    benchmark::ClobberMemory();
  }
  state.counters["Gcodes"] =
      benchmark::Counter(static_cast<double>(s.m * s.k) * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}

#if ANYBIT_BENCH_OPENBLAS
void openblas_sgemm(benchmark::State& state, shape s) {
  // 4-bit codes keep every partial sum below 2^24, so float is exact and checkable; the values
  // do not change float speed.
  const auto ac = random_codes(s.m * s.k, 4, 5), wc = random_codes(s.n * s.k, 4, 6);
  const std::vector<float> a(ac.begin(), ac.end()), w(wc.begin(), wc.end());
  std::vector<float> c(s.m * s.n);
  const auto run = [&] {
    if (s.m == 1) {  // OpenBLAS is 3x faster on GEMV through sgemv than through sgemm
      cblas_sgemv(CblasRowMajor, CblasNoTrans, static_cast<int>(s.n), static_cast<int>(s.k), 1.0f, w.data(),
                  static_cast<int>(s.k), a.data(), 1, 0.0f, c.data(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(s.m), static_cast<int>(s.n),
                  static_cast<int>(s.k), 1.0f, a.data(), static_cast<int>(s.k), w.data(), static_cast<int>(s.k), 0.0f,
                  c.data(), static_cast<int>(s.n));
    }
  };
  run();
  for (std::size_t col = 0; col < s.n; col += 97) {
    double expected = 0;
    for (std::size_t x = 0; x < s.k; ++x) expected += double{a[x]} * w[col * s.k + x];
    if (static_cast<double>(c[col]) != expected) return state.SkipWithError("sgemm result differs from the loop");
  }
  for (auto _ : state) {
    run();
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gops(state, 2.0 * static_cast<double>(s.m * s.n * s.k));
}
#endif

const bool registered = [] {
  const int widths[] = {1, 2, 3, 4, 8};
  for (path p : {path::avx512, path::avx512bw, path::avx2, path::neon, path::scalar}) {
    const auto* k = detail::find_kernel(p);
    if (!(supported_paths() & mask_of(p)) || k == nullptr) continue;
    const shape tile{static_cast<std::size_t>(k->mr), static_cast<std::size_t>(k->np) * 8, 4096};
    benchmark::RegisterBenchmark(name("roofline", path_name(p), 1, 1, tile).c_str(), roofline, p);
    if (p == path::avx512 || p == path::avx2 || p == path::scalar) {  // avx512: the AVX-512BW packer
      for (int ab : widths) {
        const shape s{64, 0, 1024};
        const std::string suffix = std::string(path_name(p)) + "/A" + std::to_string(ab) + "/64x1024";
        benchmark::RegisterBenchmark(("pack/" + suffix).c_str(), pack, p, ab, s);
        benchmark::RegisterBenchmark(("pack_codes/" + suffix).c_str(), pack_codes, p, ab, s);
      }
    }
    for (shape s : shapes) {
      for (int wb : widths) {
        for (int ab : widths) {
          benchmark::RegisterBenchmark(name("bitserial", path_name(p), wb, ab, s).c_str(), integer_gemm, mask_of(p), true,
                                       wb, ab, s, 1, false)
              ->Unit(benchmark::kMillisecond);
        }
      }
    }
    for (int wb : {1, 2, 4}) {
      for (shape s : shapes) {
        benchmark::RegisterBenchmark(name("nested", path_name(p), wb, wb, s).c_str(), integer_gemm, mask_of(p), true, wb, wb,
                                     s, 1, true)
            ->Unit(benchmark::kMillisecond);
      }
    }
    // Thread scaling: the same GEMM on 2 threads (compare with the 1-thread line of this run).
    for (int wb : {1, 2}) {
      benchmark::RegisterBenchmark((name("bitserial", path_name(p), wb, wb, shapes[0]) + "/threads:2").c_str(), integer_gemm,
                                   mask_of(p), true, wb, wb, shapes[0], 2, false)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    }
  }
  for (shape s : shapes) {
    for (int wb : widths) {
      for (int ab : widths) {
        for (const auto& k8 : detail::compiled_int8_kernels()) {
          if (!(supported_paths() & mask_of(k8.which))) continue;
          benchmark::RegisterBenchmark(name("int8", path_name(k8.which), wb, ab, s).c_str(), integer_gemm,
                                       mask_of(k8.which), false, wb, ab, s, 1, false)
              ->Unit(benchmark::kMillisecond);
        }
        for (path p : all_path_values) {  // the lookup paths: byte paths that are not int8
          if (!(supported_paths() & mask_of(p) & byte_paths & ~int8_paths) || s.m > 64) continue;
          benchmark::RegisterBenchmark(name("lut", path_name(p), wb, ab, s).c_str(), integer_gemm, mask_of(p), false, wb,
                                       ab, s, 1, false)
              ->Unit(benchmark::kMillisecond);
        }
        benchmark::RegisterBenchmark(name("auto", "auto", wb, ab, s).c_str(), integer_gemm, all_paths, false, wb, ab, s, 1,
                                     false)
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
#if ANYBIT_BENCH_OPENBLAS
  for (shape s : shapes) {
    benchmark::RegisterBenchmark(name("openblas_sgemm", "openblas", 32, 32, s).c_str(), openblas_sgemm, s)
        ->Unit(benchmark::kMillisecond);
  }
#endif
  return true;
}();

}  // namespace
