// Decoding rules on hand-built logits: timestamp rules, blank suppression, greedy and sampled
// token choice, beam search bookkeeping, candidate ranking, window splitting, fallback gates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "decoding/decoding_task.h"
#include "decoding/logit_filters.h"
#include "decoding/sampling.h"
#include "decoding/token_decoders.h"
#include "transcribe/option_checks.h"
#include "transcribe/quality_gates.h"
#include "transcribe/window_segments.h"
#include "wisp/error.h"

namespace wisp {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
// A toy vocabulary: text 0..9, eot 10, no_timestamps 11, timestamps 12..19 (<|0.00|> = 12).
constexpr int kVocab = 20, kEot = 10, kNoTs = 11, kTs = 12, kSampleBegin = 2;

std::vector<float> flat(float value = 0.0f) { return std::vector<float>(kVocab, value); }

bool forbidden(const std::vector<float>& logits, int token) { return std::isinf(logits[token]) && logits[token] < 0; }

std::vector<float> apply_rules(const std::vector<int>& sampled, std::vector<float> logits, std::optional<int> max_initial = 3) {
  std::vector<int> tokens = {100, 101};  // the initial tokens (values irrelevant)
  tokens.insert(tokens.end(), sampled.begin(), sampled.end());
  ApplyTimestampRules(kTs, kEot, kNoTs, kSampleBegin, max_initial).apply(logits.data(), kVocab, tokens);
  return logits;
}

TEST(TimestampRules, FirstTokenIsATimestampNoLaterThanTheMaximum) {
  const auto logits = apply_rules({}, flat());
  for (int t = 0; t < kTs; ++t) EXPECT_TRUE(forbidden(logits, t)) << t;
  for (int t = kTs; t <= kTs + 3; ++t) EXPECT_FALSE(forbidden(logits, t)) << t;
  for (int t = kTs + 4; t < kVocab; ++t) EXPECT_TRUE(forbidden(logits, t)) << t;
  const auto unlimited = apply_rules({}, flat(), std::nullopt);
  EXPECT_FALSE(forbidden(unlimited, kVocab - 1));
}

TEST(TimestampRules, NoTimestampsTokenIsAlwaysForbidden) {
  EXPECT_TRUE(forbidden(apply_rules({kTs, 3}, flat()), kNoTs));
}

TEST(TimestampRules, AfterATextTokenAnOpenTimestampNeedsItsPartnerOrEot) {
  // <|0.00|> text <|0.04|>: next must be a timestamp >= <|0.04|> or eot.
  auto logits = flat();
  logits[3] = 50.0f;     // text is very likely, but not allowed
  logits[kEot] = 5.0f;   // likelier than the timestamps together, so not forced away
  logits = apply_rules({kTs, 3, kTs + 2}, logits);
  for (int t = 0; t < kEot; ++t) EXPECT_TRUE(forbidden(logits, t)) << t;
  EXPECT_FALSE(forbidden(logits, kEot));
  EXPECT_TRUE(forbidden(logits, kTs + 1));
  EXPECT_FALSE(forbidden(logits, kTs + 2));  // the pair may close on the same time
  EXPECT_FALSE(forbidden(logits, kTs + 3));
}

TEST(TimestampRules, AfterAPairTextMustFollowAndTimestampsMustIncrease) {
  auto logits = apply_rules({kTs, 3, kTs + 2, kTs + 2}, flat());
  for (int t = kTs; t < kVocab; ++t) EXPECT_TRUE(forbidden(logits, t)) << t;
  EXPECT_FALSE(forbidden(logits, 3));
  // After text following the pair: timestamps strictly later than the last one.
  logits = apply_rules({kTs, 3, kTs + 2, kTs + 2, 4}, flat());
  EXPECT_TRUE(forbidden(logits, kTs + 2));
  EXPECT_FALSE(forbidden(logits, kTs + 3));
}

TEST(TimestampRules, TimestampForcedWhenTheirTotalProbabilityBeatsEveryTextToken) {
  // Each timestamp is less likely than the best text token, together they are likelier.
  auto logits = flat(-kInf);
  logits[3] = 1.0f;
  for (int t = kTs; t < kVocab; ++t) logits[t] = 0.0f;  // 8 * e^0 > e^1
  auto result = apply_rules({kTs, 4}, logits);
  EXPECT_TRUE(forbidden(result, 3));
  logits[3] = 3.0f;  // e^3 > 8
  result = apply_rules({kTs, 4}, logits);
  EXPECT_FALSE(forbidden(result, 3));
}

TEST(SuppressBlank, OnlyAtTheFirstSampledPosition) {
  SuppressBlank filter({5, kEot}, kSampleBegin);
  auto logits = flat();
  filter.apply(logits.data(), kVocab, {1, 2});
  EXPECT_TRUE(forbidden(logits, 5));
  EXPECT_TRUE(forbidden(logits, kEot));
  logits = flat();
  filter.apply(logits.data(), kVocab, {1, 2, 3});
  EXPECT_FALSE(forbidden(logits, 5));
}

TEST(Sampling, GeneratorMatchesNumpyRandomState) {
  // numpy.random.RandomState(0).random_sample(2) == [0.5488135039273248, 0.7151893663724195]
  SamplingRng rng(0);
  EXPECT_DOUBLE_EQ(rng.uniform(), 0.5488135039273248);
  EXPECT_DOUBLE_EQ(rng.uniform(), 0.7151893663724195);
}

TEST(Sampling, LogSumExpMatchesTheDoublePrecisionFormula) {
  std::vector<float> logits(51865);
  uint32_t state = 1;
  for (float& x : logits) {
    state = state * 1664525u + 1013904223u;
    x = static_cast<float>(state >> 8) / (1 << 24) * 60.0f - 40.0f;  // spread over [-40, 20)
  }
  logits[7] = -kInf;
  double max_logit = -INFINITY, sum = 0.0;
  for (float x : logits) max_logit = std::max(max_logit, static_cast<double>(x));
  for (float x : logits) sum += std::exp(static_cast<double>(x) - max_logit);
  EXPECT_NEAR(log_sum_exp(logits.data(), static_cast<int>(logits.size())), max_logit + std::log(sum), 1e-6);
  EXPECT_NEAR(log_softmax_at(logits.data(), 3, 0),
              logits[0] - std::log(std::exp(static_cast<double>(logits[0])) + std::exp(static_cast<double>(logits[1])) +
                                   std::exp(static_cast<double>(logits[2]))),
              1e-6);
  const std::vector<float> all_forbidden(4, -kInf);
  EXPECT_EQ(log_sum_exp(all_forbidden.data(), 4), -INFINITY);
}

TEST(Sampling, DrawsFollowTheTemperatureScaledDistribution) {
  std::vector<float> logits = {0.0f, std::log(3.0f), -kInf};
  SamplingRng rng(7);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 4000; ++i) ++counts[sample_token(logits.data(), 3, 1.0, rng)];
  EXPECT_EQ(counts[2], 0);  // -inf is never drawn
  EXPECT_NEAR(counts[1] / 4000.0, 0.75, 0.03);
  // A low temperature sharpens towards the argmax.
  int sharp = 0;
  for (int i = 0; i < 1000; ++i) sharp += sample_token(logits.data(), 3, 0.1, rng) == 1;
  EXPECT_GT(sharp, 990);
}

