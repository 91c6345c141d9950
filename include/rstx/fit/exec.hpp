#pragma once
/**
 * @file
 * Where and how a batch is processed: the backend (the CPU, or a device fitter such as the CUDA
 * backend's) and, on the CPU, a pool of threads over records. Records are independent and each
 * writes only its own output slots, so the results are identical for any number of threads.
 */
#include <cstdint>
#include <functional>
#include <string>

#include "rstx/core/error.hpp"
#include "rstx/core/thread_pool.hpp"
#include "rstx/fit/batch.hpp"

namespace rstx::fit {

enum class backend : std::uint8_t { cpu, cuda };

using rstx::thread_pool;

/**
 * A fitting device (the CUDA backend: rstx/cuda/fitacf3.hpp opens one). The fit library calls it
 * through this interface, so it does not depend on the device code; a build without CUDA simply
 * never has one.
 */
class device_fitter {
 public:
  virtual ~device_fitter() = default;
  /** FITACF 3.0 of a batch that `validate` accepted: the contract of fit::fitacf3. */
  [[nodiscard]] virtual result<host_fit_batch> fitacf3(acf_batch_view const& in, elevation_method elevation,
                                                       host_fit_batch reuse) = 0;
  /** The device, in words ("CUDA device 0: NVIDIA H100 80GB HBM3, sm_90"). */
  [[nodiscard]] virtual std::string describe() const = 0;
};

/** Execution context passed to every algorithm entry point. */
struct exec_context {
  backend where = backend::cpu;
  thread_pool* pool = nullptr;      ///< CPU threads; nullptr runs everything on the calling thread
  device_fitter* device = nullptr;  ///< the device of backend::cuda (the pool still serves the CPU work)

  [[nodiscard]] static exec_context cpu(thread_pool* pool = nullptr) noexcept { return {backend::cpu, pool, nullptr}; }
  [[nodiscard]] static exec_context cuda(device_fitter* device, thread_pool* pool = nullptr) noexcept {
    return {backend::cuda, pool, device};
  }

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
