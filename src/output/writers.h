// One function per openai-whisper writer: the exact text its write_result() puts in a file.
#pragma once

#include <string>

#include "wisp/output.h"

namespace wisp::output {

std::string write_txt(const TranscribeResult& result);
std::string write_tsv(const TranscribeResult& result);
std::string write_vtt(const TranscribeResult& result, const WriterOptions& options);
std::string write_srt(const TranscribeResult& result, const WriterOptions& options);
std::string write_json(const TranscribeResult& result);  // json.dump(result): no trailing newline

}  // namespace wisp::output
