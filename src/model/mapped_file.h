// A read-only memory-mapped file: model weights are used in place where their layout allows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wisp {

class MappedFile {
 public:
  // Maps `path` read-only; throws wisp::Error if it is missing, unreadable or empty.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  bool contains(const void* p, size_t bytes) const {
    const auto* b = static_cast<const std::byte*>(p);
    return b >= data_ && bytes <= size_ && b - data_ <= static_cast<std::ptrdiff_t>(size_ - bytes);
  }
  // Unmaps the whole pages of [p, p + bytes) (inside this file) from the process once a copy
  // replaces them: the mapping is read-only, so a later read maps the same bytes again, and the
  // pages stay in the page cache for the next load.
  void release(const void* p, size_t bytes) const;

 private:
  MappedFile(std::string path, const std::byte* data, size_t size);
  std::string path_;
  const std::byte* data_;
  size_t size_;
};

// Releases the whole pages of [data, data + bytes) once a copy replaces them (best effort): those
// of one of `files` are unmapped (MappedFile::release), any others paged out (MADV_PAGEOUT keeps
// contents: anonymous memory is left alone without swap). Pages shared with neighbouring tensors
// simply fault back in when read.
void release_pages(const std::vector<std::shared_ptr<MappedFile>>& files, const void* data, size_t bytes);

}  // namespace wisp
