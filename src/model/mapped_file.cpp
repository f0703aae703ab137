#include "model/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "wisp/error.h"

namespace wisp {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) throw Error("model file not found: " + path);
    throw Error("cannot open model file " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error("model path is not a regular file: " + path);
  }
  if (st.st_size == 0) {
    ::close(fd);
    throw Error("model file is empty: " + path);
  }
  void* data = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping keeps the file alive
  if (data == MAP_FAILED) throw Error("cannot memory-map " + path + ": " + std::strerror(errno));
  return std::shared_ptr<MappedFile>(
      new MappedFile(path, static_cast<const std::byte*>(data), static_cast<size_t>(st.st_size)));
}

MappedFile::MappedFile(std::string path, const std::byte* data, size_t size)
    : path_(std::move(path)), data_(data), size_(size) {}

MappedFile::~MappedFile() { munmap(const_cast<std::byte*>(data_), size_); }

namespace {

// The whole pages inside [data, data + bytes), or an empty range.
std::pair<uintptr_t, uintptr_t> whole_pages(const void* data, size_t bytes) {
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  return {begin, std::max(begin, end)};
}

}  // namespace

void MappedFile::release(const void* p, size_t bytes) const {
  const auto [begin, end] = whole_pages(p, bytes);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void release_pages(const std::vector<std::shared_ptr<MappedFile>>& files, const void* data, size_t bytes) {
  for (const auto& file : files) {
    if (file->contains(data, bytes)) {
      file->release(data, bytes);
      return;
    }
  }
#ifdef MADV_PAGEOUT
  const auto [begin, end] = whole_pages(data, bytes);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);
#endif
}

}  // namespace wisp
