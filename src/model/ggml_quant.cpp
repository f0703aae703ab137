#include "model/ggml_quant.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <string>

#include "wisp/error.h"

namespace wisp {

namespace {

uint32_t float_bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  return u;
}

float bits_float(uint32_t u) {
  float x;
  std::memcpy(&x, &u, 4);
  return x;
}

// Round-to-nearest-even of `value >> shift` (shift >= 1).
uint32_t shift_round_even(uint32_t value, int shift) {
  const uint32_t q = value >> shift;
  const uint32_t rem = value & ((1u << shift) - 1);
  const uint32_t half = 1u << (shift - 1);
  return (rem > half || (rem == half && (q & 1))) ? q + 1 : q;
}

struct TypeTraits {
  GgmlType type;
  const char* name;
  size_t block_bytes;  // bytes per block of `block_values`
  int block_values;
};

constexpr TypeTraits kTypes[] = {
    {GgmlType::F32, "f32", 4, 1},
    {GgmlType::F16, "f16", 2, 1},
    {GgmlType::Q4_0, "q4_0", sizeof(BlockQ4_0), kQuantBlock},
    {GgmlType::Q4_1, "q4_1", sizeof(BlockQ4_1), kQuantBlock},
    {GgmlType::Q5_0, "q5_0", sizeof(BlockQ5_0), kQuantBlock},
    {GgmlType::Q5_1, "q5_1", sizeof(BlockQ5_1), kQuantBlock},
    {GgmlType::Q8_0, "q8_0", sizeof(BlockQ8_0), kQuantBlock},
    {GgmlType::BF16, "bf16", 2, 1},
};

const TypeTraits& traits(GgmlType type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return t;
  }
  throw Error("internal: unknown ggml type " + std::to_string(static_cast<int>(type)));
}

// The value of largest magnitude in a block, with its sign (first one on ties), as ggml picks it.
float signed_absmax(const float* x) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQuantBlock; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, float& min, float& max) {
  min = FLT_MAX;
  max = -FLT_MAX;
  for (int j = 0; j < kQuantBlock; ++j) {
    min = std::min(min, x[j]);
    max = std::max(max, x[j]);
  }
}

}  // namespace

const char* ggml_type_name(int32_t type) {
  for (const auto& t : kTypes) {
    if (static_cast<int32_t>(t.type) == type) return t.name;
  }
  return nullptr;
}

std::optional<GgmlType> ggml_type_from_id(int32_t type) {
  for (const auto& t : kTypes) {
    if (static_cast<int32_t>(t.type) == type) return t.type;
  }
  return std::nullopt;
}

std::optional<GgmlType> ggml_type_from_name(std::string_view name) {
  for (const auto& t : kTypes) {
    if (name == t.name) return t.type;
  }
  return std::nullopt;
}

bool ggml_is_quantized(GgmlType type) { return traits(type).block_values > 1; }

size_t ggml_row_bytes(GgmlType type, int64_t n) {
  const TypeTraits& t = traits(type);
  return static_cast<size_t>(n / t.block_values) * t.block_bytes;
}

