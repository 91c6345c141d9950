// thread_pool: every range runs exactly once, loops that follow each other closely never mix, and a
// throwing body reaches the caller instead of ending the process. Built twice: in the core suite,
// and as rstx_thread_pool_tsan under ThreadSanitizer, which turns any data race into a failure.
#include <gtest/gtest.h>

#include <atomic>
#include <new>
#include <stdexcept>
#include <thread>
#include <vector>

#include "rstx/core/thread_pool.hpp"

namespace rstx {
namespace {

TEST(ThreadPool, BackToBackLoopsRunEachIndexExactlyOnce) {
  for (int threads : {2, 3, 4}) {
    thread_pool pool(threads);
    std::vector<std::atomic<int>> hits(257);
    for (int round = 0; round < 3000; ++round) {
      // Each loop differs in size, grain and body, so a worker that mixed two loops' parameters
      // would visit a wrong index, miss one or visit one twice.
      auto const n = static_cast<std::int64_t>(1 + round % 257);
      auto const grain = static_cast<std::int64_t>(1 + round % 5);
      for (auto& h : hits) h.store(0, std::memory_order_relaxed);
      int const tag = round;
      std::atomic<int> wrong_tag{0};
      pool.parallel_for(n, grain, [&, tag](std::int64_t b, std::int64_t e) {
        if (tag != round) wrong_tag.fetch_add(1);
        ASSERT_LE(e - b, grain);
        for (std::int64_t i = b; i < e; ++i) hits[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed);
      });
      ASSERT_EQ(wrong_tag.load(), 0);
      for (std::size_t i = 0; i < hits.size(); ++i)
        ASSERT_EQ(hits[i].load(), i < static_cast<std::size_t>(n) ? 1 : 0)
            << "threads " << threads << ", round " << round << ", index " << i;
    }
  }
}

TEST(ThreadPool, EmptyAndSingleItemLoops) {
  thread_pool pool(3);
  int calls = 0;
  pool.parallel_for(0, 4, [&](std::int64_t, std::int64_t) { ++calls; });
  pool.parallel_for(-5, 4, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  pool.parallel_for(1, 0, [&](std::int64_t b, std::int64_t e) {
    ++calls;
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 1);
  });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPool, ExceptionInAWorkerReachesTheCallerAndThePoolStaysUsable) {
  thread_pool pool(3);
  for (int round = 0; round < 200; ++round) {
    std::atomic<std::int64_t> ran{0};
    auto const throwing_index = static_cast<std::int64_t>(round % 64);
    EXPECT_THROW(pool.parallel_for(64, 1,
                                   [&](std::int64_t b, std::int64_t) {
                                     ran.fetch_add(1);
                                     if (b == throwing_index) throw std::bad_alloc();
                                   }),
                 std::bad_alloc);
    EXPECT_LE(ran.load(), 64);
    std::atomic<std::int64_t> sum{0};
    pool.parallel_for(100, 7, [&](std::int64_t b, std::int64_t e) {
      for (auto i = b; i < e; ++i) sum.fetch_add(i);
    });
    ASSERT_EQ(sum.load(), 4950);
  }
}

TEST(ThreadPool, OnlyTheFirstExceptionIsRethrown) {
  thread_pool pool(4);
  try {
    pool.parallel_for(1000, 1, [](std::int64_t b, std::int64_t) {
      if (b % 2 == 0) throw std::runtime_error("range " + std::to_string(b));
    });
    FAIL() << "no exception";
  } catch (std::runtime_error const& e) {
    EXPECT_NE(std::string(e.what()).find("range "), std::string::npos);
  }
}

TEST(ThreadPool, LoopsFromSeveralThreadsAreSerialised) {
  thread_pool pool(3);
  std::atomic<int> inside{0};
  std::atomic<int> overlap{0};
  auto hammer = [&] {
    for (int i = 0; i < 300; ++i)
      pool.parallel_for(8, 1, [&](std::int64_t, std::int64_t) {
        if (inside.fetch_add(1) < 0) overlap.fetch_add(1);
        inside.fetch_sub(1);
      });
  };
  std::thread a(hammer), b(hammer);
  a.join();
  b.join();
  EXPECT_EQ(overlap.load(), 0);
  EXPECT_EQ(inside.load(), 0);
}

}  // namespace
}  // namespace rstx
