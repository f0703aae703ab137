#include "kernels/thread_pool.h"

#include <cblas.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace wisp {

namespace {

thread_local bool t_inside_task = false;

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// Tasks are claimed from one atomic word holding (job id, task count, next task), so a worker
// that wakes late can never claim a task of a later job with a stale view. The caller waits
// only for claimed tasks: a worker that is descheduled (the cores are shared) simply misses
// the job instead of stalling it.
class ThreadPool {
 public:
  explicit ThreadPool(int n_threads) : n_threads_(n_threads) {
    for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker(); });
  }

  ~ThreadPool() {
    stop_.store(true);
    wake_.fetch_add(1);
    wake_workers();
    for (std::thread& t : workers_) t.join();
  }

  int size() const { return n_threads_; }

  void run(int n_tasks, TaskRef fn) {
    if (n_tasks <= 0) return;
    if (n_threads_ == 1 || n_tasks == 1 || t_inside_task || n_tasks >= kMaxTasks) {
      for (int t = 0; t < n_tasks; ++t) fn(t);
      return;
    }
    std::lock_guard<std::mutex> lock(run_mutex_);  // one job at a time
    job_ = &fn;
    done_.store(0, std::memory_order_relaxed);
    job_id_ = (job_id_ + 1) & kJobMask;
    state_.store(pack(job_id_, n_tasks, 0), std::memory_order_release);
    wake_.fetch_add(1);
    if (sleepers_.load() > 0) wake_workers();
    work();
    for (int spin = 0; done_.load(std::memory_order_acquire) < n_tasks; ++spin) {
      if (spin < 4000) {
        cpu_relax();
      } else {
        std::this_thread::yield();  // a worker holding a task may be waiting for this core
      }
    }
  }

 private:
  static constexpr uint64_t kJobMask = (uint64_t{1} << 24) - 1;
  static constexpr int kMaxTasks = 1 << 20;

  static uint64_t pack(uint64_t job, uint64_t n_tasks, uint64_t next) { return job << 40 | n_tasks << 20 | next; }

  // Claims and runs tasks of the current job until none is left.
  void work() {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      const uint64_t n_tasks = (s >> 20) & (kMaxTasks - 1);
      const uint64_t next = s & (kMaxTasks - 1);
      if (next >= n_tasks) return;
      if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      t_inside_task = true;
      (*job_)(static_cast<int>(next));
      t_inside_task = false;
      done_.fetch_add(1, std::memory_order_release);
      s = state_.load(std::memory_order_acquire);
    }
  }

  // Locking the mutex orders this wake-up after any sleeper's check of wake_ (no lost wake-up).
  void wake_workers() {
    { std::lock_guard<std::mutex> lock(sleep_mutex_); }
    sleep_cv_.notify_all();
  }

  void worker() {
    uint32_t seen = 0;  // wake_'s value at construction: a job or stop issued before this thread ran is seen
    for (;;) {
      // Spin briefly before sleeping: decode steps issue small jobs back to back.
      uint32_t now = wake_.load(std::memory_order_acquire);
      for (int spin = 0; now == seen && spin < 3000; ++spin) {
        cpu_relax();
        if (spin % 256 == 255) std::this_thread::yield();
        now = wake_.load(std::memory_order_acquire);
      }
      if (now == seen) {
        sleepers_.fetch_add(1);
        {
          std::unique_lock<std::mutex> lock(sleep_mutex_);
          sleep_cv_.wait(lock, [&] { return wake_.load() != seen; });
        }
        sleepers_.fetch_sub(1);
        now = wake_.load(std::memory_order_acquire);
      }
      seen = now;
      if (stop_.load()) return;
      work();
    }
  }

  const int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::atomic<uint32_t> wake_{0};  // bumped per job
  std::mutex sleep_mutex_;
  std::condition_variable sleep_cv_;
  std::atomic<int> sleepers_{0};
  std::atomic<uint64_t> state_{0};
  std::atomic<int> done_{0};
  std::atomic<bool> stop_{false};
  const TaskRef* job_ = nullptr;
  uint64_t job_id_ = 0;
};

std::mutex g_pool_mutex;
std::unique_ptr<ThreadPool> g_pool;

ThreadPool& pool() {
  if (!g_pool) set_compute_threads(0);
  return *g_pool;
}

}  // namespace

void set_compute_threads(int n_threads) {
  if (n_threads <= 0) n_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::lock_guard<std::mutex> lock(g_pool_mutex);
  if (g_pool && g_pool->size() == n_threads) return;
  g_pool.reset();
  // The pool owns all parallelism: OpenBLAS runs single-threaded inside its tasks.
  openblas_set_num_threads(1);
  g_pool = std::make_unique<ThreadPool>(n_threads);
}

int compute_threads() { return pool().size(); }

void parallel_for(int n_tasks, TaskRef fn) { pool().run(n_tasks, fn); }

}  // namespace wisp
