#pragma once
/**
 * @file
 * FITACF 2.5 per-range fit: the arithmetic of RST 5.0's fit_acf.c, more_badlags.c,
 * omega_guess.c, calc_phi_res.c, do_phase_fit.c and power_fits.c, written so that every double
 * operation happens in the same order as in RST (the results are compared bit for bit).
 *
 * Everything here is a pure function over fixed-size local arrays (no allocation, no STL
 * containers), callable from a CPU loop or, with RSTX_HOST_DEVICE, from a CUDA kernel. Bad-lag
 * flags are one bit per lag-table row in a std::uint64_t: RST's flag values (1, 3, 5, 7, 9) are
 * only ever tested for being non-zero, so a bit carries all the information that is used.
 *
 * Notes on the arithmetic, which matter for bit-identity:
 * - expressions are written with the grouping that C gives RST's text (left to right), and
 *   explicit parentheses where RST's macros expand textually (see power fits);
 * - |z| is glibc's cabs (= hypot: rstx::hypot_of_floats) in fit_acf and omega_guess; noise_stat uses sqrt(re*re+im*im)
 *   (record_fit.hpp);
 * - float -> int conversions follow x86-64's cvtt* instructions (trunc_to_int32_x86);
 * - HUGE_VAL is +infinity (math.h is included before rmath.h in every file that uses it, so
 *   rmath.h's fallback 1.0e36 is never defined).
 */
#include <cmath>
#include <cstdint>

#include "detail/host_device.hpp"  // RSTX_HOST_DEVICE, x86_double_to_int
#include "rstx/core/atan2.hpp"
#include "rstx/core/hypot.hpp"

namespace rstx::fit::detail::fit25 {

/**
 * modf inline: the fraction, and the whole part in `whole`. For |x| < 2^52 the truncation and
 * x - trunc(x) are exact, so both are modf's values, up to the sign of a zero, which no caller
 * looks at (they compare the fraction with +-0.5 and convert the whole part to int).
 */
RSTX_HOST_DEVICE inline double fraction_and_whole(double x, double& whole) noexcept {
  if (!(std::fabs(x) < 4503599627370496.0)) return std::modf(x, &whole);
  whole = static_cast<double>(static_cast<std::int64_t>(x));
  return x - whole;
}

/** Most lag-table rows a record may have: bad-lag flags are one 64-bit mask per range. */
inline constexpr int max_lags = 64;
/** do_fit's lag_lim argument (fitacf.c: do_fit(input, 5, ...)): fewest good lags for a fit. */
inline constexpr int lag_lim = 5;

inline constexpr double pi = 3.14159265358979323846;  // rmath.h PI
inline constexpr double c_m_s = 2.99792458e+8;        // rmath.h C
inline constexpr double ln_to_log = 4.342944819;      // rmath.h LN_TO_LOG (not 10/ln 10)
inline constexpr double huge_val = HUGE_VAL;          // math.h HUGE_VAL = +infinity

/** Result codes of fit_acf (RST FitRange.qflg values). */
inline constexpr int qflg_ok = 1;
inline constexpr int qflg_low_power = 2;     // lag-0 power under the noise level, or no usable lag
inline constexpr int qflg_few_lags = 4;      // fewer than lag_lim good lags, or no power lag
inline constexpr int qflg_velocity = 8;      // velocity above the aliasing limit (do_fit)

/** Phase-fit status codes of do_phase_fit. */
inline constexpr int phase_ok = 0;
inline constexpr int phase_degenerate = 8;   // singular normal equations
inline constexpr int phase_oscillating = 16;
inline constexpr int phase_no_convergence = 32;

/**
 * C's conversion of a float or double to int as x86-64 executes it (cvttss2si / cvttsd2si):
 * truncation toward zero, INT32_MIN for NaN and for values out of the int32 range. RST's output
 * depends on the out-of-range case (records with powers above 2^31), which C leaves undefined.
 * Floats convert to double exactly, so the shared double version serves both.
 */
using rstx::fit::detail::x86_double_to_int;

/** Two's complement increment/decrement (RST's n_twopi++ on INT32_MIN/INT32_MAX wraps on x86). */
RSTX_HOST_DEVICE constexpr std::int32_t wrapping_add(std::int32_t a, std::int32_t b) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}

