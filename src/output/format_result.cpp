#include <nlohmann/json.hpp>

#include "common/text.h"
#include "wisp/error.h"
#include "wisp/output.h"

namespace wisp {

const std::vector<std::string>& output_formats() {
  static const std::vector<std::string> formats = {"txt", "json"};
  return formats;
}

static std::string to_txt(const TranscribeResult& result) {
  std::string out;
  for (const Segment& s : result.segments) out += strip(s.text) + "\n";
  return out;
}

static std::string to_json(const TranscribeResult& result) {
  nlohmann::ordered_json j;
  j["text"] = result.text;
  nlohmann::ordered_json segments = nlohmann::ordered_json::array();
  for (const Segment& s : result.segments) {
    segments.push_back({{"id", s.id},
                        {"seek", s.seek},
                        {"start", s.start},
                        {"end", s.end},
                        {"text", s.text},
                        {"tokens", s.tokens},
                        {"temperature", s.temperature},
                        {"avg_logprob", s.avg_logprob},
                        {"compression_ratio", s.compression_ratio},
                        {"no_speech_prob", s.no_speech_prob}});
  }
  j["segments"] = segments;
  j["language"] = result.language;
  if (!result.language_probs.empty()) {
    nlohmann::ordered_json probs = nlohmann::ordered_json::object();
    for (const auto& [code, p] : result.language_probs) probs[code] = p;
    j["language_probs"] = probs;
  }
  // Invalid UTF-8 (possible from a random or damaged model) is replaced, never a crash.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string format_result(const TranscribeResult& result, std::string_view format) {
  if (format == "txt") return to_txt(result);
  if (format == "json") return to_json(result);
  throw Error("unknown output format '" + std::string(format) + "'; choose one of: txt, json");
}

}  // namespace wisp
