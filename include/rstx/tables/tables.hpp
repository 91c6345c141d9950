#pragma once
/**
 * @file
 * Where the tables are: the radar list (radar.dat), the hardware files (hdw.dat.*), the tdiff
 * calibration files, the AACGM-v2 coefficients and the IGRF coefficients.
 *
 * rstx carries its own copy of every table (the repository's `tables/` folder, copied to
 * `build/share/rstx/tables` by the build and installed to `PREFIX/share/rstx/tables`), so the
 * programs need no setting at all. Each table is looked for, in this order:
 *
 *  1. an explicit path for that table (e.g. make_grid's `--aacgm-coeffs PREFIX`);
 *  2. `--tables DIR`: a folder laid out like rstx's own (radar.dat, hdw/, tdiff/, aacgm/, igrf/);
 *  3. RST's environment variable (SD_RADAR, SD_HDWPATH, SD_TDIFFPATH, AACGM_v2_DAT_PREFIX,
 *     IGRF_PATH), so that an existing RST setup keeps working;
 *  4. `RSTX_TABLES`: like `--tables`, for a whole environment;
 *  5. rstx's own copy: `share/rstx/tables` beside the program's `bin/` folder (the build tree or
 *     the install prefix), then the prefix the build was configured to install into, then
 *     /usr/share/rstx/tables and /usr/local/share/rstx/tables.
 *
 * The first place that names a table decides it: a table that is missing there is an error
 * naming the table and every place that was looked at, never a silent fall-through to another
 * copy. Every location records how it was chosen, so that programs can say which files they used.
 */
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rstx/core/error.hpp"

namespace rstx::tables {

/** One table's location and how it was chosen. */
struct location {
  std::string path;    ///< file (radar.dat), directory (hdw, tdiff, igrf) or path prefix (AACGM-v2)
  std::string origin;  ///< e.g. "--tables", "SD_RADAR", "built-in", "--aacgm-coeffs"
};

/** The AACGM-v2 coefficient sets rstx ships: "13" (RST 5.0's, the default) and "14". */
inline constexpr std::string_view default_aacgm_set = "13";

/** What a program asks for. Empty strings mean "not given". */
struct request {
  std::string tables_dir;   ///< --tables DIR
  /** AACGM-v2 coefficients: a set shipped with rstx ("13", "14") or a path prefix such as
   *  ".../aacgm_coeffs-14-"; empty: AACGM_v2_DAT_PREFIX, else the default set. */
  std::string aacgm;
  bool need_radar = true;   ///< radar.dat and the hardware folder
  bool need_tdiff = false;  ///< tdiff folder (make_fit: only checked, as RST requires its variable)
  bool need_geo = false;    ///< AACGM-v2 and IGRF (make_grid)
};

/** The tables found for a request (those not needed are left empty). */
struct table_set {
  location radar_dat;
  location hdw_dir;
  location tdiff_dir;
  location aacgm_prefix;
  location igrf_dir;

  /** One line per table found: "radar.dat: PATH (ORIGIN)", for -vb and `rstx info`. */
  [[nodiscard]] std::vector<std::string> describe() const;
};

/**
 * Finds the tables of a request (see the file comment for the order). Each one must exist:
 * errc::not_found names the table, the place that chose it and, when none did, every place looked at.
 */
[[nodiscard]] result<table_set> locate(request const& req);

/** rstx's own table folder if one is found (step 5 above), else nullopt. */
[[nodiscard]] std::optional<std::string> builtin_dir();

}  // namespace rstx::tables
