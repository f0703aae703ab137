// audio/decode.cpp - load_audio: any FFmpeg-readable file to mono float PCM.
//
// Matches openai-whisper, which runs `ffmpeg -i F -f s16le -ac 1 -acodec pcm_s16le -ar 16000 -`
// and divides by 32768: the CLI converts through one libswresample context straight to S16 mono
// (default downmix matrix, which swr normalises for integer output), so we do exactly that and
// flush the resampler at the end, giving the CLI's samples bit for bit.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

extern "C" {
#include <libavutil/channel_layout.h>
#include <libavutil/samplefmt.h>
}

#include "audio/ffmpeg_util.h"
#include "audio/memory_input.h"
#include "wisp/audio.h"
#include "wisp/error.h"

namespace wisp {

namespace {

using namespace wisp::audio;

// What the user called the input, for messages.
std::string display_name(const std::string& path) {
  return path == "-" ? std::string("standard input") : path;
}

[[noreturn]] void fail_decode(const std::string& name, const std::string& reason) {
  throw Error("cannot decode audio from " + name + ": " + reason +
              "; is it an audio or video file?");
}

// The input format of a frame, which decides the resampler's configuration.
struct InputFormat {
  AVChannelLayout layout{};
  int sample_format = AV_SAMPLE_FMT_NONE;
  int sample_rate = 0;

  InputFormat() = default;
  InputFormat(const InputFormat&) = delete;
  InputFormat& operator=(const InputFormat&) = delete;
  ~InputFormat() { av_channel_layout_uninit(&layout); }

  // Takes on `frame`'s format; returns whether that changed anything.
  bool adopt(const AVFrame& frame) {
    AVChannelLayout frame_layout{};
    if (frame.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
      // As the ffmpeg CLI does: assume the usual layout for that many channels.
      av_channel_layout_default(&frame_layout, frame.ch_layout.nb_channels);
    } else if (av_channel_layout_copy(&frame_layout, &frame.ch_layout) < 0) {
      throw Error("out of memory while decoding audio");
    }
    const bool same = sample_format == frame.format && sample_rate == frame.sample_rate &&
                      av_channel_layout_compare(&layout, &frame_layout) == 0;
    av_channel_layout_uninit(&layout);
    layout = frame_layout;  // takes ownership
    sample_format = frame.format;
    sample_rate = frame.sample_rate;
    return !same;
  }
};

// Converts decoded frames to S16 mono at the target rate and collects them as floats.
class MonoConverter {
 public:
  MonoConverter(std::string name, int sample_rate) : name_(std::move(name)), rate_(sample_rate) {}

  void add(const AVFrame& frame) {
    if (frame.nb_samples <= 0) return;
    if (input_.adopt(frame) || !resampler_) {
      // A stream that changes format mid-way (possible in mp3/aac) gets a fresh resampler, as
      // the CLI's filter graph is rebuilt; the old one's buffered tail is kept first.
      flush();
      open_resampler();
    }
    convert(const_cast<const uint8_t**>(frame.extended_data), frame.nb_samples);
  }

  // Drains the resampler's delay line (the CLI does this at end of stream).
  void flush() {
    if (resampler_) convert(nullptr, 0);
  }

  std::vector<float>& samples() { return samples_; }

 private:
  void open_resampler() {
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    SwrContext* swr = nullptr;
    int ret = swr_alloc_set_opts2(&swr, &mono, AV_SAMPLE_FMT_S16, rate_, &input_.layout,
                                  static_cast<AVSampleFormat>(input_.sample_format),
                                  input_.sample_rate, 0, nullptr);
    resampler_.reset(swr);
    if (ret >= 0) ret = swr_init(swr);
    if (ret < 0) {
      char layout_text[128] = "?";
      av_channel_layout_describe(&input_.layout, layout_text, sizeof(layout_text));
      throw Error("cannot convert audio from " + name_ + " (" + layout_text + ", " +
                  std::to_string(input_.sample_rate) + " Hz) to mono " + std::to_string(rate_) +
                  " Hz: " + ffmpeg_error_text(ret));
    }
  }

  void convert(const uint8_t** input, int input_count) {
    while (true) {
      const int capacity = swr_get_out_samples(resampler_.get(), input_count) + 32;
      buffer_.resize(static_cast<size_t>(capacity));
      uint8_t* output[1] = {reinterpret_cast<uint8_t*>(buffer_.data())};
      const int got = swr_convert(resampler_.get(), output, capacity, input, input_count);
      if (got < 0) {
        throw Error("cannot resample audio from " + name_ + ": " + ffmpeg_error_text(got));
      }
      for (int i = 0; i < got; ++i) samples_.push_back(static_cast<float>(buffer_[i]) / 32768.0f);
      // When flushing, keep draining until the resampler has nothing left.
      if (input != nullptr || got == 0) return;
    }
  }

