// No heap allocation inside a decode step. Every global operator new/new[] of this executable is
// replaced by a counting one (switched on only while measuring, counting on every thread, the
// compute pool's workers included), and the real decode machinery runs on a random-weight model:
// after one warm-up step, 100 steps of Decoder::forward, of greedy and sampled decoding and of
// 5-beam search (filters, token choice, cache reordering) must allocate nothing.
//
// The model comes from the CTest fixture (tools/make_test_model.py), through the environment
// variable WISP_DECODE_TEST_MODEL; the fixture also converts it to q8_0 (ggml-model-q8_0.bin
// next to it), which QuantizedDecodeSteps runs in float16 compute mode, where decode steps take
// the int8 kernels (kernels/quant_dot.h) and their activation buffers. With
// WISP_ALLOC_BACKTRACE=1, every counted allocation prints its call stack to stderr (resolve with
// addr2line -Cf -e <test binary> <offset>).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <execinfo.h>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "decode_test_model.h"
#include "decoding/decode_loop.h"
#include "decoding/decoding_task.h"
#include "decoding/sampling.h"
#include "decoding/token_decoders.h"
#include "kernels/cpu_features.h"
#include "kernels/quant_dot_internal.h"
#include "kernels/thread_pool.h"
#include "model/ggml_quant.h"
#include "model/weights.h"
#include "runtime/decoder.h"
#include "wisp/model.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
const bool g_print_backtraces = std::getenv("WISP_ALLOC_BACKTRACE") != nullptr;

// Where an unexpected allocation comes from (backtrace() may allocate itself: not counted).
void print_backtrace() noexcept {
  thread_local bool printing = false;
  if (printing) return;
  printing = true;
  void* frames[32];
  backtrace_symbols_fd(frames, backtrace(frames, 32), 2);
  printing = false;
}

void* counted_alloc(std::size_t size, std::size_t alignment) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (g_print_backtraces) print_backtrace();
  }
  if (size == 0) size = 1;
  if (alignment <= alignof(std::max_align_t)) return std::malloc(size);
  void* p = nullptr;
  return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}

