#pragma once
// Degree-based trigonometry with the exact rounding of RST's rmath.h macros, plus the
// constants of the geolocation code. Internal to the geo module.
//
// RST's macros are textual, e.g. `sind(x)` is `sin(PI*(x)/180.0)` and `asind(x)` is
// `asin(x)*180/PI`. Every use in the code ported here sits where a function call gives the same
// grouping, so these inline functions round exactly like the macros: the multiplication by PI
// comes before the division by 180 (or the other way round for the inverse functions), which
// is not the same as multiplying by a precomputed PI/180.
#include <cmath>

namespace rstx::geo::detail {

/// rmath.h `PI`.
inline constexpr double pi = 3.14159265358979323846;

/// aacgmlib_v2.h / igrflib.h `DTOR` = `M_PI/180.` (a single precomputed factor, unlike sind()).
inline constexpr double dtor = 3.14159265358979323846 / 180.0;

/// AACGM-v2 and rmath.h Earth radius `RE`, km.
inline constexpr double earth_radius_km = 6371.2;

/// WGS-84 semi-major axis (km) and flattening, as written in RST (geodtgc and igrflib.c).
inline constexpr double wgs84_a_km = 6378.137;
inline constexpr double wgs84_f = 1.0 / 298.257223563;
inline constexpr double wgs84_b_km = wgs84_a_km * (1.0 - wgs84_f);

[[nodiscard]] inline double sind(double x) noexcept { return std::sin(pi * x / 180.0); }
[[nodiscard]] inline double cosd(double x) noexcept { return std::cos(pi * x / 180.0); }
[[nodiscard]] inline double tand(double x) noexcept { return std::tan(pi * x / 180.0); }
[[nodiscard]] inline double asind(double x) noexcept { return std::asin(x) * 180 / pi; }
[[nodiscard]] inline double acosd(double x) noexcept { return std::acos(x) * 180 / pi; }
[[nodiscard]] inline double atand(double x) noexcept { return std::atan(x) * 180.0 / pi; }
[[nodiscard]] inline double atan2d(double y, double x) noexcept { return std::atan2(y, x) * 180.0 / pi; }

}  // namespace rstx::geo::detail
