#pragma once
/**
 * @file
 * A fixed pool of worker threads running parallel loops over independent items. Each item writes
 * only its own outputs, so results do not depend on the number of threads.
 */
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rstx {

/** Names the calling thread (what `top -H`, `ps -L` and profilers show; at most 15 characters
 *  are kept). Does nothing where the platform has no thread names. */
void name_this_thread(char const* name) noexcept;

/**
 * A fixed set of worker threads that run `parallel_for` loops. The calling thread takes part, so
 * a pool of size 1 has no extra thread and runs everything in the caller.
 */
class thread_pool {
 public:
  /** `threads` <= 0 means one per hardware thread. Throws std::system_error when the threads
   *  cannot be started (none is left running then). */
  explicit thread_pool(int threads = 0);
  ~thread_pool();
  thread_pool(thread_pool const&) = delete;
  thread_pool& operator=(thread_pool const&) = delete;

  /** Threads that run loop bodies, the caller included. */
  [[nodiscard]] int size() const noexcept { return static_cast<int>(workers_.size()) + 1; }

  /**
   * Calls body(begin, end) for consecutive index ranges of at most `grain` items covering [0, n),
   * spread over the threads; returns when all are done. Each range runs exactly once.
   *
   * If a body throws (std::bad_alloc, say), no further ranges are started, the loop waits for the
   * ranges already running, and the first exception is rethrown here, on the calling thread; the
   * pool stays usable. One loop at a time: calls from several threads are serialised.
   */
  void parallel_for(std::int64_t n, std::int64_t grain, std::function<void(std::int64_t, std::int64_t)> const& body);

 private:
  /** One parallel_for call. Workers copy it under the lock when they join, so a worker that
   *  wakes late can never mix one loop's parameters with another's. */
  struct loop {
    std::function<void(std::int64_t, std::int64_t)> const* body = nullptr;
    std::int64_t n = 0;
    std::int64_t grain = 1;
    std::atomic<std::int64_t>* next = nullptr;  // the loop's own counter, on the caller's stack
  };

  void worker_loop();
  void stop_workers() noexcept;
  /** Runs ranges of `l` until none is left; records the first exception and stops the loop. */
  void run_chunks(loop const& l) noexcept;

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time
  std::mutex mutex_;       // guards everything below
  std::condition_variable wake_;
  std::condition_variable done_;
  loop current_;           // body == nullptr: no loop open for joining
  std::uint64_t generation_ = 0;
  int busy_ = 0;           // workers inside the current loop
  std::exception_ptr failure_;
  bool stop_ = false;
};

}  // namespace rstx
