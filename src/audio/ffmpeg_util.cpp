// audio/ffmpeg_util.cpp - FFmpeg error text and log capture.
#include "audio/ffmpeg_util.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/log.h>
}

namespace wisp::audio {

namespace {

thread_local std::string last_message;

void log_callback(void* avcl, int level, const char* format, va_list args) {
  if (level > AV_LOG_ERROR) return;
  char line[1024];
  int print_prefix = 0;  // no "[codec @ 0x...]" prefix: the message is quoted to users
  av_log_format_line2(avcl, level, format, args, line, sizeof(line), &print_prefix);
  std::string text = line;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (!text.empty()) last_message = text;
}

}  // namespace

std::string ffmpeg_error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof(text));
  return text;
}

void capture_ffmpeg_log() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(log_callback); });
}

void clear_last_ffmpeg_message() { last_message.clear(); }

std::string last_ffmpeg_message() { return last_message; }

}  // namespace wisp::audio
