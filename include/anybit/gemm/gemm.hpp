// anybit/gemm/gemm.hpp — the front end: quantized activations x packed weights -> float or codes.
//
//   y[m * ldy + n] = clamp(sa * sw[n] * sum_k (qa(m,k) - za) (qw(n,k) - zw[n]) + bias[n], min, max)
//
// (see output_stage.hpp), written as float, or as codes of the next layer (code_output).
// Validates every shape and parameter, runs the fastest allowed path (ctx.allowed, ANYBIT_PATHS)
// and records it in ctx.last_path. Any thread count gives bit-identical results. Activations come
// as bit-planes, or as codes that the call packs for its path into a reusable gemm_workspace.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "anybit/gemm/bitserial_gemm.hpp"
#include "anybit/gemm/byte_activations.hpp"
#include "anybit/gemm/context.hpp"
#include "anybit/gemm/cost_model.hpp"
#include "anybit/gemm/int8_gemm.hpp"
#include "anybit/gemm/lut_gemv.hpp"
#include "anybit/gemm/output_stage.hpp"
#include "anybit/gemm/pack_activations.hpp"
#include "anybit/gemm/packed_weights.hpp"
#include "anybit/gemm/quantization.hpp"
#include "anybit/gemm/workspace.hpp"
#include "anybit/tensor/bitplane_view.hpp"

