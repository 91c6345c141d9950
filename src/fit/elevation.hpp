#pragma once
/**
 * @file
 * Elevation angle of arrival from the interferometer phase, as RST's elevation library computes
 * it (codebase/superdarn/src.lib/tk/elevation.1.0/src/: elevation_v2.c, elevation.c,
 * elev_goose.c; fitacf3.md §15). Used by FITACF 3.0 and FITACF 2.5.
 *
 * Every expression keeps RST's evaluation order, so results are bit-identical to RST's on x86-64
 * (with the same libm). NaN results are normal (no interferometer, phase outside the physical
 * range) and are returned as NaN, like RST.
 *
 * RST's routines cache the interferometer offsets (and, for v1/goose, values derived from them
 * and from phidiff) in static variables on their first call in the process, so a second site in
 * the same process would silently keep the first site's geometry. make_fit uses one site per run,
 * so passing the geometry with every call gives the same numbers without the hidden state; it
 * also makes the functions safe to call from several threads and for several sites.
 *
 * Units: lengths in metres, angles in degrees except phases (radians), tfreq in kHz, tdiff in
 * microseconds; the result is the elevation in degrees.
 */
#include <cmath>
#include <cstdint>

#include "detail/host_device.hpp"

namespace rstx::fit {

/** Interferometer geometry of a site (hdw.dat): offset of the interferometer array from the main
 *  array (X along the boresight-normal baseline, Y towards the boresight, Z up), beams. */
struct elevation_geometry {
  double x_m = 0.0;
  double y_m = 0.0;
  double z_m = 0.0;
  int maxbeam = 0;
  double bmoff_deg = 0.0;
  double bmsep_deg = 0.0;
};

/** Shepherd (2017) elevation, RST's default (`elevation_v2`). tfreq_khz takes RST's integer kHz. */
[[nodiscard]] double elevation_v2(elevation_geometry const& g, int bmnum, double tfreq_khz, double tdiff_us,
                                  double psi_obs_rad) noexcept;
/** The original algorithm (`elevation`, make_fit -old_elev); phidiff is the hdw.dat phase sign. */
[[nodiscard]] double elevation_v1(elevation_geometry const& g, int bmnum, double tfreq_khz, double tdiff_us,
                                  double psi_obs_rad, double phidiff) noexcept;

namespace detail {

inline constexpr double pi = 3.14159265358979323846;  // rmath.h PI
inline constexpr double c_m_s = 2.99792458e+8;        // rmath.h C

/**
 * elevation_v2 split into the part that depends only on the beam (computed once per record) and
 * the part that depends on the observed phase. `elevation_v2()` is exactly prepare + solve.
 */
struct elevation_v2_beam {
  double x = 0, y = 0, z = 0;
  double cp0 = 0, sp0 = 0;
  double tfreq = 0, tdiff = 0;
  double psi_max = 0;

  RSTX_HOST_DEVICE static elevation_v2_beam prepare(elevation_geometry const& g, int bmnum, double tfreq_khz,
                                                    double tdiff_us) noexcept {
    elevation_v2_beam b;
    b.x = g.x_m;
    b.y = g.y_m;
    b.z = g.z_m;
    b.tfreq = tfreq_khz;
    b.tdiff = tdiff_us;
    int const sgn = (b.y < 0) ? -1 : 1;
    double const boff = g.maxbeam / 2. - 0.5;  // floating division here (integer in the elevation error)
    double const phi0 = (g.bmoff_deg + g.bmsep_deg * (bmnum - boff)) * pi / 180.;
    b.cp0 = std::cos(phi0);
    b.sp0 = std::sin(phi0);
    double const psi_ele = -2 * pi * tfreq_khz * tdiff_us * 1e-3;
    double a0 = std::asin(sgn * b.z * b.cp0 / std::sqrt(b.y * b.y + b.z * b.z));
    if (a0 < 0) a0 = 0.;
    double const ca0 = std::cos(a0);
    double const sa0 = std::sin(a0);
    b.psi_max = psi_ele + 2 * pi * tfreq_khz * 1e3 / c_m_s *
                              (b.x * b.sp0 + b.y * std::sqrt(ca0 * ca0 - b.sp0 * b.sp0) + b.z * sa0);
    return b;
  }

  [[nodiscard]] RSTX_HOST_DEVICE double solve(double psi_obs) const noexcept {
    double const dpsi = psi_max - psi_obs;
    double const n2pi = (y > 0) ? std::floor(dpsi / (2 * pi)) : std::ceil(dpsi / (2 * pi));
    double const d2pi = n2pi * 2 * pi;
    psi_obs += d2pi;
    double const e = (psi_obs / (2 * pi * tfreq * 1e3) + tdiff * 1e-6) * c_m_s - x * sp0;
    double const alpha =
        std::asin((e * z + std::sqrt(e * e * z * z - (y * y + z * z) * (e * e - y * y * cp0 * cp0))) / (y * y + z * z));
    return 180. * alpha / pi;
  }
};

/** elevation (v1) split the same way. */
struct elevation_v1_beam {
  double c_phi = 0, k = 0, dchi_cable = 0, chi_max = 0;
  double antenna_separation = 0, elev_corr = 0, phi_sign = 0;

