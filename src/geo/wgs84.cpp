#include "rstx/geo/wgs84.hpp"

#include <cmath>

#include "detail/degrees.hpp"

namespace rstx::geo {

using detail::atand;
using detail::dtor;
using detail::earth_radius_km;
using detail::sind;
using detail::tand;
using detail::wgs84_a_km;
using detail::wgs84_b_km;
using detail::wgs84_f;

namespace {

// Second eccentricity squared, a²/b² − 1, as geodtgc computes it.
constexpr double second_eccentricity_sq = (wgs84_a_km * wgs84_a_km) / (wgs84_b_km * wgs84_b_km) - 1;

// Geocentric radius of the ellipsoid at a geocentric latitude: a / sqrt(1 + e'² sin²(glat)).
double surface_radius_km(double geocentric_lat_deg) noexcept {
  return wgs84_a_km / std::sqrt(1.0 + second_eccentricity_sq * sind(geocentric_lat_deg) * sind(geocentric_lat_deg));
}

}  // namespace

wgs84_surface_point surface_from_geodetic(double geodetic_lat_deg, double lon_deg) noexcept {
  wgs84_surface_point p;
  p.geodetic_lat_deg = geodetic_lat_deg;
  p.geocentric_lat_deg = atand((wgs84_b_km * wgs84_b_km) / (wgs84_a_km * wgs84_a_km) * tand(geodetic_lat_deg));
  p.lon_deg = lon_deg > 180 ? lon_deg - 360 : lon_deg;
  p.radius_km = surface_radius_km(p.geocentric_lat_deg);
  p.vertical_deviation_deg = p.geodetic_lat_deg - p.geocentric_lat_deg;
  return p;
}

wgs84_surface_point surface_from_geocentric(double geocentric_lat_deg, double lon_deg) noexcept {
  wgs84_surface_point p;
  p.geocentric_lat_deg = geocentric_lat_deg;
  p.geodetic_lat_deg = atand((wgs84_a_km * wgs84_a_km) / (wgs84_b_km * wgs84_b_km) * tand(geocentric_lat_deg));
  p.lon_deg = lon_deg;
  p.radius_km = surface_radius_km(geocentric_lat_deg);
  p.vertical_deviation_deg = p.geodetic_lat_deg - p.geocentric_lat_deg;
  return p;
}

geocentric_position geodetic_to_geocentric(double lat_deg, double lon_deg, double height_km) noexcept {
  constexpr double a2 = wgs84_a_km * wgs84_a_km;
  constexpr double b2 = wgs84_b_km * wgs84_b_km;
  double const theta = (90. - lat_deg) * dtor;  // colatitude
  double const st = std::sin(theta);
  double const ct = std::cos(theta);
  double const one = a2 * st * st;
  double const two = b2 * ct * ct;
  double const three = one + two;
  double const rho = std::sqrt(three);
  double const r = std::sqrt(height_km * (height_km + 2 * rho) + (a2 * one + b2 * two) / three);
  double const cd = (height_km + rho) / r;
  double const sd = (a2 - b2) / rho * ct * st / r;
  // geod2geoc returns (r/RE, colatitude, lon in radians); AACGM_v2_Convert turns them back into
  // degrees and km. The lon -> radians -> degrees round trip is kept: it can change the last bit.
  double const r_re = r / earth_radius_km;
  double const colat = std::acos(ct * cd - st * sd);
  double const lon_rad = lon_deg * dtor;
  return {90. - colat / dtor, lon_rad / dtor, (r_re - 1.) * earth_radius_km};
}

geodetic_position geocentric_to_geodetic(double lat_deg, double lon_deg, double r_re) noexcept {
  constexpr double a = wgs84_a_km;
  constexpr double f = wgs84_f;
  constexpr double ee = (2. - f) * f;  // first eccentricity squared
  constexpr double e4 = ee * ee;
  constexpr double aa = a * a;
  double const theta = (90. - lat_deg) * dtor;
  double const phi = lon_deg * dtor;
  double const st = std::sin(theta);
  double const ct = std::cos(theta);
  double const sp = std::sin(phi);
  double const cp = std::cos(phi);
  double const x = r_re * earth_radius_km * st * cp;
  double const y = r_re * earth_radius_km * st * sp;
  double const z = r_re * earth_radius_km * ct;
  // Closed-form inversion (Vermeille-type), in RST's order of operations.
  double const k0i = 1. - ee;
  double const pp = x * x + y * y;
  double const zeta = k0i * z * z / aa;
  double const rho = (pp / aa + zeta - e4) / 6.;
  double const s = e4 * zeta * pp / (4. * aa);
  double const rho3 = rho * rho * rho;
  double const t = std::pow(rho3 + s + std::sqrt(s * (s + 2 * rho3)), 1. / 3.);
  double const u = rho + t + rho * rho / t;
  double const v = std::sqrt(u * u + e4 * zeta);
  double const w = ee * (u + v - zeta) / (2. * v);
  double const kappa = 1. + ee * (std::sqrt(u + v + w * w) + w) / (u + v);
  return {std::atan2(z * kappa, std::sqrt(pp)) / dtor, lon_deg,
          std::sqrt(pp + z * z * kappa * kappa) / ee * (1. / kappa - k0i)};
}

}  // namespace rstx::geo
