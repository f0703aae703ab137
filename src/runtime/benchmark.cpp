// The library side of `wisp bench`: whisper-bench's workloads on wisp's Encoder and Decoder, and
// the accuracy comparison of a (quantized) model against its reference.
#include <sys/resource.h>

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "common/huge_pages.h"
#include "kernels/cpu_features.h"
#include "kernels/ops.h"
#include "kernels/thread_pool.h"
#include "model/weights.h"
#include "runtime/decoder.h"
#include "runtime/encoder.h"
#include "wisp/audio.h"
#include "wisp/bench.h"
#include "wisp/error.h"
#include "wisp/model.h"

namespace wisp {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

BenchMetric summarise(std::vector<double> call_ms, int tokens_per_call) {
  BenchMetric m;
  m.calls = static_cast<int>(call_ms.size());
  m.tokens_per_call = tokens_per_call;
  if (call_ms.empty()) return m;
  double total = 0;
  for (double t : call_ms) total += t;
  std::sort(call_ms.begin(), call_ms.end());
  const size_t n = call_ms.size();
  const double median = n % 2 ? call_ms[n / 2] : 0.5 * (call_ms[n / 2 - 1] + call_ms[n / 2]);
  m.median_ms_per_token = median / tokens_per_call;
  m.mean_ms_per_token = total / (static_cast<double>(n) * tokens_per_call);
  return m;
}

// This process's peak resident set: VmHWM, not getrusage's ru_maxrss, which Linux carries
// across execve (a wisp started by a large parent would report the parent's peak).
size_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return static_cast<size_t>(std::stoull(line.substr(6))) * 1024;  // kB
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<size_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

void check_options(const BenchOptions& o, int n_text_ctx) {
  if (o.threads < 0) throw Error("--threads must be 0 (all cores) or positive");
  if (o.warmup_rounds < 0 || o.encode_runs < 1 || o.decode_steps < 1 || o.batched_runs < 1 ||
      o.batched_tokens < 1 || o.prompt_runs < 1 || o.prompt_tokens < 1) {
    throw Error("benchmark counts must be positive");
  }
  const int longest = std::max({o.decode_steps, o.batched_tokens, o.prompt_tokens});
  if (longest > n_text_ctx) {
    throw Error("benchmark needs " + std::to_string(longest) + " text positions but the model has " +
                std::to_string(n_text_ctx) + "; lower the token counts");
  }
}

// One encoder pass plus the decoder's cross-attention K/V (whisper.cpp's encode does both).
double time_encode(Encoder& encoder, Decoder& decoder, const std::vector<float>& mel) {
  const auto start = Clock::now();
  decoder.set_audio_features(encoder.forward(mel.data()));
  return ms_since(start);
}

std::vector<double> time_calls(Decoder& decoder, const std::vector<int>& tokens, int calls, int n_tokens,
                               bool growing_past) {
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    const auto start = Clock::now();
    decoder.forward(tokens.data(), 1, n_tokens, growing_past ? i : 0);
    ms.push_back(ms_since(start));
  }
  return ms;
}

// Bytes one single-token decode step reads from memory, averaged over the pasts 0..steps-1:
// every weight matrix a token passes through (the token embedding as the output projection,
// not the cross-attention K/V projections, which run once per window), the cross-attention K/V
// cache and the self-attention cache so far.
double decode_bytes_per_token(const Model& model, const Decoder& decoder, int steps) {
  const ModelWeights& w = model.weights();
  const ModelDims& d = model.dims();
  double bytes = 0.0;
  for (const WeightMatrix* m : w.decode_step_matrices()) bytes += static_cast<double>(m->bytes());
  const double average_past = 0.5 * (steps - 1) + 1;
  bytes += static_cast<double>(d.n_text_layer) * 2 * d.n_text_state *
           (static_cast<double>(d.n_audio_ctx) + average_past) * decoder.kv_cache_element_bytes();
  return bytes;
}