TEST(GreedyDecoder, FinishedSequencesStayFinishedAndStopSumming) {
  SamplingRng rng(0);
  GreedyDecoder decoder(0.0, kEot, rng, 2);
  std::vector<Sequence> sequences = {{1, 2}, {1, kEot}};
  std::vector<double> sums = {0.0, -1.0};
  auto logits = flat(0.0f);
  logits[4] = 10.0f;
  std::vector<float> both = logits;
  both.insert(both.end(), logits.begin(), logits.end());
  EXPECT_FALSE(decoder.update(sequences, both.data(), kVocab, sums));
  EXPECT_EQ(sequences[0].back(), 4);
  EXPECT_EQ(sequences[1].back(), kEot);
  EXPECT_NEAR(sums[0], log_softmax_at(logits.data(), kVocab, 4), 1e-12);
  EXPECT_EQ(sums[1], -1.0);
}

// Log-probabilities as logits (already normalised rows make the arithmetic visible).
std::vector<float> row(std::initializer_list<std::pair<int, double>> probs) {
  std::vector<float> logits(kVocab, -kInf);
  for (auto [token, p] : probs) logits[token] = static_cast<float>(std::log(p));
  return logits;
}

TEST(BeamSearch, IdenticalStartingBeamsCountOnceAndBestContinuationsSurvive) {
  BeamSearchDecoder decoder(2, kEot, 1.0);
  std::vector<Sequence> beams = {{1}, {1}};
  std::vector<double> sums = {0.0, 0.0};
  auto r = row({{3, 0.5}, {4, 0.3}, {5, 0.2}});
  std::vector<float> logits = r;
  logits.insert(logits.end(), r.begin(), r.end());
  EXPECT_FALSE(decoder.update(beams, logits.data(), kVocab, sums));
  ASSERT_EQ(beams.size(), 2u);
  EXPECT_EQ(beams[0], (Sequence{1, 3}));
  EXPECT_EQ(beams[1], (Sequence{1, 4}));  // not a second copy of {1, 3}
  EXPECT_NEAR(sums[0], std::log(0.5), 1e-6);
  EXPECT_NEAR(sums[1], std::log(0.3), 1e-6);
}

