// anybit/kernels/bitserial_tile-inl.hpp — the one bit-serial tile loop, compiled once per ISA.
//
// No include guard, on purpose: each ISA header includes this file inside its own namespace
// (anybit::kernels::<isa>) and, on x86, inside a target-attribute region, after defining
//   struct ops {
//     lanes;                         // 64-bit weight words per vector
//     flush_every;                   // k steps an `acc` can take before it must be flushed
//     acc, a_word, w_vec;            // narrow counters; prepared activation word / weight vector
//     zero(); prepare_a(word); prepare_w(ptr); and_popcount_add(acc, a_word, w_vec);
//     flush(c, acc, shift, add);     // c[lane] (+)= count(lane) << shift: stores when !add
//   };
//   constexpr int mr, np;            // the largest tile: rows x weight panels
// so the same loop becomes AVX2, AVX-512BW, NEON or scalar code (the Highway way of writing
// multi-ISA code once; the VPOPCNTDQ kernel, avx512.hpp, keeps a loop of its own). The loop
// broadcasts one activation word, ANDs it with the same word of 8 interleaved weight columns
// and counts per 64-bit lane: no horizontal sums. Counters may be narrow (bytes on AVX2 and
// NEON, cheaper per step) and are flushed into the 64-bit tile, with the plane pair's shift
// i + j, every flush_every steps; the first flush stores, so the tile is never zeroed first.

template <int R, int P>
inline void bitserial_tile(const tile_args& t, const std::uint64_t* a_rows, std::int64_t* c_rows) {
  constexpr int x_count = P * panel_width / ops::lanes;  // weight vectors per k step
  if (t.k_words == 0) {
    for (int r = 0; r < R; ++r) {
      for (int x = 0; x < P * panel_width; ++x) c_rows[r * t.c_row_stride + x] = 0;
    }
    return;
  }
  for (int i = 0; i < t.a_bits; ++i) {
    const std::uint64_t* a = a_rows + i * t.a_plane_stride;
    for (int j = 0; j < t.w_bits; ++j) {
      const std::uint64_t* w = t.w + j * t.w_plane_stride;
      for (std::size_t k0 = 0; k0 < t.k_words; k0 += ops::flush_every) {
        const std::size_t k_end = k0 + ops::flush_every < t.k_words ? k0 + ops::flush_every : t.k_words;
        typename ops::acc acc[R][x_count];
        ANYBIT_UNROLL
        for (int r = 0; r < R; ++r) {
          ANYBIT_UNROLL
          for (int x = 0; x < x_count; ++x) acc[r][x] = ops::zero();
        }
        for (std::size_t k = k0; k < k_end; ++k) {
          typename ops::a_word av[R];
          ANYBIT_UNROLL
          for (int r = 0; r < R; ++r) av[r] = ops::prepare_a(a[r * t.a_row_stride + k]);
          ANYBIT_UNROLL
          for (int x = 0; x < x_count; ++x) {
            const int p = x * ops::lanes / panel_width, q = x * ops::lanes % panel_width;
            const typename ops::w_vec wv = ops::prepare_w(w + p * t.w_panel_stride + k * panel_width + q);
            ANYBIT_UNROLL
            for (int r = 0; r < R; ++r) acc[r][x] = ops::and_popcount_add(acc[r][x], av[r], wv);
          }
        }
        const bool add = i + j > 0 || k0 > 0;
        ANYBIT_UNROLL
        for (int r = 0; r < R; ++r) {
          ANYBIT_UNROLL
          for (int x = 0; x < x_count; ++x) {
            ops::flush(c_rows + r * t.c_row_stride + x * ops::lanes, acc[r][x], i + j, add);
          }
        }
      }
    }
  }
}

// Every row of the tile, R at a time; the last few rows get a smaller unrolled tile.
template <int R, int P>
inline void bitserial_rows(const tile_args& t) {
  int r0 = 0;
  for (; r0 + R <= t.rows; r0 += R) bitserial_tile<R, P>(t, t.a + r0 * t.a_row_stride, t.c + r0 * t.c_row_stride);
  const int left = t.rows - r0;
  const std::uint64_t* a = t.a + r0 * t.a_row_stride;
  std::int64_t* c = t.c + r0 * t.c_row_stride;
  if constexpr (R > 1) {
    if (left == 1) bitserial_tile<1, P>(t, a, c);
  }
  if constexpr (R > 2) {
    if (left == 2) bitserial_tile<2, P>(t, a, c);
  }
  if constexpr (R > 3) {
    if (left == 3) bitserial_tile<3, P>(t, a, c);
  }
  static_assert(R <= 4, "bitserial_rows handles remainders of up to 3 rows");
}

// panels is a run-time value up to np; each count gets its own unrolled loop.
template <int P>
inline void bitserial_dispatch(const tile_args& t) {
  if constexpr (P > 1) {
    if (t.panels < P) return bitserial_dispatch<P - 1>(t);
  }
  bitserial_rows<mr, P>(t);
}

/// Computes t.rows rows x t.panels panels (at most np); see tile_args.hpp for the contract.
inline void run(const tile_args& t) { bitserial_dispatch<np>(t); }
