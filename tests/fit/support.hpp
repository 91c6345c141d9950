#pragma once
// Shared by the fit tests: the shared tables, fitting a file in process like make_fit, building
// modified records, and comparing fitacf files field by field with a bitwise report.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "rstx/dmap/compare.hpp"
#include "rstx/dmap/record.hpp"
#include "rstx/fit/stream.hpp"

namespace rstx::fit::test {

/** radar.dat, hdw and tdiff directories of ../shared/tables. */
struct tables {
  std::string radar_dat, hdw_dir, tdiff_dir;
};
[[nodiscard]] tables shared_tables();
/** Sets SD_RADAR, SD_HDWPATH, SD_TDIFFPATH to the shared tables (for code that reads them). */
void set_table_environment();
/** The environment prefix for a shell command: SD_RADAR=... SD_HDWPATH=... SD_TDIFFPATH=... */
[[nodiscard]] std::string table_environment();

/** Fits a rawacf file in this process exactly like make_fit does (fit_stream), into records. */
struct fit_run {
  std::vector<dmap::record> records;
  stream_summary summary;
  std::vector<error> skipped;
};
[[nodiscard]] result<fit_run> fit_file(std::filesystem::path const& input, run_options const& options,
                                       int threads = 1, std::int32_t chunk_records = 256);

/** run_options from make_fit's command-line flags (as in tests/data/fit/fitacf3/cases.txt). */
[[nodiscard]] run_options options_from_flags(std::vector<std::string> const& flags);

/** A field-by-field comparison of an output with a reference (origin.* ignored). */
struct comparison {
  std::int64_t records = 0;
  std::int64_t fitted = 0;  ///< ranges written in the reference (slist entries)
  dmap::compare_result result;
  /** Lines: counts, and per field the values that are not bit-identical and the worst errors. */
  [[nodiscard]] std::string report(std::string const& name) const;
};
[[nodiscard]] comparison compare_files(std::vector<dmap::record> const& ours, std::vector<dmap::record> const& ref);

/** A copy of `r` with scalar `name` replaced (same type kept) or appended. */
template <class T>
[[nodiscard]] dmap::record with_scalar(dmap::record const& r, std::string const& name, T value);
/** A copy of `r` with array `name` replaced by the given dims and values (or appended). */
template <class T>
[[nodiscard]] dmap::record with_array(dmap::record const& r, std::string const& name, std::vector<std::int32_t> dims,
                                      std::vector<T> const& values);
/** A copy of `r` without the named field. */
[[nodiscard]] dmap::record without(dmap::record const& r, std::string const& name);

/** The records of ../shared/data/real/test.rawacf. */
[[nodiscard]] std::vector<dmap::record> const& borealis_records();

}  // namespace rstx::fit::test
