// The transcription loop of openai-whisper's transcribe(): log-mel of the whole input, 30 s
// windows advanced by `seek`, language detection on the first window, the previous text as
// prompt, no-speech skipping.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "decoding/greedy.h"
#include "decoding/language.h"
#include "kernels/ops.h"
#include "runtime/decoder.h"
#include "runtime/encoder.h"
#include "transcribe/compression.h"
#include "transcribe/language_option.h"
#include "wisp/audio.h"
#include "common/text.h"
#include "wisp/error.h"
#include "wisp/transcribe.h"

namespace wisp {

struct Transcriber::Impl {
  explicit Impl(const Model& model) : encoder(model), decoder(model, 1) {}
  Encoder encoder;
  Decoder decoder;
};

Transcriber::Transcriber(std::shared_ptr<const Model> model, int threads) : model_(std::move(model)) {
  if (threads < 0) throw Error("--threads must be 0 (all cores) or positive, got " + std::to_string(threads));
  set_compute_threads(threads);
  impl_ = std::make_unique<Impl>(*model_);
}

Transcriber::~Transcriber() = default;

// The "-1"-style option: comma-separated ids, -1 expanding to the model's default set, plus the
// special tokens openai-whisper always suppresses.
static std::vector<int> suppressed_tokens(const std::string& option, const Model& model) {
  std::vector<int> result;
  std::stringstream in(option);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.find_first_not_of(" \t") == std::string::npos) continue;
    int id;
    try {
      size_t used = 0;
      id = std::stoi(item, &used);
      if (item.find_first_not_of(" \t", used) != std::string::npos) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw Error("--suppress_tokens: '" + item + "' is not a token id (expected e.g. \"-1\" or \"-1,123,456\")");
    }
    if (id == -1) {
      const auto& defaults = model.info().suppress_tokens;
      result.insert(result.end(), defaults.begin(), defaults.end());
    } else if (id < 0 || id >= model.dims().n_vocab) {
      throw Error("--suppress_tokens: token id " + std::to_string(id) + " is outside the vocabulary");
    } else {
      result.push_back(id);
    }
  }
  const SpecialTokens& s = model.tokenizer().special();
  result.insert(result.end(), {s.transcribe, s.translate, s.sot, s.sot_prev, s.sot_lm, s.no_speech});
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

static double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

