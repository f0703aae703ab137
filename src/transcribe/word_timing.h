// Word-level timestamps from the cross-attention of the alignment heads: openai-whisper's
// timing.py (find_alignment, merge_punctuations, add_word_timestamps).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/decoder.h"
#include "transcribe/dtw.h"
#include "transcribe/word_split.h"
#include "wisp/model.h"
#include "wisp/transcribe.h"

namespace wisp {

struct WordTimingOptions {
  std::string prepend_punctuations = "\"'\u201c\u00bf([{-";
  std::string append_punctuations = "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001";
  int median_filter_width = 7;
};

// Adds words to `segments` (one window's, all with the same seek; their `tokens` may include
// timestamp tokens, only those < eot are aligned) and moves segment start/end as openai does.
// `decoder` must hold the window's audio features; its sequence-0 cache is overwritten.
// `num_frames`: mel frames of the window's content (openai's segment_size).
// `last_speech_timestamp` is updated as inside openai's add_word_timestamps (to the last
// segment end with words); openai's transcribe() then replaces it with the last word's end
// (see last_word_end) once the window is done.
void add_word_timestamps(std::span<Segment> segments, Decoder& decoder, const Model& model,
                         const std::vector<int>& sot_sequence, const std::string& language, int num_frames,
                         const WordTimingOptions& options, double& last_speech_timestamp);

// openai's get_end: end of the last word of the last segment with words, else the last
// segment's end, or nullopt without segments.
std::optional<double> last_word_end(std::span<const Segment> segments);

// ---- the steps, exposed for tests ---------------------------------------------------------

// The model's alignment heads sorted, or openai's default: every head of the upper half of the
// decoder layers (layer >= n_text_layer / 2).
std::vector<std::pair<int, int>> alignment_heads_or_default(const Model& model);

// openai's find_alignment: words of `text_tokens` with start/end in seconds from the window
// start (not rounded) and the mean probability of their tokens. Empty for no text.
std::vector<WordTiming> find_alignment(Decoder& decoder, const Model& model, const std::vector<int>& sot_sequence,
                                       const std::vector<int>& text_tokens, std::string_view language,
                                       int num_frames, int median_filter_width = 7);

// In place over [rows][cols]: softmax of each row.
void softmax_rows_inplace(float* x, int rows, int cols);
// In place over [heads][tokens][frames]: (w - mean) / std per head and frame, over tokens
// (population std, torch.std_mean(unbiased=False)).
void standardize_over_tokens(float* w, int heads, int tokens, int frames);

// The DTW input of find_alignment from the heads' raw scores: qk[h] is [n_tokens][qk_stride],
// its first `n_frames` columns used. Softmax over time, standardize over tokens, median filter
// along time, mean over heads, rows [sot_length, n_tokens - 1). Returns [n_tokens - sot_length - 1][n_frames].
std::vector<double> alignment_matrix(const std::vector<const float*>& qk, int n_tokens, int qk_stride, int n_frames,
                                     int sot_length, int median_filter_width);

// Words with times from a DTW path over the rows of [no_timestamps, text tokens...]: `words`
// splits text_tokens + [eot] (its last word the eot); token_probs[k] is text token k's probability.
std::vector<WordTiming> words_from_path(const WordTokens& words, const DtwPath& path,
                                        const std::vector<double>& token_probs);

// openai's merge_punctuations: a word that starts with a space and is (after stripping) in
// `prepended` joins the following word; a word in `appended` joins the previous word unless it
// ends with a space. Merged-away words are left with empty text and tokens.
void merge_punctuations(std::vector<WordTiming>& alignment, std::string_view prepended, std::string_view appended);

// The rest of add_word_timestamps once the window's alignment is known (times relative to the
// window): duration caps, punctuation merging, offsets, rounding and the boundary rules.
void assign_word_timestamps(std::span<Segment> segments, std::vector<WordTiming> alignment, int eot,
                            const WordTimingOptions& options, double& last_speech_timestamp);

}  // namespace wisp
