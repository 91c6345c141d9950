// The places where rstx computes an RST expression differently but exactly (inline round, the
// integer second rounding of phase_correction, sums shared between fits, branch-free skipping of
// σ <= 0 points) against RST's literal expressions, on random and adversarial inputs, bitwise.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "detail/fitacf3_math.hpp"
#include "elevation.hpp"

using namespace rstx::fit;
namespace m = rstx::fit::detail::fitacf3;

namespace {

constexpr double PI = 3.14159265358979323846;

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

// ---- RST's expressions, transcribed literally (fitacf_v3.0) -------------------------------------

int rst_int(double v) { return rstx::fit::detail::x86_double_to_int(v); }  // C (int) on x86-64

/** phase_correction (preprocessing.c), returning the number added to the corrections counter. */
int rst_phase_correction(double& phi, double slope, double t) {
  double phi_pred = slope * t;
  double phi_diff = phi_pred - phi;
  phi_diff = std::round(100000.0 * (phi_diff) / (2 * PI)) / 100000.0;
  double phi_corr = std::round(phi_diff);
  phi += phi_corr * 2 * PI;
  int const k = rst_int(phi_corr);
  return k == INT32_MIN ? INT32_MIN : std::abs(k);
}

struct rst_fit {
  double a = 0, b = 0, s2a = 0, s2b = 0, chi2 = 0;
};

/** two_param_straight_line_fit / quadratic_fit over points in order (calculate_sums, find_chi_2). */
rst_fit rst_two_param(std::vector<double> const& x, std::vector<double> const& y, std::vector<double> const& s,
                      bool quad) {
  double S = 0, Sx = 0, Sy = 0, Sxx = 0, Sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double const sigma = s[i];
    if (sigma <= 0.0) continue;
    double const xx = x[i], yy = y[i];
    if (!quad) {
      S += 1 / (sigma * sigma);
      Sx += xx / (sigma * sigma);
      Sy += yy / (sigma * sigma);
      Sxx += (xx * xx) / (sigma * sigma);
      Sxy += (xx * yy) / (sigma * sigma);
    } else {
      S += 1 / (sigma * sigma);
      Sx += xx * xx / (sigma * sigma);
      Sy += yy / (sigma * sigma);
      Sxx += (xx * xx * xx * xx) / (sigma * sigma);
      Sxy += (xx * xx * yy) / (sigma * sigma);
    }
  }
  rst_fit f;
  double const delta = S * Sxx - Sx * Sx;
  f.a = (Sxx * Sy - Sx * Sxy) / delta;
  f.b = (S * Sxy - Sx * Sy) / delta;
  f.s2a = Sxx / delta;
  f.s2b = S / delta;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double const sigma = s[i];
    if (sigma <= 0.0) continue;
    double const chi = quad ? (y[i] - f.a - f.b * x[i] * x[i]) / sigma : (y[i] - f.a - f.b * x[i]) / sigma;
    f.chi2 += chi * chi;
  }
  return f;
}

rst_fit rst_one_param(std::vector<double> const& x, std::vector<double> const& y, std::vector<double> const& s) {
  double Sxx = 0, Sxy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double const sigma = s[i];
    if (sigma <= 0.0) continue;
    Sxx += (x[i] * x[i]) / (sigma * sigma);
    Sxy += (x[i] * y[i]) / (sigma * sigma);
  }
  rst_fit f;
  f.b = Sxy / Sxx;
  f.s2b = 1 / Sxx;
  for (std::size_t i = 0; i < x.size(); ++i) {
    double const sigma = s[i];
    if (sigma <= 0.0) continue;
    double const chi = (y[i] - f.a - f.b * x[i]) / sigma;
    f.chi2 += chi * chi;
  }
  return f;
}

