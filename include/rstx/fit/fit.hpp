#pragma once
/**
 * @file
 * One entry point for every fitting algorithm, so that callers (make_fit, the service, Python)
 * choose the algorithm with a value instead of a code path.
 */
#include "rstx/core/error.hpp"
#include "rstx/fit/batch.hpp"
#include "rstx/fit/exec.hpp"

namespace rstx::fit {

struct fit_options {
  fit_algorithm algorithm = fit_algorithm::fitacf3;
  /** make_fit: v2 by default, v1 with -old_elev, goose with -old_elev on Goose Bay data. */
  elevation_method elevation = elevation_method::v2;
};

/** Whether this build contains the algorithm (FITACF 2.5 is added by a later change). */
[[nodiscard]] bool algorithm_available(fit_algorithm a) noexcept;

/** Short name: "fitacf3" or "fitacf2" (the value RST writes in the `algorithm` field). */
[[nodiscard]] char const* algorithm_name(fit_algorithm a) noexcept;

/**
 * Runs the chosen algorithm on a batch. errc::unsupported if it is not in this build. `reuse`: a
 * previous result whose memory the new one takes over (a stream of batches then allocates once).
 */
[[nodiscard]] result<host_fit_batch> fit_records(acf_batch_view const& in, fit_options const& opt,
                                                 exec_context const& ctx = exec_context::cpu(),
                                                 host_fit_batch reuse = {});

}  // namespace rstx::fit