RSTX_HOST_DEVICE constexpr bool is_set(std::uint64_t mask, int k) noexcept { return ((mask >> k) & 1U) != 0; }
RSTX_HOST_DEVICE constexpr std::uint64_t bit(int k) noexcept { return std::uint64_t{1} << k; }

/**
 * Fitted values of one range for the ACF or the XCF: RST's struct FitRange (fitblk.h), in double
 * precision, in RST's internal units until convert_units (natural-log power, rad/s, 1/s, 1/s²).
 */
struct range_fit {
  double v = 0.0, v_err = 0.0;
  double p_l = -50.0, p_l_err = 0.0;
  double p_s = -50.0, p_s_err = 0.0;
  double w_l = 0.0, w_l_err = 0.0;
  double w_s = 0.0, w_s_err = 0.0;
  double phi0 = 0.0, phi0_err = 0.0;
  double sdev_l = 0.0, sdev_s = 0.0, sdev_phi = 0.0;
  std::int32_t qflg = 0;
  std::int32_t gsct = 0;
  std::int32_t nump = 0;  ///< good lags after more_badlags (RST stores it in a char)
};

/** The state RST's init_fit_range_data gives every range before the fits (the defaults above). */
RSTX_HOST_DEVICE constexpr range_fit initial_range_fit() noexcept { return range_fit{}; }

/** RST's FitSetRng/FitSetXrng state (memset 0): what records with nave <= 1 keep. */
RSTX_HOST_DEVICE constexpr range_fit zeroed_range_fit() noexcept {
  range_fit r;
  r.p_l = 0.0;
  r.p_s = 0.0;
  return r;
}

/** fit_mem_helpers.c zero_fitrange: clears the fitted values (not sdev_phi, qflg, gsct, nump). */
RSTX_HOST_DEVICE constexpr void zero_fitrange(range_fit& r) noexcept {
  r.p_l = r.p_s = r.p_l_err = r.p_s_err = 0.0;
  r.v = r.v_err = 0.0;
  r.w_l = r.w_l_err = r.w_s = r.w_s_err = 0.0;
  r.phi0 = r.phi0_err = 0.0;
  r.sdev_l = r.sdev_s = 0.0;
}

/** The record parameters fit_acf reads (RST FitPrm members) and the lag-table derived values. */
struct fit_params {
  std::int32_t mplgs = 0;      ///< lag-table rows fitted
  std::int32_t nave = 0;       ///< number of averages
  std::int32_t mpinc_us = 0;   ///< lag separation
  std::int32_t noise_int = 0;  ///< (int) noise.search, x86 conversion
  double tau[max_lags] = {};   ///< lag number of each row, lag[1][k] - lag[0][k]
  double tau2[max_lags] = {};  ///< tau[k] * tau[k]
};

/**
 * more_badlags.c: flags rows whose power is at the fluctuation level (3), every row after two
 * consecutive such rows (7), and rows with a jump in power (5, with the one-row glitch rule that
 * moves the flag to the previous good row: 9). Returns the number of good rows.
 * `w(k)` gives the lag power |R(k)| of row k (0.1 where at or below the noise level); it is only
 * called for the rows RST's decisions depend on, so the caller can compute powers on demand.
 */
template <class LagPower>
RSTX_HOST_DEVICE inline int more_badlags(LagPower&& w, std::uint64_t& bad, double noise_lev, int mplgs,
                                         int nave) noexcept {
  bool low_1 = false;  // RST badflag_1: the previous row examined was low
  bool low_2 = false;  // RST badflag_2: two consecutive low rows seen -> all later rows bad
  double const w0 = w(0);
  double const fluct0 = w0 / std::sqrt(2.0 * static_cast<double>(nave));
  double fluct = w0 + 2.0 * noise_lev + fluct0;
  double fluct_old = fluct;
  int sum_np = 0;
  int k_old = 0;
  for (int k = 0; k < mplgs; ++k) {
    if (is_set(bad, k)) continue;
    if (low_2) {
      bad |= bit(k);  // flag 7
    } else if (w(k) <= w0 / std::sqrt(static_cast<double>(nave))) {
      bad |= bit(k);  // flag 3
      low_2 = low_1;
      low_1 = true;
    } else {
      low_1 = false;
      double const wk = w(k);
      if (wk > fluct) {
        bad |= bit(k);  // flag 5
        if (k < mplgs - 1) {
          if ((wk < fluct_old) && (w(k + 1) > fluct) && (w(k + 1) < wk)) {
            bad |= bit(k_old);  // flag 9: the glitch was the previous good row
            --sum_np;
            bad &= ~bit(k);
          }
        }
      }
      fluct_old = fluct;
      fluct = 2.0 * noise_lev + wk + fluct0;
    }
    if (!is_set(bad, k)) {
      ++sum_np;
      k_old = k;
    }
  }
  return sum_np;
}