TEST(BeamSearch, FinishedCandidatesAreCollectedUntilPatienceIsMet) {
  // Patience 1.5 with 2 beams: 3 finished candidates are needed.
  BeamSearchDecoder decoder(2, kEot, 1.5);
  std::vector<Sequence> beams = {{1, 3}, {1, 4}};
  std::vector<double> sums = {std::log(0.5), std::log(0.3)};
  // Candidates by score: {1,3,eot} .45, {1,4,8} .18, {1,4,eot} .12, {1,3,6} .025, ...
  auto r0 = row({{kEot, 0.9}, {6, 0.05}, {7, 0.05}});
  auto r1 = row({{8, 0.6}, {kEot, 0.4}});
  std::vector<float> logits = r0;
  logits.insert(logits.end(), r1.begin(), r1.end());
  EXPECT_FALSE(decoder.update(beams, logits.data(), kVocab, sums));
  EXPECT_EQ(decoder.source(), (std::vector<int>{1, 0}));
  EXPECT_EQ(beams[0], (Sequence{1, 4, 8}));
  EXPECT_EQ(beams[1], (Sequence{1, 3, 6}));
  EXPECT_NEAR(sums[1], std::log(0.5 * 0.05), 1e-6);
  // One more finished candidate completes the search.
  auto end = row({{kEot, 1.0}});
  logits = end;
  logits.insert(logits.end(), end.begin(), end.end());
  EXPECT_TRUE(decoder.update(beams, logits.data(), kVocab, sums));
  const Candidates c = decoder.finalize(beams, sums);
  ASSERT_EQ(c.sequences.size(), 3u);
  EXPECT_EQ(c.sequences[0], (Sequence{1, 3, kEot}));
  EXPECT_NEAR(c.sum_logprobs[0], std::log(0.45), 1e-6);
  EXPECT_EQ(c.sequences[1], (Sequence{1, 4, kEot}));
  EXPECT_EQ(c.sequences[2], (Sequence{1, 4, 8, kEot}));
}

TEST(BeamSearch, FinalizeFillsWithTheBestUnfinishedBeams) {
  BeamSearchDecoder decoder(2, kEot, 1.0);
  const Candidates c = decoder.finalize({{1, 5}, {1, 6}}, {-2.0, -1.0});
  ASSERT_EQ(c.sequences.size(), 2u);
  EXPECT_EQ(c.sequences[0], (Sequence{1, 6, kEot}));
  EXPECT_EQ(c.sequences[1], (Sequence{1, 5, kEot}));
}

// openai-whisper's BeamSearchDecoder.update for one audio, written as plainly as the Python (an
// insertion-ordered dict of continuations, a stable sort): the reference for the decoder's
// buffer-reusing implementation.
struct ReferenceBeamSearch {
  int beam_size, eot, max_candidates;
  std::vector<Sequence> finished;
  std::vector<double> finished_sums;

  bool update(std::vector<Sequence>& beams, const float* logits, int n_vocab, std::vector<double>& sums) {
    struct Entry {
      Sequence sequence;
      double score;
      int source;
    };
    std::vector<Entry> scores;  // a Python dict: first insertion fixes the position, later ones the value
    for (size_t b = 0; b < beams.size(); ++b) {
      const float* row = logits + b * n_vocab;
      std::vector<int> ids(n_vocab);
      std::iota(ids.begin(), ids.end(), 0);
      std::stable_sort(ids.begin(), ids.end(), [&](int x, int y) { return row[x] > row[y]; });
      const double log_sum = log_sum_exp(row, n_vocab);
      for (int j = 0; j < beam_size + 1; ++j) {
        Sequence sequence = beams[b];
        sequence.push_back(ids[j]);
        const double score = sums[b] + (static_cast<double>(row[ids[j]]) - log_sum);
        auto same = std::find_if(scores.begin(), scores.end(), [&](const Entry& e) { return e.sequence == sequence; });
        if (same == scores.end()) {
          scores.push_back({sequence, score, static_cast<int>(b)});
        } else {
          same->score = score;
          same->source = static_cast<int>(b);
        }
      }
    }
    std::stable_sort(scores.begin(), scores.end(), [](const Entry& x, const Entry& y) { return x.score > y.score; });
    std::vector<Sequence> next;
    std::vector<Entry> newly_finished;
    for (const Entry& e : scores) {
      if (e.sequence.back() == eot) {
        newly_finished.push_back(e);
      } else {
        sums[next.size()] = e.score;
        next.push_back(e.sequence);
        if (static_cast<int>(next.size()) == beam_size) break;
      }
    }
    for (const Entry& e : newly_finished) {
      if (static_cast<int>(finished.size()) >= max_candidates) break;
      finished.push_back(e.sequence);
      finished_sums.push_back(e.score);
    }
    beams = next;
    return static_cast<int>(finished.size()) >= max_candidates;
  }
};

