#include "rstx/core/thread_pool.hpp"

#include <algorithm>

#if defined(__linux__)
#include <pthread.h>
#endif

namespace rstx {

void name_this_thread(char const* name) noexcept {
#if defined(__linux__)
  char shortened[16] = {};
  for (std::size_t i = 0; i + 1 < sizeof shortened && name[i] != '\0'; ++i) shortened[i] = name[i];
  (void)pthread_setname_np(pthread_self(), shortened);
#else
  (void)name;
#endif
}

thread_pool::thread_pool(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  workers_.reserve(static_cast<std::size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

thread_pool::~thread_pool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void thread_pool::run_chunks() {
  for (;;) {
    std::int64_t const begin = next_.fetch_add(grain_, std::memory_order_relaxed);
    if (begin >= n_) return;
    (*body_)(begin, std::min(n_, begin + grain_));
  }
}

void thread_pool::worker_loop() {
  name_this_thread("rstx-pool");
  std::uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      ++busy_;
    }
    run_chunks();
    {
      std::lock_guard lock(mutex_);
      --busy_;
    }
    done_.notify_all();
  }
}

void thread_pool::parallel_for(std::int64_t n, std::int64_t grain,
                               std::function<void(std::int64_t, std::int64_t)> const& body) {
  if (n <= 0) return;
  {
    std::lock_guard lock(mutex_);
    body_ = &body;
    n_ = n;
    grain_ = std::max<std::int64_t>(1, grain);
    next_.store(0, std::memory_order_relaxed);
    ++generation_;
  }
  wake_.notify_all();
  run_chunks();
  // Every worker that woke for this generation must finish before `body` goes out of scope; a
  // worker that has not woken yet finds no work left (next_ >= n_) and returns at once.
  std::unique_lock lock(mutex_);
  done_.wait(lock, [&] { return busy_ == 0; });
  body_ = nullptr;
  n_ = 0;
}

}  // namespace rstx
