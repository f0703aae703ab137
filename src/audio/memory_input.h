// audio/memory_input.h - an in-memory, seekable FFmpeg input (used for audio piped on stdin).
#pragma once

#include <cstdint>
#include <vector>

extern "C" {
#include <libavformat/avio.h>
}

namespace wisp::audio {

// Reads standard input to its end. Pipes cannot seek, but some containers need to (m4a with its
// index at the end), so the whole stream is buffered first.
std::vector<uint8_t> read_standard_input();

// An AVIOContext reading from a byte buffer, with seek support. The buffer must outlive it, and
// the AVFormatContext using it must be closed before this is destroyed.
class MemoryInput {
 public:
  explicit MemoryInput(const std::vector<uint8_t>& bytes);
  ~MemoryInput();
  MemoryInput(const MemoryInput&) = delete;
  MemoryInput& operator=(const MemoryInput&) = delete;

  AVIOContext* context() const { return context_; }

 private:
  static int read(void* opaque, uint8_t* buffer, int size);
  static int64_t seek(void* opaque, int64_t offset, int whence);

  const std::vector<uint8_t>& bytes_;
  size_t position_ = 0;
  AVIOContext* context_ = nullptr;
};

}  // namespace wisp::audio
