#include "transcribe/option_checks.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "wisp/error.h"

namespace wisp {

namespace {

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// Parses a comma-separated list with `parse`, skipping blank items.
template <typename T, typename Parse>
std::vector<T> parse_list(const std::string& text, Parse parse) {
  std::vector<T> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.find_first_not_of(" \t") == std::string::npos) continue;
    size_t used = 0;
    T value{};
    try {
      value = parse(item, &used);
    } catch (const std::exception&) {
      throw std::invalid_argument(item);
    }
    if (item.find_first_not_of(" \t", used) != std::string::npos) throw std::invalid_argument(item);
    values.push_back(value);
  }
  return values;
}

}  // namespace

void check_options(const TranscribeOptions& options, const Model& model) {
  if (options.task != "transcribe" && options.task != "translate") {
    throw Error("--task must be 'transcribe' or 'translate', got '" + options.task + "'");
  }
  if (options.temperatures.empty()) throw Error("--temperature: at least one temperature is needed");
  for (double t : options.temperatures) {
    if (!std::isfinite(t) || t < 0.0) {
      throw Error("--temperature must be 0 (greedy) or positive, got " + number(t));
    }
  }
  if (options.beam_size && *options.beam_size < 1) {
    throw Error("--beam_size must be at least 1, got " + std::to_string(*options.beam_size));
  }
  if (options.best_of && *options.best_of < 1) {
    throw Error("--best_of must be at least 1, got " + std::to_string(*options.best_of));
  }
  if (options.patience) {
    if (!options.beam_size) throw Error("--patience needs --beam_size (it only applies to beam search)");
    if (!(*options.patience > 0.0) || std::lround(*options.beam_size * *options.patience) < 1) {
      throw Error("--patience must be positive and leave beam_size * patience >= 1, got " + number(*options.patience));
    }
  }
  if (options.length_penalty && !(*options.length_penalty >= 0.0 && *options.length_penalty <= 1.0)) {
    throw Error("--length_penalty must be between 0 and 1, got " + number(*options.length_penalty));
  }
  const int max_sample_len = model.dims().n_text_ctx / 2;
  if (options.sample_len < 0 || options.sample_len > max_sample_len) {
    throw Error("sample_len must be between 1 and " + std::to_string(max_sample_len));
  }
  if (options.max_initial_timestamp && !(*options.max_initial_timestamp >= 0.0)) {
    throw Error("max_initial_timestamp must be 0 or positive");
  }
  if (options.hallucination_silence_threshold && !(*options.hallucination_silence_threshold >= 0.0)) {
    throw Error("--hallucination_silence_threshold must be 0 or positive seconds");
  }
  if (options.threads < 0) throw Error("--threads must be 0 (all cores) or positive");
  seek_clips(options.clip_timestamps, 0);  // syntax only
}

std::vector<int> suppressed_tokens(const std::string& option, const Model& model) {
  std::vector<int> ids;
  try {
    ids = parse_list<int>(option, [](const std::string& s, size_t* used) { return std::stoi(s, used); });
  } catch (const std::exception& e) {
    throw Error("--suppress_tokens: '" + std::string(e.what()) + "' is not a token id list (expected e.g. \"-1\" or \"-1,123,456\")");
  }
  std::vector<int> result;
  for (int id : ids) {
    if (id == -1) {
      const auto& defaults = model.info().suppress_tokens;
      result.insert(result.end(), defaults.begin(), defaults.end());
    } else if (id < 0 || id >= model.dims().n_vocab) {
      throw Error("--suppress_tokens: token id " + std::to_string(id) + " is outside the vocabulary");
    } else {
      result.push_back(id);
    }
  }
  const SpecialTokens& s = model.tokenizer().special();
  result.insert(result.end(), {s.transcribe, s.translate, s.sot, s.sot_prev, s.sot_lm, s.no_speech});
  result.erase(std::remove(result.begin(), result.end(), -1), result.end());
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

std::vector<std::pair<int, int>> seek_clips(const std::string& clip_timestamps, int content_frames) {
  std::vector<double> seconds;
  try {
    seconds = parse_list<double>(clip_timestamps, [](const std::string& s, size_t* used) { return std::stod(s, used); });
  } catch (const std::exception&) {
    throw Error("--clip_timestamps: '" + clip_timestamps +
                "' is not a comma-separated list of seconds (e.g. \"0\" or \"10,20,35\")");
  }
  std::vector<int> points;
  for (double s : seconds) {
    if (!std::isfinite(s) || s < 0.0) throw Error("--clip_timestamps: times must be 0 or positive seconds");
    points.push_back(static_cast<int>(std::nearbyint(s * 100.0)));  // Python's round(): half to even
  }
  if (points.empty()) points.push_back(0);
  if (points.size() % 2 == 1) points.push_back(content_frames);
  std::vector<std::pair<int, int>> clips;
  for (size_t i = 0; i < points.size(); i += 2) clips.emplace_back(points[i], points[i + 1]);
  return clips;
}

}  // namespace wisp
