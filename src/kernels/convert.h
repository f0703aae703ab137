// Conversions of stored half-precision weights to float32.
#pragma once

#include <cstddef>
#include <cstdint>

namespace wisp {

float f16_to_f32(uint16_t h);
void convert_f16_to_f32(const uint16_t* src, float* dst, size_t n);
void convert_bf16_to_f32(const uint16_t* src, float* dst, size_t n);

}  // namespace wisp
