#include "output/subtitles.h"

#include <algorithm>
#include <optional>

#include "output/python_text.h"
#include "output/timestamp_format.h"
#include "wisp/error.h"

namespace wisp::output {
namespace {

struct TimedWord {
  std::string word;  // valid UTF-8; a line's first word is stripped and may start with "\n"
  double start = 0, end = 0;
};
using Subtitle = std::vector<TimedWord>;

// Python's `value or fallback` on an Optional[int]: 0 counts as unset.
std::optional<int> set_value(const std::optional<int>& value) {
  if (value && *value == 0) return std::nullopt;
  return value;
}

bool has_word_timings(const TranscribeResult& result) {
  return std::any_of(result.segments.begin(), result.segments.end(),
                     [](const Segment& s) { return !s.words.empty(); });
}

// The first word's start, else the first segment's start (openai's get_start).
double first_start(const TranscribeResult& result) {
  for (const Segment& s : result.segments) {
    if (!s.words.empty()) return s.words.front().start;
  }
  return result.segments.front().start;
}

// iterate_subtitles(): words grouped into subtitles, line breaks written into the words.
std::vector<Subtitle> group_words(const TranscribeResult& result, const WriterOptions& options) {
  const std::optional<int> max_line_count = set_value(options.max_line_count);
  const std::optional<int> max_line_width_option = set_value(options.max_line_width);
  const bool preserve_segments = !max_line_count || !max_line_width_option;
  const int64_t max_line_width = max_line_width_option.value_or(1000);
  const int64_t max_words_per_line = set_value(options.max_words_per_line).value_or(1000);
  if (max_words_per_line < 0) {
    throw Error("max_words_per_line must be a positive number of words, not " + std::to_string(max_words_per_line));
  }

  std::vector<Subtitle> subtitles;
  Subtitle subtitle;
  int64_t line_len = 0;
  int64_t line_count = 1;
  double last = first_start(result);
  for (const Segment& segment : result.segments) {
    const size_t n = segment.words.size();
    for (size_t chunk = 0; chunk < n; chunk += static_cast<size_t>(max_words_per_line)) {
      const size_t chunk_end = std::min(n, chunk + static_cast<size_t>(max_words_per_line));
      for (size_t k = chunk; k < chunk_end; ++k) {
        const WordTiming& original = segment.words[k];
        TimedWord timing{valid_utf8(original.word), original.start, original.end};
        const auto word_len = static_cast<int64_t>(python_len(timing.word));
        const bool long_pause = !preserve_segments && timing.start - last > 3.0;
        const bool has_room = line_len + word_len <= max_line_width;
        // Each chunk of max_words_per_line words (so each segment) starts a new subtitle.
        const bool seg_break = k == chunk && !subtitle.empty() && preserve_segments;
        if (line_len > 0 && has_room && !long_pause && !seg_break) {
          line_len += word_len;  // the line continues
        } else {
          timing.word = python_strip(timing.word);
          if ((!subtitle.empty() && max_line_count && (long_pause || line_count >= *max_line_count)) ||
              seg_break) {
            subtitles.push_back(std::move(subtitle));
            subtitle.clear();
            line_count = 1;
          } else if (line_len > 0) {
            ++line_count;
            timing.word = "\n" + timing.word;
          }
          line_len = static_cast<int64_t>(python_len(python_strip(timing.word)));
        }
        last = timing.start;
        subtitle.push_back(std::move(timing));
      }
    }
  }
  if (!subtitle.empty()) subtitles.push_back(std::move(subtitle));
  return subtitles;
}

}  // namespace

std::string underline_word(std::string_view word) {
  const std::u32string cps = utf8_to_code_points(word);
  size_t body = 0;
  while (body < cps.size() && python_isspace(cps[body])) ++body;
  std::u32string_view rest = std::u32string_view(cps).substr(body);
  std::u32string_view after;  // `$` also matches just before a final "\n"
  const size_t newline = rest.find(U'\n');
  if (newline != std::u32string_view::npos) {
    if (newline + 1 != rest.size()) return code_points_to_utf8(cps);  // "." cannot cross it: no match
    after = rest.substr(newline);
    rest = rest.substr(0, newline);
  }
  return code_points_to_utf8(std::u32string_view(cps).substr(0, body)) + "<u>" + code_points_to_utf8(rest) +
         "</u>" + code_points_to_utf8(after);
}

std::vector<SubtitleCue> subtitle_cues(const TranscribeResult& result, const WriterOptions& options,
                                       bool always_include_hours, std::string_view decimal_marker) {
  const auto timestamp = [&](double seconds) {
    return format_timestamp(seconds, always_include_hours, decimal_marker);
  };
  std::vector<SubtitleCue> cues;
  if (!has_word_timings(result)) {
    for (const Segment& segment : result.segments) {
      cues.push_back({timestamp(segment.start), timestamp(segment.end),
                      replace_all(python_strip(valid_utf8(segment.text)), "-->", "->")});
    }
    return cues;
  }
  for (const Subtitle& subtitle : group_words(result, options)) {
    const std::string subtitle_start = timestamp(subtitle.front().start);
    std::string subtitle_text;
    for (const TimedWord& w : subtitle) subtitle_text += w.word;
    if (!options.highlight_words) {
      cues.push_back({subtitle_start, timestamp(subtitle.back().end), subtitle_text});
      continue;
    }
    std::string last = subtitle_start;
    for (size_t i = 0; i < subtitle.size(); ++i) {
      const std::string start = timestamp(subtitle[i].start);
      const std::string end = timestamp(subtitle[i].end);
      if (last != start) cues.push_back({last, start, subtitle_text});  // the gap before this word
      std::string text;
      for (size_t j = 0; j < subtitle.size(); ++j) text += j == i ? underline_word(subtitle[j].word) : subtitle[j].word;
      cues.push_back({start, end, std::move(text)});
      last = end;
    }
  }
  return cues;
}

}  // namespace wisp::output
