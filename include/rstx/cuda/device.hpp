#pragma once
/**
 * @file
 * Which CUDA devices this process can use. Works in every build: without CUDA support compiled in
 * it reports that, so callers (`--backend auto|cuda`, the service's rst_cuda_available metric) need
 * no #ifdefs.
 */
#include <cstddef>
#include <string>
#include <vector>

#include "rstx/core/error.hpp"

namespace rstx::cuda {

struct device_info {
  int index = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  std::size_t memory_bytes = 0;
  int multiprocessors = 0;
};

/** True when this build contains the CUDA backend. */
[[nodiscard]] bool compiled_with_cuda() noexcept;

/**
 * The usable CUDA devices. Errors: errc::unsupported when built without CUDA; errc::cuda when the
 * driver or runtime cannot be initialised. An empty list means CUDA works but there is no device.
 */
[[nodiscard]] result<std::vector<device_info>> devices();

/**
 * Runs a small kernel on `device` and checks its output: proof that the device can do work.
 * Errors: errc::unsupported without CUDA; errc::cuda, or errc::cuda_fatal when the context is broken.
 */
[[nodiscard]] result<void> self_test(int device);

}  // namespace rstx::cuda
