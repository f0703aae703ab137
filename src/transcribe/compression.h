// The gzip compression ratio openai-whisper uses to detect repetitive (hallucinated) text.
#pragma once

#include <string_view>

namespace wisp {

// len(text) / len(zlib.compress(text)) over the UTF-8 bytes, as openai-whisper computes it.
double compression_ratio(std::string_view text);

}  // namespace wisp