uint16_t fp32_to_fp16(float x) {
  uint32_t f = float_bits(x);
  const uint16_t sign = static_cast<uint16_t>((f >> 16) & 0x8000);
  f &= 0x7fffffff;
  if (f >= 0x7f800000) return sign | (f > 0x7f800000 ? 0x7e00 : 0x7c00);  // NaN, inf
  if (f >= 0x477ff000) return sign | 0x7c00;  // >= 65520 rounds to inf
  const int exp = static_cast<int>(f >> 23);
  const uint32_t mant = (f & 0x7fffff) | 0x800000;
  if (exp < 113) {  // below 2^-14: half subnormal, units of 2^-24
    const int shift = 126 - exp;
    if (shift > 24) return sign;
    return static_cast<uint16_t>(sign | shift_round_even(mant, shift));
  }
  // Normal: rebias the exponent; a mantissa carry correctly bumps the exponent.
  const uint32_t h = (static_cast<uint32_t>(exp - 112) << 10) | ((f & 0x7fffff) >> 13);
  const uint32_t rem = f & 0x1fff;
  const uint32_t rounded = (rem > 0x1000 || (rem == 0x1000 && (h & 1))) ? h + 1 : h;
  return static_cast<uint16_t>(sign | rounded);
}

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  if (exp == 31) return bits_float(sign | 0x7f800000 | (mant << 13));
  return bits_float(sign | ((exp + 112) << 23) | (mant << 13));
}

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, x += kQuantBlock) {
    const float d = signed_absmax(x) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < 16; ++j) {
      // Truncation toward zero after +8.5 is ggml's rounding; the extreme maps to 16, capped.
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, x += kQuantBlock) {
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    for (int j = 0; j < 16; ++j) {
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j] - min) * id + 0.5f)));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>((x[j + 16] - min) * id + 0.5f)));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, x += kQuantBlock) {
    const float d = signed_absmax(x) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const uint32_t q0 = static_cast<uint32_t>(std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f))));
      const uint32_t q1 =
          static_cast<uint32_t>(std::min(31, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 16.5f))));
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, x += kQuantBlock) {
    float min, max;
    min_max(x, min, max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    y[i].m = fp32_to_fp16(min);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const uint32_t q0 = static_cast<uint8_t>((x[j] - min) * id + 0.5f);
      const uint32_t q1 = static_cast<uint8_t>((x[j + 16] - min) * id + 0.5f);
      y[i].qs[j] = static_cast<uint8_t>((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= ((q0 & 0x10u) >> 4) << j;
      qh |= ((q1 & 0x10u) >> 4) << (j + 16);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, x += kQuantBlock) {
    float amax = 0.0f;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp32_to_fp16(d);
    for (int j = 0; j < kQuantBlock; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, y += kQuantBlock) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>((x[i].qs[j] & 0x0f) - 8) * d;
      y[j + 16] = static_cast<float>((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, y += kQuantBlock) {
    const float d = fp16_to_fp32(x[i].d), m = fp16_to_fp32(x[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = static_cast<float>(x[i].qs[j] & 0x0f) * d + m;
      y[j + 16] = static_cast<float>(x[i].qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, y += kQuantBlock) {
    const float d = fp16_to_fp32(x[i].d);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    for (int j = 0; j < 16; ++j) {
      const int high0 = static_cast<int>((qh >> j) & 1) << 4;
      const int high1 = static_cast<int>((qh >> (j + 16)) & 1) << 4;
      y[j] = static_cast<float>(((x[i].qs[j] & 0x0f) | high0) - 16) * d;
      y[j + 16] = static_cast<float>(((x[i].qs[j] >> 4) | high1) - 16) * d;
    }
  }
}

void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, y += kQuantBlock) {
    const float d = fp16_to_fp32(x[i].d), m = fp16_to_fp32(x[i].m);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, 4);
    for (int j = 0; j < 16; ++j) {
      const int high0 = static_cast<int>((qh >> j) & 1) << 4;
      const int high1 = static_cast<int>((qh >> (j + 16)) & 1) << 4;
      y[j] = static_cast<float>((x[i].qs[j] & 0x0f) | high0) * d + m;
      y[j + 16] = static_cast<float>((x[i].qs[j] >> 4) | high1) * d + m;
    }
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQuantBlock; ++i, y += kQuantBlock) {
    const float d = fp16_to_fp32(x[i].d);
    for (int j = 0; j < kQuantBlock; ++j) y[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

void ggml_encode(GgmlType type, const float* src, void* dst, int64_t n) {
  if (ggml_is_quantized(type) && n % kQuantBlock != 0) {
    throw Error("cannot quantize a row of " + std::to_string(n) + " values to " + traits(type).name +
                " (rows must be a multiple of 32); choose f16 or f32");
  }
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); break;
    case GgmlType::F16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) out[i] = fp32_to_fp16(src[i]);
      break;
    }
    case GgmlType::BF16: {
      auto* out = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) {
        const uint32_t u = float_bits(src[i]);
        out[i] = (u & 0x7fffffff) > 0x7f800000 ? static_cast<uint16_t>((u >> 16) | 64)  // quiet NaN
                                               : static_cast<uint16_t>(shift_round_even(u, 16));
      }
      break;
    }
    case GgmlType::Q4_0: quantize_row_q4_0(src, static_cast<BlockQ4_0*>(dst), n); break;
    case GgmlType::Q4_1: quantize_row_q4_1(src, static_cast<BlockQ4_1*>(dst), n); break;
    case GgmlType::Q5_0: quantize_row_q5_0(src, static_cast<BlockQ5_0*>(dst), n); break;
    case GgmlType::Q5_1: quantize_row_q5_1(src, static_cast<BlockQ5_1*>(dst), n); break;
    case GgmlType::Q8_0: quantize_row_q8_0(src, static_cast<BlockQ8_0*>(dst), n); break;
  }
}

void ggml_decode(GgmlType type, const void* src, float* dst, int64_t n) {
  switch (type) {
    case GgmlType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); break;
    case GgmlType::F16: {
      const auto* in = static_cast<const unsigned char*>(src);  // any byte offset
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, in + 2 * i, sizeof h);
        dst[i] = fp16_to_fp32(h);
      }
      break;
    }
    case GgmlType::BF16: {
      const auto* in = static_cast<const unsigned char*>(src);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, in + 2 * i, sizeof h);
        dst[i] = bits_float(static_cast<uint32_t>(h) << 16);
      }
      break;
    }
    case GgmlType::Q4_0: dequantize_row_q4_0(static_cast<const BlockQ4_0*>(src), dst, n); break;
    case GgmlType::Q4_1: dequantize_row_q4_1(static_cast<const BlockQ4_1*>(src), dst, n); break;
    case GgmlType::Q5_0: dequantize_row_q5_0(static_cast<const BlockQ5_0*>(src), dst, n); break;
    case GgmlType::Q5_1: dequantize_row_q5_1(static_cast<const BlockQ5_1*>(src), dst, n); break;
    case GgmlType::Q8_0: dequantize_row_q8_0(static_cast<const BlockQ8_0*>(src), dst, n); break;
  }
}

}  // namespace wisp