/** ACF_Phase_Unwrap on a list (preprocessing.c). */
void rst_unwrap(std::vector<double> const& t, std::vector<double>& phi, std::vector<double> const& sigma) {
  std::size_t const n = phi.size();
  double num = 0, den = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    double const d_phi = phi[i + 1] - phi[i];
    double const sigma_bar = (sigma[i + 1] + sigma[i]) / 2;
    double const d_tau = t[i + 1] - t[i];
    if (std::fabs(d_phi) < PI) {
      num += d_phi / (sigma_bar * sigma_bar) / d_tau;
      den += 1 / (sigma_bar * sigma_bar);
    }
  }
  double slope = num / den;
  std::vector<double> local = phi;
  std::uint32_t total = 0;
  for (std::size_t i = 0; i < n; ++i) total += static_cast<std::uint32_t>(rst_phase_correction(local[i], slope, t[i]));
  if (static_cast<std::int32_t>(total) > 0) {
    auto quick = [&](std::vector<double> const& p) {
      double sxy = 0, sxx = 0;
      for (std::size_t i = 0; i < n; ++i)
        if (sigma[i] > 0) {
          sxy += (p[i] * t[i]) / (sigma[i] * sigma[i]);
          sxx += (t[i] * t[i]) / (sigma[i] * sigma[i]);
        }
      double const e = sxy / sxx;
      double err = 0;
      for (std::size_t i = 0; i < n; ++i)
        if (sigma[i] > 0) err += ((e * t[i] - p[i]) * (e * t[i] - p[i])) / (sigma[i] * sigma[i]);
      return err;
    };
    double const corr_err = quick(local);
    double const orig_err = quick(phi);
    if (orig_err > corr_err) phi = local;
  }
}

enum class part { all, slope, variances };

void expect_fit(m::line_fit const& ours, rst_fit const& rst, part what = part::all) {
  if (what != part::variances) {
    EXPECT_PRED2(same_bits, ours.b, rst.b);
  }
  if (what == part::all) {
    EXPECT_PRED2(same_bits, ours.a, rst.a);
  }
  if (what != part::slope) {
    EXPECT_PRED2(same_bits, ours.sigma2_a, rst.s2a);
  }
  EXPECT_PRED2(same_bits, ours.sigma2_b, rst.s2b);
}

}  // namespace

TEST(fitacf3_math, c_round_is_glibc_round) {
  std::vector<double> values = {0.0,  -0.0, 0.5,  -0.5, 1.5,  -1.5, 2.5, -2.5, 0.49999999999999994,
                                -0.49999999999999994, 4503599627370495.5, -4503599627370495.5, 4503599627370496.0,
                                1e300, -1e300, std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(), std::numeric_limits<double>::denorm_min(),
                                -std::numeric_limits<double>::denorm_min()};
  std::mt19937_64 rng(7);
  for (int e = -40; e < 60; ++e) {
    std::uniform_real_distribution<double> u(-std::ldexp(1.0, e), std::ldexp(1.0, e));
    for (int i = 0; i < 2000; ++i) values.push_back(u(rng));
    for (int i = 0; i < 50; ++i) values.push_back(std::floor(u(rng)) + 0.5);
  }
  for (double v : values) EXPECT_PRED2(same_bits, m::c_round(v), std::round(v)) << v;
  EXPECT_TRUE(std::isnan(m::c_round(std::nan(""))));
}

TEST(fitacf3_math, x86_double_to_int) {
  using rstx::fit::detail::x86_double_to_int;
  EXPECT_EQ(x86_double_to_int(3.9), 3);
  EXPECT_EQ(x86_double_to_int(-3.9), -3);
  EXPECT_EQ(x86_double_to_int(2147483647.0), 2147483647);
  EXPECT_EQ(x86_double_to_int(-2147483648.0), INT32_MIN);
  EXPECT_EQ(x86_double_to_int(2147483648.0), INT32_MIN);
  EXPECT_EQ(x86_double_to_int(-2147483649.0), INT32_MIN);
  EXPECT_EQ(x86_double_to_int(std::nan("")), INT32_MIN);
  EXPECT_EQ(x86_double_to_int(std::numeric_limits<double>::infinity()), INT32_MIN);
}

