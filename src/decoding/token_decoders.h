// How the next token of each sequence is chosen, as openai-whisper's TokenDecoder classes:
// greedy/sampling (one sequence per candidate) and beam search. Sequences are full token lists
// (initial tokens included) advanced in lock step, so the decoder runs them as one batch.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "decoding/sampling.h"

namespace wisp {

using Sequence = std::vector<int>;

// Finished candidates of one window with their summed log-probabilities, in the order found.
struct Candidates {
  std::vector<Sequence> sequences;
  std::vector<double> sum_logprobs;
};

class TokenDecoder {
 public:
  virtual ~TokenDecoder() = default;
  // Appends a token to each sequence given `logits` [n][n_vocab] (already filtered), updating
  // `sum_logprobs`. May reorder the sequences; then `source()` tells where each came from.
  // Returns true when decoding is complete.
  virtual bool update(std::vector<Sequence>& sequences, const float* logits, int n_vocab,
                      std::vector<double>& sum_logprobs) = 0;
  // sequences[i] continues old sequence source()[i] (identity for greedy).
  virtual const std::vector<int>& source() const = 0;
  // The candidates to rank once decoding stops.
  virtual Candidates finalize(const std::vector<Sequence>& sequences, const std::vector<double>& sum_logprobs) = 0;
};

// Argmax at temperature 0, else one draw per sequence per step from softmax(logits / T).
class GreedyDecoder : public TokenDecoder {
 public:
  GreedyDecoder(double temperature, int eot, SamplingRng& rng, int n);
  bool update(std::vector<Sequence>& sequences, const float* logits, int n_vocab,
              std::vector<double>& sum_logprobs) override;
  const std::vector<int>& source() const override { return identity_; }
  Candidates finalize(const std::vector<Sequence>& sequences, const std::vector<double>& sum_logprobs) override;

 private:
  double temperature_;
  int eot_;
  SamplingRng& rng_;
  std::vector<int> identity_;
};

// openai-whisper's BeamSearchDecoder for one audio: each beam proposes its beam_size + 1 best
// tokens; the best beam_size unfinished continuations survive, finished ones are kept until
// round(beam_size * patience) of them exist.
class BeamSearchDecoder : public TokenDecoder {
 public:
  // `max_length`: the longest a sequence gets (initial tokens included). When given, every
  // buffer an update needs is sized here and update() does not allocate as long as the
  // sequences it is handed have that capacity too; 0 grows buffers on demand.
  BeamSearchDecoder(int beam_size, int eot, double patience, int max_length = 0);
  bool update(std::vector<Sequence>& sequences, const float* logits, int n_vocab,
              std::vector<double>& sum_logprobs) override;
  const std::vector<int>& source() const override { return source_; }
  Candidates finalize(const std::vector<Sequence>& sequences, const std::vector<double>& sum_logprobs) override;

 private:
  struct Continuation {
    double score;
    int beam;  // the beam whose prefix it extends (the last of identical prefixes)
    int token;
  };
  // Appends `prefix` + `token` as the next finished candidate while fewer than max_candidates_.
  void add_finished(const Sequence& prefix, int token, double score);

  int beam_size_, eot_, max_candidates_, max_length_;
  std::vector<int> source_;
  // Finished candidates: the first n_finished_ entries, in the order found. Storage is reused
  // (a Sequence keeps its capacity), so collecting one does not allocate.
  std::vector<Sequence> finished_sequences_;
  std::vector<double> finished_sums_;
  int n_finished_ = 0;
  // Scratch reused across steps: the k best tokens of a row, the step's continuations, and the
  // surviving beams (swapped with the caller's sequences, so both sets keep their capacity).
  std::vector<std::pair<float, int>> top_;
  std::vector<Continuation> continuations_;
  std::vector<Sequence> next_;
  std::vector<double> next_sums_;
};

// openai-whisper's MaximumLikelihoodRanker: the index of the candidate with the best
// sum_logprob / length penalty, where `lengths` count the sampled tokens (no <|endoftext|>).
int rank_candidates(const std::vector<int>& lengths, const std::vector<double>& sum_logprobs,
                    std::optional<double> length_penalty);

}  // namespace wisp
