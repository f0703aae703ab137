// q5_0r and q8_0r, q5_0 and q8_0 regrouped for the int8 decode kernels (kernels/q5_0r.h,
// kernels/q8_0r.h): the layouts place every byte of a row once, regrouping keeps every value and
// scale (ggml's dequantization, bit for bit), and every other reader of the types gives what it
// gives on the stored source: the integer product's unpacking (bit for bit, both kernels, so
// prompts are unchanged) and the exact f32 paths (widening, gemv on every instruction set). The
// int8 kernels are checked in quant_dot_test.cpp with the other types.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernel_test_support.h"
#include "kernels/int16_gemm_internal.h"
#include "kernels/kernel_table.h"
#include "kernels/ops.h"
#include "kernels/q5_0r.h"
#include "kernels/q8_0r.h"

namespace wisp {
namespace {

using test::random_floats;

// The widths with a partial last group (2, 4, 6 blocks), a whole one, and both.
constexpr int kWidths[] = {64, 128, 192, 256, 320, 512, 1536};

// The regrouped types and their sources.
struct Regrouped {
  test::QuantCase regrouped;
  MatrixType stored;
};
constexpr Regrouped kQ5_0r{test::kQ5_0rCase, MatrixType::Q5_0};
constexpr Regrouped kQ8_0r{test::kQ8_0rCase, MatrixType::Q8_0};

// A matrix [rows][cols] in the stored type and its regrouped copy.
struct Pair {
  Pair(const Regrouped& type, int rows, int cols, uint32_t seed)
      : ggml(type.regrouped.ggml),
        row_bytes(matrix_row_bytes(type.stored, cols)),
        stored(row_bytes * rows),
        regrouped_bytes(row_bytes * rows) {
    std::vector<float> values = random_floats(static_cast<size_t>(rows) * cols, 0.1f, seed);
    std::fill(values.begin(), values.begin() + 32, 0.0f);  // a block with d = 0
    ggml_encode(ggml, values.data(), stored.data(), static_cast<int64_t>(values.size()));
    for (int r = 0; r < rows; ++r) {
      test::regroup_row(type.regrouped.matrix, stored.data() + row_bytes * r, cols / 32,
                        regrouped_bytes.data() + row_bytes * r);
    }
    source = WeightMatrix(stored.data(), type.stored, rows, cols);
    regrouped = WeightMatrix(regrouped_bytes.data(), type.regrouped.matrix, rows, cols);
  }
  GgmlType ggml;
  size_t row_bytes;
  std::vector<uint8_t> stored, regrouped_bytes;
  WeightMatrix source, regrouped;
};

void PrintTo(const Regrouped& r, std::ostream* os) { *os << matrix_type_name(r.regrouped.matrix); }

class RegroupedTypes : public test::RestoresIsaAndThreads, public ::testing::WithParamInterface<Regrouped> {};

TEST(Q5_0r, LayoutPlacesEveryByteOfARowOnce) {
  for (int cols : kWidths) {
    const int n_blocks = cols / 32;
    std::vector<int> uses(matrix_row_bytes(MatrixType::Q5_0R, cols), 0);
    for (int b = 0; b < n_blocks; ++b) {
      const Q5_0rLayout at = q5_0r_layout(n_blocks, b);
      for (size_t i = 0; i < 2; ++i) ++uses.at(at.scale + i);
      if (!at.odd) {  // a pair's fifth-bit word and 32 interleaved nibble bytes
        for (size_t i = 0; i < 8; ++i) ++uses.at(at.bits + i);
        for (size_t i = 0; i < 32; ++i) ++uses.at(at.nibbles + i);
        EXPECT_EQ(q5_0r_layout(n_blocks, b + 1).bits, at.bits) << "pairs share a word";
        EXPECT_EQ(q5_0r_layout(n_blocks, b + 1).nibbles, at.nibbles) << "pairs share their nibble bytes";
      }
    }
    for (size_t i = 0; i < uses.size(); ++i) ASSERT_EQ(uses[i], 1) << "cols " << cols << " byte " << i;
  }
  EXPECT_TRUE(q5_0r_regroupable(384));
  EXPECT_FALSE(q5_0r_regroupable(96));  // 3 blocks: no pairs
  EXPECT_FALSE(q5_0r_regroupable(0));
}

TEST(Q8_0r, LayoutPlacesEveryByteOfARowOnce) {
  for (int cols : kWidths) {
    const int n_blocks = cols / 32;
    std::vector<int> uses(matrix_row_bytes(MatrixType::Q8_0R, cols), 0);
    for (int b = 0; b < n_blocks; ++b) {
      const Q8_0rLayout at = q8_0r_layout(n_blocks, b);
      for (size_t i = 0; i < 2; ++i) ++uses.at(at.scale + i);
      for (size_t i = 0; i < 32; ++i) ++uses.at(at.values + i);
    }
    for (size_t i = 0; i < uses.size(); ++i) ASSERT_EQ(uses[i], 1) << "cols " << cols << " byte " << i;
    // Pairs of blocks sit side by side (the 512-bit kernel loads two at once).
    EXPECT_EQ(q8_0r_layout(n_blocks, n_blocks - 1).values, q8_0r_layout(n_blocks, n_blocks - 2).values + 32);
  }
  EXPECT_TRUE(q8_0r_regroupable(384));
  EXPECT_FALSE(q8_0r_regroupable(96));
}

TEST_P(RegroupedTypes, RegroupingKeepsEveryValueAndScale) {
  for (int cols : kWidths) {
    const Pair p(GetParam(), 3, cols, 5 + cols);
    std::vector<float> expected(static_cast<size_t>(3) * cols), got(expected.size());
    ggml_decode(p.ggml, p.stored.data(), expected.data(), static_cast<int64_t>(expected.size()));
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
  const Pair p(kQ5_0r, 1, 64, 7);
  std::vector<uint8_t> broken = p.regrouped_bytes;
  broken[q5_0r_layout(2, 0).bits] ^= 0x10;  // bit 4: block 0's value 0
  const WeightMatrix w(broken.data(), MatrixType::Q5_0R, 1, 64);
  EXPECT_EQ(int16_block_value(w, 0, 0, 0) + 16, (int16_block_value(p.source, 0, 0, 0) + 16) ^ 16);
  EXPECT_EQ(int16_block_value(w, 0, 1, 0), int16_block_value(p.source, 0, 1, 0));
}

// The integer product unpacks the same words and steps from both layouts, so prompts on
// regrouped weights give exactly what they gave on the stored ones.
TEST_P(RegroupedTypes, IntegerProductUnpacksAsFromTheSource) {
  const int rows = 21;  // a partial second slice
  for (int cols : {192, 320, 1536}) {
    const Pair p(GetParam(), rows, cols, 11);
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

// Off the integer kernels (other instruction sets, full precision) the types are widened: the
// same products as on the dequantized weights.
TEST_P(RegroupedTypes, ExactPathsWidenToTheDequantizedWeights) {
  const int out = 37, in = 320;
  const Pair p(GetParam(), out, in, 13);
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

INSTANTIATE_TEST_SUITE_P(Types, RegroupedTypes, ::testing::Values(kQ5_0r, kQ8_0r),
                         [](const ::testing::TestParamInfo<Regrouped>& info) {
                           return std::string(matrix_type_name(info.param.regrouped.matrix));
                         });

}  // namespace
}  // namespace wisp