// Best read bandwidth of the compute threads streaming a buffer 8x the size of this machine's
// L3-class caches (bytes per second), on huge pages where the decoder's buffers are.
double measure_read_bandwidth() {
  constexpr size_t kBytes = size_t{256} << 20;
  const HugeVector<uint64_t> buffer(kBytes / sizeof(uint64_t), 1);
  double best = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const auto start = Clock::now();
    if (parallel_sum_words(buffer.data(), buffer.size()) != buffer.size()) {
      throw Error("read bandwidth probe: unexpected sum");
    }
    best = std::max(best, static_cast<double>(kBytes) / (ms_since(start) / 1e3));
  }
  return best;
}

}  // namespace

BenchOptions BenchOptions::quick() {
  BenchOptions o;
  o.decode_steps = 16;
  o.batched_runs = 4;
  o.prompt_runs = 2;
  o.prompt_tokens = 32;
  o.encode_runs = 1;
  o.warmup_rounds = 0;
  return o;
}

BenchResult run_benchmark(const std::string& model_path, const BenchOptions& options) {
  if (options.threads < 0) throw Error("--threads must be 0 (all cores) or positive");
  set_compute_threads(options.threads);
  BenchResult result;
  result.model_path = model_path;
  result.threads = compute_threads();
  result.isa = isa_name(active_isa());
  const char* blas_core = openblas_get_corename();
  result.blas_core = blas_core ? blas_core : "";

  const auto load_start = Clock::now();
  const std::shared_ptr<Model> model = Model::load(model_path, LoadOptions{options.compute_type});
  result.load_ms = ms_since(load_start);
  result.compute_type = compute_type_name(model->compute_type());
  result.weight_type = weight_type_name(model->info().weight_type);
  const ModelDims& d = model->dims();
  check_options(options, d.n_text_ctx);

  Encoder encoder(*model);
  Decoder decoder(*model, 1);
  // whisper-bench encodes an empty (zero) mel padded to the 30 s window, and decodes token 0.
  const std::vector<float> mel(static_cast<size_t>(d.n_mels) * 2 * d.n_audio_ctx, 0.0f);
  const int longest = std::max({options.decode_steps, options.batched_tokens, options.prompt_tokens});
  const std::vector<int> tokens(static_cast<size_t>(longest), 0);

  for (int round = 0; round < options.warmup_rounds; ++round) {
    time_encode(encoder, decoder, mel);
    time_calls(decoder, tokens, 1, options.prompt_tokens, false);
    time_calls(decoder, tokens, options.decode_steps, 1, true);
    time_calls(decoder, tokens, 1, options.batched_tokens, false);
  }

  std::vector<double> encode_ms;
  for (int i = 0; i < options.encode_runs; ++i) encode_ms.push_back(time_encode(encoder, decoder, mel));
  result.encode = summarise(encode_ms, 1);
  result.decode = summarise(time_calls(decoder, tokens, options.decode_steps, 1, true), 1);
  result.batched = summarise(time_calls(decoder, tokens, options.batched_runs, options.batched_tokens, false),
                             options.batched_tokens);
  result.prompt = summarise(time_calls(decoder, tokens, options.prompt_runs, options.prompt_tokens, false),
                            options.prompt_tokens);
  result.peak_rss_bytes = peak_rss_bytes();  // before the bandwidth probe's buffer
  result.decode_bytes_per_token = decode_bytes_per_token(*model, decoder, options.decode_steps);
  result.read_bandwidth_bytes_per_s = measure_read_bandwidth();
  return result;
}

namespace {

// The encoder's input: the first 30 s of the audio's log-mel, or fixed pseudo-random values in
// the range of Whisper's normalised log-mel when no audio is given.
std::vector<float> accuracy_mel(const Model& model, const std::string& audio_path) {
  const ModelDims& d = model.dims();
  if (!audio_path.empty()) {
    const std::vector<float> audio = load_audio(audio_path);
    const LogMel mel = log_mel_spectrogram(audio, d.n_mels, kChunkSamples, 0, model.mel_filters());
    return mel_window(mel, 0, 2 * d.n_audio_ctx).data;
  }
  std::vector<float> mel(static_cast<size_t>(d.n_mels) * 2 * d.n_audio_ctx);
  uint32_t state = 12345;
  for (float& v : mel) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) * 2.0f - 1.0f;
  }
  return mel;
}

