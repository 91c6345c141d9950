#pragma once
/**
 * @file
 * FITACF 3.0 (RST 5.0 `make_fit -fitacf3`, codebase/superdarn/src.lib/tk/fitacf_v3.0): fits
 * lag-0 power, spectral width, Doppler velocity and interferometer phase/elevation to the ACFs of
 * every range of every record of a batch.
 *
 * Results are bit-identical to RST's on x86-64 (float32 outputs), including RST's handling of
 * odd data (nave <= 0 gives Inf/NaN fits, NaN elevations are kept). Where RST would crash on a
 * range (nave <= 0 and every lag of a range overlapped by the transmitter) the range is left
 * unfitted instead. See docs/algorithms/fitacf3.md for the stages and every deviation.
 */
#include "rstx/core/error.hpp"
#include "rstx/fit/batch.hpp"
#include "rstx/fit/exec.hpp"

namespace rstx::fit {

/** Which build of the CPU fitting code runs; both give the same bits (tests run both). */
enum class fitacf3_code_path {
  best,      ///< AVX2 where the processor has it, else baseline
  baseline,  ///< baseline x86-64 (SSE2)
};

struct fitacf3_options {
  /** Elevation routine: v2 (default), v1 (make_fit -old_elev), goose (-old_elev at Goose Bay). */
  elevation_method elevation = elevation_method::v2;
  fitacf3_code_path code_path = fitacf3_code_path::best;
};

/**
 * Fits every record of `in`. Output: one record_result per input record and the per-range
 * columns over the input's range indexing (qflg == 1 marks a fitted range).
 * Errors: errc::invalid_argument if the batch breaks the invariants from_dmap guarantees
 * (see `validate`), errc::unsupported for backend::cuda without a device, and the device's errors
 * (errc::cuda, errc::cuda_fatal).
 */
[[nodiscard]] result<host_fit_batch> fitacf3(acf_batch_view const& in, fitacf3_options const& opt = {},
                                             exec_context const& ctx = exec_context::cpu(), host_fit_batch reuse = {});

/** Checks the invariants every algorithm relies on (documented on record_params). */
[[nodiscard]] result<void> validate(acf_batch_view const& in);

namespace detail {
/** The CPU implementation: threads over records from ctx.pool, the same results for any count. */
[[nodiscard]] host_fit_batch fitacf3_cpu(acf_batch_view const& in, fitacf3_options const& opt,
                                         exec_context const& ctx, host_fit_batch reuse = {});

/**
 * FITACF 3.0 one range at a time, exactly as the CUDA kernels run it (detail/fitacf3_range.hpp: a
 * record plan, the noise by ranks, then each range's fit), on the host's arithmetic. It gives the
 * CPU backend's bits; the tests prove that on every shared file, which checks the kernels' code
 * on machines without a GPU. Single-threaded; for tests and for checking, not for speed.
 */
[[nodiscard]] host_fit_batch fitacf3_by_range(acf_batch_view const& in, fitacf3_options const& opt,
                                              host_fit_batch reuse = {});

/** cutoff_power_correction of each record (NaN for nave <= 0, where the noise is 1), computed once
 *  per (nave, nrang): the kernels take it from the host, which computes it with the C library. */
void noise_corrections(acf_batch_view const& in, double* out);
}  // namespace detail

}  // namespace rstx::fit
