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

}  // namespace rstx::fit
