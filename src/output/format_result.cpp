// The format names and the dispatch from a name to its writer.
#include <string>

#include "output/writers.h"
#include "wisp/error.h"
#include "wisp/output.h"

namespace wisp {

const std::vector<std::string>& output_formats() {
  static const std::vector<std::string> formats = {"txt", "vtt", "srt", "tsv", "json"};
  return formats;
}

std::string format_result(const TranscribeResult& result, std::string_view format, const WriterOptions& options) {
  if (format == "txt") return output::write_txt(result);
  if (format == "vtt") return output::write_vtt(result, options);
  if (format == "srt") return output::write_srt(result, options);
  if (format == "tsv") return output::write_tsv(result);
  if (format == "json") return output::write_json(result);
  throw Error("unknown output format '" + std::string(format) + "'; choose one of: txt, vtt, srt, tsv, json");
}

}  // namespace wisp
