#include "transcribe/word_timing.h"

#include <algorithm>
#include <cmath>

#include "common/py_round.h"
#include "wisp/audio.h"
#include "wisp/error.h"

namespace wisp {
namespace {

constexpr double kTokensPerSecond = 50.0;  // audio positions per second (openai's TOKENS_PER_SECOND)

bool contains(std::string_view haystack, std::string_view needle) {
  // Python's `needle in haystack` on str; byte search is the same on valid UTF-8.
  return haystack.find(needle) != std::string_view::npos;
}

bool starts_with_space(const std::string& s) { return !s.empty() && s.front() == ' '; }
bool ends_with_space(const std::string& s) { return !s.empty() && s.back() == ' '; }

// Turns the decoder's capture on for one forward and always off again.
class AlignmentCapture {
 public:
  AlignmentCapture(Decoder& decoder, std::vector<std::pair<int, int>> heads, int n_tokens) : decoder_(decoder) {
    decoder_.set_alignment_heads(std::move(heads), n_tokens);
  }
  ~AlignmentCapture() { decoder_.set_alignment_heads({}); }
  AlignmentCapture(const AlignmentCapture&) = delete;
  AlignmentCapture& operator=(const AlignmentCapture&) = delete;

 private:
  Decoder& decoder_;
};

// softmax(logits[:eot])[token] (openai's text_token_probs).
double token_probability(const float* logits, int eot, int token) {
  const float max = *std::max_element(logits, logits + eot);
  double sum = 0;
  for (int v = 0; v < eot; ++v) sum += std::exp(static_cast<double>(logits[v]) - max);
  return std::exp(static_cast<double>(logits[token]) - max) / sum;
}

// Durations of the words that have one (openai drops zero-length words before the median).
std::vector<double> nonzero_durations(const std::vector<WordTiming>& alignment) {
  std::vector<double> durations;
  for (const WordTiming& t : alignment) {
    if (t.end - t.start != 0) durations.push_back(t.end - t.start);
  }
  return durations;
}

// np.median: the mean of the two middle values for an even count.
double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

std::vector<std::pair<int, int>> alignment_heads_or_default(const Model& model) {
  std::vector<std::pair<int, int>> heads = model.info().alignment_heads;
  if (heads.empty()) {
    const ModelDims& dims = model.dims();
    for (int layer = dims.n_text_layer / 2; layer < dims.n_text_layer; ++layer) {
      for (int head = 0; head < dims.n_text_head; ++head) heads.emplace_back(layer, head);
    }
  }
  std::sort(heads.begin(), heads.end());  // openai reads them from a sparse mask, in order
  heads.erase(std::unique(heads.begin(), heads.end()), heads.end());
  return heads;
}

void softmax_rows_inplace(float* x, int rows, int cols) {
  for (int r = 0; r < rows; ++r) {
    float* row = x + static_cast<size_t>(r) * cols;
    const float max = *std::max_element(row, row + cols);
    double sum = 0;
    for (int c = 0; c < cols; ++c) {
      row[c] = std::exp(row[c] - max);
      sum += row[c];
    }
    const float inv = static_cast<float>(1.0 / sum);
    for (int c = 0; c < cols; ++c) row[c] *= inv;
  }
}

void standardize_over_tokens(float* w, int heads, int tokens, int frames) {
  for (int h = 0; h < heads; ++h) {
    float* head = w + static_cast<size_t>(h) * tokens * frames;
    for (int f = 0; f < frames; ++f) {
      double sum = 0;
      for (int t = 0; t < tokens; ++t) sum += head[static_cast<size_t>(t) * frames + f];
      const double mean = sum / tokens;
      double squares = 0;
      for (int t = 0; t < tokens; ++t) {
        const double d = head[static_cast<size_t>(t) * frames + f] - mean;
        squares += d * d;
      }
      const double std = std::sqrt(squares / tokens);
      for (int t = 0; t < tokens; ++t) {
        float& v = head[static_cast<size_t>(t) * frames + f];
        v = static_cast<float>((v - mean) / std);
      }
    }
  }
}

std::vector<double> alignment_matrix(const std::vector<const float*>& qk, int n_tokens, int qk_stride, int n_frames,
                                     int sot_length, int median_filter_width) {
  const int heads = static_cast<int>(qk.size());
  const int rows = n_tokens - sot_length - 1;
  if (heads < 1 || n_frames < 1 || rows < 1 || n_frames > qk_stride) {
    throw Error("alignment_matrix: needs heads, frames, and tokens beyond the sot sequence");
  }
  const size_t per_head = static_cast<size_t>(n_tokens) * n_frames;
  std::vector<float> weights(per_head * heads);
  for (int h = 0; h < heads; ++h) {
    for (int t = 0; t < n_tokens; ++t) {
      const float* src = qk[h] + static_cast<size_t>(t) * qk_stride;
      std::copy(src, src + n_frames, weights.begin() + static_cast<long>(h * per_head + static_cast<size_t>(t) * n_frames));
    }
  }
  softmax_rows_inplace(weights.data(), heads * n_tokens, n_frames);
  standardize_over_tokens(weights.data(), heads, n_tokens, n_frames);
  median_filter_rows(weights.data(), heads * n_tokens, n_frames, median_filter_width);

  std::vector<double> matrix(static_cast<size_t>(rows) * n_frames, 0.0);
  for (int r = 0; r < rows; ++r) {
    for (int f = 0; f < n_frames; ++f) {
      double sum = 0;
      for (int h = 0; h < heads; ++h) sum += weights[h * per_head + static_cast<size_t>(r + sot_length) * n_frames + f];
      matrix[static_cast<size_t>(r) * n_frames + f] = sum / heads;
    }
  }
  return matrix;
}

std::vector<WordTiming> words_from_path(const WordTokens& words, const DtwPath& path,
                                        const std::vector<double>& token_probs) {
  const size_t n_words = words.tokens.size();
  if (n_words <= 1) return {};  // only the eot
  // Time of the first path step on each text row.
  std::vector<double> jump_times;
  for (size_t p = 0; p < path.rows.size(); ++p) {
    if (p == 0 || path.rows[p] != path.rows[p - 1]) jump_times.push_back(path.cols[p] / kTokensPerSecond);
  }
  std::vector<size_t> boundaries = {0};
  for (size_t w = 0; w + 1 < n_words; ++w) boundaries.push_back(boundaries.back() + words.tokens[w].size());
  if (boundaries.back() >= jump_times.size() || boundaries.back() > token_probs.size()) {
    throw Error("word alignment: the DTW path does not cover every token (non-finite attention scores?)");
  }
  std::vector<WordTiming> result;
  for (size_t w = 0; w + 1 < n_words; ++w) {
    WordTiming timing;
    timing.word = words.words[w];
    timing.tokens = words.tokens[w];
    timing.start = jump_times[boundaries[w]];
    timing.end = jump_times[boundaries[w + 1]];
    double sum = 0;
    for (size_t k = boundaries[w]; k < boundaries[w + 1]; ++k) sum += token_probs[k];
    timing.probability = sum / static_cast<double>(boundaries[w + 1] - boundaries[w]);
    result.push_back(std::move(timing));
  }
  return result;
}

std::vector<WordTiming> find_alignment(Decoder& decoder, const Model& model, const std::vector<int>& sot_sequence,
                                       const std::vector<int>& text_tokens, std::string_view language,
                                       int num_frames, int median_filter_width) {
  if (text_tokens.empty()) return {};
  const SpecialTokens& special = model.tokenizer().special();
  std::vector<int> tokens = sot_sequence;
  tokens.push_back(special.no_timestamps);
  tokens.insert(tokens.end(), text_tokens.begin(), text_tokens.end());
  tokens.push_back(special.eot);
  const int n_tokens = static_cast<int>(tokens.size());
  const int sot_length = static_cast<int>(sot_sequence.size());
  const int n_audio_ctx = model.dims().n_audio_ctx;
  const int n_frames = std::min(num_frames / 2, n_audio_ctx);
  if (n_frames < 1) throw Error("word timestamps need at least 2 mel frames of audio");

  const std::vector<std::pair<int, int>> heads = alignment_heads_or_default(model);
  std::vector<double> token_probs;
  std::vector<double> matrix;
  {
    AlignmentCapture capture(decoder, heads, n_tokens);
    const float* logits = decoder.forward(tokens.data(), 1, n_tokens, 0, /*all_positions=*/true);
    for (size_t k = 0; k < text_tokens.size(); ++k) {
      const float* row = logits + (static_cast<size_t>(sot_length) + k) * decoder.n_vocab();
      token_probs.push_back(token_probability(row, special.eot, text_tokens[k]));
    }
    std::vector<const float*> qk;
    for (int h = 0; h < decoder.n_alignment_heads(); ++h) qk.push_back(decoder.alignment_qk(h));
    matrix = alignment_matrix(qk, n_tokens, n_audio_ctx, n_frames, sot_length, median_filter_width);
  }
  for (double& v : matrix) v = -v;
  const DtwPath path = dtw(matrix.data(), n_tokens - sot_length - 1, n_frames);

  std::vector<int> with_eot = text_tokens;
  with_eot.push_back(special.eot);
  return words_from_path(split_to_word_tokens(model.tokenizer(), with_eot, language), path, token_probs);
}

void merge_punctuations(std::vector<WordTiming>& alignment, std::string_view prepended, std::string_view appended) {
  const int n = static_cast<int>(alignment.size());
  // Prepended punctuation joins the following word (scanning backwards).
  for (int i = n - 2, j = n - 1; i >= 0; --i) {
    WordTiming& previous = alignment[i];
    WordTiming& following = alignment[j];
    if (starts_with_space(previous.word) && contains(prepended, python_strip(previous.word))) {
      following.word = previous.word + following.word;
      following.tokens.insert(following.tokens.begin(), previous.tokens.begin(), previous.tokens.end());
      previous.word.clear();
      previous.tokens.clear();
    } else {
      j = i;
    }
  }
  // Appended punctuation joins the previous word (scanning forwards).
  for (int i = 0, j = 1; j < n; ++j) {
    WordTiming& previous = alignment[i];
    WordTiming& following = alignment[j];
    if (!ends_with_space(previous.word) && contains(appended, following.word)) {
      previous.word += following.word;
      previous.tokens.insert(previous.tokens.end(), following.tokens.begin(), following.tokens.end());
      following.word.clear();
      following.tokens.clear();
    } else {
      i = j;
    }
  }
}

void assign_word_timestamps(std::span<Segment> segments, std::vector<WordTiming> alignment, int eot,
                            const WordTimingOptions& options, double& last_speech_timestamp) {
  if (segments.empty()) return;
  const std::vector<double> durations = nonzero_durations(alignment);
  const double median_duration = std::min(0.7, median(durations));
  const double max_duration = median_duration * 2;

  // Long words at sentence boundaries are truncated to twice the median word duration.
  if (!durations.empty()) {
    constexpr std::string_view kSentenceEndMarks = ".\u3002!\uff01?\uff1f";
    for (size_t i = 1; i < alignment.size(); ++i) {
      if (alignment[i].end - alignment[i].start > max_duration) {
        if (contains(kSentenceEndMarks, alignment[i].word)) {
          alignment[i].end = alignment[i].start + max_duration;
        } else if (contains(kSentenceEndMarks, alignment[i - 1].word)) {
          alignment[i].start = alignment[i].end - max_duration;
        }
      }
    }
  }

  merge_punctuations(alignment, options.prepend_punctuations, options.append_punctuations);

  const double time_offset = static_cast<double>(segments[0].seek) * kHopLength / kSampleRate;
  size_t word_index = 0;
  for (Segment& segment : segments) {
    const auto n_text_tokens = static_cast<size_t>(
        std::count_if(segment.tokens.begin(), segment.tokens.end(), [eot](int t) { return t < eot; }));
    size_t saved_tokens = 0;
    std::vector<WordTiming> words;
    while (word_index < alignment.size() && saved_tokens < n_text_tokens) {
      const WordTiming& timing = alignment[word_index];
      if (!timing.word.empty()) {
        WordTiming word = timing;
        word.start = py_round(time_offset + timing.start, 2);
        word.end = py_round(time_offset + timing.end, 2);
        words.push_back(std::move(word));
      }
      saved_tokens += timing.tokens.size();
      ++word_index;
    }

    if (!words.empty()) {
      // The first and second word after a pause are kept within twice the median duration.
      WordTiming& first = words.front();
      if (first.end - last_speech_timestamp > median_duration * 4 &&
          (first.end - first.start > max_duration ||
           (words.size() > 1 && words[1].end - first.start > max_duration * 2))) {
        if (words.size() > 1 && words[1].end - words[1].start > max_duration) {
          const double boundary = std::max(words[1].end / 2, words[1].end - max_duration);
          first.end = words[1].start = boundary;
        }
        first.start = std::max(0.0, first.end - max_duration);
      }
      // Prefer the segment-level start if the first word is too long.
      if (segment.start < first.end && segment.start - 0.5 > first.start) {
        first.start = std::max(0.0, std::min(first.end - median_duration, segment.start));
      } else {
        segment.start = first.start;
      }
      // Likewise the segment-level end if the last word is too long.
      WordTiming& last = words.back();
      if (segment.end > last.start && segment.end + 0.5 < last.end) {
        last.end = std::max(last.start + median_duration, segment.end);
      } else {
        segment.end = last.end;
      }
      last_speech_timestamp = segment.end;
    }
    segment.words = std::move(words);
  }
}

void add_word_timestamps(std::span<Segment> segments, Decoder& decoder, const Model& model,
                         const std::vector<int>& sot_sequence, const std::string& language, int num_frames,
                         const WordTimingOptions& options, double& last_speech_timestamp) {
  if (segments.empty()) return;
  const int eot = model.tokenizer().special().eot;
  std::vector<int> text_tokens;
  for (const Segment& segment : segments) {
    for (int t : segment.tokens) {
      if (t < eot) text_tokens.push_back(t);
    }
  }
  std::vector<WordTiming> alignment =
      find_alignment(decoder, model, sot_sequence, text_tokens, language, num_frames, options.median_filter_width);
  assign_word_timestamps(segments, std::move(alignment), eot, options, last_speech_timestamp);
}

std::optional<double> last_word_end(std::span<const Segment> segments) {
  for (auto s = segments.rbegin(); s != segments.rend(); ++s) {
    if (!s->words.empty()) return s->words.back().end;
  }
  if (segments.empty()) return std::nullopt;
  return segments.back().end;
}

}  // namespace wisp
