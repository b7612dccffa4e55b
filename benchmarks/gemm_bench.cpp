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
#include <anybit/core/aligned_buffer.hpp>
#include <anybit/gemm/bitserial_gemm.hpp>
#include <anybit/gemm/gemm.hpp>
#include <anybit/gemm/pack_activations.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "bench_case.hpp"

#if ANYBIT_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace anybit_bench {

using namespace anybit;

namespace {

std::vector<std::uint8_t> random_codes(std::size_t count, int bits, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> codes(count);
  for (auto& c : codes) c = static_cast<std::uint8_t>(rng() & max_code(bits));
  return codes;
}

}  // namespace

// One full mr x np tile, W1A1, K = 64 words (4096 codes): operands of a few KiB, all in L1.
bench_case roofline_case(path p, std::size_t repeats) {
  struct data {
    std::vector<std::int64_t> c;
    kernels::tile_args t;
    const detail::bitserial_kernel* k;
    std::unique_ptr<packed_weights> w;
  };
  const auto* k = detail::find_kernel(p);
  const std::size_t k_words = 64, kc = k_words * 64;
  const std::size_t rows = static_cast<std::size_t>(k->mr), cols = static_cast<std::size_t>(k->np) * kernels::panel_width;
  const auto ac = random_codes(rows * kc, 1, 1), wc = random_codes(cols * kc, 1, 2);
  const auto a = std::make_shared<bitplane_tensor<1>>(bitplane_tensor<1>::from_codes(ac.data(), rows, kc));
  const auto wt = bitplane_tensor<1>::from_codes(wc.data(), cols, kc);
  auto d = std::make_shared<data>();
  d->c.resize(rows * cols);
  d->k = k;
  d->w = std::make_unique<packed_weights>(wt);
  d->t = kernels::tile_args{a->plane_row(0, 0), a->words_per_row(), a->plane_stride(), 1, d->w->view().data(),
                            d->w->view().panel_stride(), d->w->view().plane_stride(), 1, k_words, k->mr, k->np,
                            d->c.data(), cols};
  k->run(d->t);
  std::vector<std::int64_t> expected(rows * cols);
  reference::gemm(*a, wt, expected.data(), cols);
  if (d->c != expected) return bench_case::failed("roofline tile differs from the reference");
  bench_case c;
  c.run = [d, a, repeats] {
    for (std::size_t r = 0; r < repeats; ++r) d->k->run(d->t);
    benchmark::DoNotOptimize(d->c.data());
  };
  c.ops = 2.0 * static_cast<double>(rows * cols * kc * repeats);
  c.label = path_name(p);
  return c;
}

bench_case gemm_case(path_mask allowed, bool bitserial_only, int wb, int ab, shape s, int threads, bool nested) {
  const auto ac = random_codes(s.m * s.k, ab, 3), wc8 = random_codes(s.n * s.k, 8, 4);
  std::vector<std::uint8_t> wc(wc8.size());
  for (std::size_t i = 0; i < wc.size(); ++i) wc[i] = static_cast<std::uint8_t>(wc8[i] >> (8 - wb));
  const auto wt = bitplane_tensor<>::from_codes(wc.data(), s.n, s.k, wb);
  struct data {
    bitplane_tensor<> a;
    packed_weights native, packed8;
    packed_weights_view w;
    gemm_context ctx;
    aligned_buffer<std::int64_t> c;  // 64-byte aligned like a real layer's output
    data(bitplane_tensor<> a_, const bitplane_tensor<>& w_native, const std::uint8_t* codes8, shape s, int wb, bool nested)
        : a(std::move(a_)), native(w_native), packed8(packed_weights::from_codes(codes8, s.n, s.k, 8)),
          w(nested ? packed8.top(wb) : native.view()), c(s.m * s.n) {}
  };
  auto d = std::make_shared<data>(bitplane_tensor<>::from_codes(ac.data(), s.m, s.k, ab), wt, wc8.data(), s, wb, nested);
  d->ctx.allowed = allowed;
  d->ctx.threads = threads;
  bench_case c;
  c.run = [d, bitserial_only, n = s.n] {
    bitserial_only ? bitserial_gemm(d->a, d->w, d->c.data(), n, d->ctx) : gemm_sums(d->a, d->w, d->c.data(), n, d->ctx);
    benchmark::DoNotOptimize(d->c.data());
  };
  c.run();
  for (std::size_t row : {std::size_t{0}, s.m / 2, s.m - 1}) {  // sampled rows against the reference
    for (std::size_t col = 0; col < s.n; col += 7) {
      if (d->c[row * s.n + col] != reference::bitserial_dot(d->a, row, wt, col)) {
        return bench_case::failed("gemm result differs from the reference");
      }
    }
  }
  c.ops = 2.0 * static_cast<double>(s.m * s.n * s.k);
  c.label = path_name(d->ctx.last_path);
  return c;
}

