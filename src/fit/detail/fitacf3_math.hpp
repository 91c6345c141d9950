#pragma once
/**
 * @file
 * FITACF 3.0 arithmetic: every formula once, as RSTX_HOST_DEVICE functions that the CPU stage
 * loops call today and CUDA kernels can call later. Section numbers refer to
 * ../shared/spec/fitacf3.md; RST sources are under codebase/superdarn/src.lib/tk/fitacf_v3.0/src/.
 *
 * Bit-identity with RST rests on three rules followed throughout:
 *  - double arithmetic with RST's exact evaluation order (expressions are written as in RST, left
 *    to right; integer sub-expressions stay integer), compiled without FMA contraction;
 *  - sums accumulated sequentially in lag-table order (mask bits are visited lowest first, and the
 *    masks only ever lose bits, so this is the order of RST's linked lists after deletions);
 *  - the same libm calls (sqrt, log, exp, atan2, log10, ...) on the same arguments.
 *
 * Per-range data live in arrays indexed by lag-table row, with a 64-bit mask of the rows present.
 */
#include <cmath>
#include <cstdint>

#include "elevation.hpp"
#include "host_device.hpp"
#include "lanes.hpp"
#include "rstx/fit/batch.hpp"

namespace rstx::fit::detail::fitacf3 {

// Constants (fitacf_v3.0 preprocessing.h, determinations.h; rmath.h).
inline constexpr int min_lags = 3;                 // MIN_LAGS: power lags a range needs
inline constexpr int alpha_cutoff = 2;             // ALPHA_CUTOFF, compared with 1/sqrt(alpha^2)
inline constexpr int fluctuation_cutoff_coeff = 2; // FLUCTUATION_CUTOFF_COEFF (an int in RST)
inline constexpr double v_max_m_s = 30.0;          // V_max, ground-scatter rule
inline constexpr double w_max_m_s = 90.0;          // W_max, ground-scatter rule
inline constexpr double lag0_floor_db = -50.0;     // lag_0_pwr_in_dB for non-positive SNR
inline constexpr double refractive_index = 1.0;    // refrc_idx (the _RFC_IDX branch is compiled out)
inline constexpr std::int32_t revision_major = 3;  // fitacftoplevel.h MAJOR
inline constexpr std::int32_t revision_minor = 0;  // fitacftoplevel.h MINOR

/** Result of a least-squares line fit: intercept a, slope b, their variances, χ². V is double or
 *  lanes (one fit per lane, see lanes.hpp). */
template <class V>
struct line_fit_of {
  V a{}, b{}, sigma2_a{}, sigma2_b{}, chi2{};
};
using line_fit = line_fit_of<double>;

/** Running sums of a weighted least-squares fit (leastsquares.c SUMS, calculate_sums). */
template <class V>
struct fit_sums_of {
  V s{}, s_x{}, s_y{}, s_xx{}, s_xy{};
};

/** two_param_straight_line_fit / quadratic_fit solution from the sums (χ² is added separately). */
template <class V>
RSTX_HOST_DEVICE inline line_fit_of<V> solve_two_param(fit_sums_of<V> const& m) noexcept {
  line_fit_of<V> f;
  V const delta = m.s * m.s_xx - m.s_x * m.s_x;
  f.a = (m.s_xx * m.s_y - m.s_x * m.s_xy) / delta;
  f.b = (m.s * m.s_xy - m.s_x * m.s_y) / delta;
  f.sigma2_a = m.s_xx / delta;
  f.sigma2_b = m.s / delta;
  return f;
}

/** σ² of a and b only (the same expressions; S_y and S_xy are not needed for them). */
template <class V>
RSTX_HOST_DEVICE inline line_fit_of<V> solve_variances(V s, V s_x, V s_xx) noexcept {
  line_fit_of<V> f;
  V const delta = s * s_xx - s_x * s_x;
  f.sigma2_a = s_xx / delta;
  f.sigma2_b = s / delta;
  return f;
}

/** find_chi_2 term, LINEAR: ((y - a - b*x)/sigma)²; 0 if sigma <= 0. */
template <class V>
RSTX_HOST_DEVICE inline V chi2_linear(V x, V y, V sigma, line_fit_of<V> const& f) noexcept {
  V const chi = (y - f.a - f.b * x) / sigma;
  return select(sigma <= 0.0, V{}, chi * chi);
}
/** find_chi_2 term, QUADRATIC: RST writes b * x * x, i.e. (b*x)*x, not b*(x*x). */
template <class V>
RSTX_HOST_DEVICE inline V chi2_quadratic(V x, V y, V sigma, line_fit_of<V> const& f) noexcept {
  V const chi = (y - f.a - f.b * x * x) / sigma;
  return select(sigma <= 0.0, V{}, chi * chi);
}

/** Lag time in seconds: (lag_num*mpinc)*1.0e-6 with an int product (wrapping like x86 if absurd). */
RSTX_HOST_DEVICE inline double lag_time_s(std::int32_t lag_num, std::int32_t mpinc_us) noexcept {
  auto const product = static_cast<std::int32_t>(static_cast<std::uint32_t>(lag_num) *
                                                 static_cast<std::uint32_t>(mpinc_us));
  return product * 1.0e-6;
}

/**
 * cutoff_power_correction (§5.3): mean of a Gaussian (mean 1, σ = 1/√nave) over its lowest
 * 10/nrang quantile, integrated in steps of 0.001; returns 1/mean. For some (nave, nrang) — e.g.
 * nrang <= 10 — the quantile is never reached and RST loops forever; this returns NaN there
 * (`hangs` set), and from_dmap rejects such records before they get here.
 */
RSTX_HOST_DEVICE inline double noise_correction(std::int32_t nave, std::int32_t nrang, bool* hangs = nullptr) noexcept {
  double i = 0;
  double cpdf = 0;
  double cpdfx = 0;
  double const s = 1. / std::sqrt(nave);
  double const target = 10. / nrang;
  while (cpdf < target) {
    double const x = i / 1000.;
    double const pdf = std::exp(-((x - 1.) * (x - 1.) / (2. * s * s))) / s / std::sqrt(2 * pi) / 1000.;
    if (x > 1.0 && cpdf + pdf == cpdf) {  // past the peak the pdf only shrinks: cpdf is stuck for good
      if (hangs != nullptr) *hangs = true;
      return NAN;
    }
    cpdf = cpdf + pdf;
    cpdfx = cpdfx + pdf * x;
    i++;
  }
  if (hangs != nullptr) *hangs = false;
  return 1. / (cpdfx / cpdf);
}

/** α² of a lag (calculate_alpha_at_lags): P² / ((P + CRI_i)(P + CRI_j)). */
template <class V>
RSTX_HOST_DEVICE inline V alpha_sq(V pwr, V cri_i, V cri_j) noexcept {
  return (pwr * pwr) / ((pwr + cri_i) * (pwr + cri_j));
}

/**
 * C's round() (glibc): nearest integer, halfway cases away from zero, sign of zero, NaN and Inf
 * kept. Inline because it is called six times per lag; exact: for |x| < 2^52 the truncation and
 * x - trunc(x) are exact, larger values are already integers.
 */
RSTX_HOST_DEVICE inline double c_round(double x) noexcept {
  if (!(std::fabs(x) < 4503599627370496.0)) return x;
  double const t = static_cast<double>(static_cast<std::int64_t>(x));
  // Branch-free: the fraction is random data, a branch on it would mispredict half the time.
  double const away = static_cast<double>(std::fabs(x - t) >= 0.5);
  return std::copysign(std::fabs(t) + away, x);
}

/**
 * The fast path of phase_correction's turn count: RST computes k = round(round(1e5*d/(2π))/1e5)
 * for d = phi_pred - phi. Its value is round(d/(2π)) except within about 1e-5 of a half-integer.
 * So d/(2π) is taken from a multiplication and, where it is clear of half-integers by more than
 * every rounding difference between the two paths (2.5e-16 relative from the products and the 2π
 * constant, 0.5e-5 from the inner rounding), rounded once. Returns the turns and where that holds;
 * elsewhere (and for NaN, Inf and |u| >= 2^40) phase_turns_slow gives RST's value.
 */
template <class V>
struct turns_estimate {
  V turns;
  mask_of<V> exact;
};
template <class V>
RSTX_HOST_DEVICE inline turns_estimate<V> phase_turns_fast(V phi_diff) noexcept {
  constexpr double inv_two_pi = 1 / (2 * pi);
  V const u = phi_diff * inv_two_pi;
  V const a = lane_fabs(u);
  auto const in_range = a < 1099511627776.0;  // 2^40; false for NaN
  V const whole = lane_trunc_small(select(in_range, a, V{}));
  V const to_half = lane_fabs((a - whole) - 0.5);
  V const up = select(a - whole > 0.5, V{} + 1.0, V{});
  return {lane_copysign(whole + up, u), mask_and(in_range, to_half > 1e-5 + a * 1e-14)};
}

/** RST's turn count, evaluated as RST does (the cases phase_turns_fast leaves). */
RSTX_HOST_DEVICE inline double phase_turns_slow(double phi_diff) noexcept {
  double const steps = c_round(100000.0 * (phi_diff) / (2 * pi));
  if (std::fabs(steps) < 1125899906842624.0) {
    // steps is an integer below 2^50: round(steps/1e5) is its nearest multiple of 1e5 in integer
    // arithmetic (steps/1e5 rounds to within 1.3e-6 of the exact quotient, which is either exactly
    // half-way, and then exact, or at least 1e-5 from half-way: no rounding case changes).
    auto const n = static_cast<std::int64_t>(std::fabs(steps));
    return std::copysign(static_cast<double>((n + 50000) / 100000), steps);
  }
  return c_round(steps / 100000.0);
}

/** abs() of the turns converted to int as RST counts them (x86 semantics; abs(INT_MIN) stays). */
RSTX_HOST_DEVICE inline std::int32_t turn_count(double phi_corr) noexcept {
  std::int32_t const turns = x86_double_to_int(phi_corr);
  return turns < 0 ? static_cast<std::int32_t>(0U - static_cast<std::uint32_t>(turns)) : turns;
}

/**
 * phase_correction: moves phi by the multiple of 2π that brings it nearest to slope*t. Returns
 * the number of turns as RST counts them.
 */
RSTX_HOST_DEVICE inline std::int32_t phase_correction(double& phi, double slope, double t) noexcept {
  double const phi_diff = slope * t - phi;
  auto const fast = phase_turns_fast(phi_diff);
  double const phi_corr = fast.exact ? fast.turns : phase_turns_slow(phi_diff);
  phi += phi_corr * 2 * pi;
  return turn_count(phi_corr);
}

/** Adds a point's turns to RST's int counter (two's-complement wrap-around on x86) if `use`. */
RSTX_HOST_DEVICE inline std::int32_t add_turns(std::int32_t total, bool use, std::int32_t turns) noexcept {
  return use ? static_cast<std::int32_t>(static_cast<std::uint32_t>(total) + static_cast<std::uint32_t>(turns)) : total;
}
/** Whether the counter is positive. */
RSTX_HOST_DEVICE inline bool turns_positive(std::int32_t total) noexcept { return total > 0; }

#if !defined(__CUDA_ARCH__)
/**
 * phase_correction on every lane. The turn counts come back as doubles holding turn_count's int
 * value: |phi_corr| where it is below 2^31, else INT_MIN (x86's conversion of anything larger,
 * and of NaN, and abs(INT_MIN)). phi_corr is always an integer, so the value is exact, and so
 * are sums of up to max_lags of them (below 2^37).
 */
template <lane_type V>
inline V phase_correction(V& phi, V slope, V t) noexcept {
  V const phi_diff = slope * t - phi;
  auto const fast = phase_turns_fast(phi_diff);
  V phi_corr = fast.turns;
  if (any(mask_not(fast.exact))) [[unlikely]]
    for (int k = 0; k < lane_width<V>; ++k)
      if (!fast.exact[k]) phi_corr[k] = phase_turns_slow(phi_diff[k]);
  phi += phi_corr * 2 * pi;
  V const magnitude = lane_fabs(phi_corr);
  return select(magnitude < 2147483648.0, magnitude, V{} - 2147483648.0);
}
template <lane_type V>
inline V add_turns(V total, lane_mask_of<V> use, V turns) noexcept {
  return total + select(use, turns, V{});
}
/** The exact sum wrapped to int32 (what RST's int counter holds), then compared with 0. */
template <lane_type V>
inline lane_mask_of<V> turns_positive(V total) noexcept {
  constexpr double two_32 = 4294967296.0;
  V const shifted = total + (2147483648.0 + 1099511627776.0);  // in (0, 2^41): exact
  V const wrapped = shifted - lane_trunc_small(shifted * (1 / two_32)) * two_32 - 2147483648.0;
  return wrapped > 0.0;
}
#endif

// ---------------------------------------------------------------------------------------------
// Per-range routines. They take the range's points compacted into arrays, in lag-table order (the
// order of RST's lists after deletions), n <= max_lags. Element-wise arithmetic is written as plain
// loops apart from the libm calls (so iterations overlap and the compiler may vectorise them: the
// operations are IEEE-exact per element either way); every sum is accumulated in order.
//
// Each routine is a template over V: double for one range, lanes2/lanes4 for 2 or 4 ranges at once
// (lanes.hpp). With lanes, n is the largest point count of the group; a lane's points past its
// own count must have σ = 0, which leaves them out of every sum and χ² exactly as RST leaves out
// points with σ <= 0 (the routines that pair neighbouring points take the counts too).

/** Compacts the lags of a mask: idx[0..n) are the set bits, lowest first. Returns n. */
RSTX_HOST_DEVICE inline int gather_lags(std::uint64_t mask, int* idx) noexcept {
  int n = 0;
  while (mask != 0) {
    idx[n++] = lowest_bit(mask);
    mask &= mask - 1;
  }
  return n;
}

/** sum + term, or sum unchanged when !use. Adding +0.0 instead of skipping is exact: a sum that
 *  starts at +0.0 never becomes -0.0, and +0.0 leaves every other value (NaN, Inf included) as is. */
template <class V, class M>
RSTX_HOST_DEVICE inline V add_if(V sum, M use, V term) noexcept {
  return sum + select(use, term, V{});
}

/** σ of a power point (new_pwr_node) with |R| = r_mag > 0. */
template <class V>
RSTX_HOST_DEVICE inline V power_sigma(V pwr0, V r_mag, V alpha2, std::int32_t nave) noexcept {
  V const r_norm = r_mag / pwr0;
  V const r_norm_2 = r_norm * r_norm;
  V const inverse_alpha_2 = 1.0 / alpha2;
  return pwr0 * lane_sqrt((r_norm_2 + inverse_alpha_2) / static_cast<double>(2 * nave));
}

/** The four power fits of one range (Power_Fits, §10); χ² only for the fits whose χ² is written. */
template <class V>
struct power_fits_of {
  line_fit_of<V> lin, quad, lin_err, quad_err;
};
using power_fits = power_fits_of<double>;

/**
 * Power_Fits on n points (t, y = ln|R|, σ): linear and quadratic fits with σ, then the same with
 * the log-power σ/exp(y), of which only σ²(a) and σ²(b) are used. The linear and quadratic sums
 * share their S and S_y terms, and the quadratic S_x term is the linear S_xx term (the same
 * expressions in RST), so each distinct quotient is computed once.
 */
template <class V>
RSTX_HOST_DEVICE inline power_fits_of<V> fit_power(int n, V const* t, V const* y, V const* sigma) noexcept {
  V q_1[max_lags], q_t[max_lags], q_y[max_lags], q_tt[max_lags], q_ty[max_lags], q_tttt[max_lags], q_tty[max_lags];
  for (int i = 0; i < n; ++i) {
    V const w = sigma[i] * sigma[i];
    V const x = t[i];
    q_1[i] = 1.0 / w;
    q_t[i] = x / w;
    q_y[i] = y[i] / w;
    q_tt[i] = (x * x) / w;
    q_ty[i] = (x * y[i]) / w;
    q_tttt[i] = (x * x * x * x) / w;
    q_tty[i] = (x * x * y[i]) / w;
  }
  fit_sums_of<V> lin, quad;
  for (int i = 0; i < n; ++i) {
    auto const use = mask_not(sigma[i] <= 0.0);  // calculate_sums skips sigma <= 0 (NaN is used)
    lin.s = add_if(lin.s, use, q_1[i]);
    lin.s_x = add_if(lin.s_x, use, q_t[i]);
    lin.s_y = add_if(lin.s_y, use, q_y[i]);
    lin.s_xx = add_if(lin.s_xx, use, q_tt[i]);
    lin.s_xy = add_if(lin.s_xy, use, q_ty[i]);
    quad.s_xx = add_if(quad.s_xx, use, q_tttt[i]);
    quad.s_xy = add_if(quad.s_xy, use, q_tty[i]);
  }
  quad.s = lin.s;
  quad.s_x = lin.s_xx;
  quad.s_y = lin.s_y;
  power_fits_of<V> out;
  out.lin = solve_two_param(lin);
  out.quad = solve_two_param(quad);
  V chi_lin[max_lags], chi_quad[max_lags];
  for (int i = 0; i < n; ++i) {
    chi_lin[i] = chi2_linear(t[i], y[i], sigma[i], out.lin);
    chi_quad[i] = chi2_quadratic(t[i], y[i], sigma[i], out.quad);
  }
  for (int i = 0; i < n; ++i) {
    out.lin.chi2 += chi_lin[i];
    out.quad.chi2 += chi_quad[i];
  }
  V e[max_lags];
  lane_exp_all(n, y, e);
  V v_1[max_lags], v_t[max_lags], v_tt[max_lags], v_tttt[max_lags];
  mask_of<V> v_use[max_lags];
  for (int i = 0; i < n; ++i) {
    V const s = sigma[i] / e[i];  // calculate_log_pwr_sigma
    V const w = s * s;
    V const x = t[i];
    v_use[i] = mask_not(s <= 0.0);
    v_1[i] = 1.0 / w;
    v_t[i] = x / w;
    v_tt[i] = (x * x) / w;
    v_tttt[i] = (x * x * x * x) / w;
  }
  V err_s{}, err_s_x{}, err_s_xx{}, quad_err_s_xx{};
  for (int i = 0; i < n; ++i) {
    err_s = add_if(err_s, v_use[i], v_1[i]);
    err_s_x = add_if(err_s_x, v_use[i], v_t[i]);
    err_s_xx = add_if(err_s_xx, v_use[i], v_tt[i]);
    quad_err_s_xx = add_if(quad_err_s_xx, v_use[i], v_tttt[i]);
  }
  out.lin_err = solve_variances(err_s, err_s_x, err_s_xx);
  out.quad_err = solve_variances(err_s, err_s_xx, quad_err_s_xx);
  return out;
}

/** σ of n phase points (calculate_phase_sigma) from their α², lag times and the power slope. */
template <class V>
RSTX_HOST_DEVICE inline void phase_sigmas(int n, V const* alpha2, V const* t, V lin_b, std::int32_t nave,
                                          V* sigma) noexcept {
  V pw[max_lags];
  for (int i = 0; i < n; ++i) pw[i] = -1.0 * lane_fabs(lin_b) * t[i];
  lane_exp_all(n, pw, pw);
  for (int i = 0; i < n; ++i) {
    V const inverse_alpha_2 = 1.0 / alpha2[i];
    V const inverse_pwr_2 = 1.0 / (pw[i] * pw[i]);
    sigma[i] = lane_sqrt((inverse_alpha_2 * inverse_pwr_2 - 1.0) / static_cast<double>(2 * nave));
  }
}

/**
 * The phase-independent quotients of a set of phase points, computed once and shared by every
 * fit of those points (RST recomputes them in each fit; the values are the same expressions on the
 * same numbers): w = σ², 1/w, t/w, (t*t)/w.
 */
template <class V>
struct phase_weights_of {
  V w[max_lags], q_1[max_lags], q_t[max_lags], q_tt[max_lags];

