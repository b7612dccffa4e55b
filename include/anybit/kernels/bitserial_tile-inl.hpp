// anybit/kernels/bitserial_tile-inl.hpp — the one bit-serial tile loop, compiled once per ISA.
//
// No include guard, on purpose: each ISA header includes this file inside its own namespace
// (anybit::kernels::<isa>) and, on x86, inside a target-attribute region, after defining
//   struct ops   { vec; lanes; zero(); load(p); broadcast(x); and_popcount_add(acc, a, w);
//                  store_shifted_add(c, acc, shift); }
//   constexpr int mr, np;   // the largest tile: rows x weight panels
// so the same loop becomes AVX2, AVX-512, NEON or scalar code (the Highway way of writing
// multi-ISA code once). The loop broadcasts one activation word, ANDs it with the same word of
// 8 interleaved weight columns, popcounts per 64-bit lane and accumulates per lane: no
// horizontal sums. One accumulator set per plane pair, added into c with its shift i + j.

template <int R, int P>
inline void bitserial_tile(const tile_args& t) {
  constexpr int v = panel_width / ops::lanes;  // vectors per weight panel
  for (int r = 0; r < R; ++r) {
    for (int x = 0; x < P * panel_width; ++x) t.c[r * t.c_row_stride + x] = 0;
  }
  for (int i = 0; i < t.a_bits; ++i) {
    const std::uint64_t* a = t.a + i * t.a_plane_stride;
    for (int j = 0; j < t.w_bits; ++j) {
      const std::uint64_t* w = t.w + j * t.w_plane_stride;
      typename ops::vec acc[R][P * v];
      for (int r = 0; r < R; ++r) {
        for (int x = 0; x < P * v; ++x) acc[r][x] = ops::zero();
      }
      for (std::size_t k = 0; k < t.k_words; ++k) {
        typename ops::vec wv[P * v];
        for (int p = 0; p < P; ++p) {
          for (int q = 0; q < v; ++q) wv[p * v + q] = ops::load(w + p * t.w_panel_stride + k * panel_width + q * ops::lanes);
        }
        for (int r = 0; r < R; ++r) {
          const typename ops::vec av = ops::broadcast(a[r * t.a_row_stride + k]);
          for (int x = 0; x < P * v; ++x) acc[r][x] = ops::and_popcount_add(acc[r][x], av, wv[x]);
        }
      }
      for (int r = 0; r < R; ++r) {
        for (int x = 0; x < P * v; ++x) ops::store_shifted_add(t.c + r * t.c_row_stride + x * ops::lanes, acc[r][x], i + j);
      }
    }
  }
}

// rows and panels are run-time values up to mr and np; each pair gets its own unrolled tile.
template <int R, int P>
inline void bitserial_tile_dispatch(const tile_args& t) {
  if constexpr (R > 1) {
    if (t.rows < R) return bitserial_tile_dispatch<R - 1, P>(t);
  }
  if constexpr (P > 1) {
    if (t.panels < P) return bitserial_tile_dispatch<R, P - 1>(t);
  }
  bitserial_tile<R, P>(t);
}

/// Computes one tile of at most mr rows x np panels; see tile_args.hpp for the contract.
inline void run(const tile_args& t) { bitserial_tile_dispatch<mr, np>(t); }
