// Where decode steps read the decoder's matrices from (ModelWeights::place_decode_matrices): with
// huge pages available, one block on huge pages holding them in decode_step_matrices order; the
// logits are bit-identical to those of the same file read in place (WISP_NO_HUGE_PAGES=1).
// Model: the CTest fixture's random-weight tiny f16 file (WISP_DECODE_TEST_MODEL) and its q8_0
// conversion next to it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "common/huge_pages.h"
#include "decode_test_model.h"
#include "model/weights.h"
#include "runtime/decoder.h"
#include "wisp/model.h"

namespace wisp {
namespace {

std::shared_ptr<Model> load(const std::string& path, bool huge_pages) {
  if (!huge_pages) setenv("WISP_NO_HUGE_PAGES", "1", 1);
  auto model = Model::load(path, LoadOptions{ComputeType::Auto});
  unsetenv("WISP_NO_HUGE_PAGES");
  return model;
}

uintptr_t address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// Logits after a 4-token prompt and after each of 3 single-token steps, concatenated.
std::vector<float> decode_logits(const Model& model) {
  const ModelDims& d = model.dims();
  std::vector<float> features(static_cast<size_t>(d.n_audio_ctx) * d.n_audio_state);
  std::mt19937 random(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (float& x : features) x = normal(random);
  Decoder decoder(model, 1);
  decoder.set_audio_features(features.data());
  const int n_vocab = decoder.n_vocab();
  std::vector<int> tokens = {model.tokenizer().special().sot, 220, 1000, 5000};
  std::vector<float> all;
  const float* logits = decoder.forward(tokens.data(), 1, 4, 0);  // the last position's
  all.insert(all.end(), logits, logits + n_vocab);
  for (int step = 0; step < 3; ++step) {
    const int token = 300 + 77 * step;
    logits = decoder.forward(&token, 1, 1, 4 + step);
    all.insert(all.end(), logits, logits + n_vocab);
  }
  return all;
}

class DecodePlacement : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    path_ = test::decode_fixture_file(GetParam());
    ASSERT_FALSE(path_.empty()) << "set WISP_DECODE_TEST_MODEL (ctest does, through the make_decode_test_model fixture)";
  }
  std::string path_;
};

TEST_P(DecodePlacement, DecodeMatricesShareOneHugePageBlock) {
  if (!huge_pages_available()) GTEST_SKIP() << "no transparent huge pages here";
  const auto model = load(path_, true);
  const ModelWeights& w = model->weights();
  const std::vector<const WeightMatrix*> matrices = w.decode_step_matrices();
  ASSERT_EQ(matrices.front(), &w.token_embedding);
  EXPECT_EQ(address(matrices.front()->data) % (uintptr_t{2} << 20), 0u);
  for (size_t i = 1; i < matrices.size(); ++i) {
    const uintptr_t expected = address(matrices[i - 1]->data) + (matrices[i - 1]->bytes() + 63) / 64 * 64;
    EXPECT_EQ(address(matrices[i]->data), expected) << "matrix " << i;
  }
  // Single-row products on them leave the prefetching to the hardware.
  for (const WeightMatrix* m : matrices) EXPECT_TRUE(m->on_huge_pages);
  // The encoder's and the cross-attention K/V projections are not decode-step matrices.
  const uintptr_t begin = address(matrices.front()->data);
  const uintptr_t end = address(matrices.back()->data) + matrices.back()->bytes();
  for (const WeightMatrix* m : {&w.encoder_blocks[0].fc1.weight, &w.decoder_blocks[0].cross_attn.key.weight}) {
    EXPECT_TRUE(address(m->data) + m->bytes() <= begin || address(m->data) >= end);
    EXPECT_FALSE(m->on_huge_pages);
  }
}

TEST_P(DecodePlacement, LogitsEqualThoseReadInPlace) {
  const auto placed = load(path_, true);
  const auto in_place = load(path_, false);
  ASSERT_EQ(placed->weights().token_embedding.type, in_place->weights().token_embedding.type);
  if (huge_pages_available()) {
    EXPECT_NE(placed->weights().token_embedding.data, in_place->weights().token_embedding.data);
  }
  EXPECT_FALSE(in_place->weights().token_embedding.on_huge_pages);
  const std::vector<float> a = decode_logits(*placed);
  const std::vector<float> b = decode_logits(*in_place);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

INSTANTIATE_TEST_SUITE_P(Files, DecodePlacement, ::testing::Values("ggml-model.bin", "ggml-model-q8_0.bin"),
                         [](const auto& info) { return info.index == 0 ? std::string("f16") : std::string("q8_0"); });

}  // namespace
}  // namespace wisp
