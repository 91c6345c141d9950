#pragma once
/**
 * @file
 * rawacf DMAP records → input batches for the fitting algorithms, with every check that makes a
 * record safe to fit. This is the only place where the fit module meets DMAP.
 *
 * A record that cannot be fitted is not an error of the batch: it is listed in
 * `rawacf_batch::rejected` with its input index and the reason, and left out of the batch. RST
 * crashes, hangs or reads out of bounds on these records; rstx reports and skips them. Checks
 * (each gives errc::bad_value unless noted):
 *  - the rawacf view does not decode (missing field, wrong type, acfd extents that do not match
 *    slist: errc::missing_field / errc::wrong_type);
 *  - nrang <= 0, nrang above the lag-0 powers present (pwr0 extent), above fit::max_ranges
 *    (1000), or above `input_limits::max_ranges` when one is given;
 *  - mplgs <= 0 or above max_lags; fewer lag-table rows than mplgs + 1 (or mplgexs + 1);
 *  - mppul <= 0, above max_pulses, or different from the pulse table's length;
 *  - a lag-table entry (rows 0..mplgs-1) that is not a pulse of the pulse table;
 *  - smsep <= 0 (RST divides by it, or loops forever);
 *  - an slist entry outside [0, pwr0 extent);
 *  - ACF data that do not cover nrang × mplgs values (acfd/xcfd lag extent too small);
 *  - NaN or infinity in pwr0, acfd or xcfd;
 *  - nave and nrang for which RST's noise-level correction never terminates (nrang <= 10 typically).
 *
 * Everything else is reproduced as RST decodes it, quirks included (dmap.md §3.1): pwr0 is taken
 * directly (no slist mapping), ranges not in slist have zero ACFs, duplicate slist entries keep the
 * last, slist entries at or above nrang are ignored, and when acfd's lag extent differs from
 * mplgs the values are read with RST's mixed strides (RawSetACF stores rows of the array's lag
 * extent, Copy_Fitting_Prms reads rows of mplgs).
 */
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/record.hpp"
#include "rstx/fit/batch.hpp"
#include "rstx/fit/exec.hpp"
#include "rstx/radar/hardware.hpp"

namespace rstx::fit {

/** How tdiff is chosen for each record (RST 5.0 make_fit.c). */
struct tdiff_selection {
  /** -tdiff: replaces the hardware value. (RST's "not given" sentinel -999 is treated as not given.) */
  std::optional<double> fixed_us;
  /** -tdiff_method: look the record up in the calibration table first. */
  std::optional<int> method;
  /** The radar's tdiff.dat table (needed with `method`; an empty table finds nothing). */
  radar::tdiff_table const* calibration = nullptr;
};

/**
 * tdiff for one record: the calibration entry for (method, channel = 0 if offset == 0 else the
 * record's channel, tfreq, record time in whole seconds) if there is one; else -tdiff if given;
 * else the hardware value of channel A (offset == 0 or channel < 2) or B.
 */
[[nodiscard]] double choose_tdiff_us(radar::site const& site, dmap::radar_parms const& prm,
                                     tdiff_selection const& sel) noexcept;

/** The site constants of one record (hdw.dat line + the tdiff chosen for it). */
[[nodiscard]] site_params make_site_params(radar::site const& site, double tdiff_us) noexcept;

struct input_limits {
  /** Largest nrang accepted; 0 = no limit beyond the data present. make_fit uses hdw.dat maxrange. */
  std::int32_t max_ranges = 0;
};

/** A record left out of a batch, with why. `reason.record` is its index in the input stream. */
struct rejected_record {
  std::int64_t index = 0;
  error reason;
};

/** A chunk of rawacf records converted for fitting. */
struct rawacf_batch {
  host_acf_batch acf;                     ///< the fittable records, in input order
  std::vector<std::int64_t> input_index;  ///< for each batch record, its index in the input stream
  std::vector<dmap::radar_parms> prm;     ///< the decoded parameter block of each batch record
  std::vector<rejected_record> rejected;  ///< records that cannot be fitted, in input order
};

/**
 * Converts rawacf records. `indices` and `offsets` (each optional; empty, or one per record) are
 * the records' indices in the input stream (default: 0, 1, 2...) and their byte offsets; both only
 * label errors and `input_index`. `recycled` may pass in a previous batch whose memory is then
 * reused (streaming callers).
 */
[[nodiscard]] rawacf_batch from_dmap(std::span<dmap::record const> records, std::span<std::int64_t const> indices,
                                     std::span<std::int64_t const> offsets, radar::site const& site,
                                     tdiff_selection const& tdiff, input_limits const& limits,
                                     exec_context const& ctx = exec_context::cpu(), rawacf_batch recycled = {});

/**
 * Checks one decoded rawacf record against every rule above (without converting it). Returns the
 * reason it cannot be fitted, or nothing.
 */
[[nodiscard]] std::optional<error> check_rawacf(dmap::rawacf_view const& raw, input_limits const& limits);

}  // namespace rstx::fit
