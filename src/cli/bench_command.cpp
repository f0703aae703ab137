// `wisp bench --model M`: whisper-bench's measurements (see wisp/bench.h), as text or JSON, and
// with --reference the accuracy of a (quantized) model against the model it was made from.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "wisp/bench.h"

namespace wisp::cli {

namespace {

struct BenchArgs {
  std::string model;
  int threads = 0;
  bool json = false;
  bool quick = false;
  std::string reference;
  std::string audio;
  int accuracy_tokens = 64;
  std::string compute_type = "auto";
};

nlohmann::json metric_json(const BenchMetric& m) {
  return {{"calls", m.calls},
          {"tokens_per_call", m.tokens_per_call},
          {"median_ms_per_token", m.median_ms_per_token},
          {"mean_ms_per_token", m.mean_ms_per_token}};
}

void print_metric(const char* name, const BenchMetric& m) {
  std::printf("%8s time = %9.3f ms per %s (median of %d runs of %d; mean %.3f)\n", name, m.median_ms_per_token,
              m.tokens_per_call == 1 && std::string(name) == "encode" ? "run" : "token", m.calls, m.tokens_per_call,
              m.mean_ms_per_token);
}

int run(const BenchArgs& args) {
  BenchOptions options = args.quick ? BenchOptions::quick() : BenchOptions{};
  options.threads = args.threads;
  options.compute_type = compute_type_from_name(args.compute_type);
  const BenchResult r = run_benchmark(args.model, options);
  std::unique_ptr<AccuracyResult> accuracy;
  if (!args.reference.empty()) {
    accuracy = std::make_unique<AccuracyResult>(
        compare_accuracy(args.model, args.reference, args.audio, args.threads, args.accuracy_tokens,
                         options.compute_type));
  }
  if (args.json) {
    nlohmann::json j = {{"model", r.model_path},
                        {"weight_type", r.weight_type},
                        {"compute_type", r.compute_type},
                        {"threads", r.threads},
                        {"isa", r.isa},
                        {"blas_core", r.blas_core},
                        {"load_ms", r.load_ms},
                        {"encode_ms", r.encode.median_ms_per_token},
                        {"decode_ms_per_token", r.decode.median_ms_per_token},
                        {"batched_ms_per_token", r.batched.median_ms_per_token},
                        {"prompt_ms_per_token", r.prompt.median_ms_per_token},
                        {"peak_rss_bytes", r.peak_rss_bytes},
                        {"decode_bytes_per_token", r.decode_bytes_per_token},
                        {"decode_bytes_per_s", r.decode_bytes_per_s()},
                        {"read_bandwidth_bytes_per_s", r.read_bandwidth_bytes_per_s},
                        {"metrics",
                         {{"encode", metric_json(r.encode)},
                          {"decode", metric_json(r.decode)},
                          {"batched", metric_json(r.batched)},
                          {"prompt", metric_json(r.prompt)}}}};
    if (accuracy) {
      j["accuracy"] = {{"reference", accuracy->reference_path},
                       {"encoder_max_abs_error", accuracy->encoder_max_abs_error},
                       {"logits_max_abs_error", accuracy->logits_max_abs_error},
                       {"logits_max_abs_reference", accuracy->logits_max_abs_reference},
                       {"positions", accuracy->positions},
                       {"argmax_agreements", accuracy->argmax_agreements},
                       {"greedy_agreement", accuracy->agreement()}};
    }
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("wisp bench: %s (%s weights, %s compute), %d threads, %s kernels, OpenBLAS %s\n", r.model_path.c_str(),
              r.weight_type.c_str(), r.compute_type.c_str(), r.threads, r.isa.c_str(), r.blas_core.c_str());
  std::printf("    load time = %9.3f ms\n", r.load_ms);
  print_metric("encode", r.encode);
  print_metric("decode", r.decode);
  print_metric("batchd", r.batched);
  print_metric("prompt", r.prompt);
  std::printf("    peak RSS  = %9.1f MiB\n", static_cast<double>(r.peak_rss_bytes) / (1024.0 * 1024.0));
  std::printf("decode reads %.1f MB per token: %.1f GB/s, %.0f%% of the measured read bandwidth (%.1f GB/s)\n",
              r.decode_bytes_per_token / 1e6, r.decode_bytes_per_s() / 1e9,
              100.0 * r.decode_bytes_per_s() / std::max(1.0, r.read_bandwidth_bytes_per_s),
              r.read_bandwidth_bytes_per_s / 1e9);
  if (accuracy) {
    std::printf("accuracy vs %s: encoder max |err| %.4g; logits max |err| %.4g (max |logit| %.4g); "
                "greedy agreement %d/%d (%.1f%%)\n",
                accuracy->reference_path.c_str(), accuracy->encoder_max_abs_error, accuracy->logits_max_abs_error,
                accuracy->logits_max_abs_reference, accuracy->argmax_agreements, accuracy->positions,
                100.0 * accuracy->agreement());
  }
  return 0;
}

}  // namespace

std::function<int()> add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Measure speed like whisper.cpp's whisper-bench (and accuracy)");
  cmd->add_option("-m,--model", args->model, "Hugging Face Whisper model directory or ggml .bin file")->required();
  cmd->add_option("-t,--threads", args->threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  add_compute_type_option(*cmd, args->compute_type);
  cmd->add_flag("--json", args->json, "Print the results as JSON");
  cmd->add_flag("--quick", args->quick, "Fewer decode calls and shorter prompts (smoke test, not for comparisons)");
  cmd->add_option("--reference", args->reference,
                  "Also compare logits and greedy tokens against this model (e.g. the f32 source of a q8_0 file)");
  cmd->add_option("--audio", args->audio, "Audio for the --reference comparison (default: a fixed synthetic log-mel)");
  cmd->add_option("--accuracy-tokens", args->accuracy_tokens, "Greedy tokens the reference decodes for --reference")
      ->check(CLI::PositiveNumber);
  return [args] { return run(*args); };
}

}  // namespace wisp::cli