  RSTX_HOST_DEVICE static elevation_v1_beam prepare(elevation_geometry const& g, int bmnum, double tfreq_khz,
                                                    double tdiff_us, double phidiff) noexcept {
    elevation_v1_beam b;
    // RST computes these once per process (static); with one site per run that is the same.
    b.antenna_separation = std::sqrt(g.y_m * g.y_m + g.x_m * g.x_m + g.z_m * g.z_m);
    b.elev_corr = phidiff * std::asin(g.z_m / b.antenna_separation);
    if (g.y_m > 0.0) {
      b.phi_sign = 1.0;
    } else {
      b.phi_sign = -1.0;
      b.elev_corr = -b.elev_corr;
    }
    double const offset = g.maxbeam / 2.0 - 0.5;
    double const phi = (g.bmoff_deg + g.bmsep_deg * (bmnum - offset)) * pi / 180.0;
    b.c_phi = std::cos(phi);
    b.k = 2 * pi * tfreq_khz * 1000.0 / c_m_s;
    b.dchi_cable = -2 * pi * tfreq_khz * 1000.0 * tdiff_us * 1.0e-6;
    b.chi_max = b.phi_sign * b.k * b.antenna_separation * b.c_phi + b.dchi_cable;
    return b;
  }

  [[nodiscard]] RSTX_HOST_DEVICE double solve(double phi0) const noexcept {
    double phi_temp = phi0 + 2 * pi * std::floor((chi_max - phi0) / (2 * pi));
    if (phi_sign < 0.0) phi_temp = phi_temp + (2 * pi);
    double const psi = phi_temp - dchi_cable;
    double theta = psi / (k * antenna_separation);
    theta = (c_phi * c_phi - theta * theta);
    if ((theta < 0.0) || (std::fabs(theta) > 1.0))
      theta = -elev_corr;
    else
      theta = std::asin(std::sqrt(theta));
    return 180.0 * (theta + elev_corr) / pi;
  }
};

}  // namespace detail

/** Goose Bay's iterative cone-angle method (`elev_goose`, -old_elev with stid 1). Unlike RST it
 *  prints nothing (RST logs "changing dchi by -2pi" to stderr) and its first loop is capped at
 *  10000 iterations where RST could spin forever. */
[[nodiscard]] RSTX_HOST_DEVICE inline double elevation_goose(elevation_geometry const& g, int bmnum, double tfreq_khz,
                                                             double tdiff_us, double psi_obs_rad) noexcept {
  double const xoff = g.x_m;
  double const yoff = g.y_m;
  double const zoff = g.z_m;
  // RST caches these per process (static); one site per run makes that equivalent.
  double const xi = std::atan2(xoff, yoff);
  double const sep = std::sqrt(xoff * xoff + yoff * yoff + zoff * zoff);
  double const elev_corr = std::atan2(zoff, std::sqrt(xoff * xoff + yoff * yoff));
  double const cos_xi = std::cos(xi);
  double const sin_xi = std::sin(xi);
  double const cos_xi2 = std::cos(xi) * std::cos(xi);
  double const sin_xi2 = std::sin(xi) * std::sin(xi);

  double const offset = g.maxbeam / 2.0 - 0.5;
  double const psi = (g.bmoff_deg + g.bmsep_deg * (bmnum - offset)) * detail::pi / 180.;
  double const k = 2 * detail::pi * tfreq_khz * 1000.0 / detail::c_m_s;
  double const dchi_cable = -2 * detail::pi * tfreq_khz * 1000.0 * tdiff_us * 1.0e-6;

  double const temp = std::sin(psi) + sin_xi;
  double const sin_psi_xi = std::sin(psi) * sin_xi;
  double sn2_alpha_min = (temp * temp) / (1.0 + sin_psi_xi);
  double cs_alpha_min = std::sqrt(1.0 - sn2_alpha_min);

  double const sin_psi2 = std::sin(psi) * std::sin(psi);
  double const sin_psi2_xi2 = sin_psi2 + sin_xi2;
  double sn2_alpha_old = sn2_alpha_min;
  constexpr int max_refinements = 10000;  // RST has no cap; it converges in a few steps in practice
  for (int it = 0; it < max_refinements; ++it) {
    sn2_alpha_min = sin_psi2_xi2 + 2.0 * cs_alpha_min * sin_psi_xi;
    if (!(std::fabs(sn2_alpha_min - sn2_alpha_old) > 0.005 * sn2_alpha_old)) break;
    cs_alpha_min = std::sqrt(1.0 - sn2_alpha_min);
    sn2_alpha_old = sn2_alpha_min;
  }
  cs_alpha_min = std::sqrt(1.0 - sn2_alpha_min);

  double const dchi_sep_max = k * sep / cos_xi * cs_alpha_min;
  double const dchi_max = dchi_cable + dchi_sep_max;
  int const n = x86_double_to_int(0.5 - dchi_max / (2 * detail::pi));
  double dchi = psi_obs_rad - n * (2 * detail::pi);
  if (dchi > dchi_max) dchi = dchi - (2 * detail::pi);
  if (dchi < (dchi_max - (2 * detail::pi))) dchi = dchi + (2 * detail::pi);

  double dchi_old = 0.0;
  double sn2_eps = 0;
  int cnt = 0;
  while (std::fabs(dchi_old - dchi) > detail::pi && cnt < 10) {
    double const cs_alpha = (dchi - dchi_cable) / (k * sep) * cos_xi;
    sn2_eps = 1.0 - (cs_alpha * cs_alpha) / (cos_xi2) - (sin_psi2 / cos_xi2) - 2.0 * cs_alpha * sin_psi_xi / cos_xi2;
    dchi_old = dchi;
    if ((std::fabs(sn2_eps) > 1.0) || (sn2_eps < 0.0)) dchi = dchi - (2 * detail::pi);
    cnt++;
  }
  double elev = std::asin(std::sqrt(sn2_eps));
  elev = elev + elev_corr;
  return 180.0 * elev / detail::pi;
}

}  // namespace rstx::fit
