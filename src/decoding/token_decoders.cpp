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

BeamSearchDecoder::BeamSearchDecoder(int beam_size, int eot, double patience, int max_length)
    : beam_size_(beam_size),
      eot_(eot),
      max_candidates_(static_cast<int>(std::lround(beam_size * patience))),
      max_length_(std::max(0, max_length)) {
  if (beam_size < 1) throw Error("beam_size must be at least 1");
  if (max_candidates_ <= 0) throw Error("patience must make beam_size * patience at least 1");
  top_.reserve(beam_size + 2);
  source_.reserve(beam_size);
  continuations_.reserve(static_cast<size_t>(beam_size) * (beam_size + 1));
  next_sums_.reserve(beam_size);
  if (max_length_ > 0) {
    // A step finishes at most one candidate per beam, and there is at most one step per position.
    const long most_finished = std::min(static_cast<long>(max_candidates_), static_cast<long>(beam_size) * max_length_);
    finished_sequences_.resize(most_finished);
    for (Sequence& s : finished_sequences_) s.reserve(max_length_);
    finished_sums_.reserve(most_finished);
    next_.resize(beam_size);
    for (Sequence& s : next_) s.reserve(max_length_);
  }
}

void BeamSearchDecoder::add_finished(const Sequence& prefix, int token, double score) {
  if (n_finished_ >= max_candidates_) return;
  if (static_cast<int>(finished_sequences_.size()) == n_finished_) finished_sequences_.emplace_back();
  Sequence& sequence = finished_sequences_[n_finished_++];
  sequence.assign(prefix.begin(), prefix.end());  // within the reserved capacity
  sequence.push_back(token);
  finished_sums_.push_back(score);
}

bool BeamSearchDecoder::update(std::vector<Sequence>& sequences, const float* logits, int n_vocab,
                               std::vector<double>& sum_logprobs) {
  const int k = std::min(beam_size_ + 1, n_vocab);
  continuations_.clear();
  continuations_.reserve(sequences.size() * k);  // a no-op unless handed more beams than beam_size
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
        continuations_.push_back(c);
      } else {
        for (Continuation& existing : continuations_) {
          if (existing.token == c.token && sequences[existing.beam] == sequences[beam]) existing = c;
        }
      }
    }
  }
  // Best score first, equal scores in their order of appearance (a stable sort). Insertion sort:
  // std::stable_sort would allocate a temporary buffer, and there are only a few dozen entries.
  for (size_t i = 1; i < continuations_.size(); ++i) {
    const Continuation c = continuations_[i];
    size_t j = i;
    for (; j > 0 && continuations_[j - 1].score < c.score; --j) continuations_[j] = continuations_[j - 1];
    continuations_[j] = c;
  }

  // The survivors are built in next_ and then swapped in, so no sequence is allocated. Finished
  // ones arrive in score order and are kept until there are enough.
  source_.clear();
  next_sums_.clear();
  size_t n_next = 0;
  for (const Continuation& c : continuations_) {
    const Sequence& prefix = sequences[c.beam];
    if (c.token == eot_) {
      add_finished(prefix, c.token, c.score);
      continue;
    }
    if (next_.size() == n_next) next_.emplace_back();
    Sequence& sequence = next_[n_next++];
    sequence.assign(prefix.begin(), prefix.end());
    sequence.push_back(c.token);
    next_sums_.push_back(c.score);
    source_.push_back(c.beam);
    if (static_cast<int>(n_next) == beam_size_) break;
  }
  if (sequences.size() < n_next) sequences.resize(n_next);
  for (size_t i = 0; i < n_next; ++i) sequences[i].swap(next_[i]);
  sequences.resize(n_next);
  std::copy(next_sums_.begin(), next_sums_.end(), sum_logprobs.begin());
  return n_finished_ >= max_candidates_;
}

Candidates BeamSearchDecoder::finalize(const std::vector<Sequence>& sequences,
                                       const std::vector<double>& sum_logprobs) {
  Candidates result;
  result.sequences.assign(finished_sequences_.begin(), finished_sequences_.begin() + n_finished_);
  result.sum_logprobs = finished_sums_;
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
