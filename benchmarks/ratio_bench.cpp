// gemm_bench, family ratio: the acceptance ratios of the GEMM engine, each measured in one loop
// that runs the subject and its baseline one after the other, every iteration. A shared machine
// that slows down for a while then slows both sides of the same iteration alike, where separate
// lines of one run can land in different spells (seen here: +-15-30 % between lines).
//
// Names: ratio/<subject>_vs_<baseline>/<path>/W<w>A<a>/<M>x<N>x<K>. Counters, medians over the
// iterations:
//   speedup     the subject's rate over the baseline's (the fastest baseline's, when several)
//   time_share  the subject's time over the baseline's (packing, which is not a GEMM)
//   GOPS, base_GOPS  the two rates
// Lines:
//   gemm_vs_roofline   bitserial on one path at W1A1 1024^3 against its L1 tile loop, repeated
//                      to the same op count (speedup = the fraction of the roofline reached)
//   threads2_vs_1      the same GEMM on 2 threads against 1 (wall-clock time)
//   auto_vs_openblas   the front end against cblas_sgemm at W1A1 and W2A2
//   auto_vs_onednn     the front end (or the int8 path, int8_vs_onednn) against oneDNN's int8
//                      matmul, at its own ISA or the one ONEDNN_MAX_CPU_ISA caps it at
//   auto_vs_best       the front end against the fastest of the paths it chooses from, each
//                      forced: the best bit-serial path, the best int8 path and the lookup paths
//   nested_vs_native   weights packed at 8 bits used at W bits against weights packed at W bits
//   pack_vs_gemm       packing M x K activations (from floats, or pack_codes: from codes) against
//                      the WxA (W = A) GEMM that consumes them, both on this CPU's best paths
//   read_vs_gemm       only reading those M x K floats (an OR over their bits, which the compiler
//                      vectorises): the floor under packing from floats
#include <anybit/core/aligned_buffer.hpp>
#include <anybit/gemm/bitserial_gemm.hpp>
#include <anybit/gemm/int8_gemm.hpp>

#if ANYBIT_X86_KERNELS
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench_case.hpp"

