// wisp/bench.h - speed and accuracy measurements that line up with whisper.cpp's whisper-bench.
//
// whisper-bench (whisper.cpp examples/bench) times, after warm-up: one encoder pass over a full
// 30 s window (whisper.cpp's encode includes the cross-attention K/V projections, so wisp's
// does too); 256 single-token decode calls with the past growing 0..255 ("decode"); 64 calls
// decoding 5 tokens at past 0 ("batchd"); 16 calls of 256 tokens at past 0 ("prompt"). It
// prints the decode metrics per token. wisp reports the same, per token, as the median over
// calls and as the mean (whisper.cpp's "per run" figure is total time / tokens).
#pragma once

#include <cstddef>
#include <string>

#include "wisp/model.h"

namespace wisp {

struct BenchOptions {
  int threads = 0;          // 0 = all cores
  ComputeType compute_type = ComputeType::Auto;
  int warmup_rounds = 1;    // full passes of every workload before timing
  int encode_runs = 3;      // the median is reported (whisper-bench times a single pass)
  int decode_steps = 256;   // single-token calls, past 0..decode_steps-1
  int batched_runs = 64;
  int batched_tokens = 5;
  int prompt_runs = 16;
  int prompt_tokens = 256;
  // Reduced counts for smoke tests: everything runs, in a fraction of the time.
  static BenchOptions quick();
};

// One timed workload: milliseconds per token over its calls.
struct BenchMetric {
  int calls = 0;
  int tokens_per_call = 0;
  double median_ms_per_token = 0;  // median call time / tokens per call
  double mean_ms_per_token = 0;    // total time / total tokens (whisper.cpp's figure)
};

struct BenchResult {
  std::string model_path;
  std::string weight_type;  // as the file stores it: f32, f16, q8_0, ...
  std::string compute_type;  // float32, float16, bfloat16 or int16 (auto resolved)
  int threads = 0;
  std::string isa;        // the instruction set the kernels run on: scalar, avx2, avx512
  std::string blas_core;  // OpenBLAS's kernel set (its own pick, or what OPENBLAS_CORETYPE forces)
  double load_ms = 0;
  BenchMetric encode, decode, batched, prompt;
  size_t peak_rss_bytes = 0;
  // Decode is memory bound: the bytes a single-token step reads (weights it passes through, the
  // cross-attention and self-attention caches) and a measured read bandwidth give its bound.
  double decode_bytes_per_token = 0;
  double read_bandwidth_bytes_per_s = 0;
  double decode_bytes_per_s() const {
    return decode.median_ms_per_token > 0 ? decode_bytes_per_token / (decode.median_ms_per_token / 1e3) : 0;
  }
};

// Loads the model (timed) and runs the workloads on it.
BenchResult run_benchmark(const std::string& model_path, const BenchOptions& options);

// How far a (quantized) model's outputs are from a reference (e.g. the f32 model it was made
// from). The reference decodes greedily from the standard prompt; both models then score the
// reference's token sequence (teacher forcing) and their logits are compared position by position.
struct AccuracyResult {
  std::string reference_path;
  double encoder_max_abs_error = 0;  // encoder output
  double logits_max_abs_error = 0;   // over all compared positions and vocabulary entries
  double logits_max_abs_reference = 0;  // scale of the reference logits, for context
  int positions = 0;                 // teacher-forced positions compared
  int argmax_agreements = 0;         // positions where both models' top token is the same
  double agreement() const { return positions ? static_cast<double>(argmax_agreements) / positions : 0; }
};

// `audio_path` empty: a fixed pseudo-random log-mel stands in for audio. `max_tokens` bounds the
// reference's greedy decode. The model runs with `compute_type`, the reference with Float32.
AccuracyResult compare_accuracy(const std::string& model_path, const std::string& reference_path,
                                const std::string& audio_path, int threads, int max_tokens = 64,
                                ComputeType compute_type = ComputeType::Auto);

}  // namespace wisp
