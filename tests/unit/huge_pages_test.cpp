// Blocks for the buffers a decode step streams (common/huge_pages.h).
#include "common/huge_pages.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <string>

namespace wisp {
namespace {

constexpr uintptr_t kTwoMb = uintptr_t{2} << 20;

uintptr_t address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

// Kilobytes of anonymous huge pages this process has (smaps_rollup), or -1 where unknown.
long anon_huge_kb() {
  std::ifstream rollup("/proc/self/smaps_rollup");
  const std::string key = "AnonHugePages:";
  for (std::string line; std::getline(rollup, line);) {
    if (line.rfind(key, 0) == 0) return std::stol(line.substr(key.size()));
  }
  return -1;
}

TEST(HugePages, LargeBlocksStartOnTwoMegabyteBoundaries) {
  for (const size_t bytes : {kHugePageThreshold, kHugePageThreshold + 1, size_t{3} << 20, size_t{17} << 20}) {
    HugeBuffer block(bytes);
    ASSERT_NE(block.data(), nullptr);
    EXPECT_EQ(address(block.data()) % kTwoMb, 0u) << bytes;
    EXPECT_EQ(block.size(), bytes);
    // Every byte is writable, the last included.
    block.data()[0] = 1;
    block.data()[bytes - 1] = 2;
    EXPECT_EQ(block.data()[0] + block.data()[bytes - 1], 3);
  }
}

TEST(HugePages, SmallBlocksAreCacheLineAligned) {
  for (const size_t bytes : {size_t{0}, size_t{1}, size_t{100}, kHugePageThreshold - 1}) {
    void* p = allocate_huge(bytes);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(address(p) % 64, 0u) << bytes;
    free_huge(p, bytes);
  }
}

TEST(HugePages, VectorKeepsItsValuesAcrossGrowth) {
  HugeVector<float> values(1000, 1.5f);  // small: operator new
  values.resize(size_t{1} << 20, 2.0f);  // 4 MB: its own mapping
  EXPECT_EQ(address(values.data()) % kTwoMb, 0u);
  EXPECT_EQ(values[999], 1.5f);
  EXPECT_EQ(values[1000], 2.0f);
  EXPECT_EQ(values.back(), 2.0f);
  std::iota(values.begin(), values.end(), 0.0f);
  const HugeVector<float> copy = values;
  EXPECT_EQ(copy[12345], 12345.0f);
}

TEST(HugePages, BufferMovesOwnership) {
  HugeBuffer a(size_t{4} << 20);
  uint8_t* data = a.data();
  HugeBuffer b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.data(), data);
  HugeBuffer c(size_t{2} << 20);
  c = std::move(b);  // frees c's own block
  EXPECT_EQ(c.data(), data);
  EXPECT_EQ(c.size(), size_t{4} << 20);
}

// Huge pages gained (KB) by touching every 4 KB of `bytes` at `p`.
long huge_kb_after_touching(uint8_t* p, size_t bytes) {
  const long before = anon_huge_kb();
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
  return anon_huge_kb() - before;
}

// Where the kernel gives transparent huge pages, a touched large block gets them. The kernel
// may fall back to 4 KB pages when it has no free huge page: a hand-made advised mapping then
// gets none either, and the test says so instead of failing.
TEST(HugePages, TouchedLargeBlockIsBackedByHugePagesWhereAvailable) {
  if (!huge_pages_available()) GTEST_SKIP() << "transparent huge pages are off here";
  if (anon_huge_kb() < 0) GTEST_SKIP() << "no /proc/self/smaps_rollup";
  constexpr size_t kBytes = size_t{8} << 20;
  HugeBuffer block(kBytes);
  const long gained = huge_kb_after_touching(block.data(), kBytes);
  if (gained < 2048) {
    void* raw = mmap(nullptr, 2 * kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(raw, MAP_FAILED);
    auto* control = reinterpret_cast<uint8_t*>((address(raw) + kTwoMb - 1) / kTwoMb * kTwoMb);
    madvise(control, kBytes, MADV_HUGEPAGE);
    const long control_gained = huge_kb_after_touching(control, kBytes);
    munmap(raw, 2 * kBytes);
    if (control_gained < 2048) GTEST_SKIP() << "the kernel gives no huge pages now";
    FAIL() << "the block got " << gained << " KB of huge pages, an advised mapping " << control_gained;
  }
}

TEST(HugePages, EnvironmentTurnsTheAdviceOff) {
  setenv("WISP_NO_HUGE_PAGES", "1", 1);
  EXPECT_FALSE(huge_pages_available());
  setenv("WISP_NO_HUGE_PAGES", "0", 1);
  const bool with_advice = huge_pages_available();
  unsetenv("WISP_NO_HUGE_PAGES");
  EXPECT_EQ(huge_pages_available(), with_advice);
}

}  // namespace
}  // namespace wisp
