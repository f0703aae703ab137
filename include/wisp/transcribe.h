// wisp/transcribe.h - transcription with openai-whisper's algorithm and option names.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "wisp/model.h"

namespace wisp {

// Options of openai-whisper's transcribe() and DecodingOptions, with the same names and defaults.
struct TranscribeOptions {
  std::string task = "transcribe";      // or "translate"
  std::optional<std::string> language;  // code ("en") or name ("english"); detected if unset

  // Search. Temperatures are tried in order; the next one when a window fails the gates below.
  std::vector<double> temperatures = {0.0, 0.2, 0.4, 0.6, 0.8, 1.0};
  std::optional<int> best_of = 5;          // candidates sampled at temperature > 0
  std::optional<int> beam_size;            // beam search at temperature 0 when set
  std::optional<double> patience;          // beam search: finished candidates = beam_size * patience
  std::optional<double> length_penalty;    // none: rank by logprob / length; else Google NMT's penalty
  uint64_t seed = 0;                       // sampling random generator seed

  // Quality gates (unset disables each).
  std::optional<double> compression_ratio_threshold = 2.4;
  std::optional<double> logprob_threshold = -1.0;
  std::optional<double> no_speech_threshold = 0.6;

  // Context.
  bool condition_on_previous_text = true;
  std::optional<std::string> initial_prompt;
  bool carry_initial_prompt = false;  // keep initial_prompt ahead of the previous text in every window
  std::optional<std::string> prefix;  // text every window's output starts with

  // Token rules.
  std::string suppress_tokens = "-1";  // comma-separated ids; "-1" is the model's non-speech set
  bool suppress_blank = true;
  bool without_timestamps = false;  // no timestamp tokens: each 30 s window becomes one segment
  std::optional<double> max_initial_timestamp = 1.0;
  int sample_len = 0;  // 0: half the text context (224)

  // Word-level timestamps from the alignment heads' cross-attention.
  bool word_timestamps = false;
  std::string prepend_punctuations = "\"'\u201c\u00bf([{-";
  std::string append_punctuations = "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001";
  // Start,end[,start,end...] seconds to process; "0" is the whole input.
  std::string clip_timestamps = "0";
  // With word_timestamps: skip silent periods longer than this (seconds) around a hallucination.
  std::optional<double> hallucination_silence_threshold;

  int threads = 0;  // 0: all cores
};

struct WordTiming {
  std::string word;
  double start = 0, end = 0;
  double probability = 0;
  std::vector<int> tokens;
};

struct Segment {
  int id = 0;
  int seek = 0;  // mel frame where the window starts
  double start = 0, end = 0;
  std::string text;
  std::vector<int> tokens;
  double temperature = 0;
  double avg_logprob = 0;
  double compression_ratio = 0;
  double no_speech_prob = 0;
  std::vector<WordTiming> words;  // with word_timestamps
};

// Where the time went (wall clock, milliseconds).
struct TranscribeTimings {
  double mel_ms = 0;
  double encode_ms = 0;   // all encoder passes (language detection included)
  int encode_passes = 0;
  double decode_ms = 0;   // all decoder forwards
  int decode_steps = 0;   // decoder forwards (one per sampled token, per beam group)
  int fallbacks = 0;      // windows decoded again at a higher temperature
};

struct TranscribeResult {
  std::string text;
  std::string language;
  // Language detection probabilities, highest first (empty when the language was given).
  std::vector<std::pair<std::string, double>> language_probs;
  std::vector<Segment> segments;
  TranscribeTimings timings;
};

// Called after each window with (frames done, total frames).
using ProgressCallback = std::function<void(int, int)>;
// Called with each segment as soon as its window is final (for --verbose printing).
using SegmentCallback = std::function<void(const Segment&)>;

class Transcriber {
 public:
  // Allocates the encoder and decoder buffers once; reuse one Transcriber for many files.
  explicit Transcriber(std::shared_ptr<const Model> model, int threads = 0);
  ~Transcriber();
  Transcriber(const Transcriber&) = delete;
  Transcriber& operator=(const Transcriber&) = delete;

  // `audio`: 16 kHz mono samples (see load_audio). Throws wisp::Error on invalid options.
  TranscribeResult transcribe(std::span<const float> audio, const TranscribeOptions& options,
                              const ProgressCallback& progress = {}, const SegmentCallback& on_segment = {});

  const Model& model() const { return *model_; }

 private:
  struct Impl;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wisp
