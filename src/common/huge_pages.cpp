#include "common/huge_pages.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace wisp {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr std::align_val_t kSmallAlignment{64};

size_t round_up(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }

// Read at each call, so that a test can compare both placements in one process.
bool huge_pages_advised() {
  const char* off = std::getenv("WISP_NO_HUGE_PAGES");
  return off == nullptr || *off == '\0' || std::strcmp(off, "0") == 0;
}

bool transparent_huge_pages_enabled() {
  static const bool enabled = [] {
    std::ifstream mode("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string line;
    return std::getline(mode, line) && line.find("[never]") == std::string::npos;
  }();
  return enabled;
}

}  // namespace

bool huge_pages_available() { return huge_pages_advised() && transparent_huge_pages_enabled(); }

void* allocate_huge(size_t bytes) {
  if (bytes < kHugePageThreshold) {
    return ::operator new(bytes == 0 ? 1 : bytes, kSmallAlignment);
  }
  // Map one huge page more than needed, then trim both ends so the block starts on a 2 MB
  // boundary: only aligned 2 MB ranges can be backed by huge pages.
  const size_t size = round_up(bytes, kHugePage);
  void* raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = round_up(start, kHugePage);
  if (aligned > start) munmap(raw, aligned - start);
  if (const size_t tail = start + size + kHugePage - (aligned + size); tail > 0) {
    munmap(reinterpret_cast<void*>(aligned + size), tail);
  }
  void* p = reinterpret_cast<void*>(aligned);
  // Advice only: without THP support the block stays on 4 KB pages.
  if (huge_pages_advised()) madvise(p, size, MADV_HUGEPAGE);
  return p;
}

void free_huge(void* p, size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes < kHugePageThreshold) {
    ::operator delete(p, kSmallAlignment);
    return;
  }
  munmap(p, round_up(bytes, kHugePage));
}

}  // namespace wisp
