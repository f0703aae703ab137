// WriteJSON: json.dump(result) of openai-whisper's result dict, keys in its order.
#include <algorithm>
#include <string>

#include "output/python_json.h"
#include "output/writers.h"

namespace wisp::output {
namespace {

std::string json_word(const WordTiming& w) {
  return "{\"word\": " + json_string(w.word) + ", \"start\": " + json_float(w.start) +
         ", \"end\": " + json_float(w.end) + ", \"probability\": " + json_float(w.probability) + "}";
}

// `with_words`: the result was made with word timestamps, so every segment has a "words" list.
std::string json_segment(const Segment& s, bool with_words) {
  std::string out = "{\"id\": " + std::to_string(s.id) + ", \"seek\": " + std::to_string(s.seek) +
                    ", \"start\": " + json_float(s.start) + ", \"end\": " + json_float(s.end) +
                    ", \"text\": " + json_string(s.text) + ", \"tokens\": [";
  for (size_t i = 0; i < s.tokens.size(); ++i) out += (i ? ", " : "") + std::to_string(s.tokens[i]);
  out += "], \"temperature\": " + json_float(s.temperature) + ", \"avg_logprob\": " + json_float(s.avg_logprob) +
         ", \"compression_ratio\": " + json_float(s.compression_ratio) +
         ", \"no_speech_prob\": " + json_float(s.no_speech_prob);
  if (with_words) {
    out += ", \"words\": [";
    for (size_t i = 0; i < s.words.size(); ++i) out += (i ? ", " : "") + json_word(s.words[i]);
    out += "]";
  }
  return out + "}";
}

}  // namespace

std::string write_json(const TranscribeResult& result) {
  const bool with_words = std::any_of(result.segments.begin(), result.segments.end(),
                                      [](const Segment& s) { return !s.words.empty(); });
  std::string out = "{\"text\": " + json_string(result.text) + ", \"segments\": [";
  for (size_t i = 0; i < result.segments.size(); ++i) {
    out += (i ? ", " : "") + json_segment(result.segments[i], with_words);
  }
  out += "], \"language\": " + json_string(result.language);
  if (!result.language_probs.empty()) {
    out += ", \"language_probs\": {";
    for (size_t i = 0; i < result.language_probs.size(); ++i) {
      const auto& [code, probability] = result.language_probs[i];
      out += (i ? ", " : "") + json_string(code) + ": " + json_float(probability);
    }
    out += "}";
  }
  return out + "}";
}

}  // namespace wisp::output
