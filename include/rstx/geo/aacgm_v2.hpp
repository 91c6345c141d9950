#pragma once
/**
 * @file
 * AACGM-v2 (Altitude-Adjusted Corrected GeoMagnetic coordinates, version 2) from the published
 * spherical-harmonic coefficients, as RST 5.0's `aacgmlib_v2.c` computes them.
 *
 * Reference: S. G. Shepherd (2014), "Altitude-adjusted corrected geomagnetic coordinates:
 * Definition and functional approximations", J. Geophys. Res. Space Physics 119, 7501–7521,
 * doi:10.1002/2014JA020264.
 *
 * Model: for each 5-year epoch a coefficient file holds, for both directions (G2A:
 * geographic → AACGM, A2G: AACGM → geographic), a quartic polynomial in height (h/2000 km) for
 * each of the 121 coefficients (degree ≤ 10) of the x, y and z components on the unit sphere.
 * `aacgm_v2_model::load` reads the two files bracketing a date and interpolates linearly in
 * decimal year; the model then converts any number of points for that instant.
 *
 * Conventions:
 *  - Angles in degrees. Geographic input latitude in [-90, 90]; longitude any value (not
 *    wrapped). Magnetic longitude out in (-180, 180].
 *  - G2A takes geodetic coordinates by default (height above the WGS-84 ellipsoid) and converts
 *    them to geocentric ones first (wgs84.hpp `geodetic_to_geocentric`); with
 *    `geographic_frame::geocentric` the input is taken as geocentric latitude and height above
 *    the 6371.2 km sphere.
 *  - Heights: the coefficients are valid to 2000 km *geocentric* height (above 6371.2 km); a
 *    geodetic height a little under 2000 km can exceed it near the equator. Above it →
 *    errc::out_of_range (RST's tracing options are not implemented).
 *  - The forbidden region: near the magnetic equator, where field lines do not reach the given
 *    height, G2A has no solution (x² + y² > 1) → errc::out_of_range.
 *
 * Coefficient sets (selected only by the file prefix; both are tested):
 *  - "-13-": `aacgm_coeffs-13-YYYY.asc`, 1590–2025, derived from IGRF-13, shipped with RST 5.0
 *    (`tables/analysis/aacgm/`). **Use these to reproduce RST 5.0 output.**
 *  - "-14-": `aacgm_coeffs-14-YYYY.asc`, 1590–2030, from IGRF-14, shipped with the Python
 *    package aacgmv2 ≥ 2.7 (`site-packages/aacgmv2/aacgm_coeffs/`). Differs from "-13-" by up to
 *    ~0.03° in latitude and ~0.2° in longitude (2021).
 *  The file name is `prefix + four-digit epoch + ".asc"`, e.g. prefix
 *  `/data/aacgm/aacgm_coeffs-13-` gives `/data/aacgm/aacgm_coeffs-13-2020.asc`. RST reads the
 *  prefix from the environment variable `AACGM_v2_DAT_PREFIX` (`aacgm_v2_prefix_from_env`).
 *
 * Valid dates: the decimal year must lie in [first epoch, last epoch) of the files present for
 * the prefix — [1590, 2025) for "-13-", the range RST 5.0 accepts, and [1590, 2030) for "-14-".
 *
 * Accuracy (measured by tests/geo/aacgm_v2_test.cpp, x86-64, no FMA): bit-identical to RST 5.0
 * on its 800 test vectors `../shared/spec/tools/vectors/aacgm_v2_g2a_*.txt` (worst |Δmlat|,
 * |Δmlon|, |Δr| = 0), and bit-identical to the Python package aacgmv2 2.7.0 with the same
 * coefficient set ("-13-" and "-14-") on ~45,000 G2A and A2G conversions over 13 dates
 * (1589–2030), 18 latitudes, 12 longitudes and 6 heights, failures included. The model itself
 * approximates field-line tracing in IGRF to about 0.1° or better below 2000 km (Shepherd 2014).
 *
 * Thread safety: a loaded model is immutable; all conversion methods are const, keep no cache
 * and may be called concurrently. Copying a model copies ~29 KB of coefficients.
 */
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rstx/core/error.hpp"

namespace rstx::geo {

/** Which geographic coordinates a conversion reads (G2A) or writes (A2G). */
enum class geographic_frame : std::uint8_t {
  geodetic,    ///< WGS-84 geodetic latitude, height above the ellipsoid (RST's default)
  geocentric,  ///< geocentric latitude, height above the 6371.2 km sphere (RST's GEOCENTRIC flag)
};

/** Result of a G2A conversion. */
struct magnetic_coords {
  double mlat_deg = 0;  ///< AACGM-v2 latitude, [-90, 90]
  double mlon_deg = 0;  ///< AACGM-v2 longitude, (-180, 180]
  double r_re = 0;      ///< geocentric distance of the point in Earth radii of 6371.2 km
};

/** Result of an A2G conversion. */
struct geographic_coords {
  double lat_deg = 0;    ///< geodetic or geocentric latitude (as requested)
  double lon_deg = 0;    ///< longitude, (-180, 180]
  double height_km = 0;  ///< height above the ellipsoid (geodetic) or the 6371.2 km sphere
};

/** Date and time in UT that the coefficients are interpolated to (integer seconds, like RST). */
struct aacgm_v2_datetime {
  int year = 0;
  int month = 1;   ///< 1..12
  int day = 1;     ///< 1..days in the month
  int hour = 0;    ///< 0..23
  int minute = 0;  ///< 0..59
  int second = 0;  ///< 0..60
};

/**
 * @brief AACGM-v2 coefficients interpolated to one instant. Immutable; see the file comment.
 */
class aacgm_v2_model {
 public:
  /** Highest (geocentric) height, km, at which the coefficients are used (RST `MAXALT`). */
  static constexpr double max_height_km = 2000.0;
  /** Spherical-harmonic degree of the expansion (RST `SHORDER`). */
  static constexpr int order = 10;
  /** Number of coefficients per component and power of height, (order+1)². */
  static constexpr int n_harmonics = (order + 1) * (order + 1);
  /** Values in one coefficient file: 2 directions × 5 powers × 3 components × 121. */
  static constexpr int values_per_file = 2 * 5 * 3 * n_harmonics;

