#include "decoding/token_decoders.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "wisp/error.h"

namespace wisp {

GreedyDecoder::GreedyDecoder(double temperature, int eot, SamplingRng& rng, int n)
    : temperature_(temperature), eot_(eot), rng_(rng), identity_(n) {
  std::iota(identity_.begin(), identity_.end(), 0);
}

bool GreedyDecoder::update(std::vector<Sequence>& sequences, const float* logits, int n_vocab,
                           std::vector<double>& sum_logprobs) {
  bool completed = true;
  for (size_t k = 0; k < sequences.size(); ++k) {
    const float* row = logits + k * static_cast<size_t>(n_vocab);
    // A draw is made for every sequence, finished or not, so the generator advances the same
    // way whatever the sequences contain.
    int next = temperature_ == 0.0 ? argmax(row, n_vocab) : sample_token(row, n_vocab, temperature_, rng_);
    if (sequences[k].back() == eot_) {
      next = eot_;
    } else {
      sum_logprobs[k] += log_softmax_at(row, n_vocab, next);
    }
    sequences[k].push_back(next);
    completed = completed && next == eot_;
  }
  return completed;
}

Candidates GreedyDecoder::finalize(const std::vector<Sequence>& sequences, const std::vector<double>& sum_logprobs) {
  Candidates candidates;
  for (const Sequence& s : sequences) {
    candidates.sequences.push_back(s);
    if (s.back() != eot_) candidates.sequences.back().push_back(eot_);
  }
  candidates.sum_logprobs = sum_logprobs;
  return candidates;
}

BeamSearchDecoder::BeamSearchDecoder(int beam_size, int eot, double patience)
    : beam_size_(beam_size), eot_(eot), max_candidates_(static_cast<int>(std::lround(beam_size * patience))) {
  if (beam_size < 1) throw Error("beam_size must be at least 1");
  if (max_candidates_ <= 0) throw Error("patience must make beam_size * patience at least 1");
  top_.reserve(beam_size + 2);
}

bool BeamSearchDecoder::update(std::vector<Sequence>& sequences, const float* logits, int n_vocab,
                               std::vector<double>& sum_logprobs) {
  struct Continuation {
    double score;
    int beam;   // the beam whose prefix it extends (the last of identical prefixes)
    int token;
  };
  std::vector<Continuation> continuations;
  continuations.reserve(sequences.size() * (beam_size_ + 1));
  const int k = std::min(beam_size_ + 1, n_vocab);
  for (size_t beam = 0; beam < sequences.size(); ++beam) {
    // Beams with identical prefixes (all of them at the first step) propose the same
    // continuations; they count once, in the position of their first appearance.
    size_t first_same = 0;
    while (sequences[first_same] != sequences[beam]) ++first_same;
    const float* row = logits + beam * static_cast<size_t>(n_vocab);
    const double log_sum = log_sum_exp(row, n_vocab);
    // The k best tokens, best first; on equal logits the lower id first.
    top_.clear();
    for (int i = 0; i < n_vocab; ++i) {
      if (static_cast<int>(top_.size()) == k && !(row[i] > top_.back().first)) continue;
      if (static_cast<int>(top_.size()) == k) top_.pop_back();
      auto at = top_.end();
      while (at != top_.begin() && (at - 1)->first < row[i]) --at;
      top_.insert(at, {row[i], i});
    }
    for (int j = 0; j < k; ++j) {
      const double logprob = static_cast<double>(top_[j].first) - log_sum;
      const Continuation c{sum_logprobs[beam] + logprob, static_cast<int>(beam), top_[j].second};
      if (first_same == beam) {
        continuations.push_back(c);
      } else {
        for (Continuation& existing : continuations) {
          if (existing.token == c.token && sequences[existing.beam] == sequences[beam]) existing = c;
        }
      }
    }
  }
  std::stable_sort(continuations.begin(), continuations.end(),
                   [](const Continuation& a, const Continuation& b) { return a.score > b.score; });

  std::vector<Sequence> next;
  std::vector<double> next_sums;
  source_.clear();
  Candidates newly_finished;
  for (const Continuation& c : continuations) {
    Sequence sequence = sequences[c.beam];
    sequence.push_back(c.token);
    if (c.token == eot_) {
      newly_finished.sequences.push_back(std::move(sequence));
      newly_finished.sum_logprobs.push_back(c.score);
    } else {
      next.push_back(std::move(sequence));
      next_sums.push_back(c.score);
      source_.push_back(c.beam);
      if (static_cast<int>(next.size()) == beam_size_) break;
    }
  }
  // Newly finished ones arrive in score order; keep the best until there are enough.
  for (size_t i = 0; i < newly_finished.sequences.size(); ++i) {
    if (static_cast<int>(finished_.sequences.size()) >= max_candidates_) break;
    finished_.sequences.push_back(std::move(newly_finished.sequences[i]));
    finished_.sum_logprobs.push_back(newly_finished.sum_logprobs[i]);
  }
  sequences = std::move(next);
  std::copy(next_sums.begin(), next_sums.end(), sum_logprobs.begin());
  return static_cast<int>(finished_.sequences.size()) >= max_candidates_;
}

Candidates BeamSearchDecoder::finalize(const std::vector<Sequence>& sequences,
                                       const std::vector<double>& sum_logprobs) {
  Candidates result = finished_;
  if (static_cast<int>(result.sequences.size()) < beam_size_) {
    // Too few finished: the best unfinished beams join, as if they ended here.
    std::vector<int> order(sequences.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return sum_logprobs[a] > sum_logprobs[b]; });
    for (int j : order) {
      Sequence sequence = sequences[j];
      sequence.push_back(eot_);
      result.sequences.push_back(std::move(sequence));
      result.sum_logprobs.push_back(sum_logprobs[j]);
      if (static_cast<int>(result.sequences.size()) >= beam_size_) break;
    }
  }
  return result;
}

int rank_candidates(const std::vector<int>& lengths, const std::vector<double>& sum_logprobs,
                    std::optional<double> length_penalty) {
  int best = 0;
  double best_score = -INFINITY;
  for (size_t i = 0; i < lengths.size(); ++i) {
    const double length = lengths[i];
    const double penalty = length_penalty ? std::pow((5.0 + length) / 6.0, *length_penalty) : length;
    const double score = sum_logprobs[i] / penalty;
    if (i == 0 || score > best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  return best;
}

}  // namespace wisp
