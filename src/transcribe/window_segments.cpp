#include "transcribe/window_segments.h"

#include <cmath>
#include <string_view>

#include "wisp/audio.h"

namespace wisp {

int round_half_even(double x) { return static_cast<int>(std::nearbyint(x)); }

WindowSplit split_window(const std::vector<int>& tokens, int timestamp_begin, double time_offset, int segment_size) {
  WindowSplit split;
  const size_t n = tokens.size();
  auto is_timestamp = [&](size_t i) { return tokens[i] >= timestamp_begin; };
  split.single_timestamp_ending = n >= 2 && !is_timestamp(n - 2) && is_timestamp(n - 1);

  std::vector<size_t> slices;  // ends of segments: just after each consecutive timestamp pair
  for (size_t i = 0; i + 1 < n; ++i) {
    if (is_timestamp(i) && is_timestamp(i + 1)) slices.push_back(i + 1);
  }
  auto make_segment = [&](size_t begin, size_t end, double start, double stop) {
    Segment s;
    s.start = start;
    s.end = stop;
    s.tokens.assign(tokens.begin() + static_cast<long>(begin), tokens.begin() + static_cast<long>(end));
    split.segments.push_back(std::move(s));
  };

  if (!slices.empty()) {
    if (split.single_timestamp_ending) slices.push_back(n);
    size_t last_slice = 0;
    for (size_t current : slices) {
      const int start_pos = tokens[last_slice] - timestamp_begin;
      const int end_pos = tokens[current - 1] - timestamp_begin;
      make_segment(last_slice, current, time_offset + start_pos * kTimePrecision,
                   time_offset + end_pos * kTimePrecision);
      last_slice = current;
    }
    if (split.single_timestamp_ending) {
      split.seek_advance = segment_size;
    } else {
      // Ends on a pair: the next window starts at the last timestamp.
      split.seek_advance = (tokens[last_slice - 1] - timestamp_begin) * kInputStride;
    }
  } else {
    double duration = static_cast<double>(segment_size) * kHopLength / kSampleRate;
    int last_timestamp = -1;
    for (int t : tokens) {
      if (t >= timestamp_begin) last_timestamp = t;
    }
    if (last_timestamp >= 0 && last_timestamp != timestamp_begin) {
      duration = (last_timestamp - timestamp_begin) * kTimePrecision;
    }
    make_segment(0, n, time_offset, time_offset + duration);
    split.seek_advance = segment_size;
  }
  return split;
}

double word_anomaly_score(const WordTiming& word) {
  const double duration = word.end - word.start;
  double score = 0.0;
  if (word.probability < 0.15) score += 1.0;
  if (duration < 0.133) score += (0.133 - duration) * 15;
  if (duration > 2.0) score += duration - 2.0;
  return score;
}

bool is_segment_anomaly(const Segment* segment) {
  if (segment == nullptr || segment->words.empty()) return false;
  // openai-whisper tests `word not in punctuation`: a substring test on this string.
  static constexpr std::string_view kPunctuation = "\"'\u201c\u00bf([{-\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001";
  double score = 0.0;
  int counted = 0;
  for (const WordTiming& w : segment->words) {
    if (kPunctuation.find(w.word) != std::string_view::npos) continue;
    score += word_anomaly_score(w);
    if (++counted == 8) break;
  }
  return score >= 3 || score + 0.01 >= counted;
}

}  // namespace wisp
