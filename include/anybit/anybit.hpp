// anybit/anybit.hpp — umbrella header: the public API, nothing internal.
#pragma once

#include "anybit/version.hpp"

#include "anybit/core/aligned_buffer.hpp"
#include "anybit/core/bitops.hpp"
#include "anybit/core/bits.hpp"
#include "anybit/core/crc32.hpp"
#include "anybit/core/error.hpp"
#include "anybit/core/random.hpp"

#include "anybit/tensor/bitplane_tensor.hpp"
#include "anybit/tensor/bitplane_view.hpp"
#include "anybit/tensor/dense_tensor.hpp"

#include "anybit/quant/affine.hpp"
#include "anybit/quant/ddq.hpp"
#include "anybit/quant/grid.hpp"
#include "anybit/quant/lsq.hpp"
#include "anybit/quant/lsq_plus.hpp"
#include "anybit/quant/nested.hpp"
#include "anybit/quant/pact.hpp"
#include "anybit/quant/uniform.hpp"

#include "anybit/kernels/reference.hpp"

#include "anybit/gemm/conv2d.hpp"
#include "anybit/gemm/float_gemm.hpp"
#include "anybit/gemm/gemm.hpp"
#include "anybit/gemm/pack_activations.hpp"

#include "anybit/autograd/grad_check.hpp"
#include "anybit/autograd/ops.hpp"
#include "anybit/autograd/tape.hpp"

#include "anybit/nn/adam.hpp"
#include "anybit/nn/bit_budget.hpp"
#include "anybit/nn/lr_schedule.hpp"
#include "anybit/nn/models.hpp"
#include "anybit/nn/parameter_file.hpp"
#include "anybit/nn/quantized_layers.hpp"
#include "anybit/nn/sgd.hpp"

#include "anybit/deploy/export.hpp"
#include "anybit/deploy/model_file.hpp"
#include "anybit/data/dataset.hpp"
#include "anybit/data/fashion_mnist.hpp"
#include "anybit/data/gzip.hpp"
#include "anybit/data/idx.hpp"
#include "anybit/data/synthetic.hpp"
