// wisp/output.h - writing transcription results in openai-whisper's output formats.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wisp/transcribe.h"

namespace wisp {

// Subtitle layout options of openai-whisper's writers (the line options need word timestamps).
struct WriterOptions {
  bool highlight_words = false;             // srt/vtt: underline each word as it is spoken
  std::optional<int> max_line_width;        // characters per line before a break
  std::optional<int> max_line_count;        // lines per subtitle cue
  std::optional<int> max_words_per_line;    // words per line (ignored with max_line_width)
};

// Formats this build can write: txt, vtt, srt, tsv, json ("all" is accepted by write_outputs).
const std::vector<std::string>& output_formats();

// Renders `result` as `format` exactly as openai-whisper's writer of that name would.
// Throws wisp::Error for unknown formats.
std::string format_result(const TranscribeResult& result, std::string_view format,
                          const WriterOptions& options = {});

// Writes OUTPUT_DIR/STEM.EXT for `format` (or every format for "all"), STEM being the audio
// path's file name without its extension. Returns the paths written. Throws wisp::Error when a
// file cannot be written.
std::vector<std::string> write_outputs(const TranscribeResult& result, const std::string& audio_path,
                                       const std::string& output_dir, std::string_view format,
                                       const WriterOptions& options = {});

}  // namespace wisp