TranscribeResult Transcriber::transcribe(std::span<const float> audio, const TranscribeOptions& options,
                                         const ProgressCallback& progress) {
  const Model& model = *model_;
  const Tokenizer& tokenizer = model.tokenizer();
  const SpecialTokens& special = tokenizer.special();
  if (options.task != "transcribe" && options.task != "translate") {
    throw Error("--task must be 'transcribe' or 'translate', got '" + options.task + "'");
  }
  const int max_sample_len = model.dims().n_text_ctx / 2;
  if (options.sample_len < 0 || options.sample_len > max_sample_len) {
    throw Error("sample_len must be between 1 and " + std::to_string(max_sample_len));
  }
  const std::vector<int> suppress = suppressed_tokens(options.suppress_tokens, model);
  std::optional<std::string> language;
  if (options.language) language = resolve_language(*options.language, tokenizer);
  if (!model.info().multilingual()) {
    if (language && *language != "en") {
      std::fprintf(stderr, "warning: English-only model given language '%s'; using English\n", language->c_str());
    }
    language = "en";
  }

  TranscribeResult result;
  TranscribeTimings& timings = result.timings;
  auto start = std::chrono::steady_clock::now();
  const LogMel mel = log_mel_spectrogram(audio, model.dims().n_mels, kChunkSamples, 0, model.mel_filters());
  const int content_frames = mel.n_frames - kChunkFrames;
  timings.mel_ms = ms_since(start);
  auto encode = [&](const LogMel& window) {
    start = std::chrono::steady_clock::now();
    impl_->decoder.set_audio_features(impl_->encoder.forward(window.data.data()));
    timings.encode_ms += ms_since(start);
    ++timings.encode_passes;
  };

  if (!language) {
    // Detected on the first 30 s of the padded mel, as openai-whisper does before its loop.
    encode(mel_window(mel, 0));
    result.language_probs = detect_language(impl_->decoder, tokenizer);
    language = result.language_probs.front().first;
  }
  result.language = *language;

  std::vector<int> sot_sequence;
  sot_sequence.reserve(4);
  sot_sequence.push_back(special.sot);
  if (model.info().multilingual()) {
    sot_sequence.push_back(*tokenizer.language_token(*language));
    sot_sequence.push_back(options.task == "translate" ? special.translate : special.transcribe);
  }
  if (options.without_timestamps) sot_sequence.push_back(special.no_timestamps);
  const std::vector<int> blank = {tokenizer.encode(" ").front(), special.eot};

  std::vector<int> all_tokens;
  size_t prompt_reset_since = 0;
  int seek = 0;
  while (seek < content_frames) {
    const int segment_size = std::min(kChunkFrames, content_frames - seek);
    const double time_offset = static_cast<double>(seek) * kHopLength / kSampleRate;
    encode(mel_segment(mel, seek, segment_size));

    WindowDecodeRequest request;
    if (options.condition_on_previous_text && prompt_reset_since < all_tokens.size()) {
      // The previous text, at most half the context minus one token.
      const size_t n_prompt = std::min(all_tokens.size() - prompt_reset_since, static_cast<size_t>(max_sample_len - 1));
      request.initial_tokens.push_back(special.sot_prev);
      request.initial_tokens.insert(request.initial_tokens.end(), all_tokens.end() - static_cast<long>(n_prompt),
                                    all_tokens.end());
    }
    request.sot_index = static_cast<int>(request.initial_tokens.size());
    request.initial_tokens.insert(request.initial_tokens.end(), sot_sequence.begin(), sot_sequence.end());
    request.sample_len = options.sample_len > 0 ? options.sample_len : max_sample_len;
    request.eot = special.eot;
    request.no_speech = special.no_speech;
    const int sample_begin = static_cast<int>(request.initial_tokens.size());
    if (options.suppress_blank) request.filters.push_back(std::make_unique<SuppressBlank>(blank, sample_begin));
    if (!suppress.empty()) request.filters.push_back(std::make_unique<SuppressTokens>(suppress));
    start = std::chrono::steady_clock::now();
    const WindowDecodeResult decoded = decode_greedy(impl_->decoder, request);
    timings.decode_ms += ms_since(start);
    timings.decode_steps += decoded.steps;

    bool skip = options.no_speech_threshold && decoded.no_speech_prob > *options.no_speech_threshold;
    if (options.logprob_threshold && decoded.avg_logprob > *options.logprob_threshold) skip = false;
    if (!skip) {
      Segment segment;
      segment.id = static_cast<int>(result.segments.size());
      segment.seek = seek;
      segment.start = time_offset;
      segment.end = time_offset + static_cast<double>(segment_size) * kHopLength / kSampleRate;
      std::vector<int> text_tokens;
      for (int t : decoded.tokens) {
        if (t < special.eot) text_tokens.push_back(t);
      }
      segment.text = tokenizer.decode(text_tokens);
      segment.tokens = decoded.tokens;
      segment.avg_logprob = decoded.avg_logprob;
      segment.compression_ratio = compression_ratio(strip(tokenizer.decode(decoded.tokens)));
      segment.no_speech_prob = decoded.no_speech_prob;
      if (strip(segment.text).empty()) {
        segment.text.clear();  // openai-whisper keeps empty segments but drops their tokens
        segment.tokens.clear();
      }
      all_tokens.insert(all_tokens.end(), segment.tokens.begin(), segment.tokens.end());
      result.segments.push_back(std::move(segment));
    }
    seek += segment_size;
    if (!options.condition_on_previous_text) prompt_reset_since = all_tokens.size();
    if (progress) progress(std::min(seek, content_frames), content_frames);
  }
  result.text = tokenizer.decode(all_tokens);
  return result;
}

}  // namespace wisp
