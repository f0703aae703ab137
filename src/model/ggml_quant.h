// ggml's tensor types and block-quantized formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), byte for byte as
// whisper.cpp stores them, with scalar reference (de)quantizers: the same rounding as ggml's
// quantize_row_*_ref, so files written here equal whisper.cpp's `quantize` output. Later SIMD
// kernels are tested against these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace wisp {

// ggml's type ids (published file-format constants).
enum class GgmlType : int32_t { F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, BF16 = 30 };

inline constexpr int kQuantBlock = 32;  // values per block, every type here

// One block of 32 values each. fp16 fields are raw IEEE half bits. Packed (alignment 1): blocks
// sit at any byte offset of a file, as in whisper.cpp.
struct __attribute__((packed)) BlockQ4_0 {
  uint16_t d;       // scale
  uint8_t qs[16];   // value j in the low nibble of byte j, value j+16 in its high nibble; stored +8
};
struct __attribute__((packed)) BlockQ4_1 {
  uint16_t d, m;    // scale, minimum
  uint8_t qs[16];   // nibbles as Q4_0, unsigned
};
struct __attribute__((packed)) BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];    // bit j: fifth bit of value j (little-endian u32)
  uint8_t qs[16];   // low four bits as Q4_0; stored +16
};
struct __attribute__((packed)) BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct __attribute__((packed)) BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34);

// "q8_0" etc. (lower case), or nullptr for an id this file does not know.
const char* ggml_type_name(int32_t type);
std::optional<GgmlType> ggml_type_from_id(int32_t type);
std::optional<GgmlType> ggml_type_from_name(std::string_view name);
bool ggml_is_quantized(GgmlType type);
// Bytes of `n` consecutive values (n a multiple of 32 for quantized types).
size_t ggml_row_bytes(GgmlType type, int64_t n);

// IEEE half conversion, round to nearest even (as ggml's GGML_FP32_TO_FP16).
uint16_t fp32_to_fp16(float x);
float fp16_to_fp32(uint16_t h);

// Reference quantizers: `n` values (a multiple of 32) into n/32 blocks.
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t n);
void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t n);
void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t n);
void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t n);
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t n);

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t n);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t n);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t n);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t n);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t n);

// Any type of the enum (F32, F16, BF16 and the quantized ones): `n` values from f32 into `dst`
// (ggml_row_bytes(type, n) bytes), and back.
void ggml_encode(GgmlType type, const float* src, void* dst, int64_t n);
void ggml_decode(GgmlType type, const void* src, float* dst, int64_t n);

}  // namespace wisp
