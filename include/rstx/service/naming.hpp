#pragma once
/**
 * @file
 * SuperDARN file names: `YYYYMMDD.HHMM.SS.rad[.chn].rawacf[.bz2|.gz|.zst]` for inputs, and the
 * product names rst-processor writes (`….fitacf[.bz2]`, `YYYYMMDD.rad[.chn].grid[.bz2]`).
 */
#include <optional>
#include <string>
#include <string_view>

namespace rstx::service {

/** Which radar, channel and UT day a file belongs to, and its start time (HHMM.SS). */
struct file_key {
  std::string day;      ///< YYYYMMDD
  std::string time;     ///< HHMM.SS
  std::string radar;    ///< station code, e.g. "cly"
  std::string channel;  ///< "" or a letter ("a", "b", ...)

  /** "YYYYMMDD.rad[.chn]": the daily grid this file belongs to. */
  [[nodiscard]] std::string grid_key() const;
  /** "YYYYMMDD.HHMM.SS.rad[.chn]" */
  [[nodiscard]] std::string stem() const;
};

/** Parses a SuperDARN rawacf name (any letter case in the suffix); nullopt for anything else. */
[[nodiscard]] std::optional<file_key> parse_superdarn_name(std::string_view filename);

/** The key from a file's content: station code, channel number (0: none) and first record time. */
[[nodiscard]] file_key key_from_content(std::string const& radar_code, int channel, double epoch);

/** "<stem>.fitacf" plus ".bz2" when compressing. */
[[nodiscard]] std::string fitacf_name(file_key const& k, bool bz2);
/** "YYYYMMDD.rad[.chn].grid" plus ".bz2" when compressing, from the key or its grid key. */
[[nodiscard]] std::string grid_name(file_key const& k, bool bz2);
[[nodiscard]] std::string grid_name(std::string const& grid_key, bool bz2);

}  // namespace rstx::service
