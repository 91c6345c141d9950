#include "rstx/core/thread_pool.hpp"

#include <algorithm>
#include <string>
#include <system_error>
#include <utility>

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
  try {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
  } catch (std::system_error const& e) {  // out of threads or memory for their stacks
    stop_workers();
    throw std::system_error(e.code(), "cannot start " + std::to_string(threads) + " threads (use fewer)");
  }
}

thread_pool::~thread_pool() { stop_workers(); }

void thread_pool::stop_workers() noexcept {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void thread_pool::run_chunks(loop const& l) noexcept {
  for (;;) {
    std::int64_t const begin = l.next->fetch_add(l.grain, std::memory_order_relaxed);
    if (begin >= l.n) return;
    try {
      (*l.body)(begin, std::min(l.n, begin + l.grain));
    } catch (...) {
      // Hand out no more ranges; the caller rethrows the first exception once all have stopped.
      l.next->store(l.n, std::memory_order_relaxed);
      std::lock_guard lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
      return;
    }
  }
}

void thread_pool::worker_loop() {
  name_this_thread("rstx-pool");
  std::uint64_t seen = 0;
  for (;;) {
    loop joined;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      // A loop that already finished (its caller closed it) is not joined.
      if (current_.body == nullptr) continue;
      joined = current_;
      ++busy_;
    }
    run_chunks(joined);
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
  std::lock_guard serial(call_mutex_);
  std::atomic<std::int64_t> next{0};
  loop const l{&body, n, std::max<std::int64_t>(1, grain), &next};
  {
    std::lock_guard lock(mutex_);
    current_ = l;
    failure_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  run_chunks(l);
  // Close the loop: no worker joins it from now on, and every worker that joined (and so holds
  // pointers to `body` and `next`) leaves before they go out of scope.
  std::exception_ptr failure;
  {
    std::unique_lock lock(mutex_);
    current_ = loop{};
    done_.wait(lock, [&] { return busy_ == 0; });
    failure = std::exchange(failure_, nullptr);
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace rstx
