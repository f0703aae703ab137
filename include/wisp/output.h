// wisp/output.h - rendering transcription results in openai-whisper's output formats.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wisp/transcribe.h"

namespace wisp {

// Formats this build can write.
const std::vector<std::string>& output_formats();

// Renders `result` as `format` ("txt": one stripped segment text per line; "json": the result
// object as openai-whisper's transcribe() returns it). Throws wisp::Error for unknown formats.
std::string format_result(const TranscribeResult& result, std::string_view format);

}  // namespace wisp
