// q5_0r, q5_0 regrouped for the int8 decode kernel (kernels/q5_0r.h): the layout places every
// byte of a row once, regrouping keeps every value and scale (ggml's q5_0 dequantization, bit
// for bit), and every other reader of the type gives what it gives on the q5_0 source: the
// integer product's unpacking (bit for bit, both kernels, so prompts are unchanged) and the
// exact f32 paths (widening, gemv on every instruction set). The int8 kernels are checked in
// quant_dot_test.cpp with the other types.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/int16_gemm_internal.h"
#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "kernels/q5_0r.h"

namespace wisp {
namespace {

using test::random_floats;

// The widths with a partial last group (2, 4, 6 blocks), a whole one, and both.
constexpr int kWidths[] = {64, 128, 192, 256, 320, 512, 1536};

// A q5_0 matrix [rows][cols] and its regrouped copy.
struct Pair {
  Pair(int rows, int cols, uint32_t seed)
      : row_bytes(matrix_row_bytes(MatrixType::Q5_0, cols)), q5_0(row_bytes * rows), q5_0r(row_bytes * rows) {
    std::vector<float> values = random_floats(static_cast<size_t>(rows) * cols, 0.1f, seed);
    std::fill(values.begin(), values.begin() + 32, 0.0f);  // a block with d = 0
    ggml_encode(GgmlType::Q5_0, values.data(), q5_0.data(), static_cast<int64_t>(values.size()));
    for (int r = 0; r < rows; ++r) {
      q5_0r_regroup_row(q5_0.data() + row_bytes * r, cols / 32, q5_0r.data() + row_bytes * r);
    }
    source = WeightMatrix(q5_0.data(), MatrixType::Q5_0, rows, cols);
    regrouped = WeightMatrix(q5_0r.data(), MatrixType::Q5_0R, rows, cols);
  }
  size_t row_bytes;
  std::vector<uint8_t> q5_0, q5_0r;
  WeightMatrix source, regrouped;
};

TEST(Q5_0r, LayoutPlacesEveryByteOfARowOnce) {
  for (int cols : kWidths) {
    const int n_blocks = cols / 32;
    std::vector<int> uses(matrix_row_bytes(MatrixType::Q5_0R, cols), 0);
    for (int b = 0; b < n_blocks; ++b) {
      const Q5_0rLayout at = q5_0r_layout(n_blocks, b);
      for (size_t i = 0; i < 2; ++i) ++uses.at(at.scale + i);
      for (size_t i = 0; i < 16; ++i) ++uses.at(at.nibbles + i);
      if (!at.odd) {
        for (size_t i = 0; i < 8; ++i) ++uses.at(at.bits + i);
        EXPECT_EQ(q5_0r_layout(n_blocks, b + 1).bits, at.bits) << "pairs share a word";
      }
    }
    for (size_t i = 0; i < uses.size(); ++i) ASSERT_EQ(uses[i], 1) << "cols " << cols << " byte " << i;
  }
  EXPECT_TRUE(q5_0r_regroupable(384));
  EXPECT_FALSE(q5_0r_regroupable(96));  // 3 blocks: no pairs
  EXPECT_FALSE(q5_0r_regroupable(0));
}

TEST(Q5_0r, RegroupingKeepsEveryValueAndScale) {
  for (int cols : kWidths) {
    const Pair p(3, cols, 5 + cols);
    std::vector<float> expected(static_cast<size_t>(3) * cols), got(expected.size());
    ggml_decode(GgmlType::Q5_0, p.q5_0.data(), expected.data(), static_cast<int64_t>(expected.size()));
    p.regrouped.rows_to_f32(0, 3, got.data());
    EXPECT_EQ(std::memcmp(expected.data(), got.data(), got.size() * sizeof(float)), 0) << "cols " << cols;
    for (int r = 0; r < 3; ++r) {
      for (int b = 0; b < cols / 32; ++b) {
        for (int v = 0; v < 32; ++v) {
          ASSERT_EQ(int16_block_value(p.regrouped, r, b, v), int16_block_value(p.source, r, b, v))
              << "cols " << cols << " row " << r << " block " << b << " value " << v;
        }
      }
    }
  }
}

// A wrong bit position or group offset changes values: the check above would see it.
TEST(Q5_0r, FifthBitsMoveWithTheirValues) {
  const Pair p(1, 64, 7);
  std::vector<uint8_t> broken = p.q5_0r;
  broken[q5_0r_layout(2, 0).bits] ^= 0x10;  // bit 4: block 0's value 0
  const WeightMatrix w(broken.data(), MatrixType::Q5_0R, 1, 64);
  EXPECT_EQ(int16_block_value(w, 0, 0, 0) + 16, (int16_block_value(p.source, 0, 0, 0) + 16) ^ 16);
  EXPECT_EQ(int16_block_value(w, 0, 1, 0), int16_block_value(p.source, 0, 1, 0));
}

// The integer product unpacks the same words and steps from both layouts, so prompts on
// regrouped weights give exactly what they gave on the stored ones.
TEST(Q5_0r, IntegerProductUnpacksAsFromTheSource) {
  const int rows = 21;  // a partial second slice
  for (int cols : {192, 320, 1536}) {
    const Pair p(rows, cols, 11);
    const int n_blocks = cols / 32;
    for (bool avx2 : {false, true}) {
      if (avx2 && !cpu_supports(Isa::Avx2)) continue;
      const auto unpack = avx2 ? int16_unpack_blocks_avx2 : int16_unpack_blocks_scalar;
      for (int j0 : {0, 16}) {
        for (int b0 = 0; b0 < n_blocks; b0 += kInt16PassBlocks) {
          const int nb = std::min(kInt16PassBlocks, n_blocks - b0);
          const size_t n_words = static_cast<size_t>(nb) * kInt16BlockPairs * kPanelWidth;
          std::vector<int32_t> from_source(n_words), from_regrouped(n_words, -1);
          std::vector<float> source_scales(kPanelWidth), regrouped_scales(kPanelWidth, -1.0f);
          unpack(p.source, j0, b0, nb, from_source.data(), source_scales.data());
          unpack(p.regrouped, j0, b0, nb, from_regrouped.data(), regrouped_scales.data());
          EXPECT_EQ(from_source, from_regrouped) << "avx2 " << avx2 << " cols " << cols << " j0 " << j0 << " b0 " << b0;
          EXPECT_EQ(source_scales, regrouped_scales);
        }
      }
    }
  }
}

class Q5_0rExact : public test::RestoresIsaAndThreads {};

// Off the integer kernels (other instruction sets, full precision) the type is widened: the
// same products as on the dequantized weights.
TEST_F(Q5_0rExact, ExactPathsWidenToTheDequantizedWeights) {
  const int out = 37, in = 320;
  const Pair p(out, in, 13);
  const std::vector<float> values = p.source.to_f32();
  const WeightMatrix dequantized(values.data(), MatrixType::F32, out, in);
  const std::vector<float> bias = random_floats(out, 0.5f, 17);
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512}) {
    if (!cpu_supports(isa)) continue;
    force_isa(isa);
    std::vector<float> widened(static_cast<size_t>(out) * in);
    kernels().rows_to_f32(p.regrouped, 0, out, widened.data());
    EXPECT_EQ(widened, values) << isa_name(isa);
    for (int rows : {1, 3, 40}) {
      const std::vector<float> x = random_floats(static_cast<size_t>(rows) * in, 1.0f, 19 + rows);
      std::vector<float> expected(static_cast<size_t>(rows) * out), got(expected.size());
      linear(x.data(), rows, in, dequantized, bias.data(), out, expected.data());
      linear(x.data(), rows, in, p.regrouped, bias.data(), out, got.data());
      EXPECT_LT(test::relative_error(got, expected), 1e-6) << isa_name(isa) << " rows " << rows;
    }
  }
}

}  // namespace
}  // namespace wisp
