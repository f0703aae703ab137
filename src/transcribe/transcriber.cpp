// openai-whisper's transcribe() loop: log-mel of the whole input, 30 s windows advanced by
// `seek` within the clip ranges, language detection on the first window, temperature fallback
// with quality gates, segments split at timestamp pairs, the previous text as prompt, word
// timestamps and the hallucination-skipping heuristics built on them.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/text.h"
#include "decoding/decoding_task.h"
#include "decoding/language.h"
#include "kernels/ops.h"
#include "runtime/decoder.h"
#include "runtime/encoder.h"
#include "transcribe/language_option.h"
#include "transcribe/option_checks.h"
#include "transcribe/quality_gates.h"
#include "transcribe/window_segments.h"
#include "transcribe/word_timing.h"
#include "wisp/audio.h"
#include "wisp/error.h"
#include "wisp/transcribe.h"

namespace wisp {

struct Transcriber::Impl {
  explicit Impl(const Model& model) : encoder(model), decoder(std::make_unique<Decoder>(model, 1)) {}
  Encoder encoder;
  std::unique_ptr<Decoder> decoder;  // grown when beam search or best_of needs more sequences
};

Transcriber::Transcriber(std::shared_ptr<const Model> model, int threads) : model_(std::move(model)) {
  if (threads < 0) throw Error("--threads must be 0 (all cores) or positive, got " + std::to_string(threads));
  set_compute_threads(threads);
  impl_ = std::make_unique<Impl>(*model_);
}

Transcriber::~Transcriber() = default;

namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

double frames_to_seconds(int frames) { return static_cast<double>(frames * kHopLength) / kSampleRate; }

}  // namespace

