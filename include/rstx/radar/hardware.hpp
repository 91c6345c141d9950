#pragma once
/**
 * @file
 * SuperDARN radar tables: the radar list (radar.dat), hardware files (hdw.dat.<code>) and tdiff
 * calibration files (tdiff.dat.<code>), read the way RST reads them (dmap.md §4), with errors
 * that name the file and line instead of RST's silent skips and undefined lookups.
 *
 * Tables are found like RST finds them: SD_RADAR (path of radar.dat), SD_HDWPATH (directory of
 * the hdw files) and SD_TDIFFPATH (directory of the tdiff files), or explicit paths.
 */
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rstx/core/error.hpp"

namespace rstx::radar {

/**
 * One line of a hardware file: the radar's site and hardware from `valid_from` on.
 * Angles in degrees, geographic (geodetic WGS-84) coordinates, east longitude positive.
 */
struct site {
  int stid = 0;
  int status = 1;                 ///< 1 operational, -1 offline (stored, not used by lookups)
  double valid_from = 0.0;        ///< epoch seconds (UTC) from which this line applies
  double geo_lat_deg = 0.0;
  double geo_lon_deg = 0.0;
  double altitude_m = 0.0;
  double boresight_deg = 0.0;     ///< from geographic north
  double bmoff_deg = 0.0;         ///< electronic boresight shift
  double bmsep_deg = 0.0;         ///< beam separation; negative for some southern radars
  double vdir = 1.0;              ///< velocity sign, +1 or -1
  double phidiff = 1.0;           ///< interferometer phase sign: +1, -1, or 0 (no interferometer)
  std::array<double, 2> tdiff_us{};  ///< interferometer cable delay, channel A and channel B
  std::array<double, 3> interferometer_m{};  ///< X, Y, Z offset of the interferometer array
  double recrise_us = 0.0;        ///< receiver rise time
  double atten_db = 0.0;          ///< attenuator step
  int maxatten = 0;
  int maxrange = 0;               ///< number of range gates the radar supports
  int maxbeam = 0;                ///< number of beams
};

/** One radar of radar.dat, with its hardware lines once loaded. */
struct radar_entry {
  int stid = 0;
  int status = 0;
  std::optional<double> start;    ///< epoch of 00:00 UT on the start date, if any
  std::optional<double> end;      ///< epoch of 00:00 UT on the end date, if any
  std::string name;
  std::string operator_name;
  std::string hdw_file;           ///< file name inside SD_HDWPATH
  std::vector<std::string> codes; ///< first: 3-letter code (used for tdiff files)
  std::vector<site> sites;        ///< hardware lines in file order (load_hardware)

  /**
   * The hardware valid at `epoch` (RadarEpochGetSite): the last line whose start is not later
   * than `epoch`. Errors (errc::not_found) when `epoch` is outside the radar's operating dates or
   * before its first hardware line, where RST has no answer (its lookup reads out of bounds).
   */
  [[nodiscard]] result<site> site_at(double epoch) const;
};

/** The radar list, with hardware loaded for the radars asked for. */
class radar_table {
 public:
  /** Parses radar.dat. */
  [[nodiscard]] static result<radar_table> load(std::string const& radar_dat);
  /** Parses radar.dat from $SD_RADAR. */
  [[nodiscard]] static result<radar_table> from_environment();

  [[nodiscard]] radar_entry const* find(int stid) const noexcept;
  [[nodiscard]] std::vector<radar_entry> const& radars() const noexcept { return radars_; }

  /**
   * Reads the hardware file of radar `stid` from `hdw_dir` (or $SD_HDWPATH when empty) and
   * returns the radar with its sites. Both file formats are accepted: RST 5's (22 fields, with
   * beam offset and per-channel tdiff) and RST 4's (19 fields, year + seconds of year, one tdiff).
   */
  [[nodiscard]] result<radar_entry> load_hardware(int stid, std::string const& hdw_dir = {}) const;

 private:
  std::string path_;
  std::vector<radar_entry> radars_;
};

/** Parses the hardware lines of one file for radar `stid` (exposed for tests and fuzzing). */
[[nodiscard]] result<std::vector<site>> parse_hardware(std::string_view text, int stid, std::string const& source);

/** One line of a tdiff calibration file. */
struct tdiff_entry {
  int method = 0;
  int channel = 0;
  double fmin_khz = 0.0;
  double fmax_khz = 0.0;
  double start = 0.0;   ///< epoch
  double end = 0.0;     ///< epoch
  double tdiff_us = 0.0;
  double tdiff_err_us = 0.0;
};

/** A tdiff calibration table (tdiff.dat.<code>). */
class tdiff_table {
 public:
  /** Reads `<dir>/tdiff.dat.<code>`; `dir` empty means $SD_TDIFFPATH. */
  [[nodiscard]] static result<tdiff_table> load(std::string const& code, std::string const& dir = {});
  [[nodiscard]] static result<tdiff_table> parse(std::string_view text, std::string const& source);

  /**
   * The first entry with this method and channel whose frequency band and time span contain
   * `tfreq_khz` and `epoch` (RadarEpochGetTdiff). `channel` is 0 for records with offset 0.
   */
  [[nodiscard]] std::optional<tdiff_entry> find(int method, int channel, double tfreq_khz, double epoch) const;
  [[nodiscard]] std::vector<tdiff_entry> const& entries() const noexcept { return entries_; }

 private:
  std::vector<tdiff_entry> entries_;
};

/** Value of an environment variable, or errc::not_found naming it (and what it is for). */
[[nodiscard]] result<std::string> require_env(char const* name, char const* purpose);

}  // namespace rstx::radar