TEST(fitacf3_math, phase_correction_matches_rst_literally) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> phase(-PI, PI), time(0.0, 0.1), unit(0.0, 1.0);
  int checked = 0;
  auto check = [&](double phi, double slope, double t) {
    double a = phi, b = phi;
    std::int32_t const turns = m::phase_correction(a, slope, t);
    int const rst_turns = rst_phase_correction(b, slope, t);
    ASSERT_PRED2(same_bits, a, b) << "phi " << phi << " slope " << slope << " t " << t;
    ASSERT_EQ(turns, rst_turns) << "phi " << phi << " slope " << slope << " t " << t;
    ++checked;
  };
  for (double scale : {1.0, 100.0, 1e4, 1e6, 1e9, 1e12, 1e15, 1e18, 1e300}) {
    std::uniform_real_distribution<double> slope(-scale, scale);
    for (int i = 0; i < 20000; ++i) check(phase(rng), slope(rng), time(rng));
  }
  // Adversarial: 1e5*d/(2π) at or next to a half-integer step and near a multiple of 1e5 ± 5e4.
  for (int i = 0; i < 20000; ++i) {
    double const k = std::floor(unit(rng) * 2e6) - 1e6;
    double const steps = k * 100000.0 + 50000.0 + std::floor(unit(rng) * 5) - 2;
    double const d = steps * (2 * PI) / 100000.0;
    double const t = 0.01;
    for (double nudge : {0.0, 1e-12, -1e-12}) check(0.0, (d + nudge) / t, t);
  }
  for (double special : {0.0, -0.0, std::nan(""), std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity(), 1e308})
    check(0.5, special, 0.02);
  EXPECT_GT(checked, 200000);
}

TEST(fitacf3_math, fits_match_rst_sums_in_list_order) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int trial = 0; trial < 3000; ++trial) {
    int const n = 1 + static_cast<int>(u(rng) * 40);
    std::vector<double> t(n), y(n), s(n), phi(n);
    for (int i = 0; i < n; ++i) {
      t[i] = (i + static_cast<int>(u(rng) * 3)) * 2400 * 1.0e-6;
      y[i] = std::log(1 + u(rng) * 1e4);
      s[i] = u(rng) < 0.1 ? (u(rng) < 0.5 ? 0.0 : -1.0) : u(rng) * 50;
      if (u(rng) < 0.02) s[i] = std::nan("");
      phi[i] = (u(rng) - 0.5) * 2 * PI;
    }
    auto const power = m::fit_power(n, t.data(), y.data(), s.data());
    auto const lin = rst_two_param(t, y, s, false);
    auto const quad = rst_two_param(t, y, s, true);
    expect_fit(power.lin, lin);
    expect_fit(power.quad, quad);
    EXPECT_PRED2(same_bits, power.lin.chi2, lin.chi2);
    EXPECT_PRED2(same_bits, power.quad.chi2, quad.chi2);
    std::vector<double> s_log(n);
    for (int i = 0; i < n; ++i) s_log[i] = s[i] / std::exp(y[i]);
    expect_fit(power.lin_err, rst_two_param(t, y, s_log, false), part::variances);  // only σ² are used
    expect_fit(power.quad_err, rst_two_param(t, y, s_log, true), part::variances);

    m::phase_weights pw;
    pw.set_all(n, t.data(), s.data());
    auto const origin = m::fit_phase_origin(n, t.data(), phi.data(), s.data(), pw);
    auto const rst_origin = rst_one_param(t, phi, s);
    expect_fit(origin, rst_origin, part::slope);
    EXPECT_PRED2(same_bits, origin.chi2, rst_origin.chi2);

    auto const line = m::fit_line(n, t.data(), phi.data(), s.data());
    auto const rst_line = rst_two_param(t, phi, s, false);
    expect_fit(line, rst_line);
    EXPECT_PRED2(same_bits, line.chi2, rst_line.chi2);

    std::vector<double> ours = phi, rst = phi;
    m::unwrap_acf_phase(n, t.data(), ours.data(), s.data(), pw);
    rst_unwrap(t, rst, s);
    for (int i = 0; i < n; ++i) ASSERT_PRED2(same_bits, ours[i], rst[i]) << "trial " << trial << " point " << i;
  }
}

TEST(fitacf3_math, noise_correction_detects_rst_endless_loop) {
  bool hangs = false;
  double const c = m::noise_correction(20, 100, &hangs);
  EXPECT_FALSE(hangs);
  EXPECT_GT(c, 1.0);
  for (auto [nave, nrang] : {std::pair{20, 5}, std::pair{1, 11}, std::pair{30, 10}}) {
    hangs = false;
    EXPECT_TRUE(std::isnan(m::noise_correction(nave, nrang, &hangs))) << nave << " " << nrang;
    EXPECT_TRUE(hangs) << nave << " " << nrang;
  }
}