void* counted_alloc_or_throw(std::size_t size, std::size_t alignment) {
  void* p = counted_alloc(size, alignment);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

// Replacements of every allocation and deallocation form (malloc/free underneath, so AddressSanitizer,
// which intercepts those, still checks every block).
void* operator new(std::size_t size) { return counted_alloc_or_throw(size, 0); }
void* operator new[](std::size_t size) { return counted_alloc_or_throw(size, 0); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size, 0); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_alloc(size, 0); }
void* operator new(std::size_t size, std::align_val_t a) { return counted_alloc_or_throw(size, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t size, std::align_val_t a) {
  return counted_alloc_or_throw(size, static_cast<std::size_t>(a));
}
void* operator new(std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(size, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

namespace wisp {
namespace {

constexpr int kMeasuredSteps = 100;

// Counts the allocations made, on any thread, between construction and stop().
class AllocationCount {
 public:
  AllocationCount() {
    g_allocations.store(0);
    g_counting.store(true);
  }
  ~AllocationCount() { g_counting.store(false); }
  long stop() {
    g_counting.store(false);
    return g_allocations.load();
  }
};

TEST(AllocationCounter, CountsEveryFormAndPoolTasks) {
  constexpr int kTasks = 8;
  compute_threads();  // starts the pool (which allocates) before counting
  AllocationCount count;
  void* volatile plain = ::operator new(16);
  ::operator delete(plain);
  void* volatile aligned = ::operator new[](64, std::align_val_t{64});
  ::operator delete[](aligned, std::align_val_t{64});
  void* volatile nothrow = ::operator new(8, std::nothrow);
  ::operator delete(nothrow);
  // The compute pool's workers allocate too: one block per task.
  parallel_for(kTasks, [](int) {
    void* volatile block = ::operator new(32);
    ::operator delete(block);
  });
  EXPECT_EQ(count.stop(), 3 + kTasks);
}

// Beam search on handmade logits, its buffers reserved or not: without the reservation the
// steps allocate (so the measurement catches what it should), with it they must not.
long beam_step_allocations(int max_length) {
  constexpr int kVocab = 40, kEot = 39, kBeams = 5;
  BeamSearchDecoder beam(kBeams, kEot, 1.0, max_length);
  std::vector<Sequence> sequences(kBeams, Sequence{1, 2});
  if (max_length > 0) {
    for (Sequence& s : sequences) s.reserve(max_length);
  }
  std::vector<double> sums(kBeams, 0.0);
  std::vector<float> logits(static_cast<size_t>(kBeams) * kVocab);
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(-3.0f, 3.0f);
  auto next_logits = [&] {
    for (float& x : logits) x = uniform(random);
    for (int b = 0; b < kBeams; ++b) logits[static_cast<size_t>(b) * kVocab + kEot] = -1e9f;  // never finish
  };
  next_logits();
  beam.update(sequences, logits.data(), kVocab, sums);  // warm-up
  AllocationCount count;
  for (int step = 0; step < kMeasuredSteps; ++step) {
    next_logits();
    beam.update(sequences, logits.data(), kVocab, sums);
  }
  return count.stop();
}

TEST(AllocationCounter, CatchesBeamSearchWithoutReservedBuffers) {
  EXPECT_GT(beam_step_allocations(0), 0);
  EXPECT_EQ(beam_step_allocations(2 + kMeasuredSteps + 1), 0);
}

// The int8 decode kernels (kernels/quant_dot.h) on any CPU: after one call at the widest input,
// calls of every row count up to 16, narrower inputs and every epilogue allocate nothing (the
// activation buffer is sized for 16 rows on first use).
TEST(AllocationCounter, Int8LinearAfterWarmUp) {
  constexpr int kOut = 48, kWide = 1536, kNarrow = 384;
  std::vector<float> values(static_cast<size_t>(kOut) * kWide, 0.01f);
  for (size_t i = 0; i < values.size(); ++i) values[i] *= static_cast<float>(i % 13) - 6.0f;
  std::vector<uint8_t> wide(ggml_row_bytes(GgmlType::Q8_0, kWide) * kOut);
  std::vector<uint8_t> narrow(ggml_row_bytes(GgmlType::Q8_0, kNarrow) * kOut);
  ggml_encode(GgmlType::Q8_0, values.data(), wide.data(), static_cast<int64_t>(kOut) * kWide);
  ggml_encode(GgmlType::Q8_0, values.data(), narrow.data(), static_cast<int64_t>(kOut) * kNarrow);
  const WeightMatrix w_wide(wide.data(), MatrixType::Q8_0, kOut, kWide);
  const WeightMatrix w_narrow(narrow.data(), MatrixType::Q8_0, kOut, kNarrow);
  std::vector<float> x(static_cast<size_t>(kInt8MaxRows) * kWide, 0.5f), y(static_cast<size_t>(kInt8MaxRows) * kOut);
  const Int8Kernel kernel = int8_kernel_for(active_isa());
  compute_threads();  // starts the pool before counting
  linear_quant_int8_with(kernel, x.data(), 1, kWide, w_wide, nullptr, kOut, y.data(), Epilogue::Store);
  AllocationCount count;
  for (int rows = 1; rows <= kInt8MaxRows; ++rows) {
    for (Epilogue epilogue : {Epilogue::Store, Epilogue::Gelu, Epilogue::Accumulate}) {
      linear_quant_int8_with(kernel, x.data(), rows, kWide, w_wide, nullptr, kOut, y.data(), epilogue);
      linear_quant_int8_with(kernel, x.data(), rows, kNarrow, w_narrow, values.data(), kOut, y.data(), epilogue);
    }
  }
  EXPECT_EQ(count.stop(), 0) << int8_kernel_name(kernel);
}

// The real model and decoder: a random-weight tiny model (2 decoder layers) and random audio
// features.
class DecodeSteps : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* path = std::getenv("WISP_DECODE_TEST_MODEL");
    if (path != nullptr) load_model(path, ComputeType::Auto);
  }
  static void load_model(const std::string& path, ComputeType compute_type) {
    model_ = Model::load(path, LoadOptions{compute_type});
    const ModelDims& dims = model_->dims();
    features_.resize(static_cast<size_t>(dims.n_audio_ctx) * dims.n_audio_state);
    std::mt19937 random(1);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& x : features_) x = normal(random);
  }
  static void TearDownTestSuite() { model_.reset(); }
  // A file the fixture writes next to the model (its conversions), or "" without the fixture.
  static std::string fixture_file(const std::string& name) { return wisp::test::decode_fixture_file(name); }

  void SetUp() override {
    ASSERT_NE(model_, nullptr) << "set WISP_DECODE_TEST_MODEL to a model written by tools/make_test_model.py "
                                  "(ctest does, through the make_decode_test_model fixture)";
  }

  std::unique_ptr<Decoder> make_decoder(int max_batch) {
    auto decoder = std::make_unique<Decoder>(*model_, max_batch);
    decoder->set_audio_features(features_.data());
    return decoder;
  }

  // Options that keep every step going: <|endoftext|> is suppressed, so no candidate finishes.
  DecodingOptions endless_options() const {
    DecodingOptions options;
    options.language = "en";
    options.suppress_tokens = {model_->tokenizer().special().eot};
    return options;
  }

  // One warm-up step, then kMeasuredSteps measured ones, which must all run and not allocate.
  void expect_steps_allocate_nothing(Decoder& decoder, const DecodingOptions& options) {
    SamplingRng rng(3);
    DecodeLoop loop(decoder, *model_, options, rng);
    ASSERT_FALSE(loop.step());
    int stopped_at = -1;
    AllocationCount count;
    for (int step = 0; step < kMeasuredSteps && stopped_at < 0; ++step) {
      if (loop.step()) stopped_at = step;
    }
    const long allocations = count.stop();
    EXPECT_EQ(stopped_at, -1) << "decoding stopped early: fewer steps measured";
    EXPECT_EQ(loop.steps(), 1 + kMeasuredSteps);
    EXPECT_EQ(static_cast<int>(loop.sequences()[0].size()), loop.sample_begin() + 1 + kMeasuredSteps);
    EXPECT_EQ(allocations, 0) << "heap allocations in " << kMeasuredSteps << " decode steps";
  }

  // Decoder::forward alone: the prompt, then single-token steps.
  void expect_forward_steps_allocate_nothing() {
    auto decoder = make_decoder(1);
    const std::vector<int> initial = initial_tokens(*model_, endless_options());
    const int n_vocab = decoder->n_vocab();
    const float* logits = decoder->forward(initial.data(), 1, static_cast<int>(initial.size()), 0);
    int token = argmax(logits, n_vocab);
    AllocationCount count;
    for (int step = 0; step < kMeasuredSteps; ++step) {
      logits = decoder->forward(&token, 1, 1, static_cast<int>(initial.size()) + step);
      token = argmax(logits, n_vocab);
    }
    EXPECT_EQ(count.stop(), 0);
  }

  static std::shared_ptr<Model> model_;
  static std::vector<float> features_;
};

std::shared_ptr<Model> DecodeSteps::model_;
std::vector<float> DecodeSteps::features_;

TEST_F(DecodeSteps, DecoderForwardSingleTokenSteps) { expect_forward_steps_allocate_nothing(); }

TEST_F(DecodeSteps, GreedyDecoding) {
  auto decoder = make_decoder(1);
  expect_steps_allocate_nothing(*decoder, endless_options());
}

TEST_F(DecodeSteps, SamplingFiveCandidates) {
  auto decoder = make_decoder(5);
  DecodingOptions options = endless_options();
  options.temperature = 0.8;
  options.best_of = 5;
  expect_steps_allocate_nothing(*decoder, options);
}

TEST_F(DecodeSteps, BeamSearchFiveBeams) {
  auto decoder = make_decoder(5);
  DecodingOptions options = endless_options();
  options.beam_size = 5;
  expect_steps_allocate_nothing(*decoder, options);
}

TEST_F(DecodeSteps, BeamSearchWithoutTimestamps) {
  auto decoder = make_decoder(5);
  DecodingOptions options = endless_options();
  options.beam_size = 5;
  options.without_timestamps = true;
  expect_steps_allocate_nothing(*decoder, options);
}

// The same steps on the q8_0 conversion in float16 compute mode (any CPU): quantized matrices
// against int8 activation blocks, one row (greedy) and five (beams).
class QuantizedDecodeSteps : public DecodeSteps {
 protected:
  static void SetUpTestSuite() {
    const std::string path = fixture_file("ggml-model-q8_0.bin");
    if (!path.empty()) load_model(path, ComputeType::Float16);
  }
};

TEST_F(QuantizedDecodeSteps, DecoderForwardSingleTokenSteps) { expect_forward_steps_allocate_nothing(); }

TEST_F(QuantizedDecodeSteps, GreedyDecoding) {
  auto decoder = make_decoder(1);
  expect_steps_allocate_nothing(*decoder, endless_options());
}

TEST_F(QuantizedDecodeSteps, BeamSearchFiveBeams) {
  auto decoder = make_decoder(5);
  DecodingOptions options = endless_options();
  options.beam_size = 5;
  expect_steps_allocate_nothing(*decoder, options);
}

// The q5_0 and q8_0 conversions in float16 compute mode: where an int8 kernel that reads a
// regrouped layout runs (q5_0r: the AVX2 kernel and its AVX-512 twins; q8_0r: the 512-bit one),
// the decoder's matrices that decode steps read are regrouped at load (kernels/q5_0r.h,
// kernels/q8_0r.h), the cross-attention key/value projections (run once per window) are not;
// the steps allocate nothing, and their logits are those of the stored blocks.
struct RegroupCase {
  const char* file;
  MatrixType stored, regrouped;
  bool (*regrouped_here)();  // whether this CPU's int8 kernel reads the regrouped layout
};

void PrintTo(const RegroupCase& c, std::ostream* os) { *os << matrix_type_name(c.regrouped); }

class RegroupedDecodeSteps : public DecodeSteps, public ::testing::WithParamInterface<RegroupCase> {
 protected:
  void SetUp() override {
    path_ = fixture_file(GetParam().file);
    if (!path_.empty() && loaded_ != path_) {
      load_model(path_, ComputeType::Float16);
      loaded_ = path_;
    }
    DecodeSteps::SetUp();
  }
  MatrixType expected_type() const {
    return GetParam().regrouped_here() ? GetParam().regrouped : GetParam().stored;
  }
  std::string path_;
  static std::string loaded_;
};

std::string RegroupedDecodeSteps::loaded_;

TEST_P(RegroupedDecodeSteps, DecodeMatricesAreRegroupedWhereTheKernelReadsThem) {
  const ModelWeights& w = model_->weights();
  const MatrixType stored = GetParam().stored, expected = expected_type();
  EXPECT_EQ(w.token_embedding.type, expected);
  for (const DecoderBlockWeights& b : w.decoder_blocks) {
    for (const LinearWeights* l : {&b.attn.query, &b.attn.key, &b.attn.value, &b.attn.out, &b.cross_attn.query,
                                   &b.cross_attn.out, &b.fc1, &b.fc2}) {
      EXPECT_EQ(l->weight.type, expected);
    }
    EXPECT_EQ(b.cross_attn.key.weight.type, stored);
    EXPECT_EQ(b.cross_attn.value.weight.type, stored);
  }
  EXPECT_EQ(w.encoder_blocks[0].fc1.weight.type, stored);
  // Full precision reads the stored blocks.
  const auto exact = Model::load(path_, LoadOptions{ComputeType::Float32});
  EXPECT_EQ(exact->weights().token_embedding.type, stored);
}

// The same file loaded under the scalar instruction set (whose int8 kernel reads ggml's blocks)
// keeps its stored blocks; every product of these steps (a short prompt, then single tokens:
// all int8, on the active instruction set for both models) then differs from the regrouped
// model's only in the order of its float sums. Those differences (~1e-7) can move an activation
// across a rounding boundary of its int8 step (or of the half self-attention cache) in one
// model only; the moved keys and values stay in each model's cache, so later steps compound
// them (seen: 5e-7 at step 0, then one flip moves a step to 7e-3 on Zen 5, 2.4e-2 on Zen 4).
// A misplaced block or scale moves the logits by far more (a tail group of the embedding:
// ~0.5), at the first step already.
TEST_P(RegroupedDecodeSteps, LogitsMatchTheStoredBlocks) {
  if (model_->weights().token_embedding.type != GetParam().regrouped) GTEST_SKIP() << "not regrouped on this CPU";
  const Isa isa = active_isa();
  force_isa(Isa::Scalar);
  const auto stored_model = Model::load(path_, LoadOptions{ComputeType::Float16});
  force_isa(isa);
  ASSERT_EQ(stored_model->weights().token_embedding.type, GetParam().stored);
  Decoder regrouped(*model_, 1), stored(*stored_model, 1);
  regrouped.set_audio_features(features_.data());
  stored.set_audio_features(features_.data());
  std::vector<int> tokens = initial_tokens(*model_, endless_options());
  ASSERT_LE(tokens.size(), 16u);
  const int n_vocab = regrouped.n_vocab();
  for (int step = 0; step < 4; ++step) {
    const int offset = step == 0 ? 0 : static_cast<int>(tokens.size()) - 1;
    const int count = static_cast<int>(tokens.size()) - offset;
    const float* a = regrouped.forward(tokens.data() + offset, 1, count, offset);
    const std::vector<float> got(a, a + n_vocab);
    const float* b = stored.forward(tokens.data() + offset, 1, count, offset);
    const std::vector<float> expected(b, b + n_vocab);
    double error = 0.0, norm = 0.0;
    for (int i = 0; i < n_vocab; ++i) {
      error += (got[i] - expected[i]) * static_cast<double>(got[i] - expected[i]);
      norm += expected[i] * static_cast<double>(expected[i]);
    }
    EXPECT_LT(std::sqrt(error / norm), step == 0 ? 5e-3 : 0.1) << "step " << step;
    tokens.push_back(argmax(expected.data(), n_vocab));
  }
}

TEST_P(RegroupedDecodeSteps, DecoderForwardSingleTokenSteps) { expect_forward_steps_allocate_nothing(); }

TEST_P(RegroupedDecodeSteps, BeamSearchFiveBeams) {
  auto decoder = make_decoder(5);
  DecodingOptions options = endless_options();
  options.beam_size = 5;
  expect_steps_allocate_nothing(*decoder, options);
}

INSTANTIATE_TEST_SUITE_P(
    Types, RegroupedDecodeSteps,
    ::testing::Values(RegroupCase{"ggml-model-q5_0.bin", MatrixType::Q5_0, MatrixType::Q5_0R,
                                  [] { return int8_kernel_is_avx2_family(int8_kernel_for(active_isa())); }},
                      RegroupCase{"ggml-model-q8_0.bin", MatrixType::Q8_0, MatrixType::Q8_0R,
                                  [] { return int8_kernel_for(active_isa()) == Int8Kernel::Avx512; }}),
    [](const ::testing::TestParamInfo<RegroupCase>& info) { return std::string(matrix_type_name(info.param.regrouped)); });

}  // namespace
}  // namespace wisp