bench_case pack_case(path_mask allowed, int ab, shape s, bool from_codes) {
  struct data {
    aligned_buffer<float> x;  // 64-byte aligned like a real layer's output: a 16-byte aligned
    aligned_buffer<std::uint8_t> codes;  // vector splits every 64-byte load (2x slower from L2)
    bitplane_tensor<> out;
    gemm_context ctx;
  };
  auto d = std::make_shared<data>(data{aligned_buffer<float>(s.m * s.k), aligned_buffer<std::uint8_t>(s.m * s.k),
                                       bitplane_tensor<>(s.m, s.k, ab), {}});
  d->ctx.allowed = allowed;
  bench_case c;
  if (from_codes) {
    const auto codes = random_codes(s.m * s.k, ab, 8);
    std::copy(codes.begin(), codes.end(), d->codes.data());
    c.run = [d, s, ab] { pack_activations(d->codes.data(), s.m, s.k, s.k, ab, d->out, d->ctx); };
    c.run();
    const auto expected = bitplane_tensor<>::from_codes(d->codes.data(), s.m, s.k, ab);
    for (std::size_t i = 0; i < d->codes.size(); i += 101) {  // sampled codes against the codec
      if (d->out.view().code(i / s.k, i % s.k) != expected.view().code(i / s.k, i % s.k)) {
        return bench_case::failed("packed code differs from the codec");
      }
    }
  } else {
    std::mt19937 rng(7);
    for (std::size_t i = 0; i < d->x.size(); ++i) d->x.data()[i] = static_cast<float>(rng() % 2001) / 1000.0f - 1.0f;
    const activation_quant q{2.0f / static_cast<float>(max_code(ab)), static_cast<float>(max_code(ab)) / 2.0f};
    c.run = [d, s, ab, q] { quantize_activations(d->x.data(), s.m, s.k, s.k, q, ab, d->out, d->ctx); };
    c.run();
    for (std::size_t i = 0; i < d->x.size(); i += 101) {  // sampled codes against quantize_code
      if (d->out.view().code(i / s.k, i % s.k) !=
          quantize_code(d->x.data()[i], 1.0f / q.scale, q.zero_point, static_cast<float>(max_code(ab)))) {
        return bench_case::failed("packed code differs from quantize_code");
      }
    }
  }
  c.label = path_name(detail::choose_packer(d->ctx).which);
  return c;
}

#if ANYBIT_BENCH_OPENBLAS
bench_case openblas_case(shape s) {
  struct data {
    std::vector<float> a, w, c;
  };
  // 4-bit codes keep every partial sum below 2^24, so float is exact and checkable; the values
  // do not change float speed.
  const auto ac = random_codes(s.m * s.k, 4, 5), wc = random_codes(s.n * s.k, 4, 6);
  auto d = std::make_shared<data>(data{{ac.begin(), ac.end()}, {wc.begin(), wc.end()}, std::vector<float>(s.m * s.n)});
  bench_case c;
  c.run = [d, s] {
    const int m = static_cast<int>(s.m), n = static_cast<int>(s.n), k = static_cast<int>(s.k);
    if (s.m == 1) {  // OpenBLAS is 3x faster on GEMV through sgemv than through sgemm
      cblas_sgemv(CblasRowMajor, CblasNoTrans, n, k, 1.0f, d->w.data(), k, d->a.data(), 1, 0.0f, d->c.data(), 1);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, d->a.data(), k, d->w.data(), k, 0.0f,
                  d->c.data(), n);
    }
    benchmark::DoNotOptimize(d->c.data());
  };
  c.run();
  for (std::size_t col = 0; col < s.n; col += 97) {
    double expected = 0;
    for (std::size_t x = 0; x < s.k; ++x) expected += double{d->a[x]} * d->w[col * s.k + x];
    if (static_cast<double>(d->c[col]) != expected) return bench_case::failed("sgemm result differs from the loop");
  }
  c.ops = 2.0 * static_cast<double>(s.m * s.n * s.k);
  c.label = "openblas";
  return c;
}
#endif