TEST(elevation, named_functions_equal_the_per_beam_split) {
  elevation_geometry const g{-5.0, 92.0, 0.8, 16, 0.0, -3.33};
  for (int beam : {0, 7, 15}) {
    for (double psi : {-3.0, -1.0, 0.0, 0.5, 2.9}) {
      auto const v2 = detail::elevation_v2_beam::prepare(g, beam, 10700, 0.3).solve(psi);
      EXPECT_PRED2(same_bits, elevation_v2(g, beam, 10700, 0.3, psi), v2);
      auto const v1 = detail::elevation_v1_beam::prepare(g, beam, 10700, 0.3, 1.0).solve(psi);
      EXPECT_PRED2(same_bits, elevation_v1(g, beam, 10700, 0.3, psi, 1.0), v1);
      EXPECT_TRUE(std::isfinite(elevation_goose(g, beam, 10700, 0.3, psi)) ||
                  std::isnan(elevation_goose(g, beam, 10700, 0.3, psi)));
    }
  }
}

TEST(elevation, no_interferometer_gives_nan_like_rst) {
  elevation_geometry const none{0.0, 0.0, 0.0, 16, 0.0, 3.24};
  EXPECT_TRUE(std::isnan(elevation_v2(none, 3, 10700, 0.0, 0.4)));
}

TEST(elevation, v2_is_physical_for_a_typical_site) {
  elevation_geometry const cly{0.0, 100.0, 0.0, 16, 0.0, 3.24};
  double const e = elevation_v2(cly, 7, 10700, 0.0, 0.0);
  EXPECT_GT(e, 0.0);
  EXPECT_LT(e, 90.0);
}

namespace {

/** Random points of one range, as the fit stages hand them over (σ <= 0 and NaN included). */
struct range_points {
  std::vector<double> t, y, s, phi;
};
range_points random_range(std::mt19937_64& rng, int n) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  range_points p;
  for (int i = 0; i < n; ++i) {
    p.t.push_back((i + static_cast<int>(u(rng) * 3)) * 2400 * 1.0e-6);
    p.y.push_back(std::log(1 + u(rng) * 1e4));
    double s = u(rng) < 0.1 ? (u(rng) < 0.5 ? 0.0 : -1.0) : u(rng) * 50;
    if (u(rng) < 0.02) s = std::nan("");
    p.s.push_back(s);
    p.phi.push_back((u(rng) - 0.5) * 2 * PI * (u(rng) < 0.3 ? 5 : 1));  // some far outside ±π
  }
  return p;
}

/**
 * Bits equal, or both NaN. Which NaN an operation on two NaNs returns depends on its operand
 * order, which the compiler may swap for + and * (the values are the same): the lane and scalar
 * builds of a routine may pick differently. Every other value must be identical.
 */
bool same_value(double a, double b) { return same_bits(a, b) || (std::isnan(a) && std::isnan(b)); }

