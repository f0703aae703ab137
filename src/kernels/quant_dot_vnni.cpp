// The int8 kernel of quant_dot_avx2_kernel.h with AVX512-VNNI: vpdpbusd on 256-bit vectors
// (AVX512VL) forms each block's eight lane sums in one instruction where AVX2 takes two, with the
// same integer results (no pair of products saturates in either), so the same outputs bit for bit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/q5_0r.h"
#include "kernels/quant_dot_internal.h"

#if defined(__x86_64__)
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512vl,avx512vnni")
// GCC 12's intrinsic headers build "undefined" vectors from themselves, which -Wuninitialized
// reports once inlined here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/q5_0r_avx2.h"
#include "kernels/quant_dot_avx2_kernel.h"

namespace wisp {

namespace {

void gemv(const Int8Rows& x, const WeightMatrix& w, int col_begin, int col_end, const float* bias, bool accumulate,
          float* y, int ldy) {
  int8_gemv<Avx2Int8<true>>(x, w, col_begin, col_end, bias, accumulate, y, ldy);
}

}  // namespace

const Int8Gemv kInt8GemvVnni = gemv;

}  // namespace wisp
#pragma GCC diagnostic pop
#pragma GCC pop_options
#else
namespace wisp {
const Int8Gemv kInt8GemvVnni = kInt8GemvScalar;
}  // namespace wisp
#endif