  RSTX_HOST_DEVICE void set(int i, V t, V sigma) noexcept {
    w[i] = sigma * sigma;
    q_1[i] = 1.0 / w[i];
    q_t[i] = t / w[i];
    q_tt[i] = (t * t) / w[i];
  }
  RSTX_HOST_DEVICE void set_all(int n, V const* t, V const* sigma) noexcept {
    for (int i = 0; i < n; ++i) set(i, t[i], sigma[i]);
  }
};
using phase_weights = phase_weights_of<double>;

/** Σ(φt/σ²)/Σ(t²/σ²) over points with σ > 0: the slope of a line through the origin. */
template <class V>
RSTX_HOST_DEVICE inline V origin_slope(int n, V const* t, V const* phi, V const* sigma,
                                       phase_weights_of<V> const& pw) noexcept {
  V q_xy[max_lags];
  for (int i = 0; i < n; ++i) q_xy[i] = (phi[i] * t[i]) / pw.w[i];
  V s_xy{}, s_xx{};
  for (int i = 0; i < n; ++i) {
    auto const use = sigma[i] > 0.0;
    s_xy = add_if(s_xy, use, q_xy[i]);
    s_xx = add_if(s_xx, use, pw.q_tt[i]);
  }
  return s_xy / s_xx;
}

/** Σ((slope t - φ)²/σ²) over points with σ > 0 (ACF_Phase_Unwrap's error of a quick fit). */
template <class V>
RSTX_HOST_DEVICE inline V origin_fit_error(int n, V const* t, V const* phi, V const* sigma,
                                           phase_weights_of<V> const& pw, V slope) noexcept {
  V q[max_lags];
  for (int i = 0; i < n; ++i) q[i] = ((slope * t[i] - phi[i]) * (slope * t[i] - phi[i])) / pw.w[i];
  V err{};
  for (int i = 0; i < n; ++i) err = add_if(err, sigma[i] > 0.0, q[i]);
  return err;
}

/**
 * ACF_Phase_Unwrap (§11.2) in place: corrects a copy of the phases with the piecewise slope
 * estimate and keeps the corrected phases only if they fit a line through the origin better.
 * `count` is the number of points (int, or per lane as 64-bit lanes); n is the largest count.
 */
template <class V, class C>
RSTX_HOST_DEVICE inline void unwrap_acf_phase(int n, C count, V const* t, V* phi, V const* sigma,
                                              phase_weights_of<V> const& pw) noexcept {
  V num[max_lags], den[max_lags];
  mask_of<V> use[max_lags];
  for (int i = 0; i + 1 < n; ++i) {
    V const d_phi = phi[i + 1] - phi[i];
    V const sigma_bar = (sigma[i + 1] + sigma[i]) / 2.0;
    V const d_tau = t[i + 1] - t[i];
    use[i] = mask_and(lane_fabs(d_phi) < pi, count > i + 1);
    num[i] = d_phi / (sigma_bar * sigma_bar) / d_tau;
    den[i] = 1.0 / (sigma_bar * sigma_bar);
  }
  V slope_num{}, slope_denom{};
  for (int i = 0; i + 1 < n; ++i) {
    slope_num = add_if(slope_num, use[i], num[i]);
    slope_denom = add_if(slope_denom, use[i], den[i]);
  }
  V const piecewise_slope = slope_num / slope_denom;
  V corrected[max_lags];
  decltype(phase_correction(corrected[0], piecewise_slope, t[0])) total{};
  for (int i = 0; i < n; ++i) {
    corrected[i] = phi[i];
    auto const turns = phase_correction(corrected[i], piecewise_slope, t[i]);
    total = add_turns(total, count > i, turns);
  }
  auto const try_corrected = turns_positive(total);
  if (any(try_corrected)) {
    V const corr_err = origin_fit_error(n, t, corrected, sigma, pw, origin_slope(n, t, corrected, sigma, pw));
    V const orig_err = origin_fit_error(n, t, phi, sigma, pw, origin_slope(n, t, phi, sigma, pw));
    auto const keep = mask_and(try_corrected, orig_err > corr_err);
    for (int i = 0; i < n; ++i) phi[i] = select(keep, corrected[i], phi[i]);
  }
}

/** unwrap_acf_phase of one range of n points. */
RSTX_HOST_DEVICE inline void unwrap_acf_phase(int n, double const* t, double* phi, double const* sigma,
                                              phase_weights const& pw) noexcept {
  unwrap_acf_phase<double, std::int32_t>(n, n, t, phi, sigma, pw);
}

/** one_param_straight_line_fit (§11.3): slope through the origin, its variance and χ². */
template <class V>
RSTX_HOST_DEVICE inline line_fit_of<V> fit_phase_origin(int n, V const* t, V const* phi, V const* sigma,
                                                        phase_weights_of<V> const& pw) noexcept {
  V q_xy[max_lags];
  for (int i = 0; i < n; ++i) q_xy[i] = (t[i] * phi[i]) / pw.w[i];
  V s_xx{}, s_xy{};
  for (int i = 0; i < n; ++i) {
    auto const use = mask_not(sigma[i] <= 0.0);
    s_xx = add_if(s_xx, use, pw.q_tt[i]);
    s_xy = add_if(s_xy, use, q_xy[i]);
  }
  line_fit_of<V> f;
  f.a = V{};
  f.b = s_xy / s_xx;
  f.sigma2_a = V{};
  f.sigma2_b = 1.0 / s_xx;
  V chi[max_lags];
  for (int i = 0; i < n; ++i) chi[i] = chi2_linear(t[i], phi[i], sigma[i], f);
  for (int i = 0; i < n; ++i) f.chi2 += chi[i];
  return f;
}

/** Two-parameter linear fit of n phase points with χ² (two_param_straight_line_fit, LINEAR). */
template <class V>
RSTX_HOST_DEVICE inline line_fit_of<V> fit_line(int n, V const* x, V const* y, V const* sigma,
                                                phase_weights_of<V> const& pw) noexcept {
  V q_y[max_lags], q_xy[max_lags];
  for (int i = 0; i < n; ++i) {
    q_y[i] = y[i] / pw.w[i];
    q_xy[i] = (x[i] * y[i]) / pw.w[i];
  }
  fit_sums_of<V> m;
  for (int i = 0; i < n; ++i) {
    auto const use = mask_not(sigma[i] <= 0.0);
    m.s = add_if(m.s, use, pw.q_1[i]);
    m.s_x = add_if(m.s_x, use, pw.q_t[i]);
    m.s_y = add_if(m.s_y, use, q_y[i]);
    m.s_xx = add_if(m.s_xx, use, pw.q_tt[i]);
    m.s_xy = add_if(m.s_xy, use, q_xy[i]);
  }
  line_fit_of<V> f = solve_two_param(m);
  V chi[max_lags];
  for (int i = 0; i < n; ++i) chi[i] = chi2_linear(x[i], y[i], sigma[i], f);
  for (int i = 0; i < n; ++i) f.chi2 += chi[i];
  return f;
}

/** Two-parameter linear fit of n points (computes the weights). */
RSTX_HOST_DEVICE inline line_fit fit_line(int n, double const* x, double const* y, double const* sigma) noexcept {
  phase_weights pw;
  pw.set_all(n, x, sigma);
  return fit_line(n, x, y, sigma, pw);
}

/** XCF_Phase_Unwrap + two-parameter fit (§13.2-3). `sigma`/`pw` must already hold the XCF σ. */
template <class V>
RSTX_HOST_DEVICE inline line_fit_of<V> fit_xcf_phase(int n, V const* t, V* phi, V const* sigma,
                                                     phase_weights_of<V> const& pw, V acf_slope) noexcept {
  for (int i = 0; i < n; ++i) (void)phase_correction(phi[i], acf_slope, t[i]);
  V const slope_est = origin_slope(n, t, phi, sigma, pw);
  for (int i = 0; i < n; ++i) (void)phase_correction(phi[i], slope_est, t[i]);
  return fit_line(n, t, phi, sigma, pw);
}

// ---------------------------------------------------------------------------------------------
// Final determinations (§14): per-record conversion constants, computed once per record with
// RST's expressions (they do not depend on the range, so hoisting them changes nothing).

struct conversions {
  double noise_db = 0;   ///< 10*log10(noise)
  double k_v = 0;        ///< set_v:     C/((4*PI)*(f)) * vdir
  double k_v_err = 0;    ///< set_v_err: C/((4*PI)*(f))
  double k_w_l = 0;      ///< set_w_l:   C/((4*PI)*(f))*2.
  double k_w_l_err = 0;  ///< set_w_l_err: C/(4*PI)/(f)*2.
  double k_w_s = 0;      ///< set_w_s, set_w_s_err: C/(4*PI)/(f) *4.*sqrt(log(2))
  double ln_to_log = 0;  ///< log(10), the divisor of LN_TO_LOG's textual expansion 1/log(10)

