// anybit/gemm/workspace.hpp — the buffers one layer's gemm or conv2d calls reuse, so that
// running a model does not allocate per call: activations as bytes (int8 path) or as bit-planes
// (bit-serial paths), whichever the chosen path reads. One workspace per layer and thread.
#pragma once

#include "anybit/gemm/byte_activations.hpp"
#include "anybit/tensor/bitplane_tensor.hpp"

namespace anybit {

struct gemm_workspace {
  byte_activations bytes;
  bitplane_tensor<> planes{1, 1, 1};
};

}  // namespace anybit