  std::string name_;
  int rate_;
  InputFormat input_;
  ResamplerPtr resampler_;
  std::vector<int16_t> buffer_;
  std::vector<float> samples_;
};

FormatPtr open_container(const std::string& path, const std::string& name,
                         const std::optional<MemoryInput>& memory) {
  AVFormatContext* raw = avformat_alloc_context();
  if (!raw) throw Error("out of memory while opening " + name);
  if (memory) raw->pb = memory->context();
  // On failure avformat_open_input frees the context itself.
  const int ret = avformat_open_input(&raw, memory ? nullptr : path.c_str(), nullptr, nullptr);
  if (ret < 0) fail_decode(name, ffmpeg_error_text(ret));
  FormatPtr format(raw);
  const int info = avformat_find_stream_info(raw, nullptr);
  if (info < 0) fail_decode(name, ffmpeg_error_text(info));
  return format;
}

CodecPtr open_decoder(const AVStream& stream, const std::string& name) {
  const AVCodec* codec = avcodec_find_decoder(stream.codecpar->codec_id);
  if (!codec) {
    fail_decode(name, std::string("no decoder for its audio codec (") +
                          avcodec_get_name(stream.codecpar->codec_id) + ")");
  }
  CodecPtr decoder(avcodec_alloc_context3(codec));
  if (!decoder) throw Error("out of memory while opening " + name);
  int ret = avcodec_parameters_to_context(decoder.get(), stream.codecpar);
  if (ret >= 0) {
    decoder->pkt_timebase = stream.time_base;
    ret = avcodec_open2(decoder.get(), codec, nullptr);
  }
  if (ret < 0) fail_decode(name, ffmpeg_error_text(ret));
  return decoder;
}

// Receives every frame the decoder has ready.
void drain_decoder(AVCodecContext& decoder, AVFrame& frame, MonoConverter& converter) {
  while (true) {
    const int ret = avcodec_receive_frame(&decoder, &frame);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
    // A corrupt frame is skipped, as the CLI does; later frames may still decode.
    if (ret < 0) return;
    converter.add(frame);
    av_frame_unref(&frame);
  }
}

}  // namespace

std::vector<float> load_audio(const std::string& path, int sample_rate) {
  const std::string name = display_name(path);
  if (sample_rate <= 0) {
    throw Error("invalid sample rate " + std::to_string(sample_rate) + " for " + name +
                "; use a positive rate such as 16000");
  }
  std::vector<uint8_t> stdin_bytes;
  std::optional<MemoryInput> memory;
  if (path == "-") {
    stdin_bytes = read_standard_input();
    if (stdin_bytes.empty()) {
      throw Error("no audio on standard input: it was empty; pipe an audio file into it");
    }
    memory.emplace(stdin_bytes);
  } else {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(status)) throw Error("audio file not found: " + path);
    if (std::filesystem::is_directory(status)) {
      throw Error("cannot decode audio from " + path + ": it is a directory, not a file");
    }
  }

  capture_ffmpeg_log();
  clear_last_ffmpeg_message();
  // Declared after `memory` so the container is closed before its input is freed.
  FormatPtr format = open_container(path, name, memory);
  const int stream_index = av_find_best_stream(format.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (stream_index < 0) {
    throw Error(name + " has no audio stream; give an audio file or a video with sound");
  }
  // Only the chosen stream's packets are needed.
  for (unsigned i = 0; i < format->nb_streams; ++i) {
    if (static_cast<int>(i) != stream_index) format->streams[i]->discard = AVDISCARD_ALL;
  }
  CodecPtr decoder = open_decoder(*format->streams[stream_index], name);

  PacketPtr packet(av_packet_alloc());
  FramePtr frame(av_frame_alloc());
  if (!packet || !frame) throw Error("out of memory while decoding " + name);
  MonoConverter converter(name, sample_rate);
  int read_error = 0;
  while (true) {
    const int ret = av_read_frame(format.get(), packet.get());
    if (ret < 0) {
      // Like the CLI, a read error (e.g. a truncated file) ends the stream: what decoded is kept.
      if (ret != AVERROR_EOF) read_error = ret;
      break;
    }
    if (packet->stream_index == stream_index) {
      // A corrupt packet is skipped (the CLI logs and carries on).
      if (avcodec_send_packet(decoder.get(), packet.get()) >= 0) {
        drain_decoder(*decoder, *frame, converter);
      }
    }
    av_packet_unref(packet.get());
  }
  avcodec_send_packet(decoder.get(), nullptr);
  drain_decoder(*decoder, *frame, converter);
  converter.flush();

  std::vector<float>& samples = converter.samples();
  if (samples.empty()) {
    std::string detail = read_error ? ffmpeg_error_text(read_error) : last_ffmpeg_message();
    if (!detail.empty()) detail = " (" + detail + ")";
    throw Error("no audio in " + name + ": it decoded to zero samples" + detail +
                "; is the file empty or cut short?");
  }
  return std::move(samples);
}

}  // namespace wisp
