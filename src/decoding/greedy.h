// Greedy (temperature 0) decoding of one 30 s window, as openai-whisper's DecodingTask with
// GreedyDecoder: the initial tokens are run once, then one token per step until <|endoftext|>
// or `sample_len` tokens.
#pragma once

#include <memory>
#include <vector>

#include "decoding/logit_filters.h"
#include "runtime/decoder.h"

namespace wisp {

struct WindowDecodeRequest {
  std::vector<int> initial_tokens;  // [<|startofprev|> prompt...] <|startoftranscript|> lang task ...
  int sot_index = 0;                // position of <|startoftranscript|> in initial_tokens
  int sample_len = 224;
  int eot = 0;
  int no_speech = -1;  // <|nospeech|> id, or -1
  std::vector<std::unique_ptr<LogitFilter>> filters;
};

struct WindowDecodeResult {
  std::vector<int> tokens;  // sampled tokens, without the final <|endoftext|>
  double sum_logprob = 0;
  double avg_logprob = 0;  // sum_logprob / (len(tokens) + 1), as openai-whisper
  double no_speech_prob = 0;
  int steps = 0;  // decoder forwards run
};

// The decoder must hold this window's audio features (Decoder::set_audio_features).
WindowDecodeResult decode_greedy(Decoder& decoder, const WindowDecodeRequest& request);

// log(softmax(logits))[index], computed stably.
double log_softmax_at(const float* logits, int n, int index);

}  // namespace wisp