TEST(BeamSearch, MatchesThePlainAlgorithmStepForStep) {
  // Coarse random logits (many ties), so that continuations tie and candidates finish; 3 beams
  // with patience 2 collect 6 finished candidates. As from a model, a row depends only on its
  // sequence (identical beams get identical rows).
  constexpr int kBeams = 3, kMaxLength = 64;
  std::uniform_int_distribution<int> level(-6, 2);
  auto fill_row = [&](const Sequence& sequence, int trial, float* row) {
    std::seed_seq seed(sequence.begin(), sequence.end());
    std::mt19937 random(seed);
    random.discard(trial);
    for (int i = 0; i < kVocab; ++i) row[i] = 0.5f * static_cast<float>(level(random));
  };
  int completed_trials = 0;
  for (int trial = 0; trial < 20; ++trial) {
    BeamSearchDecoder decoder(kBeams, kEot, 2.0, trial % 2 == 0 ? kMaxLength : 0);
    ReferenceBeamSearch reference{kBeams, kEot, 6, {}, {}};
    std::vector<Sequence> beams(kBeams, Sequence{1, 2}), expected_beams = beams;
    for (Sequence& s : beams) s.reserve(kMaxLength);
    std::vector<double> sums(kBeams, 0.0), expected_sums = sums;
    for (int step = 0; step + 3 < kMaxLength; ++step) {
      std::vector<float> logits(static_cast<size_t>(kBeams) * kVocab);
      for (int b = 0; b < kBeams; ++b) fill_row(beams[b], trial, logits.data() + static_cast<size_t>(b) * kVocab);
      const bool done = decoder.update(beams, logits.data(), kVocab, sums);
      const bool expected_done = reference.update(expected_beams, logits.data(), kVocab, expected_sums);
      ASSERT_EQ(beams, expected_beams) << "trial " << trial << " step " << step;
      ASSERT_EQ(sums, expected_sums) << "trial " << trial << " step " << step;
      ASSERT_EQ(done, expected_done);
      completed_trials += done;
      if (done) break;
    }
    const Candidates candidates = decoder.finalize(beams, sums);
    const size_t n_finished = reference.finished.size();
    ASSERT_GE(candidates.sequences.size(), n_finished);
    for (size_t i = 0; i < n_finished; ++i) {
      EXPECT_EQ(candidates.sequences[i], reference.finished[i]);
      EXPECT_EQ(candidates.sum_logprobs[i], reference.finished_sums[i]);
    }
  }
  EXPECT_GT(completed_trials, 10);  // most searches end by collecting enough finished candidates
}

TEST(Ranking, LengthNormalisedOrGoogleNmtPenalty) {
  // Longer candidate with a lower sum but a better average.
  const std::vector<int> lengths = {2, 10};
  const std::vector<double> sums = {-1.0, -4.0};
  EXPECT_EQ(rank_candidates(lengths, sums, std::nullopt), 1);  // -0.5 vs -0.4
  EXPECT_EQ(rank_candidates(lengths, sums, 0.0), 0);           // penalty 1: raw sums
  // alpha 1: -1/(7/6) = -0.857 vs -4/(15/6) = -1.6
  EXPECT_EQ(rank_candidates(lengths, sums, 1.0), 0);
}