TranscribeResult Transcriber::transcribe(std::span<const float> audio, const TranscribeOptions& options,
                                         const ProgressCallback& progress, const SegmentCallback& on_segment) {
  const Model& model = *model_;
  const Tokenizer& tokenizer = model.tokenizer();
  const SpecialTokens& special = tokenizer.special();
  check_options(options, model);

  std::optional<std::string> language;
  if (options.language) language = resolve_language(*options.language, tokenizer);
  if (!model.info().multilingual()) {
    if (language && *language != "en") {
      std::fprintf(stderr, "warning: English-only model given language '%s'; using English\n", language->c_str());
    }
    language = "en";
  }

  // The decoder holds as many sequences as the widest group any temperature needs.
  int max_group = options.beam_size.value_or(1);
  for (double t : options.temperatures) {
    if (t > 0.0) max_group = std::max(max_group, options.best_of.value_or(1));
  }
  if (impl_->decoder->max_batch() < max_group) impl_->decoder = std::make_unique<Decoder>(model, max_group);
  Decoder& decoder = *impl_->decoder;

  TranscribeResult result;
  TranscribeTimings& timings = result.timings;
  auto start = std::chrono::steady_clock::now();
  const LogMel mel = log_mel_spectrogram(audio, model.dims().n_mels, kChunkSamples, 0, model.mel_filters());
  const int content_frames = mel.n_frames - kChunkFrames;
  const double content_duration = frames_to_seconds(content_frames);
  timings.mel_ms = ms_since(start);
  auto encode = [&](const LogMel& window) {
    start = std::chrono::steady_clock::now();
    decoder.set_audio_features(impl_->encoder.forward(window.data.data()));
    timings.encode_ms += ms_since(start);
    ++timings.encode_passes;
  };

  if (!language) {
    // Detected on the first 30 s of the padded mel, as openai-whisper does before its loop.
    encode(mel_window(mel, 0));
    result.language_probs = detect_language(decoder, tokenizer);
    language = result.language_probs.front().first;
  }
  result.language = *language;

  DecodingOptions decode_options;
  decode_options.task = options.task;
  decode_options.language = *language;
  decode_options.sample_len = options.sample_len;
  decode_options.best_of = options.best_of;
  decode_options.beam_size = options.beam_size;
  decode_options.patience = options.patience;
  decode_options.length_penalty = options.length_penalty;
  decode_options.suppress_tokens = suppressed_tokens(options.suppress_tokens, model);
  decode_options.suppress_blank = options.suppress_blank;
  decode_options.without_timestamps = options.without_timestamps;
  decode_options.max_initial_timestamp = options.max_initial_timestamp;
  if (options.prefix) decode_options.prefix = tokenizer.encode(" " + strip(*options.prefix));
  const std::vector<int> alignment_sot = sot_sequence(model, *language, options.task);
  WordTimingOptions word_options;
  word_options.prepend_punctuations = options.prepend_punctuations;
  word_options.append_punctuations = options.append_punctuations;

  SamplingRng rng(options.seed);
  auto decode_with_fallback = [&]() {
    DecodingResult decoded;
    for (size_t i = 0; i < options.temperatures.size(); ++i) {
      DecodingOptions attempt = decode_options;
      attempt.temperature = options.temperatures[i];
      if (attempt.temperature > 0.0) {
        attempt.beam_size.reset();
        attempt.patience.reset();
      } else {
        attempt.best_of.reset();
      }
      start = std::chrono::steady_clock::now();
      decoded = decode_window(decoder, model, attempt, rng);
      timings.decode_ms += ms_since(start);
      timings.decode_steps += decoded.steps;
      if (!needs_fallback(decoded, options)) break;
      if (i + 1 < options.temperatures.size()) ++timings.fallbacks;
    }
    return decoded;
  };

  std::vector<int> initial_prompt_tokens;
  if (options.initial_prompt) initial_prompt_tokens = tokenizer.encode(" " + strip(*options.initial_prompt));
  std::vector<int> all_tokens = initial_prompt_tokens;
  size_t prompt_reset_since = 0;
  const long remaining_prompt_length =
      model.dims().n_text_ctx / 2 - 1 - static_cast<long>(initial_prompt_tokens.size());
  double last_speech_timestamp = 0.0;

  const std::vector<std::pair<int, int>> clips = seek_clips(options.clip_timestamps, content_frames);
  size_t clip_index = 0;
  int seek = clips[0].first;
  while (clip_index < clips.size()) {
    const auto [clip_start, clip_end] = clips[clip_index];
    if (seek < clip_start) seek = clip_start;
    if (seek >= clip_end) {
      if (++clip_index < clips.size()) seek = clips[clip_index].first;
      continue;
    }
    const double time_offset = frames_to_seconds(seek);
    const double window_end_time = frames_to_seconds(seek + kChunkFrames);
    const int segment_size = std::min({kChunkFrames, content_frames - seek, clip_end - seek});
    const double segment_duration = frames_to_seconds(segment_size);
    encode(mel_segment(mel, seek, segment_size));

    if (options.carry_initial_prompt) {
      const size_t ignored = std::max(initial_prompt_tokens.size(), prompt_reset_since);
      const std::vector<int> rest(all_tokens.begin() + static_cast<long>(std::min(ignored, all_tokens.size())),
                                  all_tokens.end());
      decode_options.prompt = initial_prompt_tokens;
      const std::vector<int> tail = python_tail(rest, remaining_prompt_length);
      decode_options.prompt.insert(decode_options.prompt.end(), tail.begin(), tail.end());
    } else {
      decode_options.prompt.assign(all_tokens.begin() + static_cast<long>(prompt_reset_since), all_tokens.end());
    }
    const DecodingResult decoded = decode_with_fallback();

    if (is_silent_window(decoded, options)) {
      seek += segment_size;  // silence: nothing to keep from this window
      if (progress) progress(std::min(seek, content_frames), content_frames);
      continue;
    }

    const int previous_seek = seek;
    WindowSplit split = split_window(decoded.tokens, special.timestamp_begin, time_offset, segment_size);
    std::vector<Segment>& current = split.segments;
    for (Segment& s : current) {
      s.seek = seek;
      std::vector<int> text_tokens;
      for (int t : s.tokens) {
        if (t < special.eot) text_tokens.push_back(t);
      }
      s.text = tokenizer.decode(text_tokens);
      s.temperature = decoded.temperature;
      s.avg_logprob = decoded.avg_logprob;
      s.compression_ratio = decoded.compression_ratio;
      s.no_speech_prob = decoded.no_speech_prob;
    }
    seek += split.seek_advance;

    if (options.word_timestamps) {
      double speech_before = last_speech_timestamp;  // openai passes it by value
      add_word_timestamps(current, decoder, model, alignment_sot, *language, segment_size, word_options, speech_before);
      if (!split.single_timestamp_ending) {
        const auto end = last_word_end(current);
        if (end && *end > time_offset) seek = round_half_even(*end * kFramesPerSecond);
      }
      if (options.hallucination_silence_threshold) {
        const double threshold = *options.hallucination_silence_threshold;
        if (!split.single_timestamp_ending) {
          const auto end = last_word_end(current);
          if (end && *end > time_offset) {
            seek = window_end_time - *end > threshold ? round_half_even(*end * kFramesPerSecond)
                                                        : previous_seek + segment_size;
          }
        }
        auto next_with_words = [&](size_t from) -> const Segment* {
          for (size_t i = from; i < current.size(); ++i) {
            if (!current[i].words.empty()) return &current[i];
          }
          return nullptr;
        };
        // A leading hallucination after silence: skip the silence and decode again from there.
        const Segment* first = next_with_words(0);
        if (first && is_segment_anomaly(first)) {
          const double gap = first->start - time_offset;
          if (gap > threshold) {
            seek = previous_seek + round_half_even(gap * kFramesPerSecond);
            continue;
          }
        }
        // Drop a hallucination surrounded by silence (or more hallucinations) and what follows.
        double hal_last_end = last_speech_timestamp;
        for (size_t si = 0; si < current.size(); ++si) {
          const Segment& segment = current[si];
          if (segment.words.empty()) continue;
          if (is_segment_anomaly(&segment)) {
            const Segment* next = next_with_words(si + 1);
            const double hal_next_start = next ? next->words.front().start : time_offset + segment_duration;
            const bool silence_before = segment.start - hal_last_end > threshold || segment.start < threshold ||
                                        segment.start - time_offset < 2.0;
            const bool silence_after = hal_next_start - segment.end > threshold || is_segment_anomaly(next) ||
                                       window_end_time - segment.end < 2.0;
            if (silence_before && silence_after) {
              seek = round_half_even(std::max(time_offset + 1, segment.start) * kFramesPerSecond);
              if (content_duration - segment.end < threshold) seek = content_frames;
              current.resize(si);
              break;
            }
          }
          hal_last_end = segment.end;
        }
      }
      if (const auto end = last_word_end(current)) last_speech_timestamp = *end;
    }

    for (Segment& s : current) {
      // Instantaneous or textless segments are kept, emptied, as openai-whisper does.
      if (s.start == s.end || strip(s.text).empty()) {
        s.text.clear();
        s.tokens.clear();
        s.words.clear();
      }
      s.id = static_cast<int>(result.segments.size());
      all_tokens.insert(all_tokens.end(), s.tokens.begin(), s.tokens.end());
      if (on_segment) on_segment(s);
      result.segments.push_back(std::move(s));
    }
    if (!options.condition_on_previous_text || decoded.temperature > 0.5) prompt_reset_since = all_tokens.size();
    if (progress) progress(std::min(seek, content_frames), content_frames);
  }
  result.text = tokenizer.decode(
      std::vector<int>(all_tokens.begin() + static_cast<long>(initial_prompt_tokens.size()), all_tokens.end()));
  return result;
}

}  // namespace wisp
