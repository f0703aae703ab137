// Turning one window's decoded tokens into segments, and the word-timing heuristics of
// openai-whisper's transcribe() loop that decide where the next window starts.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "wisp/transcribe.h"

namespace wisp {

struct WindowSplit {
  std::vector<Segment> segments;  // start/end/tokens set; text and scores left to the caller
  bool single_timestamp_ending = false;
  int seek_advance = 0;  // mel frames to move `seek` by
};

// Splits `tokens` (the sampled tokens of a window starting at `time_offset` seconds, covering
// `segment_size` mel frames) at consecutive timestamp tokens, as openai-whisper does.
WindowSplit split_window(const std::vector<int>& tokens, int timestamp_begin, double time_offset, int segment_size);

// openai-whisper's hallucination heuristics (with word timestamps): a segment whose first words
// are improbable, very short or very long.
double word_anomaly_score(const WordTiming& word);
bool is_segment_anomaly(const Segment* segment);

// Python's round(x) for the frame arithmetic: halves go to the even neighbour.
int round_half_even(double x);

inline constexpr double kTimePrecision = 0.02;  // seconds per timestamp token
inline constexpr int kInputStride = 2;          // mel frames per audio position
inline constexpr int kFramesPerSecond = 100;

}  // namespace wisp
