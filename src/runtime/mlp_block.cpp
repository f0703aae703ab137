#include "runtime/mlp_block.h"

#include "kernels/ops.h"

namespace wisp {

void residual_mlp(float* x, int rows, int dim, const LayerNormWeights& ln, const LinearWeights& fc1,
                  const LinearWeights& fc2, float* normed, float* hidden, Precision precision) {
  layer_norm(x, rows, dim, ln.gamma, ln.beta, normed);
  linear(normed, rows, dim, fc1.weight, fc1.bias, fc1.out, hidden, Epilogue::Gelu, precision);  // bias + GELU fused
  linear(hidden, rows, fc1.out, fc2.weight, fc2.bias, dim, x, Epilogue::Accumulate, precision);  // residual fused
}

}  // namespace wisp
