// One persistent pool of compute threads shared by every kernel, sized by --threads. Workers
// spin briefly between jobs (decode steps issue many tiny parallel loops) and then sleep.
#pragma once

#include <cstddef>

namespace wisp {

// Sets the number of compute threads (0 = all cores); restarts the pool when it changes.
void set_compute_threads(int n_threads);
int compute_threads();

// A non-owning reference to a callable, cheaper than std::function on the hot path.
class TaskRef {
 public:
  template <typename F>
  TaskRef(const F& f)  // NOLINT: implicit by design, binds lambdas
      : object_(&f), call_([](const void* o, int task) { (*static_cast<const F*>(o))(task); }) {}
  void operator()(int task) const { call_(object_, task); }

 private:
  const void* object_;
  void (*call_)(const void*, int);
};

// Runs fn(task) for every task in [0, n_tasks) on the pool (the caller works too) and returns
// when all are done. Tasks are handed out dynamically, so uneven tasks balance. Called from
// inside a task it runs serially.
void parallel_for(int n_tasks, TaskRef fn);

}  // namespace wisp
