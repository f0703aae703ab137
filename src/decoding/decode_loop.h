// The token loop of one window's decoding (openai-whisper's DecodingTask._main_loop), one step
// at a time: decoder forward for the group of sequences, logit filters, token choice (greedy,
// sampling or beam search) and the cache reordering beam search needs. Every buffer a step uses
// (sequences at full context length, logits, filter and beam-search scratch) is sized when the
// loop is built, so steps after the first do not allocate.
#pragma once

#include <memory>
#include <vector>

#include "decoding/decoding_task.h"
#include "decoding/logit_filters.h"
#include "decoding/sampling.h"
#include "decoding/token_decoders.h"
#include "runtime/decoder.h"
#include "wisp/model.h"

namespace wisp {

class DecodeLoop {
 public:
  // `decoder` must hold the window's audio features and at least group_size(options) sequences.
  // Throws wisp::Error when the group does not fit or the initial tokens fill the context.
  DecodeLoop(Decoder& decoder, const Model& model, const DecodingOptions& options, SamplingRng& rng);

  // Runs one step: the first feeds the initial tokens once for the whole group (and reads the
  // no-speech probability), later ones each sequence's last token. Returns true when decoding
  // is over: every candidate finished, or the sequences outgrew the text context.
  bool step();

  int steps() const { return steps_; }
  int sample_begin() const { return static_cast<int>(initial_.size()); }
  double no_speech_prob() const { return no_speech_prob_; }
  const std::vector<Sequence>& sequences() const { return sequences_; }
  const std::vector<double>& sum_logprobs() const { return sum_logprobs_; }
  // The candidates to rank, once the loop has stopped.
  Candidates finalize() { return token_decoder_->finalize(sequences_, sum_logprobs_); }

 private:
  Decoder& decoder_;
  int eot_, no_speech_, n_vocab_, n_ctx_, n_group_;
  bool beam_search_;
  std::vector<int> initial_;
  int sot_index_ = 0;
  std::vector<std::unique_ptr<LogitFilter>> filters_;  // in openai-whisper's order
  std::unique_ptr<TokenDecoder> token_decoder_;
  std::vector<Sequence> sequences_;     // each reserved for the whole context
  std::vector<double> sum_logprobs_;
  std::vector<float> logits_;           // [n_group][n_vocab]
  std::vector<int> last_tokens_;        // the tokens fed at a step
  std::vector<int> copy_first_;         // all zeros: every sequence's cache from the shared prompt
  int steps_ = 0;
  double no_speech_prob_ = 0.0;
};

}  // namespace wisp
