// Conversions between float32 and the half-precision formats weights are stored in.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wisp {

float f16_to_f32(uint16_t h);
// Round to nearest even, overflow to infinity (as numpy's float16 cast).
uint16_t f32_to_f16(float f);
void convert_f16_to_f32(const uint16_t* src, float* dst, size_t n);
void convert_bf16_to_f32(const uint16_t* src, float* dst, size_t n);
// f32_to_f16 over an array.
void convert_f32_to_f16(const float* src, uint16_t* dst, size_t n);

}  // namespace wisp
