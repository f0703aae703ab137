// Spoken-language identification, as openai-whisper's detect_language: the decoder's
// distribution after <|startoftranscript|>, restricted to the language tokens.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "runtime/decoder.h"
#include "wisp/tokenizer.h"

namespace wisp {

// The decoder must hold the window's audio features. Returns (code, probability) for every
// language of the vocabulary, most probable first.
std::vector<std::pair<std::string, double>> detect_language(Decoder& decoder, const Tokenizer& tokenizer);

}  // namespace wisp
