// The residual MLP sub-block shared by encoder and decoder layers: x += fc2(gelu(fc1(LN(x)))).
#pragma once

#include "kernels/ops.h"
#include "model/weights.h"

namespace wisp {

// `normed` holds rows*dim floats, `hidden` rows*fc1.out floats (scratch).
void residual_mlp(float* x, int rows, int dim, const LayerNormWeights& ln, const LinearWeights& fc1,
                  const LinearWeights& fc2, float* normed, float* hidden,
                  Precision precision = Precision::Exact);

}  // namespace wisp
