#pragma once
/**
 * @file
 * make_grid's whole run (make_grid.md §3): fitacf files → scans → exclusions → median filter →
 * grid intervals → grid records, with RST 5.0's defaults and quirks:
 *
 * - the median filter needs three scans, so the first and last scans of a run are never gridded;
 * - an interval is written when a later scan arrives, so the last interval is not written
 *   (`flush_last` writes it);
 * - the reader's state carries over from one input file to the next, which is not the same as
 *   concatenating the files (make_grid.md §2);
 * - AACGM-v2 is evaluated for 00:00 UT of the run's start date, IGRF for the integer year of each
 *   new beam geometry, and the radar's hardware line is the one valid at the first gridded scan.
 *
 * Where RST fails silently (an unreadable or truncated file, a station missing from the tables, a
 * gate that cannot be geolocated) the run stops with an error instead; records written before
 * stay written.
 */
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/grid/filter.hpp"
#include "rstx/grid/grid_table.hpp"
#include "rstx/grid/scan.hpp"

namespace rstx::grid {

/** Everything make_grid's command line sets. Defaults are RST's. */
struct make_grid_options {
  scan_rules scan;                   ///< -tl, and the read side of -cn
  record_header header;              ///< written channel, gsct mode, limits, -xtd
  mapping_options mapping;           ///< -alt, -chisham, -inertial, -i, threads
  std::vector<int> exclude_beams;    ///< -ebm
  bool exclude_out_of_scan = false;  ///< -ns
  range_limits ranges;               ///< -minrng/-maxrng/-minsrng/-maxsrng
  bool apply_bounds = true;          ///< !-nb
  value_bounds bounds;               ///< -vmin ... -vemax
  bool median = true;                ///< !-nav: three scans per filter step (nbox 3) instead of one
  int filter_mode = 0;               ///< -fwgt N gives N-1 for N > 0; -1 turns the filter off
  bool isort = false;                ///< -isort
  bool check_ops = true;             ///< !-nlm
  int fmax = 500000;                 ///< -fmax ("Hz", compared with kHz values: never triggers)
  std::optional<double> start_sod;   ///< -st, seconds of day
  std::optional<double> start_date;  ///< -sd, epoch of 00:00 UT
  std::optional<double> end_sod;     ///< -et
  std::optional<double> end_date;    ///< -ed
  double extent_s = 0;               ///< -ex
  bool flush_last = false;           ///< write the interval still open when the input ends
  dmap::reader_options reader;       ///< record size limit
  int threads = 0;                   ///< worker threads (0: one per hardware thread)
};

/** Where the tables are (tables::locate finds them). */
struct table_paths {
  std::string radar_dat;     ///< SD_RADAR
  std::string hdw_dir;       ///< SD_HDWPATH
  std::string aacgm_prefix;  ///< AACGM_v2_DAT_PREFIX
  std::string igrf_dir;      ///< IGRF_PATH
};

struct run_callbacks {
  std::function<result<void>(dmap::record const&)> write;  ///< each grid record, in order
  std::function<void(std::string_view)> log;               ///< -vb lines ("Storing:...", the AACGM-v2 and IGRF files loaded); may be empty
  std::function<void(std::string_view)> notice;            ///< lines RST prints even without -vb ("Opening file:..."); may be empty
};

struct run_summary {
  std::int64_t records_read = 0;
  std::int64_t scans = 0;
  std::int64_t grid_records = 0;
};

/** Runs make_grid over the input files ("-" is standard input), in order. */
[[nodiscard]] result<run_summary> make_grid(std::vector<std::string> const& inputs, make_grid_options const& opt,
                                            table_paths const& tables, run_callbacks const& cb);

}  // namespace rstx::grid