/**
 * omega_guess.c: first guess of the phase slope (rad/s) from the phase differences of row pairs
 * one and two lags apart, weighted by their mean power, with one pass of 2-sigma outlier
 * rejection. Returns 0 when fewer than three pairs are usable. (The error estimate it also
 * returns only feeds RST's +/- error refits, which never change the outputs, so it is not kept.)
 */
RSTX_HOST_DEVICE inline double omega_guess(double const* mag, double const* tau, std::uint64_t bad,
                                           double const* phi_res, int mpinc_us, int mplgs) noexcept {
  int nave = 0;
  double omega = 0.0, omega2 = 0.0, average = 0.0, sigma = 0.0, tau_lim = 1.0, sum_w = 0.0;
  double two_sigma = sigma = 2 * pi;
  // RST restarts the pass whenever the spread it computes is exactly 2π; real data never repeat
  // that, but it would loop for ever. rstx gives up (returns 0) after many restarts instead.
  int restarts = 0;
  while (tau_lim < 3 && nave < 3) {
    for (int j = 1; j <= tau_lim; ++j) {
      for (int i = 0; i < mplgs - j; ++i) {
        if (is_set(bad, i + j) || is_set(bad, i)) continue;
        double const delta_tau = tau[i + j] - tau[i];
        if (delta_tau != tau_lim) continue;
        double delta_phi = phi_res[i + j] - phi_res[i];
        double const weight = (mag[i] + mag[i + j]) / 2.0;
        double const weight2 = weight * weight;
        if (delta_phi > pi) delta_phi = delta_phi - 2 * pi;
        if (delta_phi < -pi) delta_phi = delta_phi + 2 * pi;
        if ((average != 0.0) && (std::fabs(delta_phi - average) > two_sigma)) continue;
        double const temp = delta_phi / tau_lim;
        omega = omega + temp * weight2;
        omega2 = omega2 + weight2 * (temp * temp);
        sum_w = sum_w + weight2;
        ++nave;
      }
    }
    if (nave >= 3 && (sigma == 2 * pi)) {
      average = omega / sum_w;
      sigma = ((omega2 / sum_w) - average * average) / (nave - 1);
      sigma = (sigma > 0.0) ? std::sqrt(sigma) : 0.0;
      two_sigma = 2.0 * sigma;
      if (++restarts > 64) return 0.0;
      omega = 0.0;
      omega2 = 0.0;
      sum_w = 0;
      nave = 0;
      tau_lim = 1;
    } else if (nave >= 3) {
      omega = omega / sum_w;
      omega = omega / (mpinc_us * 1.0e-6);
      return omega;
    } else {
      ++tau_lim;
    }
  }
  return 0.0;
}

/** Outputs of do_phase_fit. RST leaves outputs unwritten on some statuses; `has_*` say which. */
struct phase_fit_result {
  int status = phase_ok;
  bool has_omega = false;   ///< omega and phi0 were set (statuses 0, 16, 32)
  bool has_errors = false;  ///< sdev, phi0_err, omega_err were set (status 0)
  double omega = 0.0, phi0 = 0.0;
  double sdev = 0.0, phi0_err = 0.0, omega_err = 0.0;
};

/**
 * do_phase_fit.c: iterative unwrapping fit of the residual phases. ACF (xflag false): slope
 * through the origin; XCF: intercept and slope, starting from the ACF slope. Weights w².
 * `phi_lag0` is atan2 of the lag-0 sample, `sum_wk2_arr` the running sum of w²τ² over good rows.
 */