namespace anybit_bench {

namespace {

using namespace anybit;

// One timed run of c. Alternating two cases evicts each one's operands from the caches, which a
// line timed alone keeps warm; an untimed run first warms them again (skipped for runs of over
// 10 ms, which stream their operands anyway and would double the wait).
double seconds_of(const bench_case& c, double& last_seconds) {
  if (last_seconds < 0.01) c.run();
  const auto start = std::chrono::steady_clock::now();
  c.run();
  last_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return last_seconds;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

void paired(benchmark::State& state, const bench_case& subject, const std::vector<bench_case>& baselines) {
  if (!subject.error.empty()) return state.SkipWithError(subject.error.c_str());
  for (const auto& b : baselines) {
    if (!b.error.empty()) return state.SkipWithError(b.error.c_str());
  }
  std::vector<double> ratios, rates, base_rates;
  std::vector<int> fastest_count(baselines.size());
  double last = 0;
  std::vector<double> base_last(baselines.size());
  for (auto _ : state) {
    const double t = seconds_of(subject, last);
    double base_rate = 0, base_time = std::numeric_limits<double>::infinity();
    std::size_t fastest = 0;
    for (std::size_t i = 0; i < baselines.size(); ++i) {
      const double tb = seconds_of(baselines[i], base_last[i]);
      const double rate = baselines[i].ops > 0 ? baselines[i].ops / tb : 1 / tb;
      if (rate > base_rate) base_rate = rate, base_time = tb, fastest = i;
    }
    ++fastest_count[fastest];
    ratios.push_back(subject.ops > 0 ? subject.ops / t / base_rate : t / base_time);
    rates.push_back(subject.ops / t);
    base_rates.push_back(base_rate);
  }
  state.counters[subject.ops > 0 ? "speedup" : "time_share"] = median(ratios);
  if (subject.ops > 0) state.counters["GOPS"] = median(rates) / 1e9;
  if (baselines.front().ops > 0) state.counters["base_GOPS"] = median(base_rates) / 1e9;
  const auto most = std::max_element(fastest_count.begin(), fastest_count.end()) - fastest_count.begin();
  state.SetLabel(subject.label + " vs " + baselines[static_cast<std::size_t>(most)].label);
}

template <class MakeSubject, class MakeBaselines>
void register_paired(const std::string& name, MakeSubject subject, MakeBaselines baselines) {
  benchmark::RegisterBenchmark(name.c_str(), [subject, baselines](benchmark::State& state) {
    paired(state, subject(), baselines());
  })->Unit(benchmark::kMillisecond);
}

std::uint32_t or_plain(const std::uint32_t* x, std::size_t n) {
  std::uint32_t bits = 0;
  for (std::size_t i = 0; i < n; ++i) bits |= x[i];
  return bits;
}

#if ANYBIT_X86_KERNELS
// Four 64-byte loads in flight per step, as the AVX-512 packers read their floats.
__attribute__((target("avx512f"))) std::uint32_t or_avx512(const std::uint32_t* x, std::size_t n) {
  __m512i acc[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()};
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    for (int u = 0; u < 4; ++u) acc[u] = _mm512_or_si512(acc[u], _mm512_loadu_si512(x + i + 16 * u));
  }
  alignas(64) std::uint32_t lanes[16];
  _mm512_store_si512(lanes, _mm512_or_si512(_mm512_or_si512(acc[0], acc[1]), _mm512_or_si512(acc[2], acc[3])));
  return or_plain(lanes, 16) | or_plain(x + i, n - i);
}
#else
std::uint32_t or_avx512(const std::uint32_t* x, std::size_t n) { return or_plain(x, n); }
#endif

/// Reads M x K floats (s.n unused) as 32-bit words and ORs them together: all the work of
/// packing from floats but the packing. It has no result to check; it only sets a floor.
bench_case read_case(shape s) {
  auto x = std::make_shared<aligned_buffer<std::uint32_t>>(s.m * s.k);  // aligned as pack_case's floats
  std::mt19937 rng(7);
  for (std::size_t i = 0; i < x->size(); ++i) {
    const float f = static_cast<float>(rng() % 2001) / 1000.0f - 1.0f;
    std::memcpy(x->data() + i, &f, sizeof f);
  }
  bench_case c;
  c.run = [x] { benchmark::DoNotOptimize(cpu().avx512bw ? or_avx512(x->data(), x->size()) : or_plain(x->data(), x->size())); };
  c.label = "read";
  return c;
}

/// The fastest bit-serial path this CPU runs (the order of preference of choose_path).
path best_bitserial_path() {
  for (path p : {path::avx512, path::avx512bw, path::avx2, path::neon}) {
    if (supported_paths() & mask_of(p)) return p;
  }
  return path::scalar;
}

/// The paths auto chooses from at this shape, each forced: one bit-serial, one int8 and, for few
/// rows, every lookup path.
std::vector<bench_case> forced_paths(int wb, int ab, shape s) {
  std::vector<bench_case> cases{gemm_case(mask_of(best_bitserial_path()), true, wb, ab, s, 1, false)};
  if (const auto* k8 = detail::usable_int8_kernel(all_paths)) {
    cases.push_back(gemm_case(mask_of(k8->which), false, wb, ab, s, 1, false));
  }
  for (path p : all_path_values) {
    if ((supported_paths() & mask_of(p) & lut_paths) && s.m <= 64) {
      cases.push_back(gemm_case(mask_of(p), false, wb, ab, s, 1, false));
    }
  }
  return cases;
}

const bool registered = [] {
  const shape big{1024, 1024, 1024}, batch{64, 1024, 1024}, gemv{1, 4096, 4096};
  const path best = best_bitserial_path();
  for (path p : {path::avx512, path::avx512bw, path::avx2, path::neon, path::scalar}) {
    if (!(supported_paths() & mask_of(p))) continue;
    register_paired(
        bench_name("ratio/gemm_vs_roofline", path_name(p), 1, 1, big),
        [=] { return gemm_case(mask_of(p), true, 1, 1, big, 1, false); },
        [=] {
          const double tile_ops = roofline_case(p, 1).ops, gemm_ops = 2.0 * static_cast<double>(big.m * big.n * big.k);
          return std::vector<bench_case>{roofline_case(p, static_cast<std::size_t>(gemm_ops / tile_ops))};
        });
  }
  register_paired(
      bench_name("ratio/threads2_vs_1", path_name(best), 1, 1, big), [=] { return gemm_case(mask_of(best), true, 1, 1, big, 2, false); },
      [=] { return std::vector<bench_case>{gemm_case(mask_of(best), true, 1, 1, big, 1, false)}; });
#if ANYBIT_BENCH_OPENBLAS
  for (int b : {1, 2}) {
    register_paired(
        bench_name("ratio/auto_vs_openblas", "auto", b, b, big), [=] { return gemm_case(all_paths, false, b, b, big, 1, false); },
        [=] { return std::vector<bench_case>{openblas_case(big)}; });
  }
#endif
#if ANYBIT_BENCH_ONEDNN
  register_paired(
      bench_name("ratio/auto_vs_onednn", "auto", 1, 1, big), [=] { return gemm_case(all_paths, false, 1, 1, big, 1, false); },
      [=] { return std::vector<bench_case>{onednn_case(big)}; });
  if (const auto* k8 = detail::usable_int8_kernel(all_paths)) {
    const path p = k8->which;
    register_paired(
        bench_name("ratio/int8_vs_onednn", path_name(p), 8, 8, big), [=] { return gemm_case(mask_of(p), false, 8, 8, big, 1, false); },
        [=] { return std::vector<bench_case>{onednn_case(big)}; });
  }
  for (int wb : {1, 2, 4}) {
    register_paired(
        bench_name("ratio/auto_vs_onednn", "auto", wb, 8, gemv), [=] { return gemm_case(all_paths, false, wb, 8, gemv, 1, false); },
        [=] { return std::vector<bench_case>{onednn_case(gemv)}; });
  }
#endif
  const int widths[] = {1, 2, 3, 4, 8};
  for (shape s : {big, gemv}) {
    for (int wb : widths) {
      for (int ab : widths) {
        register_paired(
            bench_name("ratio/auto_vs_best", "auto", wb, ab, s), [=] { return gemm_case(all_paths, false, wb, ab, s, 1, false); },
            [=] { return forced_paths(wb, ab, s); });
      }
    }
  }
  for (shape s : {big, batch, gemv}) {
    for (int b : {1, 2, 4}) {
      register_paired(
          bench_name("ratio/nested_vs_native", path_name(best), b, b, s), [=] { return gemm_case(mask_of(best), true, b, b, s, 1, true); },
          [=] { return std::vector<bench_case>{gemm_case(mask_of(best), true, b, b, s, 1, false)}; });
    }
  }
  for (int b : widths) {
    for (bool codes : {false, true}) {
      register_paired(
          bench_name(codes ? "ratio/pack_codes_vs_gemm" : "ratio/pack_vs_gemm", "auto", b, b, batch),
          [=] { return pack_case(all_paths, b, batch, codes); },
          [=] { return std::vector<bench_case>{gemm_case(all_paths, false, b, b, batch, 1, false)}; });
    }
  }
  register_paired(
      bench_name("ratio/read_vs_gemm", "auto", 1, 1, batch), [=] { return read_case(batch); },
      [=] { return std::vector<bench_case>{gemm_case(all_paths, false, 1, 1, batch, 1, false)}; });
  return true;
}();

}  // namespace

}  // namespace anybit_bench
