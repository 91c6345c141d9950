#pragma once
/**
 * @file
 * Fit results → fitacf DMAP records, field for field as RST's FitWrite writes them
 * (RadarParmEncode then FitEncode; dmap.md §2, §3.2), for both FITACF 3.0 and 2.5.
 *
 * Layout: the 46 radar-parameter scalars (origin.* replaced, see `origin_info`), then `algorithm`,
 * `fitacf.revision.major/minor`, `noise.sky`, `noise.lag0`, `noise.vel`, `tdiff`; arrays `ptab`,
 * `ltab` (mplgexs+1 rows if mplgexs != 0, else mplgs+1), `pwr0` [nrang]; then, only if some range
 * is written (qflg == 1 or x_qflg == 1: the "slist compaction"), `slist`, `nlag`, `qflg`, `gflg`
 * and the 13 ACF columns, and, only if the record's xcf != 0, the algorithm's XCF block.
 * Values were narrowed to float when the algorithm stored them, exactly like C assignment.
 */
#include <cstdint>
#include <ctime>
#include <span>
#include <string>

#include "rstx/dmap/products.hpp"
#include "rstx/dmap/record.hpp"
#include "rstx/fit/batch.hpp"

namespace rstx::fit {

/** The origin.* fields make_fit writes into every output record. */
struct origin_info {
  std::int8_t code = 1;  ///< 1: produced away from the radar site
  std::string time;      ///< asctime(gmtime(now)) without the newline, 24 characters
  std::string command;   ///< the command line, see origin_command
};

/** RST's origin.time for a moment: asctime(gmtime(t)) cut to 24 characters, e.g. "Mon Nov 23 21:18:06 2026". */
[[nodiscard]] std::string origin_time(std::time_t t);

/**
 * RST's origin.command: the arguments joined by single spaces, adding arguments while the running
 * total of (length + 1) stays at most 127 (make_fit.c), so the result fits RST's 128-byte buffer.
 */
[[nodiscard]] std::string origin_command(std::span<char const* const> argv);

/**
 * Writes batch record `i` of `fit` as a fitacf record into `out` (cleared first). `prm` is the
 * record's decoded parameter block. As in RST, mppul is written as the pulse table's length.
 */
void to_dmap(dmap::radar_parms const& prm, host_fit_batch const& fit, std::int32_t i, origin_info const& origin,
             dmap::record& out);

}  // namespace rstx::fit