RSTX_HOST_DEVICE inline phase_fit_result do_phase_fit(double omega_start, bool xflag, int mplgs, double phi_lag0,
                                                      double const* tau, double const* w,
                                                      double const* sum_wk2_arr, double const* phi_res,
                                                      std::uint64_t bad, double t0, double sum_w, double sum_wk,
                                                      double sum_wk2) noexcept {
  phase_fit_result out;
  double omega_loc = omega_start;
  double omega_old_2 = 9999.0, omega_old = 9999.0;
  int icnt = 0;
  double phi_loc = 0.0;
  double const t2 = t0 * t0;
  double d = 0.0;
  double phi_k[max_lags];
  for (int k = 0; k < mplgs; ++k) phi_k[k] = 0;

  while (std::fabs(omega_old - omega_loc) > std::fabs(omega_loc * pi / 64.)) {
    if ((icnt > 0) && (omega_loc == omega_old_2)) {  // oscillating between two values
      out.status = phase_oscillating;
      out.has_omega = true;
      out.omega = (omega_old + omega_loc) / 2.;
      out.phi0 = phi_loc;
      return out;
    }
    if (++icnt >= 5) {
      out.status = phase_no_convergence;
      out.has_omega = true;
      out.omega = omega_loc;
      out.phi0 = phi_loc;
      return out;
    }
    omega_old_2 = omega_old;
    omega_old = omega_loc;
    double const omega_init = omega_loc;
    if (!xflag) phi_loc = 0.;

    double sum_phi = phi_lag0;
    sum_phi = sum_phi * w[0] * w[0];
    double sum_kphi = 0.0;
    int nphi = 0;
    for (int k = 1; k < mplgs; ++k) {
      if (is_set(bad, k)) continue;
      double const phi_pred = phi_loc + omega_loc * tau[k] * t0;
      double const phitmp = ((pi + phi_pred - phi_res[k]) / (2 * pi) - ((omega_loc > 0) ? 0.0 : 1.0));
      double phiint = 0.0;
      double const phifrc = fraction_and_whole(phitmp, phiint);
      std::int32_t n_twopi = x86_double_to_int(phiint);
      if (phifrc > 0.5) n_twopi = wrapping_add(n_twopi, 1);
      if (phifrc < -0.5) n_twopi = wrapping_add(n_twopi, -1);
      double phi_tot = phi_res[k] + n_twopi * (2 * pi);
      if (std::fabs(phi_pred - phi_tot) > pi) {
        if (phi_pred > phi_tot) {
          phi_tot = phi_tot + 2 * pi;
        } else {
          phi_tot = phi_tot - 2 * pi;
        }
      }
      phi_k[k] = phi_tot;
      sum_phi = sum_phi + phi_tot * w[k] * w[k];
      sum_kphi = sum_kphi + tau[k] * phi_tot * w[k] * w[k];
      ++nphi;
      // First pass of an ACF fit: refine omega as each point is added.
      if (!xflag && (sum_wk2_arr[k] != 0.0) && (omega_old_2 == 9999.)) {
        omega_loc = sum_kphi / (t0 * sum_wk2_arr[k]);
        omega_loc = (nphi * omega_loc + omega_init) / (nphi + 1);
      }
    }
    if (xflag) {
      // do_phase_fit.c's determ macro is fully parenthesised: ((aa)*(dd)) - ((bb)*(cc)).
      d = (sum_w * (sum_wk2 * t2)) - ((sum_wk * t0) * (sum_wk * t0));
      if (d == 0) {
        out.status = phase_degenerate;
        return out;
      }
      phi_loc = ((sum_phi * (sum_wk2 * t2)) - ((sum_wk * t0) * (sum_kphi * t0))) / d;
      omega_loc = ((sum_w * (sum_kphi * t0)) - (sum_phi * (sum_wk * t0))) / d;
    } else {
      phi_loc = 0;
      if (sum_wk2 <= 0.0) {
        out.status = phase_degenerate;
        return out;
      }
      omega_loc = sum_kphi / (t0 * sum_wk2);
    }
  }

  if (phi_loc > pi) phi_loc = phi_loc - 2 * pi;
  out.has_omega = true;
  out.phi0 = phi_loc;
  out.omega = omega_loc;

  double wbar = 0;
  double e2 = 0.;
  int nphi = 0;
  for (int k = 0; k < mplgs; ++k) {
    if (!is_set(bad, k)) {
      double const r = phi_k[k] - phi_loc - omega_loc * tau[k] * t0;
      e2 = e2 + w[k] * w[k] * r * r;
      wbar = wbar + w[k];
      ++nphi;
    }
  }
  wbar = wbar / nphi;
  out.has_errors = true;
  if (xflag) {
    out.sdev = std::sqrt(e2 / (sum_w)*nphi / (nphi - 2));
    out.phi0_err = out.sdev * wbar * std::sqrt(sum_wk2 * t2 / d);
    out.omega_err = out.sdev * wbar * std::sqrt(sum_w / d);
  } else {
    out.sdev = std::sqrt(e2 / sum_w * nphi / (nphi - 1));
    out.phi0_err = 0;
    out.omega_err = out.sdev * wbar / std::sqrt(sum_wk2) / t0;
  }
  return out;
}

