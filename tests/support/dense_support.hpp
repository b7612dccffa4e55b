// Dense-tensor helpers shared by the suites that test float code (autograd, nn).
#pragma once

#include "anybit/tensor/dense_tensor.hpp"
#include "support/test_support.hpp"

namespace anybit::test {

/// A tensor of uniform values in [lo, hi), the same on every platform for a seed.
inline dense_tensor random_tensor(const dense_shape& shape, std::uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  rng r(seed);
  dense_tensor t(shape);
  for (float& v : t) v = lo + (hi - lo) * static_cast<float>(r.next() >> 40) * (1.0f / 16777216.0f);
  return t;
}

}  // namespace anybit::test
