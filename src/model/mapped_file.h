// A read-only memory-mapped file: model weights are used in place where their layout allows.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

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

 private:
  MappedFile(std::string path, const std::byte* data, size_t size);
  std::string path_;
  const std::byte* data_;
  size_t size_;
};

// Hands the whole pages of [data, data + bytes) back to the page cache once a copy replaces them
// (best effort). MADV_PAGEOUT keeps contents (anonymous memory is left alone without swap), so it
// is safe on any buffer; pages shared with neighbouring tensors simply fault back in when read.
void release_pages(const void* data, size_t bytes);

}  // namespace wisp