/** Running sums of fit_acf shared by the power fits. */
struct power_sums {
  double sum_np, sum_w, sum_wk, sum_wk2, sum_wk4, sum_p, sum_pk, sum_pk2;
};

/** Result of one weighted exponential-decay fit: ln|R| = c - slope·x. */
struct decay_fit {
  double c, slope, sdev, c_err, slope_err;
};

/**
 * power_fits.c's do_lambda_fit and do_sigma_fit are the same weighted (w²) least-squares fit of
 * ln|R| = c - slope·x·u with x = τ (λ fit: u = t0) or x = τ² (σ fit: u = t0²); `uu` is u². The sums
 * are Σw², Σw²x (sum_x), Σw²x² (sum_xx), Σw² ln|R|, Σw² x ln|R| (sum_px). power_fits.c defines its
 * determinant macro WITHOUT parentheses, `determ(aa,bb,cc,dd) aa*dd - bb*cc`, so its textual
 * expansion fixes the multiplication order written out below (e.g. `sum_w*-uu*sum_xx`).
 */
RSTX_HOST_DEVICE inline decay_fit power_decay_fit(int mplgs, std::uint64_t bad, std::uint64_t bad_pwr, double const* w,
                                                  double const* x, double const* pwr, double sum_np, double sum_w,
                                                  double sum_x, double sum_xx, double sum_p, double sum_px, double u,
                                                  double uu) noexcept {
  decay_fit f{};
  double const d = sum_w * -uu * sum_xx - -u * sum_x * u * sum_x;
  f.c = (sum_p * -uu * sum_xx - -u * sum_x * u * sum_px) / d;
  f.slope = (sum_w * u * sum_px - sum_p * u * sum_x) / d;
  if (!(sum_np > 3)) {
    f.c_err = f.slope_err = f.sdev = huge_val;
    return f;
  }
  double e2 = 0.;
  double wbar = 0.;
  int npp = 0;
  for (int k = 0; k < mplgs; ++k) {
    if (!is_set(bad, k) && !is_set(bad_pwr, k)) {
      double const temp = pwr[k] - (f.c - x[k] * u * (f.slope));
      e2 = e2 + w[k] * w[k] * (temp * temp);
      wbar = wbar + w[k];
      ++npp;
    }
  }
  wbar = wbar / npp;
  f.sdev = std::sqrt(e2 / sum_w * npp / (npp - 2));
  if ((sum_w * sum_xx - sum_x * sum_x) <= 0.0) {
    f.c_err = f.slope_err = f.sdev = huge_val;
  } else {
    f.c_err = f.sdev * wbar * std::sqrt(sum_xx / (sum_w * sum_xx - sum_x * sum_x));
    f.slope_err = f.sdev * wbar * std::sqrt(sum_w / (uu * (sum_w * sum_xx - sum_x * sum_x)));
  }
  return f;
}

