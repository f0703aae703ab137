// openai-whisper's SubtitlesWriter.iterate_result: the cues of a vtt or srt file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wisp/output.h"

namespace wisp::output {

struct SubtitleCue {
  std::string start, end;  // formatted timestamps
  std::string text;
};

// Without word timings every segment is one cue (stripped text, "-->" written "->"). With them,
// words are regrouped into cues by max_line_width / max_line_count / max_words_per_line, and
// highlight_words underlines each word in a cue of its own. Throws wisp::Error for a negative
// max_words_per_line (openai-whisper would loop forever).
std::vector<SubtitleCue> subtitle_cues(const TranscribeResult& result, const WriterOptions& options,
                                       bool always_include_hours, std::string_view decimal_marker);

// re.sub(r"^(\s*)(.*)$", r"\1<u>\2</u>", word): `word` underlined after its leading whitespace.
std::string underline_word(std::string_view word);

}  // namespace wisp::output
