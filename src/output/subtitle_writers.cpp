// WriteVTT and WriteSRT: the same cues, with different headers, numbering and timestamps.
#include <string>

#include "output/subtitles.h"
#include "output/writers.h"

namespace wisp::output {

std::string write_vtt(const TranscribeResult& result, const WriterOptions& options) {
  std::string out = "WEBVTT\n\n";
  for (const SubtitleCue& cue : subtitle_cues(result, options, /*always_include_hours=*/false, ".")) {
    out += cue.start + " --> " + cue.end + "\n" + cue.text + "\n\n";
  }
  return out;
}

std::string write_srt(const TranscribeResult& result, const WriterOptions& options) {
  std::string out;
  int index = 1;
  for (const SubtitleCue& cue : subtitle_cues(result, options, /*always_include_hours=*/true, ",")) {
    out += std::to_string(index++) + "\n" + cue.start + " --> " + cue.end + "\n" + cue.text + "\n\n";
  }
  return out;
}

}  // namespace wisp::output