  RSTX_HOST_DEVICE static conversions make(double noise_pwr, std::int32_t tfreq_khz, double vdir) noexcept {
    conversions c;
    c.noise_db = 10 * std::log10(noise_pwr);
    c.k_v = c_m_s / ((4 * pi) * (tfreq_khz * 1000.0)) * vdir;
    c.k_v_err = c_m_s / ((4 * pi) * (tfreq_khz * 1000.0));
    c.k_w_l = c_m_s / ((4 * pi) * (tfreq_khz * 1000.0)) * 2.;
    c.k_w_l_err = c_m_s / (4 * pi) / (tfreq_khz * 1000.0) * 2.;
    c.k_w_s = c_m_s / (4 * pi) / (tfreq_khz * 1000.0) * 4. * std::sqrt(std::log(2));
    c.ln_to_log = std::log(10);
    return c;
  }
};

/** Lag-0 SNR of a range in dB (lag_0_pwr_in_dB). */
RSTX_HOST_DEVICE inline double lag0_power_db(double pwr0, double noise_pwr) noexcept {
  if ((pwr0 - noise_pwr) > 0.0) return 10 * std::log10((pwr0 - noise_pwr) / noise_pwr);
  return lag0_floor_db;
}

/** Constants of find_elevation_error that depend only on the record (§14.2). */
struct elevation_error_beam {
  double antenna_sep = 0, phi_sign = 0, c_phi_0 = 0, wave_num = 0, cable_offset = 0, phase_diff_max = 0;

