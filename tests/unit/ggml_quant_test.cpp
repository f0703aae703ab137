// ggml block formats: hand-computed blocks per type, fp16 rounding, error bounds of round trips,
// and the per-tensor type choices of the ggml writer.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "model/ggml_quant.h"
#include "model/ggml_writer.h"

namespace wisp {
namespace {

// x[j] = j - 16: -16 ... 15, the block every hand computation below uses.
std::vector<float> ramp() {
  std::vector<float> x(32);
  for (int j = 0; j < 32; ++j) x[j] = static_cast<float>(j - 16);
  return x;
}

TEST(Fp16, KnownValuesAndRounding) {
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3C00);
  EXPECT_EQ(fp32_to_fp16(-2.0f), 0xC000);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);  // rounds up to infinity
  EXPECT_EQ(fp32_to_fp16(1.0f / 3.0f), 0x3555);
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // tie: to even
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // tie: to even (up)
  EXPECT_EQ(fp32_to_fp16(6e-8f), 0x0001);  // subnormal
  EXPECT_EQ(fp32_to_fp16(1e-8f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(16.0f / 127.0f), 0x3008);
}

TEST(Fp16, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00 && (h & 0x3FF)) continue;  // NaN payloads
    ASSERT_EQ(fp32_to_fp16(fp16_to_fp32(static_cast<uint16_t>(h))), h) << std::hex << h;
  }
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16_to_fp32(0x3555), 0.333251953125f);
}

TEST(Q8_0, HandComputedBlock) {
  const auto x = ramp();
  BlockQ8_0 b;
  quantize_row_q8_0(x.data(), &b, 32);
  EXPECT_EQ(b.d, 0x3008);  // 16/127 in fp16
  // q = round(x * 127/16)
  EXPECT_EQ(b.qs[0], -127);
  EXPECT_EQ(b.qs[17], 8);    // 1 * 7.9375
  EXPECT_EQ(b.qs[18], 16);   // 2 * 7.9375 = 15.875
  EXPECT_EQ(b.qs[31], 119);  // 15 * 7.9375 = 119.06
  float y[32];
  dequantize_row_q8_0(&b, y, 32);
  EXPECT_FLOAT_EQ(y[0], -127 * 0.1259765625f);
  EXPECT_FLOAT_EQ(y[16], 0.0f);
}

TEST(Q4_0, HandComputedBlock) {
  const auto x = ramp();
  BlockQ4_0 b;
  quantize_row_q4_0(x.data(), &b, 32);
  EXPECT_EQ(b.d, 0x4000);  // d = max / -8 = -16 / -8 = 2
  // q = min(15, trunc(x / 2 + 8.5)); low nibble value j, high nibble value j+16
  const uint8_t expected[16] = {0x80, 0x91, 0x91, 0xA2, 0xA2, 0xB3, 0xB3, 0xC4,
                                0xC4, 0xD5, 0xD5, 0xE6, 0xE6, 0xF7, 0xF7, 0xF8};
  EXPECT_EQ(std::memcmp(b.qs, expected, 16), 0);
  float y[32];
  dequantize_row_q4_0(&b, y, 32);
  EXPECT_EQ(y[0], -16.0f);
  EXPECT_EQ(y[1], -14.0f);  // -15 -> q 1 -> (1 - 8) * 2
  EXPECT_EQ(y[31], 14.0f);  // 15 -> capped at q 15
}

TEST(Q4_1, HandComputedBlock) {
  const auto x = ramp();
  BlockQ4_1 b;
  quantize_row_q4_1(x.data(), &b, 32);
  EXPECT_EQ(b.m, 0xCC00);  // -16
  EXPECT_EQ(b.d, 0x4022);  // 31/15 = 2.0667 -> 2.06640625
  EXPECT_EQ(b.qs[0] & 0x0F, 0);
  EXPECT_EQ(b.qs[15] >> 4, 15);  // x = 15: 31 * 15/31 + 0.5 = 15.5 -> 15
  EXPECT_EQ(b.qs[8] & 0x0F, 4);  // x = -8: 8 * 15/31 + 0.5 = 4.37 -> 4
  float y[32];
  dequantize_row_q4_1(&b, y, 32);
  EXPECT_FLOAT_EQ(y[0], -16.0f);
  EXPECT_FLOAT_EQ(y[8], -16.0f + 4 * 2.06640625f);
}

TEST(Q5_0, HandComputedBlock) {
  const auto x = ramp();
  BlockQ5_0 b;
  quantize_row_q5_0(x.data(), &b, 32);
  EXPECT_EQ(b.d, 0x3C00);  // -16 / -16 = 1: q = x + 16 = j
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  EXPECT_EQ(qh, 0xFFFF0000u);  // values 16..31 have the fifth bit
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4));
  float y[32];
  dequantize_row_q5_0(&b, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], x[j]);
}

TEST(Q5_1, HandComputedBlock) {
  auto x = ramp();
  for (float& v : x) v = v / 2 + 3;  // -5 ... 10.5, d = 15.5/31 = 0.5, m = -5
  BlockQ5_1 b;
  quantize_row_q5_1(x.data(), &b, 32);
  EXPECT_EQ(b.d, 0x3800);
  EXPECT_EQ(b.m, 0xC500);
  uint32_t qh;
  std::memcpy(&qh, b.qh, 4);
  EXPECT_EQ(qh, 0xFFFF0000u);
  for (int j = 0; j < 16; ++j) EXPECT_EQ(b.qs[j], j | (j << 4));
  float y[32];
  dequantize_row_q5_1(&b, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], x[j]);
}