/**
 * fit_acf.c: fits one ACF (xflag false) or XCF (xflag true) of one range and returns its qflg
 * (1 fitted, 2 or 4 rejected). `samples` are the range's mplgs complex samples (re, im
 * interleaved) in lag-table order. `initial_bad()` returns the rows already flagged by
 * transmitter overlap, cross-range interference and the 17-lag rule (FitACFCkRng); it is called
 * only when the range gets that far, as in RST. `xomega` is the ACF's fitted slope (rad/s), the
 * XCF fit's start. Fields of `ptr` are written exactly where RST writes them, so a rejected XCF
 * leaves the partial values that RST writes to the file.
 *
 * Lag powers and logarithms are computed only for the rows whose values can reach the result
 * (row 0 and the rows not flagged bad, plus the rows more_badlags looks at): RST computes them
 * for every row, but never reads those of bad rows.
 */
template <class InitialBad>
RSTX_HOST_DEVICE inline int fit_acf(float const* samples, InitialBad&& initial_bad, fit_params const& prm,
                                    double noise_lev_in, bool xflag, double xomega, range_fit& ptr) noexcept {
  int const mplgs = prm.mplgs;
  if (hypot_of_floats(samples[0], samples[1]) < noise_lev_in) {
    zero_fitrange(ptr);
    return qflg_low_power;
  }

  double noise_lev = noise_lev_in;
  double mag[max_lags], w[max_lags];  // |R(k)|, and the fit weights derived from it
  std::uint64_t have = 0;             // rows whose mag/w are computed
  auto lag_power = [&](int k) -> double {
    if (!is_set(have, k)) {
      mag[k] = hypot_of_floats(samples[2 * k], samples[2 * k + 1]);
      w[k] = (mag[k] <= noise_lev_in) ? 0.1 : mag[k];
      have |= bit(k);
    }
    return w[k];
  };

  // Lag-0 power minus its fluctuation level must stay above the noise.
  double const w0 = lag_power(0);
  double const p0n = w0 / std::sqrt(static_cast<double>(prm.nave));
  if ((w0 - p0n) < noise_lev) return qflg_low_power;

  std::uint64_t bad = initial_bad();
  int const good_lags = more_badlags(lag_power, bad, noise_lev, mplgs, prm.nave);
  ptr.nump = static_cast<std::int8_t>(good_lags);
  if (good_lags < lag_lim) return qflg_few_lags;

  if (noise_lev <= 0.0) noise_lev = 0.1;  // keeps the logs finite

  for (int k = 1; k < mplgs; ++k) {
    if (!is_set(bad, k)) lag_power(k);
  }
  w[0] = w[0] - prm.noise_int;  // remove the delta-correlated noise from lag 0

  double wt[max_lags], wt2[max_lags], pwr[max_lags], wp[max_lags];
  for (int k = 0; k < mplgs; ++k) {
    if (k != 0 && is_set(bad, k)) continue;  // never read for bad rows
    if (w[k] <= p0n) w[k] = 0.1;
    wt[k] = w[k] * w[k] * prm.tau[k];
    wt2[k] = wt[k] * prm.tau[k];
    pwr[k] = std::log(w[k]);
    wp[k] = w[k] * w[k] * pwr[k];
  }

  // Rows that are fine for the phase fit but too weak for the power fits.
  std::uint64_t bad_pwr = 0;
  int npp = 0;
  for (int k = 0; k < mplgs; ++k) {
    if (!is_set(bad, k) && w[k] < noise_lev + p0n) bad_pwr |= bit(k);
    if (!(is_set(bad, k) || is_set(bad_pwr, k))) ++npp;
  }

  power_sums s{};
  s.sum_np = 1;
  s.sum_w = w[0] * w[0];
  s.sum_wk = 0;
  s.sum_wk2 = 0;
  double sum_wk2_arr[max_lags];
  sum_wk2_arr[0] = 0;
  s.sum_wk4 = 0;
  s.sum_p = w[0] * w[0] * pwr[0];
  s.sum_pk = 0;
  s.sum_pk2 = 0;
#if defined(__CUDA_ARCH__)
  double const phi_lag0 = std::atan2(static_cast<double>(samples[1]), static_cast<double>(samples[0]));
#else
  double const phi_lag0 = atan2_of_floats(samples[1], samples[0]);
#endif
  double const t0 = prm.mpinc_us * 1.0e-6;
  double const t2 = t0 * t0;
  double const t4 = t2 * t2;

  // calc_phi_res.c: residual phases of the good rows; give up if there is none.
  double phi_res[max_lags];
  int n_good = 0;
#if defined(__CUDA_ARCH__)
  for (int i = 0; i < mplgs; ++i) {
    if (is_set(bad, i)) {
      phi_res[i] = 0.0;
    } else {
      phi_res[i] = std::atan2(static_cast<double>(samples[2 * i + 1]), static_cast<double>(samples[2 * i]));
      ++n_good;
    }
  }
#else
  int good[max_lags];
  for (int i = 0; i < mplgs; ++i) {
    phi_res[i] = 0.0;
    if (!is_set(bad, i)) good[n_good++] = i;
  }
  double good_phase[max_lags];
  sample_phases(n_good, samples, good, good_phase);  // = std::atan2 of each, the C library's values
  for (int k = 0; k < n_good; ++k) phi_res[good[k]] = good_phase[k];
#endif
  if (n_good == 0) return qflg_low_power;

  double const omega_loc =
      xflag ? xomega : omega_guess(mag, prm.tau, bad, phi_res, prm.mpinc_us, mplgs);

  for (int k = 1; k < mplgs; ++k) {
    if (is_set(bad, k)) {
      sum_wk2_arr[k] = sum_wk2_arr[k - 1];
      continue;
    }
    s.sum_w = s.sum_w + w[k] * w[k];
    s.sum_np = s.sum_np + 1;
    s.sum_wk = s.sum_wk + w[k] * w[k] * prm.tau[k];
    s.sum_wk2 = s.sum_wk2 + wt2[k];
    sum_wk2_arr[k] = s.sum_wk2;
  }

  phase_fit_result const ph = do_phase_fit(omega_loc, xflag, mplgs, phi_lag0, prm.tau, w, sum_wk2_arr, phi_res,
                                           bad, t0, s.sum_w, s.sum_wk, s.sum_wk2);
  // Where do_phase_fit returns without writing an output, RST keeps an uninitialised local
  // (omega, errors) or fit_acf's initial phi_loc = atan2 of lag 0. The uninitialised values are
  // replaced by 0 (omega) and HUGE_VAL (errors): docs/algorithms/fitacf25.md, "phase-fit status 8".
  ptr.phi0 = ph.has_omega ? ph.phi0 : phi_lag0;
  ptr.v = ph.has_omega ? ph.omega : 0.0;
  ptr.sdev_phi = ph.has_errors ? ph.sdev : huge_val;
  ptr.phi0_err = ph.has_errors ? ph.phi0_err : huge_val;
  ptr.v_err = ph.has_errors ? ph.omega_err : huge_val;
  if (ph.status != phase_ok) {
    ptr.sdev_phi = huge_val;
    ptr.v_err = huge_val;
    if (xflag) ptr.phi0_err = huge_val;
  }
  // (RST now refits the ACF phase from omega ± its error; the result never reaches the output.)

  if (npp < 3) {
    // Too few power lags: lag-0 power for both models, widths from the last good row.
    double const c_log = pwr[0];
    if (c_log < 0) return qflg_low_power;
    ptr.p_l = c_log;
    ptr.p_s = c_log;
    int last_good = -1;
    for (int k = 0; k < mplgs; ++k) {
      if (!is_set(bad, k)) last_good = k;
    }
    if (last_good <= 0) {
      ptr.w_l = -9999.0;
      ptr.w_s = -9999.0;
    } else {
      ptr.w_l = c_log / (prm.tau[last_good] * t0);
      ptr.w_s = c_log / (prm.tau2[last_good] * t2);
    }
    ptr.p_l_err = ptr.w_l_err = ptr.sdev_l = huge_val;
    ptr.p_s_err = ptr.w_s_err = ptr.sdev_s = huge_val;
  } else {
    for (int k = 1; k < mplgs; ++k) {
      if (is_set(bad, k) || is_set(bad_pwr, k)) continue;
      s.sum_p = s.sum_p + wp[k];
      s.sum_pk = s.sum_pk + pwr[k] * wt[k];
      s.sum_pk2 = s.sum_pk2 + pwr[k] * wt2[k];
      s.sum_wk4 = s.sum_wk4 + wt2[k] * prm.tau2[k];
    }
    // Remove the weak rows from the phase-fit sums (subtracted, not re-summed, as RST does).
    for (int k = 1; k < mplgs; ++k) {
      if (is_set(bad_pwr, k)) {
        s.sum_w = s.sum_w - w[k] * w[k];
        s.sum_np = s.sum_np - 1;
        s.sum_wk = s.sum_wk - w[k] * w[k] * prm.tau[k];
        s.sum_wk2 = s.sum_wk2 - wt2[k];
      }
    }
    auto const lambda = power_decay_fit(mplgs, bad, bad_pwr, w, prm.tau, pwr, s.sum_np, s.sum_w, s.sum_wk,
                                        s.sum_wk2, s.sum_p, s.sum_pk, t0, t2);
    ptr.p_l = lambda.c;
    ptr.w_l = lambda.slope;
    ptr.sdev_l = lambda.sdev;
    ptr.p_l_err = lambda.c_err;
    ptr.w_l_err = lambda.slope_err;
    auto const sigma = power_decay_fit(mplgs, bad, bad_pwr, w, prm.tau2, pwr, s.sum_np, s.sum_w, s.sum_wk2,
                                       s.sum_wk4, s.sum_p, s.sum_pk2, t2, t4);
    ptr.p_s = sigma.c;
    ptr.w_s = sigma.slope;  // σ², sign kept
    ptr.sdev_s = sigma.sdev;
    ptr.p_s_err = sigma.c_err;
    ptr.w_s_err = sigma.slope_err;
    ptr.gsct = 0;
  }
  return (npp < 1) ? qflg_few_lags : qflg_ok;
}

