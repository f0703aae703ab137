// Quantized weights against int8-quantized activations (the reduced-precision decode path):
// each 32-value block of an activation row is rounded to int8 with its own scale, as ggml's q8_0,
// so a weight block and an activation block meet in one integer dot product and one float
// multiply-add per block, instead of widening every weight to f32.
#pragma once

#include "kernels/ops.h"
#include "kernels/weight_matrix.h"

namespace wisp {

// y = epilogue(x W^T + bias) for a block-quantized W and 1..16 rows of x (decode steps), with x
// rounded to int8 blocks (the rule: quant_dot_internal.h). Kernel: AVX2 (also on AVX-512 CPUs), else
// scalar, following the active instruction set. Returns false, computing nothing, for float
// weights or other row counts (the caller then runs the exact path).
bool linear_quant_int8(const float* x, int rows, int in, const WeightMatrix& w, const float* bias, int out, float* y,
                       Epilogue epilogue);

}  // namespace wisp
