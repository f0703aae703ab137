// Decoding one 30 s window, as openai-whisper's DecodingTask: initial tokens (previous-text
// prompt, start-of-transcript sequence, prefix), logit filters, greedy / sampling / beam search
// over a group of candidates, and the ranking that picks one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "decoding/sampling.h"
#include "runtime/decoder.h"
#include "wisp/model.h"

namespace wisp {

struct DecodingOptions {
  std::string task = "transcribe";
  std::string language = "en";  // a code; English-only models have no language token
  double temperature = 0.0;
  int sample_len = 0;                   // 0: n_text_ctx / 2
  std::optional<int> best_of;           // candidates sampled when temperature > 0
  std::optional<int> beam_size;         // beam search when temperature == 0
  std::optional<double> patience;       // beam search only
  std::optional<double> length_penalty;
  std::vector<int> prompt;              // previous-context tokens, placed after <|startofprev|>
  std::vector<int> prefix;              // tokens the output must start with
  std::vector<int> suppress_tokens;     // expanded ids, suppressed at every step
  bool suppress_blank = true;
  bool without_timestamps = false;
  std::optional<double> max_initial_timestamp = 1.0;
};

struct DecodingResult {
  std::vector<int> tokens;  // sampled tokens, without <|endoftext|>
  std::string text;
  double sum_logprob = 0;
  double avg_logprob = 0;  // sum_logprob / (len(tokens) + 1), as openai-whisper
  double no_speech_prob = 0;
  double temperature = 0;
  double compression_ratio = 0;
  int steps = 0;  // decoder forwards run
};

// The tokens a window's decoding starts from: [<|startofprev|> prompt...] <|startoftranscript|>
// [language task] [<|notimestamps|>] [prefix...]. `sot_index` receives the position of
// <|startoftranscript|>.
std::vector<int> initial_tokens(const Model& model, const DecodingOptions& options, int* sot_index = nullptr);

// The <|startoftranscript|> [language task] sequence alone (what word alignment starts from).
std::vector<int> sot_sequence(const Model& model, const std::string& language, const std::string& task);

// Decodes the window whose audio features `decoder` holds (the token loop is DecodeLoop, in
// decode_loop.h). `decoder.max_batch()` must be at least the group size (beam_size, or best_of
// when sampling).
DecodingResult decode_window(Decoder& decoder, const Model& model, const DecodingOptions& options, SamplingRng& rng);

// Python's tokens[-n:]: the last n tokens, all of them when n is 0 (or exceeds the length), and
// tokens[|n|:] when n is negative. openai-whisper's prompt and prefix truncation rely on it.
std::vector<int> python_tail(const std::vector<int>& tokens, long n);

// The number of sequences decoded together for `options`.
int group_size(const DecodingOptions& options);

}  // namespace wisp
