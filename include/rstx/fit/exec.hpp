#pragma once
/**
 * @file
 * Where and how a batch is processed: the backend (CPU now, CUDA later) and, on the CPU, a pool of
 * threads over records. Records are independent and each writes only its own output slots, so the
 * results are identical for any number of threads.
 */
#include <cstdint>
#include <functional>

#include "rstx/core/thread_pool.hpp"

namespace rstx::fit {

enum class backend : std::uint8_t { cpu, cuda };

using rstx::thread_pool;

/** Execution context passed to every algorithm entry point. */
struct exec_context {
  backend where = backend::cpu;
  thread_pool* pool = nullptr;  ///< CPU threads; nullptr runs everything on the calling thread

  [[nodiscard]] static exec_context cpu(thread_pool* pool = nullptr) noexcept { return {backend::cpu, pool}; }

  /** Runs body over [0, n) on the pool, or inline without one. */
  void parallel_for(std::int64_t n, std::int64_t grain,
                    std::function<void(std::int64_t, std::int64_t)> const& body) const {
    if (pool != nullptr && pool->size() > 1 && n > grain) {
      pool->parallel_for(n, grain, body);
    } else if (n > 0) {
      body(0, n);
    }
  }
};

}  // namespace rstx::fit
