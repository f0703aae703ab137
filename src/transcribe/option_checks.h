// Validation and expansion of TranscribeOptions, with errors that name the CLI option.
#pragma once

#include <vector>

#include "wisp/model.h"
#include "wisp/transcribe.h"

namespace wisp {

// Throws wisp::Error for an invalid combination or value (negative beam size, temperature out of
// range, patience without beam search, ...).
void check_options(const TranscribeOptions& options, const Model& model);

// The "-1,123"-style option: ids, -1 expanding to the model's default non-speech set, plus the
// special tokens openai-whisper always suppresses. Sorted, unique.
std::vector<int> suppressed_tokens(const std::string& option, const Model& model);

// clip_timestamps as (start, end) mel-frame pairs; an odd count ends at `content_frames`.
std::vector<std::pair<int, int>> seek_clips(const std::string& clip_timestamps, int content_frames);

}  // namespace wisp
