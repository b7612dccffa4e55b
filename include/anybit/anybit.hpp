// anybit/anybit.hpp — umbrella header: the public API, nothing internal.
#pragma once

#include "anybit/version.hpp"

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/bitops.hpp"
#include "anybit/core/bits.hpp"
#include "anybit/core/error.hpp"

#include "anybit/tensor/bitplane_tensor.hpp"
#include "anybit/tensor/bitplane_view.hpp"

#include "anybit/quant/affine.hpp"

#include "anybit/kernels/reference.hpp"

#include "anybit/gemm/conv2d.hpp"
#include "anybit/gemm/gemm.hpp"
#include "anybit/gemm/pack_activations.hpp"
