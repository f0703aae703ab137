// wisp/transcribe.h - transcription with openai-whisper's algorithm and option names.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "wisp/model.h"

namespace wisp {

struct TranscribeOptions {
  std::string task = "transcribe";      // or "translate"
  std::optional<std::string> language;  // code ("en") or name ("english"); detected if unset
  // Decode without timestamp tokens (adds <|notimestamps|>); each 30 s window becomes a segment.
  bool without_timestamps = true;
  // Comma-separated ids; "-1" means the model's default non-speech set.
  std::string suppress_tokens = "-1";
  bool suppress_blank = true;
  bool condition_on_previous_text = true;
  std::optional<double> no_speech_threshold = 0.6;
  std::optional<double> logprob_threshold = -1.0;
  int sample_len = 0;  // 0: half the text context (224)
  int threads = 0;     // 0: all cores
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
};

// Where the time went (wall clock, milliseconds).
struct TranscribeTimings {
  double mel_ms = 0;
  double encode_ms = 0;   // all encoder passes (language detection included)
  int encode_passes = 0;
  double decode_ms = 0;   // all decoder forwards
  int decode_steps = 0;   // decoder forwards (one per sampled token)
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

class Transcriber {
 public:
  // Allocates the encoder and decoder buffers once; reuse one Transcriber for many files.
  explicit Transcriber(std::shared_ptr<const Model> model, int threads = 0);
  ~Transcriber();
  Transcriber(const Transcriber&) = delete;
  Transcriber& operator=(const Transcriber&) = delete;

  // `audio`: 16 kHz mono samples (see load_audio). Throws wisp::Error on invalid options.
  TranscribeResult transcribe(std::span<const float> audio, const TranscribeOptions& options,
                              const ProgressCallback& progress = {});

  const Model& model() const { return *model_; }

 private:
  struct Impl;
  std::shared_ptr<const Model> model_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wisp
