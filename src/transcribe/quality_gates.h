// The temperature-fallback decision of openai-whisper's decode_with_fallback.
#pragma once

#include "decoding/decoding_task.h"
#include "wisp/transcribe.h"

namespace wisp {

// True when a window's result should be decoded again at the next temperature: too repetitive
// (compression ratio) or too improbable (average log-probability), unless it is probably
// silence (no-speech probability above its threshold together with a low log-probability).
inline bool needs_fallback(const DecodingResult& r, const TranscribeOptions& o) {
  bool fallback = false;
  if (o.compression_ratio_threshold && r.compression_ratio > *o.compression_ratio_threshold) fallback = true;
  if (o.logprob_threshold && r.avg_logprob < *o.logprob_threshold) fallback = true;
  if (o.no_speech_threshold && r.no_speech_prob > *o.no_speech_threshold && o.logprob_threshold &&
      r.avg_logprob < *o.logprob_threshold) {
    fallback = false;
  }
  return fallback;
}

// True when a window is skipped as silence: no-speech probability above the threshold, unless
// the text is confident (average log-probability above logprob_threshold).
inline bool is_silent_window(const DecodingResult& r, const TranscribeOptions& o) {
  if (!o.no_speech_threshold || !(r.no_speech_prob > *o.no_speech_threshold)) return false;
  return !(o.logprob_threshold && r.avg_logprob > *o.logprob_threshold);
}

}  // namespace wisp