  RSTX_HOST_DEVICE static elevation_error_beam prepare(elevation_geometry const& g, int bmnum, int tfreq_khz,
                                                       double tdiff_us) noexcept {
    elevation_error_beam b;
    double const x = g.x_m, y = g.y_m, z = g.z_m;
    b.antenna_sep = std::sqrt(x * x + y * y + z * z);
    int const sign = (y > 0.0) ? 1 : -1;
    b.phi_sign = sign;
    double const azi_offset = g.maxbeam / 2 - 0.5;  // integer division, unlike elevation_v2
    double const phi_0 = (g.bmoff_deg + g.bmsep_deg * (bmnum - azi_offset)) * pi / 180;
    b.c_phi_0 = std::cos(phi_0);
    b.wave_num = 2 * pi * tfreq_khz * 1000 / c_m_s;
    b.cable_offset = -2 * pi * tfreq_khz * 1000 * tdiff_us * 1.0e-6;
    b.phase_diff_max = sign * b.wave_num * b.antenna_sep * b.c_phi_0 + b.cable_offset;
    return b;
  }

  /** find_elevation_error for the fitted XCF intercept a (after phidiff) and its variance. */
  [[nodiscard]] RSTX_HOST_DEVICE double error_deg(double a, double sigma2_a) const noexcept {
    double psi_uncorrected = a + 2 * pi * std::floor((phase_diff_max - a) / (2 * pi));
    if (phi_sign < 0) psi_uncorrected += 2 * pi;
    double const psi = psi_uncorrected - cable_offset;
    double const psi_kd = psi / (wave_num * antenna_sep);
    double const theta = c_phi_0 * c_phi_0 - psi_kd * psi_kd;
    double const psi_k2d2 = psi / (wave_num * wave_num * antenna_sep * antenna_sep);
    double const df_by_dy = psi_k2d2 / std::sqrt(theta * (1 - theta));
    return 180 / pi * std::sqrt(sigma2_a) * std::fabs(df_by_dy);
  }
};

}  // namespace rstx::fit::detail::fitacf3