namespace anybit {

/// The path gemm runs for these widths, rows and K: the cheapest allowed, supported one by the
/// cost model among the fastest bit-serial kernel, the fastest int8 kernel (avx512_int8 over
/// avx2_int8) and the lookup paths (which take K up to lut_max_k; k = 0 when K is not known).
inline path choose_path(int w_bits, int a_bits, std::size_t rows, const gemm_context& ctx, std::size_t k = 0) {
  const path_mask usable = ctx.allowed & supported_paths();
  path best = path::reference;
  double best_cost = 0;
  bool found = false;
  const auto consider = [&](path p) {
    const double cost = detail::estimated_cost(p, w_bits, a_bits, rows);
    if (!found || cost < best_cost) best = p, best_cost = cost, found = true;
  };
  if (usable & ~byte_paths) consider(choose_bitserial_path(ctx));
  if (const detail::int8_kernel* k8 = detail::usable_int8_kernel(ctx.allowed)) consider(k8->which);
  for (path p : {path::avx512_lut, path::avx512_vbmi_lut}) {
    if ((usable & mask_of(p)) != 0 && k <= lut_max_k) consider(p);
  }
  return found ? best : choose_bitserial_path(ctx);  // throws, naming the masks, when nothing is usable
}

/// Whether path p is an int8 path (codes as bytes, multiplied).
constexpr bool is_int8_path(path p) noexcept { return (mask_of(p) & int8_paths) != 0; }
/// Whether path p reads activations as bytes (an int8 path or a lookup path) rather than planes.
constexpr bool is_byte_path(path p) noexcept { return (mask_of(p) & byte_paths) != 0; }

namespace detail {

/// Exact sums of byte activations x w into sink, on the byte path choose_path picks.
template <class Sink>
void byte_sums(const byte_activations& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
#if ANYBIT_X86_KERNELS
  const path p = choose_path(w.bits(), a.bits(), a.rows(), ctx, w.k());
  if ((mask_of(p) & lut_paths) != 0) return lut_byte_sums(p, a, w, sink, ctx);
#endif
  int8_byte_sums(a, w, sink, ctx);
}

/// Exact sums of a x w into sink, on the path choose_path picks.
template <class Sink>
void integer_sums(const bitplane_view& a, const packed_weights_view& w, Sink& sink, gemm_context& ctx) {
  if (is_byte_path(choose_path(w.bits(), a.bits(), a.rows(), ctx, w.k()))) {
    byte_activations bytes;
    unpack_planes(a, bytes, ctx);
    return byte_sums(bytes, w, sink, ctx);
  }
  bitserial_sums(a, w, sink, ctx);
}

// Output writers: each puts one row of a tile, converted by the dequantizer, where it belongs.
// Row-major float outputs, y[m * ldy + n].
struct float_rows {
  float* y;
  std::size_t ldy;
  void write(const dequantizer& dq, const std::int64_t* raw, std::size_t m, std::size_t n0, std::size_t cols) const {
    dq.float_row(raw, m, n0, cols, y + m * ldy + n0);
  }
};

// Row-major codes of q, y[m * ldy + n].
struct code_rows {
  code_output q;
  std::uint8_t* y;
  std::size_t ldy;
  void write(const dequantizer& dq, const std::int64_t* raw, std::size_t m, std::size_t n0, std::size_t cols) const {
    dq.code_row(raw, m, n0, cols, q, y + m * ldy + n0);
  }
};

// Any other placement: store(value, m, n) per output (value in double, before any rounding).
template <class Store>
struct each_output {
  Store store;
  void write(const dequantizer& dq, const std::int64_t* raw, std::size_t m, std::size_t n0, std::size_t cols) const {
    double y[max_width];
    for (std::size_t x0 = 0; x0 < cols; x0 += max_width) {
      const std::size_t width = std::min(max_width, cols - x0);
      dq.row(raw + x0, m, n0 + x0, width, y);
      for (std::size_t x = 0; x < width; ++x) store(y[x], m, n0 + x0 + x);
    }
  }
  static constexpr std::size_t max_width = 32;
};

// Converts each tile of sums, row by row, with the writer.
template <class Writer>
struct stage_sink {
  const dequantizer& dq;
  Writer writer;
  std::int64_t* direct(std::size_t, std::size_t) const { return nullptr; }
  std::size_t direct_stride() const { return 0; }
  void take(const std::int64_t* tile, std::size_t stride, std::size_t m0, std::size_t rows, std::size_t n0,
            std::size_t cols) const {
    for (std::size_t r = 0; r < rows; ++r) writer.write(dq, tile + r * stride, m0 + r, n0, cols);
  }
};

inline void check_quantized(const activation_quant& aq, const packed_weights_view& w, const weight_quant& wq,
                            const output_stage& out) {
  check_quantization(aq, wq, out, w.cols());
  if (w.column_sums() == nullptr) throw error("anybit: gemm needs weights packed by packed_weights (column sums)");
}

template <class Writer>
void quantized_gemm(const bitplane_view& a, const activation_quant& aq, const packed_weights_view& w,
                    const weight_quant& wq, const output_stage& out, const void* y, std::size_t ldy, gemm_context& ctx,
                    Writer writer) {
  check_gemm_shapes(a, w, ldy, y, ctx);
  check_quantized(aq, w, wq, out);
  std::vector<std::int64_t> row_sums;
  if (dequantizer::needs_row_sums(wq)) row_sums = a.row_sums();
  const dequantizer dq(aq, wq, out, w, row_sums.empty() ? nullptr : row_sums.data(), byte_avx2(ctx));
  stage_sink<Writer> sink{dq, writer};
  integer_sums(a, w, sink, ctx);
}

/// As above from byte activations, on a byte path (the caller chose one: choose_path).
template <class Writer>
void quantized_gemm(const byte_activations& a, const activation_quant& aq, const packed_weights_view& w,
                    const weight_quant& wq, const output_stage& out, const void* y, std::size_t ldy, gemm_context& ctx,
                    Writer writer) {
  if (a.cols() != w.k()) {
    throw shape_error(message("anybit: gemm with activations of K = ", a.cols(), " and weights of K = ", w.k(),
                              ", expected equal K"));
  }
  check_output(w, a.rows(), ldy, y, ctx);
  check_quantized(aq, w, wq, out);
  const dequantizer dq(aq, wq, out, w, a.row_sums(), byte_avx2(ctx));
  stage_sink<Writer> sink{dq, writer};
  byte_sums(a, w, sink, ctx);
}

// Codes (rows x w.k(), row stride ld) packed the way the chosen path reads them, into ws.
template <class Writer>
void codes_gemm(const std::uint8_t* codes, std::size_t rows, std::size_t ld, int a_bits, const activation_quant& aq,
                const packed_weights_view& w, const weight_quant& wq, const output_stage& out, const void* y,
                std::size_t ldy, gemm_context& ctx, gemm_workspace& ws, Writer writer) {
  check_bits(a_bits);
  check_output(w, rows, ldy, y, ctx);
  if (is_byte_path(choose_path(w.bits(), a_bits, rows, ctx, w.k()))) {
    copy_codes(codes, rows, w.k(), ld, a_bits, ws.bytes, ctx);
    return quantized_gemm(ws.bytes, aq, w, wq, out, y, ldy, ctx, writer);
  }
  pack_activations(codes, rows, w.k(), ld, a_bits, ws.planes, ctx);
  quantized_gemm(ws.planes.view(), aq, w, wq, out, y, ldy, ctx, writer);
}

}  // namespace detail

/// Exact int64 sums of code products, c[m * ldc + n] = sum_k qa(m, k) * qw(n, k), on the path
/// choose_path picks (bit-serial, int8 or lookup): the raw form every output stage starts from.
inline void gemm_sums(const bitplane_view& a, const packed_weights_view& w, std::int64_t* c, std::size_t ldc,
                      gemm_context& ctx) {
  detail::check_gemm_shapes(a, w, ldc, c, ctx);
  detail::int64_sink sink{c, ldc};
  detail::integer_sums(a, w, sink, ctx);
}

/// Float output: y[m * ldy + n] for every m < M, n < N.
inline void gemm(const bitplane_view& a, const activation_quant& aq, const packed_weights_view& w,
                 const weight_quant& wq, const output_stage& out, float* y, std::size_t ldy, gemm_context& ctx) {
  detail::quantized_gemm(a, aq, w, wq, out, y, ldy, ctx, detail::float_rows{y, ldy});
}

/// Codes output for the next layer: y[m * ldy + n] = quantize(output, q).
inline void gemm(const bitplane_view& a, const activation_quant& aq, const packed_weights_view& w,
                 const weight_quant& wq, const output_stage& out, const code_output& q, std::uint8_t* y,
                 std::size_t ldy, gemm_context& ctx) {
  detail::check_code_output(q);
  detail::quantized_gemm(a, aq, w, wq, out, y, ldy, ctx, detail::code_rows{q, y, ldy});
}

/// Float output from rows x w.k() activation codes of a_bits bits (row stride ld), packed as
/// the chosen path reads them (bytes for int8, bit-planes for bit-serial) into ws, which
/// repeated calls reuse instead of allocating.
inline void gemm(const std::uint8_t* codes, std::size_t rows, std::size_t ld, int a_bits, const activation_quant& aq,
                 const packed_weights_view& w, const weight_quant& wq, const output_stage& out, float* y,
                 std::size_t ldy, gemm_context& ctx, gemm_workspace& ws) {
  detail::codes_gemm(codes, rows, ld, a_bits, aq, w, wq, out, y, ldy, ctx, ws, detail::float_rows{y, ldy});
}

/// Codes output from activation codes, as above.
inline void gemm(const std::uint8_t* codes, std::size_t rows, std::size_t ld, int a_bits, const activation_quant& aq,
                 const packed_weights_view& w, const weight_quant& wq, const output_stage& out, const code_output& q,
                 std::uint8_t* y, std::size_t ldy, gemm_context& ctx, gemm_workspace& ws) {
  detail::check_code_output(q);
  detail::codes_gemm(codes, rows, ld, a_bits, aq, w, wq, out, y, ldy, ctx, ws, detail::code_rows{q, y, ldy});
}

}  // namespace anybit
