// anybit/kernels/float_pack.hpp — the packed panel layout that float GEMM micro-kernels read.
//
// The driver copies a block of op(A) and a block of op(B) into these layouts before the
// micro-kernel runs, so every kernel reads one layout whatever the transposes were:
//
//   A block (rows x depth): panels of `mr` rows;    panel r holds element (i, p) at [p * mr + i]
//   B block (depth x cols): panels of `nr` columns; panel c holds element (p, j) at [p * nr + j]
//
// Panels follow each other (panel q starts at q * depth * mr, or q * depth * nr). A last panel
// that is narrower than mr (nr) is padded with zeros, so a kernel always computes full tiles
// and the padded rows (columns) are simply not stored.
//
// Both are one of two moves, by how the source is stored: a panel's lines are contiguous in the
// source (B as stored, A transposed: `copy_panels`) or each panel line is a source column
// (A as stored, B transposed: `gather_panels`).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>

namespace anybit::kernels::float_pack {

/// Panels of `w` from a source whose panel lines are contiguous: element (p, j) = src[p * ld + j]
/// for p < depth, j < width goes to panel j / w at [p * w + j % w].
template <int w>
void copy_panels(const float* src, std::size_t ld, std::size_t depth, std::size_t width, float* out) {
  constexpr std::size_t pw = w;
  // A group of panels at a time, walking the source row by row: short rows of one panel each
  // would jump a whole source row per 64 bytes read, which hardware prefetchers do not follow.
  constexpr std::size_t group = std::max<std::size_t>(1, 256 / pw);
  for (std::size_t j0 = 0; j0 < width; j0 += group * pw) {
    const std::size_t group_width = std::min(group * pw, width - j0);
    const std::size_t full = group_width / pw, rest = group_width % pw;
    float* group_out = out + j0 * depth;
    const float* row = src + j0;
    for (std::size_t p = 0; p < depth; ++p, row += ld) {
      for (std::size_t q = 0; q < full; ++q) std::memcpy(group_out + (q * depth + p) * pw, row + q * pw, sizeof(float) * pw);
      if (rest != 0) {
        float* dst = group_out + (full * depth + p) * pw;
        std::fill(std::copy_n(row + full * pw, rest, dst), dst + pw, 0.0f);
      }
    }
  }
}

/// Panels of `w` from a source whose panel lines are its columns: element (p, j) =
/// src[j * ld + p] goes to panel j / w at [p * w + j % w].
template <int w>
void gather_panels(const float* src, std::size_t ld, std::size_t depth, std::size_t width, float* out) {
  constexpr std::size_t pw = w;
  for (std::size_t j0 = 0; j0 < width; j0 += pw, out += depth * pw, src += pw * ld) {
    const std::size_t live = std::min(pw, width - j0);
    if (live == pw) {
      for (std::size_t p = 0; p < depth; ++p) {  // w source rows read side by side
        for (std::size_t j = 0; j < pw; ++j) out[p * pw + j] = src[j * ld + p];
      }
    } else {
      for (std::size_t p = 0; p < depth; ++p) {
        for (std::size_t j = 0; j < live; ++j) out[p * pw + j] = src[j * ld + p];
        for (std::size_t j = live; j < pw; ++j) out[p * pw + j] = 0.0f;
      }
    }
  }
}

/// Packs rows x depth of op(A) starting at `a` (op(A)(i, p) = a[i * lda + p], or a[p * lda + i]
/// when transposed) into panels of mr rows.
template <int mr>
void pack_a(bool transposed, const float* a, std::size_t lda, std::size_t rows, std::size_t depth, float* out) {
  if (transposed) {
    copy_panels<mr>(a, lda, depth, rows, out);
  } else {
    gather_panels<mr>(a, lda, depth, rows, out);
  }
}

/// Packs depth x cols of op(B) starting at `b` (op(B)(p, j) = b[p * ldb + j], or b[j * ldb + p]
/// when transposed) into panels of nr columns.
template <int nr>
void pack_b(bool transposed, const float* b, std::size_t ldb, std::size_t depth, std::size_t cols, float* out) {
  if (transposed) {
    gather_panels<nr>(b, ldb, depth, cols, out);
  } else {
    copy_panels<nr>(b, ldb, depth, cols, out);
  }
}

}  // namespace anybit::kernels::float_pack
