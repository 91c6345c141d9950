#include "elevation.hpp"

#include <cmath>

namespace rstx::fit {

using detail::c_m_s;
using detail::pi;

double elevation_v2(elevation_geometry const& g, int bmnum, double tfreq_khz, double tdiff_us,
                    double psi_obs_rad) noexcept {
  return detail::elevation_v2_beam::prepare(g, bmnum, tfreq_khz, tdiff_us).solve(psi_obs_rad);
}

double elevation_v1(elevation_geometry const& g, int bmnum, double tfreq_khz, double tdiff_us, double psi_obs_rad,
                    double phidiff) noexcept {
  return detail::elevation_v1_beam::prepare(g, bmnum, tfreq_khz, tdiff_us, phidiff).solve(psi_obs_rad);
}

double elevation_goose(elevation_geometry const& g, int bmnum, double tfreq_khz, double tdiff_us,
                       double psi_obs_rad) noexcept {
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
  double const psi = (g.bmoff_deg + g.bmsep_deg * (bmnum - offset)) * pi / 180.;
  double const k = 2 * pi * tfreq_khz * 1000.0 / c_m_s;
  double const dchi_cable = -2 * pi * tfreq_khz * 1000.0 * tdiff_us * 1.0e-6;

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
  int const n = detail::x86_double_to_int(0.5 - dchi_max / (2 * pi));
  double dchi = psi_obs_rad - n * (2 * pi);
  if (dchi > dchi_max) dchi = dchi - (2 * pi);
  if (dchi < (dchi_max - (2 * pi))) dchi = dchi + (2 * pi);

  double dchi_old = 0.0;
  double sn2_eps = 0;
  int cnt = 0;
  while (std::fabs(dchi_old - dchi) > pi && cnt < 10) {
    double const cs_alpha = (dchi - dchi_cable) / (k * sep) * cos_xi;
    sn2_eps = 1.0 - (cs_alpha * cs_alpha) / (cos_xi2) - (sin_psi2 / cos_xi2) - 2.0 * cs_alpha * sin_psi_xi / cos_xi2;
    dchi_old = dchi;
    if ((std::fabs(sn2_eps) > 1.0) || (sn2_eps < 0.0)) dchi = dchi - (2 * pi);
    cnt++;
  }
  double elev = std::asin(std::sqrt(sn2_eps));
  elev = elev + elev_corr;
  return 180.0 * elev / pi;
}

}  // namespace rstx::fit