TEST(WindowSplit, ConsecutiveTimestampsCloseSegments) {
  // <|0.00|> a b <|1.00|><|1.00|> c <|2.00|>   (timestamps begin at 100, 0.02 s each)
  const int ts = 100;
  const auto split = split_window({ts, 1, 2, ts + 50, ts + 50, 3, ts + 100}, ts, 30.0, 3000);
  ASSERT_EQ(split.segments.size(), 2u);
  EXPECT_TRUE(split.single_timestamp_ending);
  EXPECT_DOUBLE_EQ(split.segments[0].start, 30.0);
  EXPECT_DOUBLE_EQ(split.segments[0].end, 31.0);
  EXPECT_DOUBLE_EQ(split.segments[1].start, 31.0);
  EXPECT_DOUBLE_EQ(split.segments[1].end, 32.0);
  EXPECT_EQ(split.seek_advance, 3000);
  // Ending on a pair: the next window starts at the last timestamp (2 mel frames per step).
  const auto paired = split_window({ts, 1, ts + 50, ts + 50, 3, ts + 70, ts + 70}, ts, 0.0, 3000);
  EXPECT_FALSE(paired.single_timestamp_ending);
  EXPECT_EQ(paired.segments.size(), 2u);
  EXPECT_EQ(paired.seek_advance, 140);
}

TEST(WindowSplit, NoPairMakesOneSegmentUpToTheLastTimestamp) {
  const int ts = 100;
  auto split = split_window({ts, 1, 2, ts + 40}, ts, 0.0, 1000);
  ASSERT_EQ(split.segments.size(), 1u);
  EXPECT_DOUBLE_EQ(split.segments[0].end, 0.8);
  EXPECT_EQ(split.seek_advance, 1000);
  split = split_window({1, 2}, ts, 5.0, 1000);  // no timestamps: the window's duration
  EXPECT_DOUBLE_EQ(split.segments[0].end, 15.0);
}

TEST(QualityGates, FallbackAndSilenceDecisions) {
  TranscribeOptions o;  // 2.4, -1.0, 0.6
  DecodingResult r;
  r.compression_ratio = 1.5;
  r.avg_logprob = -0.5;
  r.no_speech_prob = 0.1;
  EXPECT_FALSE(needs_fallback(r, o));
  r.compression_ratio = 2.5;
  EXPECT_TRUE(needs_fallback(r, o));
  r.compression_ratio = 1.5;
  r.avg_logprob = -1.5;
  EXPECT_TRUE(needs_fallback(r, o));
  r.no_speech_prob = 0.9;  // silence: no retry, the window is skipped instead
  EXPECT_FALSE(needs_fallback(r, o));
  EXPECT_TRUE(is_silent_window(r, o));
  r.avg_logprob = -0.5;  // confident text despite the no-speech probability
  EXPECT_FALSE(is_silent_window(r, o));
  o.no_speech_threshold.reset();
  r.avg_logprob = -1.5;
  EXPECT_FALSE(is_silent_window(r, o));
  EXPECT_TRUE(needs_fallback(r, o));
}

TEST(Hallucination, AnomalyScoreOfImprobableShortWords) {
  Segment s;
  s.words = {{" a", 0.0, 0.05, 0.1, {}}, {" b", 0.05, 0.1, 0.1, {}}};
  EXPECT_TRUE(is_segment_anomaly(&s));
  s.words = {{" hello", 0.0, 0.5, 0.9, {}}, {" world", 0.5, 1.0, 0.8, {}}};
  EXPECT_FALSE(is_segment_anomaly(&s));
  EXPECT_FALSE(is_segment_anomaly(nullptr));
  EXPECT_NEAR(word_anomaly_score({" x", 0.0, 3.0, 0.5, {}}), 1.0, 1e-12);
}

TEST(PythonTail, SliceSemanticsOfOpenaiTruncation) {
  const std::vector<int> t = {1, 2, 3, 4};
  EXPECT_EQ(python_tail(t, 2), (std::vector<int>{3, 4}));
  EXPECT_EQ(python_tail(t, 9), t);
  EXPECT_EQ(python_tail(t, 0), t);  // t[-0:] is the whole list
  EXPECT_EQ(python_tail(t, -1), (std::vector<int>{2, 3, 4}));
  EXPECT_TRUE(python_tail(t, -9).empty());
}

TEST(ClipTimestamps, PairsInFramesAndAnOpenEnd) {
  auto clips = seek_clips("0", 5000);
  ASSERT_EQ(clips.size(), 1u);
  EXPECT_EQ(clips[0], (std::pair<int, int>{0, 5000}));
  clips = seek_clips("1.5,3,10", 5000);
  ASSERT_EQ(clips.size(), 2u);
  EXPECT_EQ(clips[0], (std::pair<int, int>{150, 300}));
  EXPECT_EQ(clips[1], (std::pair<int, int>{1000, 5000}));
  EXPECT_THROW(seek_clips("1,x", 5000), Error);
  EXPECT_THROW(seek_clips("-1", 5000), Error);
}

}  // namespace
}  // namespace wisp
