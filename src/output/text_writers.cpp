// WriteTXT and WriteTSV: one line per segment.
#include <string>

#include "output/python_text.h"
#include "output/timestamp_format.h"
#include "output/writers.h"

namespace wisp::output {

std::string write_txt(const TranscribeResult& result) {
  std::string out;
  for (const Segment& segment : result.segments) out += python_strip(valid_utf8(segment.text)) + "\n";
  return out;
}

// Times are integer milliseconds, so no locale can turn the decimal point into a comma.
std::string write_tsv(const TranscribeResult& result) {
  std::string out = "start\tend\ttext\n";
  for (const Segment& segment : result.segments) {
    out += std::to_string(python_round(1000 * segment.start)) + "\t";
    out += std::to_string(python_round(1000 * segment.end)) + "\t";
    out += replace_all(python_strip(valid_utf8(segment.text)), "\t", " ") + "\n";
  }
  return out;
}

}  // namespace wisp::output
