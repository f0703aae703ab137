// `wisp transcribe FILE... --model M`: openai-whisper's CLI on libwisp.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/option_values.h"
#include "cli/progress_bar.h"
#include "wisp/audio.h"
#include "wisp/error.h"
#include "wisp/model.h"
#include "wisp/output.h"
#include "wisp/transcribe.h"

namespace wisp::cli {

namespace {

// Options kept as text where openai-whisper's syntax allows True/False or None.
struct TranscribeArgs {
  std::vector<std::string> files;
  std::string model;
  std::string output_dir;
  std::string output_format;
  std::string verbose = "False";
  bool progress = false;
  std::string task = "transcribe";
  std::string language;
  double temperature = 0.0;
  std::string best_of = "5", beam_size = "5", patience = "None", length_penalty = "None";
  std::string suppress_tokens = "-1";
  std::string initial_prompt, prefix;
  bool has_initial_prompt = false, has_prefix = false;
  std::string carry_initial_prompt = "False", condition_on_previous_text = "True";
  std::string temperature_increment_on_fallback = "0.2";
  std::string compression_ratio_threshold = "2.4", logprob_threshold = "-1.0", no_speech_threshold = "0.6";
  std::string word_timestamps = "False", without_timestamps = "False";
  std::string prepend_punctuations = "\"'\u201c\u00bf([{-";
  std::string append_punctuations = "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001";
  std::string highlight_words = "False", max_line_width = "None", max_line_count = "None",
              max_words_per_line = "None";
  std::string clip_timestamps = "0";
  std::string hallucination_silence_threshold = "None";
  uint64_t seed = 0;
  int threads = 0;
  std::string compute_type = "auto";
  std::string fp16 = "True";
};

std::string format_time(double seconds) {
  const long ms = std::lround(seconds * 1000);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%02ld:%02ld.%03ld", ms / 60000, ms / 1000 % 60, ms % 1000);
  return buffer;
}

TranscribeOptions to_options(const TranscribeArgs& a) {
  TranscribeOptions o;
  o.task = a.task;
  if (!a.language.empty() && a.language != "None" && a.language != "auto") o.language = a.language;
  const auto increment = parse_optional_double(a.temperature_increment_on_fallback, "--temperature_increment_on_fallback");
  o.temperatures.clear();
  if (increment) {
    if (*increment <= 0) throw Error("--temperature_increment_on_fallback must be positive (or None for no fallback)");
    // numpy.arange(temperature, 1.0 + 1e-6, increment)
    const double stop = 1.0 + 1e-6;
    const long count = std::max(0L, static_cast<long>(std::ceil((stop - a.temperature) / *increment)));
    for (long i = 0; i < count; ++i) o.temperatures.push_back(a.temperature + static_cast<double>(i) * *increment);
    if (o.temperatures.empty()) o.temperatures.push_back(a.temperature);
  } else {
    o.temperatures.push_back(a.temperature);
  }
  o.best_of = parse_optional_int(a.best_of, "--best_of");
  o.beam_size = parse_optional_int(a.beam_size, "--beam_size");
  o.patience = parse_optional_double(a.patience, "--patience");
  o.length_penalty = parse_optional_double(a.length_penalty, "--length_penalty");
  o.seed = a.seed;
  o.compression_ratio_threshold = parse_optional_double(a.compression_ratio_threshold, "--compression_ratio_threshold");
  o.logprob_threshold = parse_optional_double(a.logprob_threshold, "--logprob_threshold");
  o.no_speech_threshold = parse_optional_double(a.no_speech_threshold, "--no_speech_threshold");
  o.condition_on_previous_text = parse_bool(a.condition_on_previous_text, "--condition_on_previous_text");
  if (a.has_initial_prompt) o.initial_prompt = a.initial_prompt;
  o.carry_initial_prompt = parse_bool(a.carry_initial_prompt, "--carry_initial_prompt");
  if (a.has_prefix) o.prefix = a.prefix;
  o.suppress_tokens = a.suppress_tokens;
  o.without_timestamps = parse_bool(a.without_timestamps, "--without_timestamps");
  o.word_timestamps = parse_bool(a.word_timestamps, "--word_timestamps");
  o.prepend_punctuations = a.prepend_punctuations;
  o.append_punctuations = a.append_punctuations;
  o.clip_timestamps = a.clip_timestamps;
  o.hallucination_silence_threshold =
      parse_optional_double(a.hallucination_silence_threshold, "--hallucination_silence_threshold");
  o.threads = a.threads;
  return o;
}

WriterOptions to_writer_options(const TranscribeArgs& a, bool word_timestamps) {
  WriterOptions w;
  w.highlight_words = parse_bool(a.highlight_words, "--highlight_words");
  w.max_line_width = parse_optional_int(a.max_line_width, "--max_line_width");
  w.max_line_count = parse_optional_int(a.max_line_count, "--max_line_count");
  w.max_words_per_line = parse_optional_int(a.max_words_per_line, "--max_words_per_line");
  if (!word_timestamps) {
    if (w.highlight_words) throw Error("--highlight_words requires --word_timestamps True");
    if (w.max_line_width) throw Error("--max_line_width requires --word_timestamps True");
    if (w.max_line_count) throw Error("--max_line_count requires --word_timestamps True");
    if (w.max_words_per_line) throw Error("--max_words_per_line requires --word_timestamps True");
  }
  for (const auto& [value, name] : {std::pair{w.max_line_width, "--max_line_width"},
                                    std::pair{w.max_line_count, "--max_line_count"},
                                    std::pair{w.max_words_per_line, "--max_words_per_line"}}) {
    if (value && *value < 1) throw Error(std::string(name) + " must be at least 1");
  }
  if (w.max_line_count && !w.max_line_width) {
    std::fputs("warning: --max_line_count has no effect without --max_line_width\n", stderr);
  }
  if (w.max_words_per_line && w.max_line_width) {
    std::fputs("warning: --max_words_per_line has no effect with --max_line_width\n", stderr);
  }
  return w;
}

// openai's --fp16 False asks for full precision; --compute_type chooses explicitly.
LoadOptions to_load_options(const TranscribeArgs& a) {
  LoadOptions load{compute_type_from_name(a.compute_type)};
  if (!parse_bool(a.fp16, "--fp16")) {
    if (load.compute_type != ComputeType::Auto && load.compute_type != ComputeType::Float32) {
      throw Error(std::string("--fp16 False contradicts --compute_type ") + compute_type_name(load.compute_type));
    }
    load.compute_type = ComputeType::Float32;
  }
  return load;
}

int run(const TranscribeArgs& args) {
  // Everything the user typed is checked before the model loads.
  const TranscribeOptions options = to_options(args);
  const LoadOptions load_options = to_load_options(args);
  const WriterOptions writer_options = to_writer_options(args, options.word_timestamps);
  const bool verbose = parse_bool(args.verbose, "--verbose");
  std::string format = args.output_format;
  if (format.empty()) format = args.output_dir.empty() ? "txt" : "all";
  if (format == "all" && args.output_dir.empty()) {
    throw Error("--output_format all writes files: give --output_dir DIR (or choose one format for stdout)");
  }
  if (options.word_timestamps && options.task == "translate") {
    std::fputs("warning: word-level timestamps on translations may not be reliable\n", stderr);
  }

  const auto load_start = std::chrono::steady_clock::now();
  std::shared_ptr<const Model> model = Model::load(args.model, load_options);
  if (verbose) {
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
    std::fprintf(stderr, "loaded %s (%s, %s weights, %s compute, %d/%d layers) in %.0f ms\n", args.model.c_str(),
                 model->info().format.c_str(), weight_type_name(model->info().weight_type),
                 compute_type_name(model->compute_type()),
                 model->dims().n_audio_layer, model->dims().n_text_layer, ms);
  }
  Transcriber transcriber(model, args.threads);

  const bool to_stdout = args.output_dir.empty();
  const bool many = args.files.size() > 1;
  const bool show_progress = !verbose && (args.progress || isatty(STDERR_FILENO));
  if (to_stdout && many && format == "json") std::fputs("[\n", stdout);
  for (size_t i = 0; i < args.files.size(); ++i) {
    const std::string& file = args.files[i];
    const std::vector<float> audio = load_audio(file);
    ProgressBar bar(file);
    ProgressCallback progress;
    if (show_progress && audio.size() > static_cast<size_t>(kChunkSamples)) {
      progress = [&bar](int done, int total) { bar.update(done, total); };
    }
    SegmentCallback on_segment;
    if (verbose) {
      on_segment = [](const Segment& s) {
        std::fprintf(stderr, "[%s --> %s] %s\n", format_time(s.start).c_str(), format_time(s.end).c_str(),
                     s.text.c_str());
      };
    }
    const TranscribeResult result = transcriber.transcribe(audio, options, progress, on_segment);
    bar.finish();
    if (verbose) {
      const TranscribeTimings& t = result.timings;
      std::fprintf(stderr,
                   "%s: %.1f s audio; mel %.0f ms; encode %.0f ms (%d pass%s, %.0f ms each); "
                   "decode %.0f ms (%d steps, %.2f ms/step, %d fallbacks)\n",
                   file.c_str(), static_cast<double>(audio.size()) / kSampleRate, t.mel_ms, t.encode_ms,
                   t.encode_passes, t.encode_passes == 1 ? "" : "es",
                   t.encode_passes ? t.encode_ms / t.encode_passes : 0.0, t.decode_ms, t.decode_steps,
                   t.decode_steps ? t.decode_ms / t.decode_steps : 0.0, t.fallbacks);
    }
    if (!to_stdout) {
      for (const std::string& path : write_outputs(result, file, args.output_dir, format, writer_options)) {
        if (verbose) std::fprintf(stderr, "wrote %s\n", path.c_str());
      }
      continue;
    }
    if (many && format == "txt") std::printf("==> %s <==\n", file.c_str());
    std::string text = format_result(result, format, writer_options);
    if (format == "json") text += many && i + 1 < args.files.size() ? ",\n" : "\n";
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
  }
  if (to_stdout && many && format == "json") std::fputs("]\n", stdout);
  return 0;
}

}  // namespace

const std::vector<std::string>& transcribe_bool_options() {
  static const std::vector<std::string> names = {
      "--verbose", "-v", "--carry-initial-prompt", "--condition-on-previous-text", "--word-timestamps",
      "--without-timestamps", "--highlight-words"};
  return names;
}

CLI::Option* add_compute_type_option(CLI::App& cmd, std::string& value) {
  return cmd
      .add_option("--compute-type", value,
                  "Precision: auto (float32 for f32 files; int16 for q8_0/q5_0/q4_0 files on AVX2/AVX-512 CPUs; "
                  "else bfloat16 on AVX512_BF16 CPUs, else float16), float32, float16 (half K/V caches, int8 "
                  "activations for quantized weights), bfloat16 (also bf16 products), int16 (float16 plus 12-bit "
                  "integer encoder products: faster on AVX2 CPUs)")
      ->check(CLI::IsMember({"auto", "float32", "float16", "bfloat16", "int16"}));
}

std::function<int()> add_transcribe_command(CLI::App& app) {
  auto a = std::make_shared<TranscribeArgs>();
  CLI::App* cmd = app.add_subcommand("transcribe", "Transcribe or translate audio files (openai-whisper's algorithm and options)");
  cmd->add_option("files", a->files, "Audio or video files to transcribe ('-' reads standard input)")->required();
  cmd->add_option("-m,--model", a->model, "Hugging Face Whisper model directory or whisper.cpp ggml .bin file")
      ->required()->group("Model");
  cmd->add_option("-t,--threads", a->threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber)->group("Model");
  add_compute_type_option(*cmd, a->compute_type)->group("Model");
  cmd->add_option("--fp16", a->fp16, "False: full float32 precision (as --compute_type float32); True: allow reduced "
                  "precision where the CPU is faster with it (default)")->group("Model");

  const char* out = "Output";
  cmd->add_option("-o,--output-dir", a->output_dir, "Write STEM.FORMAT files here (default: print to stdout)")->group(out);
  cmd->add_option("-f,--output-format", a->output_format,
                  "txt, vtt, srt, tsv, json, or all (all needs --output_dir); default txt on stdout, all with --output_dir")
      ->check(CLI::IsMember({"txt", "vtt", "srt", "tsv", "json", "all"}))->group(out);
  cmd->add_option("-v,--verbose", a->verbose, "True: print segments as they are decoded, load and timing details")->group(out);
  cmd->add_flag("--progress", a->progress, "Show the progress bar even when stderr is not a terminal")->group(out);
  cmd->add_option("--highlight-words", a->highlight_words, "srt/vtt: underline each word as it is spoken (needs --word_timestamps)")->group(out);
  cmd->add_option("--max-line-width", a->max_line_width, "srt/vtt: characters per line (needs --word_timestamps)")->group(out);
  cmd->add_option("--max-line-count", a->max_line_count, "srt/vtt: lines per subtitle (needs --max_line_width)")->group(out);
  cmd->add_option("--max-words-per-line", a->max_words_per_line, "srt/vtt: words per line (needs --word_timestamps)")->group(out);

  const char* dec = "Decoding";
  cmd->add_option("--task", a->task, "transcribe, or translate into English")
      ->check(CLI::IsMember({"transcribe", "translate"}))->group(dec);
  cmd->add_option("-l,--language", a->language, "Spoken language as a code (en, de, ...) or name; detected when omitted")->group(dec);
  cmd->add_option("--temperature", a->temperature, "Sampling temperature of the first attempt (0 = greedy/beam)")->group(dec);
  cmd->add_option("--temperature-increment-on-fallback", a->temperature_increment_on_fallback,
                  "Temperature step when a window fails the gates below (None: no fallback)")->group(dec);
  cmd->add_option("--best-of", a->best_of, "Candidates sampled at temperature > 0")->group(dec);
  cmd->add_option("--beam-size", a->beam_size, "Beams at temperature 0 (None: greedy)")->group(dec);
  cmd->add_option("--patience", a->patience, "Beam search patience (finished candidates = beam_size * patience)")->group(dec);
  cmd->add_option("--length-penalty", a->length_penalty, "Length penalty alpha in [0, 1] (None: average log-probability)")->group(dec);
  cmd->add_option("--seed", a->seed, "Random seed for sampling")->group(dec);
  cmd->add_option("--suppress-tokens", a->suppress_tokens, "Comma-separated token ids to suppress; -1 = the non-speech set")->group(dec);
  cmd->add_option("--initial-prompt", a->initial_prompt, "Text given as the previous context of the first window")
      ->each([a](const std::string&) { a->has_initial_prompt = true; })->group(dec);
  cmd->add_option("--carry-initial-prompt", a->carry_initial_prompt, "Keep the initial prompt ahead of the previous text in every window")->group(dec);
  cmd->add_option("--prefix", a->prefix, "Text every window's transcript starts with")
      ->each([a](const std::string&) { a->has_prefix = true; })->group(dec);
  cmd->add_option("--condition-on-previous-text", a->condition_on_previous_text, "Give the previous window's text as prompt (True/False)")->group(dec);
  cmd->add_option("--without-timestamps", a->without_timestamps, "Decode without timestamp tokens: one segment per window")->group(dec);
  cmd->add_option("--compression-ratio-threshold", a->compression_ratio_threshold, "Retry a window whose gzip ratio is above this (None: off)")->group(dec);
  cmd->add_option("--logprob-threshold", a->logprob_threshold, "Retry a window whose average log-probability is below this (None: off)")->group(dec);
  cmd->add_option("--no-speech-threshold", a->no_speech_threshold, "Skip a window as silence above this no-speech probability (None: off)")->group(dec);
  cmd->add_option("--clip-timestamps", a->clip_timestamps, "start,end,... seconds to transcribe (default 0: all)")->group(dec);

  const char* words = "Word timestamps";
  cmd->add_option("--word-timestamps", a->word_timestamps, "Add word-level timestamps (True/False)")->group(words);
  cmd->add_option("--prepend-punctuations", a->prepend_punctuations, "Punctuation merged into the next word")->group(words);
  cmd->add_option("--append-punctuations", a->append_punctuations, "Punctuation merged into the previous word")->group(words);
  cmd->add_option("--hallucination-silence-threshold", a->hallucination_silence_threshold,
                  "Skip silences longer than this (s) around a likely hallucination (needs --word_timestamps)")->group(words);
  return [a] { return run(*a); };
}

}  // namespace wisp::cli
