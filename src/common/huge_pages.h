// Memory for the large buffers a decode step streams (decoder weights copied at load, the K/V
// caches), backed by 2 MB pages where the kernel allows (transparent huge pages, "madvise" or
// "always" mode). A step reads tens of MB once each; with 4 KB pages every 4 KB of that stream
// costs a TLB miss, a two-level page walk under a hypervisor. One core reading a 64 MB buffer:
// 17-19 GB/s on 2 MB pages vs 14-15 GB/s on 4 KB pages (AMD EPYC VM, THP "madvise").
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

namespace wisp {

// Blocks from this size up get their own 2 MB-aligned mapping advised for huge pages; smaller
// ones come from operator new (a huge page would be mostly empty).
inline constexpr size_t kHugePageThreshold = size_t{1} << 20;

// `bytes` of memory aligned to 64 bytes (2 MB from kHugePageThreshold up); throws
// std::bad_alloc when the system has none. WISP_NO_HUGE_PAGES=1 in the environment turns the
// advice off (for measuring what it buys).
void* allocate_huge(size_t bytes);
// Frees what allocate_huge(bytes) returned, with the same `bytes`.
void free_huge(void* p, size_t bytes) noexcept;
// Whether blocks of kHugePageThreshold and more get huge pages here: the advice is on and the
// kernel's transparent huge pages are not "never" (/sys/kernel/mm/transparent_hugepage/enabled).
bool huge_pages_available();

// An uninitialised byte block from allocate_huge, freed with it; movable.
class HugeBuffer {
 public:
  HugeBuffer() = default;
  explicit HugeBuffer(size_t bytes) : data_(static_cast<uint8_t*>(allocate_huge(bytes))), size_(bytes) {}
  HugeBuffer(HugeBuffer&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  HugeBuffer& operator=(HugeBuffer&& o) noexcept {
    if (this != &o) {
      free_huge(data_, size_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~HugeBuffer() { free_huge(data_, size_); }
  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocate_huge(n * sizeof(T)));
  }
  void deallocate(T* p, size_t n) noexcept { free_huge(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

// A std::vector whose storage, once large, sits on huge pages.
template <class T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace wisp