TEST(Quantized, ZeroBlockStaysZero) {
  const std::vector<float> zeros(64, 0.0f);
  for (GgmlType t : {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0}) {
    std::vector<std::byte> blocks(ggml_row_bytes(t, 64));
    ggml_encode(t, zeros.data(), blocks.data(), 64);
    std::vector<float> y(64, 1.0f);
    ggml_decode(t, blocks.data(), y.data(), 64);
    for (float v : y) EXPECT_EQ(v, 0.0f) << ggml_type_name(static_cast<int32_t>(t));
  }
}

// Round trips of random rows stay within half a quantization step (plus the fp16 rounding of
// the scale) of every value.
TEST(Quantized, RoundTripErrorBounds) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 0.05f);
  const int n = 32 * 64;
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  struct Case {
    GgmlType type;
    float steps;  // quantization levels across the block's range
    bool symmetric;
  };
  for (const Case c : {Case{GgmlType::Q8_0, 254, true}, Case{GgmlType::Q5_0, 32, true}, Case{GgmlType::Q5_1, 31, false},
                       Case{GgmlType::Q4_0, 16, true}, Case{GgmlType::Q4_1, 15, false}}) {
    std::vector<std::byte> blocks(ggml_row_bytes(c.type, n));
    ggml_encode(c.type, x.data(), blocks.data(), n);
    std::vector<float> y(n);
    ggml_decode(c.type, blocks.data(), y.data(), n);
    for (int b = 0; b < n / 32; ++b) {
      float lo = x[b * 32], hi = x[b * 32], amax = 0;
      for (int j = 0; j < 32; ++j) {
        lo = std::min(lo, x[b * 32 + j]);
        hi = std::max(hi, x[b * 32 + j]);
        amax = std::max(amax, std::fabs(x[b * 32 + j]));
      }
      const float range = c.symmetric ? 2 * amax : hi - lo;
      // Q4_0/Q5_0 spend one level on the extreme's side only, so their worst case is a full step.
      const float step = range / c.steps;
      const float bound = (c.type == GgmlType::Q8_0 ? 0.5f : 1.0f) * step + amax * 2e-3f;
      for (int j = 0; j < 32; ++j) {
        ASSERT_LE(std::fabs(y[b * 32 + j] - x[b * 32 + j]), bound)
            << ggml_type_name(static_cast<int32_t>(c.type)) << " block " << b << " value " << j;
      }
    }
  }
}

TEST(Quantized, SizesAndNames) {
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q4_0, 64), 36u);
  EXPECT_EQ(ggml_row_bytes(GgmlType::Q8_0, 32), 34u);
  EXPECT_EQ(ggml_row_bytes(GgmlType::F16, 10), 20u);
  EXPECT_EQ(ggml_type_from_name("q5_1"), GgmlType::Q5_1);
  EXPECT_FALSE(ggml_type_from_name("q3_k").has_value());
  EXPECT_STREQ(ggml_type_name(8), "q8_0");
  EXPECT_EQ(ggml_type_name(12), nullptr);
  std::vector<float> row(40, 1.0f);
  std::vector<std::byte> out(64);
  EXPECT_THROW(ggml_encode(GgmlType::Q8_0, row.data(), out.data(), 40), std::runtime_error);
}

TEST(GgmlWriter, TensorTypesFollowWhisperCpp) {
  EXPECT_EQ(ggml_tensor_type("encoder.blocks.0.mlp.0.weight", 2, GgmlType::Q5_0), GgmlType::Q5_0);
  EXPECT_EQ(ggml_tensor_type("decoder.token_embedding.weight", 2, GgmlType::Q8_0), GgmlType::Q8_0);
  EXPECT_EQ(ggml_tensor_type("encoder.conv1.weight", 3, GgmlType::Q4_0), GgmlType::F16);
  EXPECT_EQ(ggml_tensor_type("encoder.conv1.bias", 2, GgmlType::Q4_0), GgmlType::F32);
  EXPECT_EQ(ggml_tensor_type("encoder.positional_embedding", 2, GgmlType::F16), GgmlType::F32);
  EXPECT_EQ(ggml_tensor_type("decoder.positional_embedding", 2, GgmlType::Q8_0), GgmlType::F32);
  EXPECT_EQ(ggml_tensor_type("decoder.blocks.0.attn.query.bias", 1, GgmlType::Q8_0), GgmlType::F32);
  EXPECT_EQ(ggml_tensor_type("encoder.conv2.weight", 3, GgmlType::F32), GgmlType::F32);
  EXPECT_EQ(ggml_file_ftype(GgmlType::F32), 0);
  EXPECT_EQ(ggml_file_ftype(GgmlType::F16), 1);
  EXPECT_EQ(ggml_file_ftype(GgmlType::Q4_0), 2002);
  EXPECT_EQ(ggml_file_ftype(GgmlType::Q4_1), 2003);
  EXPECT_EQ(ggml_file_ftype(GgmlType::Q8_0), 2007);
  EXPECT_EQ(ggml_file_ftype(GgmlType::Q5_0), 2008);
  EXPECT_EQ(ggml_file_ftype(GgmlType::Q5_1), 2009);
}

}  // namespace
}  // namespace wisp
