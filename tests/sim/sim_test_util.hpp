#pragma once
// Helpers shared by the simulator tests: the Clyde River site from the shared tables, record
// readers, and an independent implementation of RST's elevation_v2 (fitacf3.md §15.1) to check that
// the simulated XCF phases give back the simulated elevations.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <cstdint>
#include <vector>

#include "rstx/core/time.hpp"
#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/sim/simulate.hpp"
#include "support/test_data.hpp"

namespace rstx::sim::test_util {

inline constexpr double pi = 3.14159265358979323846;

inline std::string radar_dat() { return test::tables_path("radar.dat").string(); }
inline std::string hdw_dir() { return test::tables_path("hdw").string(); }

/** Clyde River (stid 66) hardware at the default start time (bmsep 3.5, Y = 100 m). */
inline radar::site cly_site() {
  auto s = load_site(66, sim_options{}.start_epoch, radar_dat(), hdw_dir());
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  return s ? *s : radar::site{};
}

/** Options for a short, small file on cly. */
inline sim_options small_options() {
  sim_options o;
  o.duration_s = 60.0;
  return o;
}

/** Every record of a run, in order. */
inline std::vector<dmap::record> run_records(sim_options const& o, radar::site const& s,
                                             std::vector<std::vector<gate_truth>>* truth = nullptr,
                                             std::vector<record_info>* infos = nullptr) {
  std::vector<dmap::record> out;
  auto sum = simulate(o, s, [&](dmap::record const& r, record_info const& ri, std::span<gate_truth const> t) -> result<void> {
    out.push_back(r);
    if (truth != nullptr) truth->emplace_back(t.begin(), t.end());
    if (infos != nullptr) infos->push_back(ri);
    return {};
  });
  EXPECT_TRUE(sum) << (sum ? "" : sum.error().message());
  return out;
}

/** The encoded bytes of a whole run. */
inline std::vector<std::byte> run_bytes(sim_options const& o, radar::site const& s) {
  std::vector<std::byte> bytes;
  auto sum = simulate(o, s, [&](dmap::record const& r, record_info const&, std::span<gate_truth const>) {
    return r.encode_to(bytes);
  });
  EXPECT_TRUE(sum) << (sum ? "" : sum.error().message());
  return bytes;
}

/** Complex value of (gate, lag row) in an acfd/xcfd array with all gates listed. */
inline std::complex<double> lag_value(dmap::array_ref const& a, std::size_t gate, std::size_t lag) {
  auto const mplgs = static_cast<std::size_t>(a.dim(1));
  std::size_t const i = 2 * (gate * mplgs + lag);
  return {a.at<float>(i), a.at<float>(i + 1)};
}

/** RST's elevation_v2 (fitacf3.md §15.1), written from the spec: elevation in degrees from a phase. */
inline double elevation_v2(radar::site const& s, int bmnum, double tfreq_khz, double tdiff_us, double psi_obs) {
  double const x = s.interferometer_m[0], y = s.interferometer_m[1], z = s.interferometer_m[2];
  double const c = 2.99792458e8;
  double const sgn = y < 0 ? -1.0 : 1.0;
  double const boff = s.maxbeam / 2. - 0.5;
  double const phi0 = (s.bmoff_deg + s.bmsep_deg * (bmnum - boff)) * pi / 180.;
  double const cp0 = std::cos(phi0), sp0 = std::sin(phi0);
  double const psi_ele = -2 * pi * tfreq_khz * tdiff_us * 1e-3;
  double a0 = std::asin(sgn * z * cp0 / std::sqrt(y * y + z * z));
  if (a0 < 0) a0 = 0.;
  double const ca0 = std::cos(a0), sa0 = std::sin(a0);
  double const psi_max = psi_ele + 2 * pi * tfreq_khz * 1e3 / c * (x * sp0 + y * std::sqrt(ca0 * ca0 - sp0 * sp0) + z * sa0);
  double const dpsi = psi_max - psi_obs;
  double const n2pi = y > 0 ? std::floor(dpsi / (2 * pi)) : std::ceil(dpsi / (2 * pi));
  double const psi = psi_obs + n2pi * 2 * pi;
  double const e = (psi / (2 * pi * tfreq_khz * 1e3) + tdiff_us * 1e-6) * c - x * sp0;
  double const alpha =
      std::asin((e * z + std::sqrt(e * e * z * z - (y * y + z * z) * (e * e - y * y * cp0 * cp0))) / (y * y + z * z));
  return 180. * alpha / pi;
}

}  // namespace rstx::sim::test_util
