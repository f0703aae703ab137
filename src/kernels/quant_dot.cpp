// The int8 decode path's entry: picks the kernel, quantizes the activation rows once per call on
// the calling thread (into a buffer that thread keeps), then splits output columns over the pool.
#include "kernels/quant_dot.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/quant_dot_internal.h"
#include "wisp/error.h"

namespace wisp {

namespace {

Int8Gemv int8_gemv_for(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::Avx2: return kInt8GemvAvx2;
    case Int8Kernel::Vnni: return kInt8GemvVnni;
    case Int8Kernel::Avx512: return kInt8GemvAvx512;
    case Int8Kernel::Scalar: break;
  }
  return kInt8GemvScalar;
}

// The calling thread's activation buffer, sized on first use for kInt8MaxRows rows of the
// widest `in` seen so far (a decode step meets its widest, fc2's, every step), so that steps
// after the first never allocate, whatever their row count.
Int8Rows activation_buffer(int rows, int in) {
  thread_local std::vector<uint8_t> buffer;
  const size_t row_bytes = Int8Rows::row_bytes(in);
  const size_t needed = static_cast<size_t>(kInt8MaxRows) * row_bytes + 64;
  if (buffer.size() < needed) buffer.resize(needed);
  Int8Rows x;
  x.rows = rows;
  x.blocks = in / kMatrixQuantBlock;
  x.stride = row_bytes;
  const uintptr_t address = reinterpret_cast<uintptr_t>(buffer.data());
  x.base = buffer.data() + ((64 - address % 64) % 64);  // cache-line aligned rows
  return x;
}

}  // namespace

const char* int8_kernel_name(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::Scalar: return "scalar";
    case Int8Kernel::Avx2: return "avx2";
    case Int8Kernel::Vnni: return "avx512-vnni";
    case Int8Kernel::Avx512: return "avx512-vnni-gfni";
  }
  return "?";
}

bool cpu_supports_int8_kernel(Int8Kernel kernel) {
  switch (kernel) {
    case Int8Kernel::Scalar: return true;
    case Int8Kernel::Avx2: return cpu_supports(Isa::Avx2);
    case Int8Kernel::Vnni: return cpu_supports(Isa::Avx512) && cpu_has_avx512_vnni();
    case Int8Kernel::Avx512: return cpu_supports_int8_kernel(Int8Kernel::Vnni) && cpu_has_gfni_bitalg();
  }
  return false;
}

Int8Kernel int8_kernel_for(Isa isa) {
  if (isa == Isa::Avx512 && cpu_supports_int8_kernel(Int8Kernel::Avx512)) return Int8Kernel::Avx512;
  if (isa == Isa::Avx512 && cpu_supports_int8_kernel(Int8Kernel::Vnni)) return Int8Kernel::Vnni;
  if (isa != Isa::Scalar && cpu_supports_int8_kernel(Int8Kernel::Avx2)) return Int8Kernel::Avx2;
  return Int8Kernel::Scalar;
}

Int8Terms int8_terms(Int8Kernel kernel, MatrixType type) {
  Int8Terms terms;
  if (kernel == Int8Kernel::Scalar) return terms;  // works on signed values directly
  if (kernel == Int8Kernel::Avx512 && (type == MatrixType::Q5_0R || type == MatrixType::Q8_0R)) {
    // Eight blocks' scales at a time; the offset (q5_0r's stored 16, or the 128 that makes
    // q8_0r's values unsigned) cancelled in the integer lane sums, which start from it.
    terms.block_scales = true;
    terms.offset_multiple = (type == MatrixType::Q5_0R ? int8_weight_offset(type) : kQ8_0rFlip) / kInt8Lanes;
    return terms;
  }
  if (type == MatrixType::Q5_0R) {
    terms.block_offset = int8_weight_offset(type);  // scales and offsets eight blocks at a time
    return terms;
  }
  terms.minimum = int8_has_minimum(type);
  // Lane sums carry offset * Σq per block: the nibble types' stored offset. The q8_0 kernel uses
  // signed products (sign trick; q8_0r too, here) and needs none.
  const int offset = int8_weight_offset(type);
  terms.offset_multiple = offset / kInt8Lanes;
  return terms;
}