int argmax(const float* x, int n) { return static_cast<int>(std::max_element(x, x + n) - x); }

}  // namespace

AccuracyResult compare_accuracy(const std::string& model_path, const std::string& reference_path,
                                const std::string& audio_path, int threads, int max_tokens,
                                ComputeType compute_type) {
  if (threads < 0) throw Error("--threads must be 0 (all cores) or positive");
  set_compute_threads(threads);
  const std::shared_ptr<Model> model = Model::load(model_path, LoadOptions{compute_type});
  const std::shared_ptr<Model> reference = Model::load(reference_path, LoadOptions{ComputeType::Float32});
  const ModelDims& d = model->dims();
  const ModelDims& r = reference->dims();
  if (d.n_vocab != r.n_vocab || d.n_mels != r.n_mels || d.n_audio_state != r.n_audio_state ||
      d.n_audio_layer != r.n_audio_layer || d.n_text_layer != r.n_text_layer || d.n_audio_ctx != r.n_audio_ctx) {
    throw Error("--reference " + reference_path + " has different dimensions from " + model_path +
                "; pass the model it was converted from");
  }
  AccuracyResult result;
  result.reference_path = reference_path;
  const std::vector<float> mel = accuracy_mel(*reference, audio_path);

  Encoder ref_encoder(*reference), encoder(*model);
  const size_t n_features = static_cast<size_t>(r.n_audio_ctx) * r.n_audio_state;
  const float* ref_features_ptr = ref_encoder.forward(mel.data());
  const std::vector<float> ref_features(ref_features_ptr, ref_features_ptr + n_features);
  const float* features = encoder.forward(mel.data());
  for (size_t i = 0; i < n_features; ++i) {
    result.encoder_max_abs_error =
        std::max(result.encoder_max_abs_error, static_cast<double>(std::fabs(features[i] - ref_features[i])));
  }

  // The reference's greedy continuation of the standard transcription prompt.
  const SpecialTokens& special = reference->tokenizer().special();
  std::vector<int> sequence = {special.sot};
  if (reference->info().multilingual()) sequence.push_back(*reference->tokenizer().language_token("en"));
  sequence.insert(sequence.end(), {special.transcribe, special.no_timestamps});
  const int prompt_length = static_cast<int>(sequence.size());
  const int limit = std::min(prompt_length + std::max(max_tokens, 1), r.n_text_ctx / 2);
  Decoder ref_decoder(*reference, 1), decoder(*model, 1);
  ref_decoder.set_audio_features(ref_features.data());
  decoder.set_audio_features(features);
  const float* logits = ref_decoder.forward(sequence.data(), 1, prompt_length, 0);
  while (static_cast<int>(sequence.size()) < limit) {
    const int token = argmax(logits, r.n_vocab);
    if (token == special.eot) break;
    sequence.push_back(token);
    logits = ref_decoder.forward(&sequence.back(), 1, 1, static_cast<int>(sequence.size()) - 1);
  }

  // Both models score the same sequence; compare each prediction from the prompt's end on.
  const int n = static_cast<int>(sequence.size());
  const float* ref_all = ref_decoder.forward(sequence.data(), 1, n, 0, /*all_positions=*/true);
  const std::vector<float> ref_logits(ref_all, ref_all + static_cast<size_t>(n) * r.n_vocab);
  const float* all = decoder.forward(sequence.data(), 1, n, 0, /*all_positions=*/true);
  for (int p = prompt_length - 1; p < n; ++p) {
    const float* a = all + static_cast<size_t>(p) * d.n_vocab;
    const float* b = ref_logits.data() + static_cast<size_t>(p) * r.n_vocab;
    for (int v = 0; v < d.n_vocab; ++v) {
      result.logits_max_abs_error = std::max(result.logits_max_abs_error, static_cast<double>(std::fabs(a[v] - b[v])));
      result.logits_max_abs_reference = std::max(result.logits_max_abs_reference, static_cast<double>(std::fabs(b[v])));
    }
    ++result.positions;
    if (argmax(a, d.n_vocab) == argmax(b, r.n_vocab)) ++result.argmax_agreements;
  }
  return result;
}

}  // namespace wisp
