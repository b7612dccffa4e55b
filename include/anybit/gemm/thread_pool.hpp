// anybit/gemm/thread_pool.hpp — persistent worker threads for a gemm_context.
//
// Starting a std::thread per GEMM cost more than some training ops took (a Fashion-MNIST CNN
// step runs a few hundred of them), so a context keeps its workers asleep between calls.
// run(count, task) calls task(i) once for every i < count: i = 0 on the caller, the rest on
// workers. Which thread runs an index never changes a result: callers give each index its own
// outputs. A run from inside a task, or while another thread is running this pool, executes
// serially on the calling thread instead of waiting, so nesting cannot deadlock.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace anybit::detail {

class thread_pool {
 public:
  thread_pool() = default;
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& worker : workers_) worker.join();
  }

  /// Calls task(i) for every i in [0, count); rethrows the first exception a task threw.
  template <class Task>
  void run(std::size_t count, const Task& task) {
    if (count == 0) return;
    std::unique_lock<std::mutex> busy(run_mutex_, std::try_to_lock);
    if (count == 1 || inside_task() || !busy.owns_lock() || !start_workers(count - 1)) {
      for (std::size_t i = 0; i < count; ++i) task(i);
      return;
    }
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      job_ = [](const void* t, std::size_t i) { (*static_cast<const Task*>(t))(i); };
      job_data_ = &task;
      job_count_ = count;
      pending_ = count - 1;
      failure_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    std::exception_ptr own_failure;
    try {
      const task_scope scope;
      task(0);
    } catch (...) {
      own_failure = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [this] { return pending_ == 0; });
    if (own_failure) std::rethrow_exception(own_failure);
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  static bool& inside_task() {
    static thread_local bool inside = false;
    return inside;
  }
  struct task_scope {
    task_scope() { inside_task() = true; }
    ~task_scope() { inside_task() = false; }
    task_scope(const task_scope&) = delete;
    task_scope& operator=(const task_scope&) = delete;
  };

  // False if the system refused a thread: the caller then runs everything itself.
  bool start_workers(std::size_t wanted) {
    try {
      while (workers_.size() < wanted) {
        const std::size_t id = workers_.size() + 1;  // index 0 is the caller's
        workers_.emplace_back([this, id] { work(id); });
      }
    } catch (const std::system_error&) {
      return false;
    }
    return true;
  }

  void work(std::size_t id) {
    const task_scope scope;
    std::size_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (id >= job_count_) continue;
      lock.unlock();
      std::exception_ptr failure;
      try {
        job_(job_data_, id);
      } catch (...) {
        failure = std::current_exception();
      }
      lock.lock();
      if (failure && !failure_) failure_ = failure;
      if (--pending_ == 0) finished_.notify_one();
    }
  }

  std::mutex run_mutex_;  // one run at a time
  std::mutex mutex_;      // guards everything below
  std::condition_variable wake_, finished_;
  std::vector<std::thread> workers_;
  void (*job_)(const void*, std::size_t) = nullptr;
  const void* job_data_ = nullptr;
  std::size_t job_count_ = 0, pending_ = 0, generation_ = 0;
  std::exception_ptr failure_;
  bool stopping_ = false;
};

}  // namespace anybit::detail