  /**
   * @brief Loads the two 5-year epoch files around a date and interpolates to it
   * (RST `AACGM_v2_SetDateTime`).
   * @param coeff_prefix path prefix of the files, e.g. ".../aacgm_coeffs-13-"
   * @return the model, or: errc::invalid_argument for an impossible date; errc::out_of_range when
   *   the decimal year lies outside the epochs covered by the files found for the prefix;
   *   errc::not_found when no file exists for the prefix or a needed epoch file is missing
   *   (message names the path); errc::bad_value when a file does not hold exactly 3630 numbers.
   *
   * The decimal year is `year + ((doy − 1) + (hour + (minute + second/60)/60)/24) / days_in_year`
   * and the coefficients `c = c0 + (t − epoch)(c5 − c0)/5`, where `epoch = year/5*5`.
   */
  [[nodiscard]] static result<aacgm_v2_model> load(std::string_view coeff_prefix, int year, int month, int day,
                                                   int hour = 0, int minute = 0, int second = 0);
  /** Same, with the date in a struct. */
  [[nodiscard]] static result<aacgm_v2_model> load(std::string_view coeff_prefix, aacgm_v2_datetime const& when);
  /** Same, with the prefix from the environment variable AACGM_v2_DAT_PREFIX (error if unset). */
  [[nodiscard]] static result<aacgm_v2_model> load_from_env(aacgm_v2_datetime const& when);

  /**
   * @brief Geographic to AACGM-v2 (RST `AACGM_v2_Convert(..., G2A)`).
   * @param lat_deg   latitude, degrees, [-90, 90] (geodetic unless `frame` says geocentric)
   * @param lon_deg   longitude, degrees, any value
   * @param height_km height, km (see `frame`); the geocentric height must not exceed 2000 km
   * @return (mlat, mlon, r); errc::out_of_range for |lat| > 90, a geocentric height above
   *   2000 km, or a point in the forbidden region; errc::invalid_argument for NaN inputs.
   */
  [[nodiscard]] result<magnetic_coords> convert_g2a(double lat_deg, double lon_deg, double height_km,
                                                    geographic_frame frame = geographic_frame::geodetic) const;

  /**
   * @brief AACGM-v2 to geographic with the inverse coefficients (RST `AACGM_v2_Convert(..., A2G)`).
   * @param mlat_deg  AACGM-v2 latitude, degrees, [-90, 90]
   * @param mlon_deg  AACGM-v2 longitude, degrees
   * @param height_km geocentric height above 6371.2 km, [0, 2000] (e.g. (r − 1)·6371.2 from G2A)
   * @return geographic position in `frame` coordinates; errc::out_of_range for |mlat| > 90, a
   *   height above 2000 km, a latitude below the one that maps to the surface at this height,
   *   or a synthesis far from the unit sphere (|r − 1| > 0.1).
   *
   * A2G is a separate coefficient fit of the inverse map, not an exact inverse of G2A: a
   * G2A → A2G round trip at |lat| >= 40° moves the point by up to 0.17° in latitude and 0.11° of
   * arc in longitude (measured in tests/geo/aacgm_v2_test.cpp, 2015-03-01, 0–1000 km).
   */
  [[nodiscard]] result<geographic_coords> convert_a2g(double mlat_deg, double mlon_deg, double height_km,
                                                      geographic_frame frame = geographic_frame::geodetic) const;

  /** The instant the coefficients were interpolated to. */
  [[nodiscard]] aacgm_v2_datetime const& datetime() const noexcept { return when_; }
  /** That instant as a decimal year (RST `fyear`). */
  [[nodiscard]] double decimal_year() const noexcept { return decimal_year_; }
  /** The 5-year epoch at or before the date; files `epoch` and `epoch + 5` were read. */
  [[nodiscard]] int epoch() const noexcept { return epoch_; }
  /** The coefficient prefix the model was loaded from. */
  [[nodiscard]] std::string const& prefix() const noexcept { return prefix_; }

 private:
  aacgm_v2_model() = default;
  std::vector<double> coef_;  // [direction][harmonic k][component][power], interpolated in time
  aacgm_v2_datetime when_{};
  double decimal_year_ = 0;
  int epoch_ = 0;
  std::string prefix_;
};

/** Value of AACGM_v2_DAT_PREFIX; errc::not_found naming the variable when it is unset or empty. */
[[nodiscard]] result<std::string> aacgm_v2_prefix_from_env();

/**
 * @brief The real spherical harmonics that AACGM-v2 expands in (RST `AACGM_v2_Rylm`), for degree
 * 0..10, at index k = l(l+1) + m (m = −l..l). Orthonormal-like normalisation with AACGM's own
 * sign conventions; exposed for tests.
 * @param colat_rad colatitude, radians; lon_rad: longitude, radians
 */
[[nodiscard]] std::vector<double> aacgm_v2_harmonics(double colat_rad, double lon_rad);

}  // namespace rstx::geo
