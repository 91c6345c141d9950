#pragma once
/**
 * @file
 * FITACF 2.5: RST's legacy fitting algorithm (`make_fit -fitacf2`, RST 5.0 library
 * `codebase/superdarn/src.lib/tk/fitacf.2.5`), reproduced so that its output is bit-identical to
 * RST 5.0 on x86-64, including three behaviours of RST's code that a straightforward
 * implementation would not have (docs/algorithms/fitacf25.md):
 *
 * - lag-0 powers and the search noise are truncated to `int` as x86-64 does it (cvttss2si:
 *   values outside the int32 range and NaN become INT32_MIN);
 * - for 17-lag data (tauscan) lag-table row 13 is flagged bad, as RST does with its
 *   uninitialised `prm.old` (option `flag_row13_for_17_lags`);
 * - the power fits use RST's unparenthesised determinant macro (its evaluation order).
 *
 * Algorithm in short: noise from the ten lowest lag-0 powers, a fluctuation level from the noise
 * ACFs, bad lags from transmitter overlap, cross-range interference and power fluctuations, an
 * iterative phase fit for the Doppler velocity, w²-weighted least-squares fits of ln|R| for the
 * exponential (lambda) and Gaussian (sigma) decay, then the same fits on the XCF, whose phase at
 * lag 0 gives the elevation angle.
 */
#include <cstdint>

#include "rstx/core/error.hpp"
#include "rstx/fit/batch.hpp"
#include "rstx/fit/exec.hpp"

namespace rstx::fit {

/** Options of FITACF 2.5. The defaults reproduce `make_fit -fitacf2` of RST 5.0. */
struct fitacf25_options {
  /**
   * RST's `FitPrm.old` is set only for data before 1993 and is otherwise uninitialised heap memory
   * (fitacf.c, FitACFMake). It matters only for 17-lag data, where a non-zero value flags lag-table
   * row 13 as bad (badlags.c, FitACFCkRng). true (default): flag it, as the validated RST 5.0 build
   * does. false: behave as if the memory were zero, i.e. flag row 13 only for records before 1993.
   */
  bool flag_row13_for_17_lags = true;

  /**
   * Elevation from the fitted XCF phase with RST's older routines (`make_fit -old_elev`):
   * `elevation` (v1), or `elev_goose` for Goose Bay (stid 1). Default: `elevation_v2`.
   */
  bool old_elevation = false;
};

/**
 * Fits every record of `in` with FITACF 2.5. Output: one record_result per input record (noise.sky,
 * the tdiff used) and, over the input's range indexing, pwr0_db for every range and, where the ACF
 * was fitted (qflg == 1), the ACF columns, nlag, gflg and, for records with xcf != 0, the XCF block
 * (x_qflg, x_gflg, x_p_l ... x_sd_phi, phi0, phi0_e, elv, elv_low, elv_high). Ranges with qflg
 * 2, 4 (rejected) or 8 (velocity above the aliasing limit) are not written, as in RST.
 *
 * Records with nave <= 1 are not fitted (all outputs zero, as in RST). Threads run over records;
 * the results do not depend on their number.
 *
 * Errors: errc::invalid_argument if the batch's extents are inconsistent; errc::unsupported for a
 * backend this build does not have, and for records RST cannot handle either (more than 500
 * transmitter-overlapped samples: RST overflows its list), naming the batch record; errc::bad_value
 * for a record whose smsep and txpl are both <= 0 (RST then works on an undefined list).
 */
[[nodiscard]] result<host_fit_batch> fitacf25(acf_batch_view const& in, fitacf25_options const& opt = {},
                                              exec_context const& ctx = exec_context::cpu(), host_fit_batch reuse = {});

namespace detail {
/** The CPU implementation (threads over records from ctx.pool). */
[[nodiscard]] result<host_fit_batch> fitacf25_cpu(acf_batch_view const& in, fitacf25_options const& opt,
                                                  exec_context const& ctx, host_fit_batch reuse = {});
}  // namespace detail

}  // namespace rstx::fit
