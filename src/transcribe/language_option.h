// Normalises the user's --language value: a code ("de"), an English name ("german") or one of
// openai-whisper's aliases ("mandarin").
#pragma once

#include <string>

#include "wisp/tokenizer.h"

namespace wisp {

// Returns the language code; throws wisp::Error for unknown languages or ones the model's
// vocabulary lacks.
std::string resolve_language(const std::string& value, const Tokenizer& tokenizer);

}  // namespace wisp
