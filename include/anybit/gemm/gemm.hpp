// anybit/gemm/gemm.hpp — the front end: quantized activations x packed weights -> float or codes.
//
//   y[m * ldy + n] = clamp(sa * sw[n] * sum_k (qa(m,k) - za) (qw(n,k) - zw[n]) + bias[n], min, max)
//
// (see output_stage.hpp), written as float, or as codes of the next layer (code_output).
// Validates every shape and parameter, runs the fastest allowed path (ctx.allowed, ANYBIT_PATHS)
// and records it in ctx.last_path. Any thread count gives bit-identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/gemm/bitserial_gemm.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/cost_model.hpp"
#include "anybit/gemm/int8_gemm.hpp"
#include "anybit/gemm/output_stage.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/quantization.hpp"
#include "anybit/tensor/bitplane_view.hpp"

namespace anybit {

/// The path gemm runs for these widths and rows: the cheapest allowed, supported one by the
/// cost model.
inline path choose_path(int w_bits, int a_bits, std::size_t rows, const gemm_context& ctx) {
  const path_mask usable = ctx.allowed & supported_paths();
  const detail::int8_kernel* k = detail::compiled_int8_kernel();
  const bool int8 = k != nullptr && (usable & mask_of(k->which)) != 0;
  if (int8 && (usable & ~mask_of(k->which)) == 0) return k->which;
  const path serial = choose_bitserial_path(ctx);  // throws, naming the masks, when nothing is usable
  return int8 && detail::estimated_cost(k->which, w_bits, a_bits, rows) < detail::estimated_cost(serial, w_bits, a_bits, rows)
             ? k->which
             : serial;
}

/// Whether path p is an int8 path (codes as bytes) rather than a bit-serial one.
constexpr bool is_int8_path(path p) noexcept { return p == path::avx2_int8 || p == path::neon_int8; }

namespace detail {

/// Exact sums of a x w into sink, on the path choose_path picks.
template <class Sink>
void integer_sums(const bitplane_view& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
  if (is_int8_path(choose_path(w.bits(), a.bits(), a.rows(), ctx))) return int8_sums(a, w, sink, ctx);
  bitserial_sums(a, w, sink, ctx);
}

// Converts each tile of sums with the dequantizer, then stores it with `store(y, m, n)`.
template <class Store>
struct stage_sink {
  const dequantizer& dq;
  Store store;
  std::int64_t* direct(std::size_t, std::size_t) const { return nullptr; }
  std::size_t direct_stride() const { return 0; }
  void take(const std::int64_t* tile, std::size_t stride, std::size_t m0, std::size_t rows, std::size_t n0,
            std::size_t cols) const {
    double y[max_tile_width];  // tiles are at most 4 panels of 8 columns wide
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t x0 = 0; x0 < cols; x0 += max_tile_width) {
        const std::size_t width = std::min(max_tile_width, cols - x0);
        dq.row(tile + r * stride + x0, m0 + r, n0 + x0, width, y);
        for (std::size_t x = 0; x < width; ++x) store(y[x], m0 + r, n0 + x0 + x);
      }
    }
  }
  static constexpr std::size_t max_tile_width = 32;
};

template <class Store>
void quantized_gemm(const bitplane_view& a, const activation_quant& aq, const packed_weights_view& w,
                    const weight_quant& wq, const output_stage& out, const void* y, std::size_t ldy, gemm_context& ctx,
                    Store store) {
  check_gemm_shapes(a, w, ldy, y, ctx);
  check_quantization(aq, wq, out, w.cols());
  if (w.column_sums() == nullptr) throw error("anybit: gemm needs weights packed by packed_weights (column sums)");
  std::vector<std::int64_t> row_sums;
  if (dequantizer::needs_row_sums(wq)) row_sums = a.row_sums();
  const dequantizer dq(aq, wq, out, w, row_sums.empty() ? nullptr : row_sums.data());
  stage_sink<Store> sink{dq, store};
  integer_sums(a, w, sink, ctx);
}

}  // namespace detail

/// Exact int64 sums of code products, c[m * ldc + n] = sum_k qa(m, k) * qw(n, k), on the path
/// choose_path picks (bit-serial or int8): the raw form every output stage starts from.
inline void gemm_sums(const bitplane_view& a, const packed_weights_view& w, std::int64_t* c, std::size_t ldc,
                      gemm_context& ctx) {
  detail::check_gemm_shapes(a, w, ldc, c, ctx);
  detail::int64_sink sink{c, ldc};
  detail::integer_sums(a, w, sink, ctx);
}

/// Float output: y[m * ldy + n] for every m < M, n < N.
inline void gemm(const bitplane_view& a, const activation_quant& aq, const packed_weights_view& w,
                 const weight_quant& wq, const output_stage& out, float* y, std::size_t ldy, gemm_context& ctx) {
  detail::quantized_gemm(a, aq, w, wq, out, y, ldy, ctx,
                         [y, ldy](double v, std::size_t m, std::size_t n) { y[m * ldy + n] = static_cast<float>(v); });
}

/// Codes output for the next layer: y[m * ldy + n] = quantize(output, q).
inline void gemm(const bitplane_view& a, const activation_quant& aq, const packed_weights_view& w,
                 const weight_quant& wq, const output_stage& out, const code_output& q, std::uint8_t* y,
                 std::size_t ldy, gemm_context& ctx) {
  detail::check_code_output(q);
  detail::quantized_gemm(a, aq, w, wq, out, y, ldy, ctx, [y, ldy, q](double v, std::size_t m, std::size_t n) {
    y[m * ldy + n] = detail::quantize_to_code(v, q);
  });
}

}  // namespace anybit
