#pragma once
/**
 * @file
 * FITACF 3.0 on a CUDA device: a fit::device_fitter that make_fit, the service and `rstx bench`
 * hand to the fit library through fit::exec_context::cuda. Every build has this API; without CUDA
 * compiled in, `open_fitacf3` answers errc::unsupported, so callers need no #ifdefs.
 *
 * How a batch runs (src/cuda/fitacf3.cu): the records are cut into a few slices; each slice is
 * staged into pinned host memory, copied to the device, fitted by one kernel (a block per record,
 * a thread per range, the code of src/fit/detail/fitacf3_range.hpp) and copied back, on two
 * streams in turn, so that the copies of one slice overlap the fitting of the other and the host's
 * staging of the next. The results are the CPU backend's wherever the device's arithmetic allows
 * (docs/cuda.md lists where it does not).
 */
#include <cstdint>
#include <memory>

#include "rstx/core/error.hpp"
#include "rstx/fit/exec.hpp"

namespace rstx::cuda {

struct fitacf3_device_options {
  int device = 0;           ///< CUDA device index (make_fit --device N)
  int slices = 4;           ///< most slices a batch is cut into (each at least min_slice_records)
  int min_slice_records = 64;
};

/** Time and bytes spent by a device fitter, summed over its batches (for benchmarks). */
struct fitacf3_device_stats {
  std::int64_t batches = 0, records = 0, ranges = 0;
  std::int64_t bytes_to_device = 0, bytes_from_device = 0;
  double stage_seconds = 0;    ///< host: copying inputs into pinned memory and results out of it
  double copy_in_seconds = 0;  ///< device: host-to-device copies (CUDA events)
  double kernel_seconds = 0;   ///< device: the fitting kernels
  double copy_out_seconds = 0; ///< device: device-to-host copies
  double wall_seconds = 0;     ///< whole calls, host clock (less than the sum above when they overlap)
};

class fitacf3_device : public fit::device_fitter {
 public:
  [[nodiscard]] virtual fitacf3_device_stats stats() const = 0;
};

/**
 * Opens a device for FITACF 3.0: checks that it exists and runs work (the self-test kernel), and
 * creates its streams. Errors: errc::unsupported without CUDA compiled in; errc::cuda when the
 * runtime, the device or its self-test fails (the message says which).
 */
[[nodiscard]] result<std::unique_ptr<fitacf3_device>> open_fitacf3(fitacf3_device_options const& opt = {});

}  // namespace rstx::cuda
