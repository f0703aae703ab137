// `wisp transcribe FILE... --model M`: decode, transcribe and print each file.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "wisp/audio.h"
#include "wisp/error.h"
#include "wisp/model.h"
#include "wisp/output.h"
#include "wisp/transcribe.h"

namespace wisp::cli {

namespace {

struct TranscribeArgs {
  std::vector<std::string> files;
  std::string model;
  std::string language;
  std::string task = "transcribe";
  int threads = 0;
  std::string output_format = "txt";
  std::string suppress_tokens = "-1";
  bool verbose = false;
};

int run(const TranscribeArgs& args) {
  const auto load_start = std::chrono::steady_clock::now();
  std::shared_ptr<const Model> model = Model::load(args.model);
  if (args.verbose) {
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
    std::fprintf(stderr, "loaded %s (%s, %s weights, %d/%d layers) in %.0f ms\n", args.model.c_str(),
                 model->info().format.c_str(), weight_type_name(model->info().weight_type),
                 model->dims().n_audio_layer, model->dims().n_text_layer, ms);
  }
  Transcriber transcriber(model, args.threads);
  TranscribeOptions options;
  options.task = args.task;
  if (!args.language.empty()) options.language = args.language;
  options.suppress_tokens = args.suppress_tokens;

  const bool many = args.files.size() > 1;
  if (many && args.output_format == "json") std::fputs("[\n", stdout);
  for (size_t i = 0; i < args.files.size(); ++i) {
    const std::vector<float> audio = load_audio(args.files[i]);
    const TranscribeResult result = transcriber.transcribe(audio, options);
    if (args.verbose) {
      const TranscribeTimings& t = result.timings;
      std::fprintf(stderr,
                   "%s: %.1f s audio; mel %.0f ms; encode %.0f ms (%d pass%s, %.0f ms each); "
                   "decode %.0f ms (%d steps, %.2f ms/step)\n",
                   args.files[i].c_str(), static_cast<double>(audio.size()) / kSampleRate, t.mel_ms, t.encode_ms,
                   t.encode_passes, t.encode_passes == 1 ? "" : "es",
                   t.encode_passes ? t.encode_ms / t.encode_passes : 0.0, t.decode_ms, t.decode_steps,
                   t.decode_steps ? t.decode_ms / t.decode_steps : 0.0);
    }
    if (many && args.output_format == "txt") std::printf("==> %s <==\n", args.files[i].c_str());
    std::string text = format_result(result, args.output_format);
    if (many && args.output_format == "json" && i + 1 < args.files.size()) text.insert(text.size() - 1, ",");
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
  }
  if (many && args.output_format == "json") std::fputs("]\n", stdout);
  return 0;
}

}  // namespace

std::function<int()> add_transcribe_command(CLI::App& app) {
  auto args = std::make_shared<TranscribeArgs>();
  CLI::App* cmd = app.add_subcommand("transcribe", "Transcribe or translate audio files");
  cmd->add_option("files", args->files, "Audio or video files to transcribe ('-' reads standard input)")
      ->required();
  cmd->add_option("-m,--model", args->model,
                  "Hugging Face Whisper model directory or whisper.cpp ggml .bin file")
      ->required();
  cmd->add_option("-l,--language", args->language,
                  "Spoken language as a code (en, de, zh, ...) or name; detected when omitted");
  cmd->add_option("--task", args->task, "transcribe, or translate into English")
      ->check(CLI::IsMember({"transcribe", "translate"}));
  cmd->add_option("-t,--threads", args->threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-f,--output-format", args->output_format, "Output written to stdout: txt or json")
      ->check(CLI::IsMember({"txt", "json"}));
  cmd->add_option("--suppress-tokens", args->suppress_tokens,
                  "Comma-separated token ids to suppress; -1 = the model's non-speech set");
  cmd->add_flag("-v,--verbose", args->verbose, "Print model and timing information to stderr");
  return [args] { return run(*args); };
}

}  // namespace wisp::cli
