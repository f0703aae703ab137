// audio/ffmpeg_util.h - RAII owners for FFmpeg objects and FFmpeg error/log text for messages.
#pragma once

#include <memory>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswresample/swresample.h>
}

namespace wisp::audio {

struct FormatCloser {
  void operator()(AVFormatContext* ctx) const { avformat_close_input(&ctx); }
};
struct CodecFreer {
  void operator()(AVCodecContext* ctx) const { avcodec_free_context(&ctx); }
};
struct PacketFreer {
  void operator()(AVPacket* packet) const { av_packet_free(&packet); }
};
struct FrameFreer {
  void operator()(AVFrame* frame) const { av_frame_free(&frame); }
};
struct ResamplerFreer {
  void operator()(SwrContext* swr) const { swr_free(&swr); }
};

using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecFreer>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFreer>;
using FramePtr = std::unique_ptr<AVFrame, FrameFreer>;
using ResamplerPtr = std::unique_ptr<SwrContext, ResamplerFreer>;

// FFmpeg's text for an AVERROR code, e.g. "Invalid data found when processing input".
std::string ffmpeg_error_text(int code);

// Routes FFmpeg's log output away from stderr (once per process): messages of error severity are
// remembered per thread so failures can quote them, everything else is dropped, so the user sees
// wisp's one-line error instead of FFmpeg's chatter.
void capture_ffmpeg_log();
// Clears / returns the last error-severity FFmpeg message logged on this thread ("" if none).
void clear_last_ffmpeg_message();
std::string last_ffmpeg_message();

}  // namespace wisp::audio