namespace {

constexpr shape shapes[] = {{1024, 1024, 1024}, {64, 1024, 1024}, {1, 4096, 4096}};

const bool registered = [] {
  const int widths[] = {1, 2, 3, 4, 8};
  for (path p : {path::avx512, path::avx512bw, path::avx2, path::neon, path::scalar}) {
    const auto* k = detail::find_kernel(p);
    if (!(supported_paths() & mask_of(p)) || k == nullptr) continue;
    const shape tile{static_cast<std::size_t>(k->mr), static_cast<std::size_t>(k->np) * 8, 4096};
    register_timed(bench_name("roofline", path_name(p), 1, 1, tile), [p] { return roofline_case(p, 1); })
        ->Unit(benchmark::kMicrosecond);
    if (p == path::avx512 || p == path::avx2 || p == path::scalar) {  // avx512: the AVX-512BW packer
      for (int ab : widths) {
        const shape s{64, 0, 1024};
        const std::string suffix = std::string(path_name(p)) + "/A" + std::to_string(ab) + "/64x1024";
        for (bool codes : {false, true}) {
          const std::string family = codes ? "pack_codes/" : "pack/";
          benchmark::RegisterBenchmark((family + suffix).c_str(), [=](benchmark::State& state) {
            const bench_case c = pack_case(mask_of(p), ab, s, codes);
            timed(state, c);
            set_rate(state, "Gcodes", static_cast<double>(s.m * s.k) / 1e9);
          })->Unit(benchmark::kMicrosecond);
        }
      }
    }
    for (shape s : shapes) {
      for (int wb : widths) {
        for (int ab : widths) {
          register_timed(bench_name("bitserial", path_name(p), wb, ab, s),
                         [=] { return gemm_case(mask_of(p), true, wb, ab, s, 1, false); });
        }
      }
    }
    for (int wb : {1, 2, 4}) {
      for (shape s : shapes) {
        register_timed(bench_name("nested", path_name(p), wb, wb, s),
                       [=] { return gemm_case(mask_of(p), true, wb, wb, s, 1, true); });
      }
    }
    // Thread scaling: the same GEMM on 2 threads (compare with the 1-thread line of this run).
    for (int wb : {1, 2}) {
      register_timed(bench_name("bitserial", path_name(p), wb, wb, shapes[0]) + "/threads:2",
                     [=] { return gemm_case(mask_of(p), true, wb, wb, shapes[0], 2, false); })
          ->UseRealTime();
    }
  }
  for (shape s : shapes) {
    for (int wb : widths) {
      for (int ab : widths) {
        for (const auto& k8 : detail::compiled_int8_kernels()) {
          if (!(supported_paths() & mask_of(k8.which))) continue;
          register_timed(bench_name("int8", path_name(k8.which), wb, ab, s),
                         [=, p = k8.which] { return gemm_case(mask_of(p), false, wb, ab, s, 1, false); });
        }
        for (path p : all_path_values) {  // the lookup paths: byte paths that are not int8
          if (!(supported_paths() & mask_of(p) & lut_paths) || s.m > 64) continue;
          register_timed(bench_name("lut", path_name(p), wb, ab, s),
                         [=] { return gemm_case(mask_of(p), false, wb, ab, s, 1, false); });
        }
        register_timed(bench_name("auto", "auto", wb, ab, s), [=] { return gemm_case(all_paths, false, wb, ab, s, 1, false); });
      }
    }
  }
#if ANYBIT_BENCH_OPENBLAS
  for (shape s : shapes) register_timed(bench_name("openblas_sgemm", "openblas", 32, 32, s), [=] { return openblas_case(s); });
#endif
  return true;
}();

}  // namespace

}  // namespace anybit_bench