/**
 * do_fit.c unit conversion of a fitted range: powers to dB relative to the sky noise, slopes to
 * velocities and spectral widths (m/s). Returns false when the velocity exceeds the aliasing
 * limit (RST sets qflg 8; checked only for the ACF, and only on the positive side).
 */
RSTX_HOST_DEVICE inline bool convert_units(range_fit& r, double freq_to_vel, double skylog, double vdir,
                                           int mpinc_us, bool check_velocity) noexcept {
  bool ok = true;
  r.p_l = r.p_l * ln_to_log - skylog;
  r.p_s = r.p_s * ln_to_log - skylog;
  r.p_l_err = (r.p_l_err == huge_val) ? huge_val : r.p_l_err * ln_to_log;
  r.p_s_err = (r.p_s_err == huge_val) ? huge_val : r.p_s_err * ln_to_log;
  r.v = vdir * freq_to_vel * r.v;
  if (check_velocity && r.v > (freq_to_vel * (pi * 1000.0 * 1000.0) / mpinc_us)) ok = false;
  r.v_err = (r.v_err == huge_val) ? huge_val : freq_to_vel * r.v_err;
  r.w_l = freq_to_vel * 2 * r.w_l;
  r.w_l_err = (r.w_l_err == huge_val) ? huge_val : freq_to_vel * 2 * r.w_l_err;
  // The sigma fit returns sigma²: take the root and keep the sign.
  r.w_s = (r.w_s >= 0) ? std::sqrt(r.w_s) : -std::sqrt(-r.w_s);
  if ((r.w_s != 0.0) && (r.w_s_err != huge_val)) {
    r.w_s_err = 0.5 * r.w_s_err / std::fabs(r.w_s);
  } else {
    r.w_s_err = huge_val;
  }
  r.w_s = 3.33 * freq_to_vel * r.w_s;
  r.w_s_err = (r.w_s_err == huge_val) ? huge_val : 3.33 * freq_to_vel * r.w_s_err;
  return ok;
}

/** ground_scatter.c (Sundeen-Blanchard-Baker rule, error term disabled): 1 = ground scatter. */
RSTX_HOST_DEVICE inline int ground_scatter(range_fit const& r) noexcept {
  double const vabs = std::fabs(r.v);
  double const wabs = std::fabs(r.w_l);
  double const g = (vabs - (30. - (30. / 90.) * wabs));
  double const g_err = 0;
  return ((g - g_err) < 0.0) ? 1 : 0;
}

}  // namespace rstx::fit::detail::fit25