void quantize_rows_scalar(const float* x, int rows, int in, Int8Terms terms, const Int8Rows& out) {
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<size_t>(r) * in;
    int8_t* values = out.values(r);
    for (int b = 0; b < out.blocks; ++b) {
      const float* xb = xr + static_cast<size_t>(b) * kMatrixQuantBlock;
      float amax = 0.0f;
      for (int i = 0; i < kMatrixQuantBlock; ++i) amax = std::max(amax, std::fabs(xb[i]));
      const float d = amax / 127.0f;
      const float inv = d != 0.0f ? 1.0f / d : 0.0f;
      int sum = 0;
      for (int i = 0; i < kMatrixQuantBlock; ++i) {
        // lrintf rounds to nearest even like cvtps2dq; the clamp mirrors the SIMD saturation
        // (reached only for non-finite input).
        const long q = std::clamp(std::lrintf(xb[i] * inv), -128L, 127L);
        values[b * kMatrixQuantBlock + i] = static_cast<int8_t>(q);
        sum += static_cast<int>(q);
      }
      for (int lane = 0; lane < kInt8Lanes; ++lane) {
        const size_t at = static_cast<size_t>(b) * kInt8Lanes + lane;
        out.scales(r)[at] = d;
        if (terms.offset_multiple != 0) out.offsets(r)[at] = -terms.offset_multiple * sum;
        if (terms.minimum) out.minimum_terms(r)[at] = d * static_cast<float>(sum) * 0.125f;
      }
      if (terms.block_scales || terms.block_offset != 0) out.block_scales(r)[b] = d;
      if (terms.block_offset != 0) out.block_offset_terms(r)[b] = d * static_cast<float>(-terms.block_offset * sum);
    }
  }
}

Int8Rows quantize_activations(Int8Kernel kernel, const float* x, int rows, int in, MatrixType type) {
  const Int8Rows q = activation_buffer(rows, in);
  const Int8Terms terms = int8_terms(kernel, type);
  if (kernel == Int8Kernel::Scalar) {
    quantize_rows_scalar(x, rows, in, terms, q);
  } else {
    quantize_rows_avx2(x, rows, in, terms, q);
  }
  return q;
}

void linear_quant_int8_with(Int8Kernel kernel, const float* x, int rows, int in, const WeightMatrix& w,
                            const float* bias, int out, float* y, Epilogue epilogue) {
  if (!cpu_supports_int8_kernel(kernel)) {
    throw Error(std::string("this CPU cannot run the ") + int8_kernel_name(kernel) + " int8 kernel");
  }
  if (rows < 1 || rows > kInt8MaxRows) throw Error("int8 linear: rows must be 1.." + std::to_string(kInt8MaxRows));
  const Int8Rows q = quantize_activations(kernel, x, rows, in, w.type);
  const Int8Gemv gemv = int8_gemv_for(kernel);
  const KernelTable& kt = kernels();
  parallel_column_blocks(out, rows, [&](int j0, int j1) {
    gemv(q, w, j0, j1, bias, epilogue == Epilogue::Accumulate, y, out);
    if (epilogue == Epilogue::Gelu) {
      for (int r = 0; r < rows; ++r) kt.bias_gelu(y + static_cast<size_t>(r) * out + j0, j1 - j0, nullptr);
    }
  });
}

bool linear_quant_int8(const float* x, int rows, int in, const WeightMatrix& w, const float* bias, int out, float* y,
                       Epilogue epilogue) {
  if (!w.quantized() || rows < 1 || rows > kInt8MaxRows || in != w.cols || out != w.rows ||
      in % kMatrixQuantBlock != 0) {
    return false;
  }
  linear_quant_int8_with(int8_kernel_for(active_isa()), x, rows, in, w, bias, out, y, epilogue);
  return true;
}

}  // namespace wisp
