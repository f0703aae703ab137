// audio/memory_input.cpp - stdin buffering and a seekable AVIOContext over memory.
#include "audio/memory_input.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

extern "C" {
#include <libavutil/error.h>
#include <libavutil/mem.h>
}

#include "wisp/error.h"

namespace wisp::audio {

namespace {
constexpr int kIoBufferSize = 64 * 1024;
}

std::vector<uint8_t> read_standard_input() {
  std::vector<uint8_t> bytes;
  uint8_t chunk[64 * 1024];
  while (true) {
    const size_t got = std::fread(chunk, 1, sizeof(chunk), stdin);
    bytes.insert(bytes.end(), chunk, chunk + got);
    if (got < sizeof(chunk)) break;
  }
  if (std::ferror(stdin)) {
    throw Error("cannot read audio from standard input: " + std::string(std::strerror(errno)));
  }
  return bytes;
}

MemoryInput::MemoryInput(const std::vector<uint8_t>& bytes) : bytes_(bytes) {
  auto* buffer = static_cast<uint8_t*>(av_malloc(kIoBufferSize));
  if (buffer) {
    context_ = avio_alloc_context(buffer, kIoBufferSize, 0, this, &MemoryInput::read, nullptr,
                                  &MemoryInput::seek);
  }
  if (!context_) {
    av_free(buffer);
    throw Error("out of memory while setting up audio input from standard input");
  }
}

MemoryInput::~MemoryInput() {
  // FFmpeg may have replaced the buffer it was given, so free the one it holds now.
  av_freep(&context_->buffer);
  avio_context_free(&context_);
}

int MemoryInput::read(void* opaque, uint8_t* buffer, int size) {
  auto* self = static_cast<MemoryInput*>(opaque);
  const size_t left = self->bytes_.size() - self->position_;
  if (left == 0) return AVERROR_EOF;
  const size_t count = std::min(left, static_cast<size_t>(size));
  std::memcpy(buffer, self->bytes_.data() + self->position_, count);
  self->position_ += count;
  return static_cast<int>(count);
}

int64_t MemoryInput::seek(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<MemoryInput*>(opaque);
  const auto size = static_cast<int64_t>(self->bytes_.size());
  int64_t target = 0;
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
      return size;
    case SEEK_SET:
      target = offset;
      break;
    case SEEK_CUR:
      target = static_cast<int64_t>(self->position_) + offset;
      break;
    case SEEK_END:
      target = size + offset;
      break;
    default:
      return AVERROR(EINVAL);
  }
  if (target < 0 || target > size) return AVERROR(EINVAL);
  self->position_ = static_cast<size_t>(target);
  return target;
}

}  // namespace wisp::audio