/** Every per-range routine on W ranges at once equals the scalar routine on each, bitwise. */
template <class V>
void lanes_equal_scalar() {
  using namespace rstx::fit::detail;
  constexpr int W = lane_width<V>;
  std::mt19937_64 rng(W);
  std::uniform_int_distribution<int> count(1, 40);
  for (int trial = 0; trial < 500; ++trial) {
    range_points r[W];
    lane_mask_of<V> counts{};
    int most = 0;
    for (int k = 0; k < W; ++k) {
      r[k] = random_range(rng, trial % 7 == 0 ? 40 : count(rng));
      counts[k] = static_cast<std::int64_t>(r[k].t.size());
      most = std::max(most, static_cast<int>(r[k].t.size()));
    }
    V t[max_lags], y[max_lags], s[max_lags], phi[max_lags];
    for (int i = 0; i < most; ++i)
      for (int k = 0; k < W; ++k) {  // padding: σ = 0, the rest arbitrary
        bool const real = i < counts[k];
        t[i][k] = real ? r[k].t[i] : 0.1 * i;
        y[i][k] = real ? r[k].y[i] : 3.0;
        s[i][k] = real ? r[k].s[i] : 0.0;
        phi[i][k] = real ? r[k].phi[i] : 1.0;
      }
    auto const power = m::fit_power(most, t, y, s);
    m::phase_weights_of<V> pw;
    pw.set_all(most, t, s);
    V unwrapped[max_lags], xcf[max_lags];
    for (int i = 0; i < most; ++i) unwrapped[i] = xcf[i] = phi[i];
    m::unwrap_acf_phase(most, counts, t, unwrapped, s, pw);
    auto const origin = m::fit_phase_origin(most, t, unwrapped, s, pw);
    V slope{};
    for (int k = 0; k < W; ++k) slope[k] = 40.0 * (k - 1.5);
    auto const line = m::fit_xcf_phase(most, t, xcf, s, pw, slope);
    for (int k = 0; k < W; ++k) {
      auto const n = static_cast<int>(counts[k]);
      auto const& p = r[k];
      auto const ref = m::fit_power(n, p.t.data(), p.y.data(), p.s.data());
      for (auto [ours, theirs] : {std::pair{power.lin, ref.lin}, {power.quad, ref.quad}}) {
        ASSERT_PRED2(same_value, ours.a[k], theirs.a);
        ASSERT_PRED2(same_value, ours.b[k], theirs.b);
        ASSERT_PRED2(same_value, ours.chi2[k], theirs.chi2);
      }
      for (auto [ours, theirs] : {std::pair{power.lin_err, ref.lin_err}, {power.quad_err, ref.quad_err}}) {
        ASSERT_PRED2(same_value, ours.sigma2_a[k], theirs.sigma2_a);
        ASSERT_PRED2(same_value, ours.sigma2_b[k], theirs.sigma2_b);
      }
      m::phase_weights ref_pw;
      ref_pw.set_all(n, p.t.data(), p.s.data());
      std::vector<double> ref_phi = p.phi, ref_xcf = p.phi;
      m::unwrap_acf_phase(n, p.t.data(), ref_phi.data(), p.s.data(), ref_pw);
      for (int i = 0; i < n; ++i) ASSERT_PRED2(same_value, unwrapped[i][k], ref_phi[i]) << trial << " " << k << " " << i;
      auto const ref_origin = m::fit_phase_origin(n, p.t.data(), ref_phi.data(), p.s.data(), ref_pw);
      ASSERT_PRED2(same_value, origin.b[k], ref_origin.b);
      ASSERT_PRED2(same_value, origin.chi2[k], ref_origin.chi2);
      auto const ref_line = m::fit_xcf_phase(n, p.t.data(), ref_xcf.data(), p.s.data(), ref_pw, slope[k]);
      ASSERT_PRED2(same_value, line.a[k], ref_line.a);
      ASSERT_PRED2(same_value, line.b[k], ref_line.b);
      ASSERT_PRED2(same_value, line.chi2[k], ref_line.chi2);
    }
  }
}

}  // namespace

TEST(fitacf3_math, two_lanes_equal_the_scalar_routines) { lanes_equal_scalar<rstx::fit::detail::lanes2>(); }
TEST(fitacf3_math, four_lanes_equal_the_scalar_routines) { lanes_equal_scalar<rstx::fit::detail::lanes4>(); }

TEST(fitacf3_math, lane_turn_counts_equal_rst_int_counter) {
  // phase_correction's turn counts on lanes are doubles; summed and wrapped they must give RST's
  // int counter, including corrections of 2^31 turns and more, NaN and infinities (INT_MIN each).
  using rstx::fit::detail::lanes4;
  double const t = 1.0;
  double const phis[] = {0.0, 1.0, -3.0, 2 * PI * 2147483647.4, -2 * PI * 2147483648.2, 2 * PI * 5e9,
                         std::nan(""), std::numeric_limits<double>::infinity(), -2 * PI * 1e12, 7.9};
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    lanes4 phi[8];
    std::int32_t rst_total[4] = {};
    for (int i = 0; i < 8; ++i)
      for (int k = 0; k < 4; ++k) {
        double const v = phis[rng() % std::size(phis)] * (rng() % 2 ? 1 : -1);
        phi[i][k] = v;
        double scalar = v;
        rst_total[k] = m::add_turns(rst_total[k], true, m::phase_correction(scalar, 0.0, t));
      }
    lanes4 total{};
    for (int i = 0; i < 8; ++i) {
      lanes4 p = phi[i];
      total = m::add_turns(total, rstx::fit::detail::lane_mask4{} == 0, m::phase_correction(p, lanes4{}, lanes4{} + t));
    }
    auto const positive = m::turns_positive(total);
    for (int k = 0; k < 4; ++k) ASSERT_EQ(positive[k] != 0, rst_total[k] > 0) << trial << " lane " << k;
  }
}
