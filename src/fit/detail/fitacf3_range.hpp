#pragma once
/**
 * @file
 * FITACF 3.0 one range at a time: the whole algorithm for range r of a record as one
 * RSTX_HOST_DEVICE function, after a per-record plan (lag table, noise, transmitter samples,
 * conversion and elevation constants). This is what a CUDA thread runs (src/cuda/fitacf3.cu: a
 * block per record, a thread per range); `detail::fitacf3_by_range` runs the same code on the host,
 * and the tests prove it equal to the CPU backend bit for bit on every shared file, so the device
 * differs from the CPU only where the device's arithmetic does (docs/cuda.md).
 *
 * Why it equals the staged CPU code (fitacf3.cpp): once the record-level quantities are known,
 * every stage of a range reads only that range's data and the record's pwr0, and the CPU's stages
 * only ever drop ranges; running a range's stages back to back, and stopping where the CPU would
 * drop it, performs the same operations on the same numbers. The formulas are fitacf3_math.hpp's.
 */
#include <cmath>
#include <cstdint>

#include "elevation.hpp"
#include "fitacf3_math.hpp"
#include "rstx/fit/batch.hpp"
#include "rstx/core/atan2.hpp"
#if defined(__CUDACC__)
#include "rstx/core/device_math.hpp"
#endif

namespace rstx::fit::detail::fitacf3 {

// ---- §4 lag table -----------------------------------------------------------------------------

/** Lag-table rows as Determine_Lags sees them. */
struct lag_table {
  std::int32_t n = 0;                          // mplgs
  double t_s[max_lags] = {};                   // lag time, seconds
  std::int32_t pulse_idx[2][max_lags] = {};    // index in the pulse table of each row's two pulses
  std::int32_t sample_base[2][max_lags] = {};  // first sample of each pulse: lag[k][l] * (mpinc/smsep)

  /** The mask of every row. */
  [[nodiscard]] RSTX_HOST_DEVICE std::uint64_t all() const noexcept {
    return (n == 64) ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1);
  }
};

RSTX_HOST_DEVICE inline void determine_lags(record_params const& p, lag_table& lags) noexcept {
  lags.n = p.mplgs;
  std::int32_t const tau = p.mpinc_us / p.smsep_us;  // integer division, as in RST
  for (std::int32_t l = 0; l < p.mplgs; ++l) {
    std::int32_t const lag_num = p.lag[1][l] - p.lag[0][l];
    lags.pulse_idx[0][l] = lags.pulse_idx[1][l] = 0;
    for (std::int32_t j = 0; j < p.mppul; ++j) {  // last match wins
      if (p.pulse[j] == p.lag[1][l]) lags.pulse_idx[1][l] = j;
      if (p.pulse[j] == p.lag[0][l]) lags.pulse_idx[0][l] = j;
    }
    lags.sample_base[0][l] = p.lag[0][l] * tau;
    lags.sample_base[1][l] = p.lag[1][l] * tau;
    lags.t_s[l] = lag_time_s(lag_num, p.mpinc_us);
  }
}

// ---- §5 noise -----------------------------------------------------------------------------------

/**
 * The noise level from the lowest nrang/3 lag-0 powers in ascending order (ties are equal values,
 * so their order is moot): the mean of the lowest values up to the tenth non-zero one, times
 * cutoff_power_correction, or the search noise when that is below 1. Records with nave <= 0 have
 * noise 1 (the caller's case).
 */
RSTX_HOST_DEVICE inline double noise_from_lowest(double const* lowest, std::int32_t third, double correction,
                                                 float noise_search) noexcept {
  double min_pwr = 0.0;
  int ni = 0;
  std::int32_t i = 0;
  while (ni < 10 && i < third) {
    if (lowest[i] != 0) ++ni;
    min_pwr += lowest[i++];
  }
  ni = (ni > 0) ? ni : 1;
  min_pwr = min_pwr / ni * correction;
  if ((min_pwr < 1.0) && (noise_search != 0.0)) min_pwr = noise_search;
  return min_pwr;
}

/** Position of pwr0[r] in the ascending order of pwr0[0..nrang) (ties by index): a sort that many
 *  threads do at once, one value each (pwr0 is finite, from_dmap rejects NaN and Inf). */
RSTX_HOST_DEVICE inline std::int32_t rank_of(float const* pwr0, std::int32_t nrang, std::int32_t r) noexcept {
  float const v = pwr0[r];
  std::int32_t rank = 0;
  for (std::int32_t s = 0; s < nrang; ++s) rank += (pwr0[s] < v || (pwr0[s] == v && s < r)) ? 1 : 0;
  return rank;
}

// ---- §7 transmitter overlap -------------------------------------------------------------------

/** Samples [begin, end) that overlap a transmitted pulse (mark_bad_samples). */
struct sample_interval {
  std::int64_t begin = 0, end = 0;
};
struct tx_samples {
  std::int32_t n = 0;
  sample_interval at[2 * max_pulses];
};

RSTX_HOST_DEVICE inline void find_tx_samples(record_params const& p, tx_samples& tx) noexcept {
  std::int32_t times[2 * max_pulses];
  std::int32_t n = 0;
  auto const pulse_us = [&](std::int32_t j) {  // int product, wrapping like RST's int on x86
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(p.pulse[j]) * static_cast<std::uint32_t>(p.mpinc_us));
  };
  for (std::int32_t j = 0; j < p.mppul; ++j) times[n++] = pulse_us(j);
  if (p.offset_us != 0 && (p.channel == 1 || p.channel == 2)) {
    for (std::int32_t j = 0; j < p.mppul; ++j)
      times[n++] = p.channel == 1 ? pulse_us(j) - p.offset_us : pulse_us(j) + p.offset_us;
    for (std::int32_t k = 1; k < n; ++k)  // insertion sort: at most 128 ints, and device code
      for (std::int32_t j = k; j > 0 && times[j - 1] > times[j]; --j) {
        std::int32_t const t = times[j];
        times[j] = times[j - 1];
        times[j - 1] = t;
      }
  }
  tx.n = 0;
  std::int64_t ts = p.lagfr_us;
  std::int64_t sample = 0;
  std::int64_t const smsep = p.smsep_us;
  for (std::int32_t k = 0; k < n; ++k) {
    std::int64_t const t1 = times[k] - p.txpl_us / 2;
    auto const t2 = static_cast<std::int64_t>(static_cast<double>(t1) + 3.0 * p.txpl_us / 2 + 100);
    if (ts < t1) {  // while (ts < t1) { sample++; ts += smsep; }
      std::int64_t const steps = (t1 - ts + smsep - 1) / smsep;
      sample += steps;
      ts += steps * smsep;
    }
    if (ts >= t1 && ts <= t2) {  // while (t1 <= ts <= t2) mark sample++
      std::int64_t const steps = (t2 - ts) / smsep + 1;
      tx.at[tx.n++] = {sample, sample + steps};
      sample += steps;
      ts += steps * smsep;
    }
  }
}

/** Lag-table rows of range r that a transmitted pulse overlaps. */
RSTX_HOST_DEVICE inline std::uint64_t tx_overlap(tx_samples const& tx, lag_table const& lags, std::int32_t r) noexcept {
  std::uint64_t bad = 0;
  for (std::int32_t i = 0; i < tx.n; ++i)
    for (std::int32_t l = 0; l < lags.n; ++l)
      for (int k = 0; k < 2; ++k) {
        std::int64_t const s = std::int64_t{lags.sample_base[k][l]} + r;
        if (tx.at[i].begin <= s && s < tx.at[i].end) bad |= std::uint64_t{1} << l;
      }
  return bad;
}

// ---- per-range steps shared with the CPU stages (fitacf3.cpp) ------------------------------------

/**
 * Filter_Low_Pwr_Lags (§8) of one range: takes ln|R| of its power lags (arrays by lag-table row)
 * and drops, from the first lag whose power is within the fluctuation level and whose α² is low,
 * that lag and every later one. Returns the power lags left. Does nothing but the logarithms when
 * nave <= 0 or there are no power lags.
 */
RSTX_HOST_DEVICE inline std::uint64_t filter_low_power_lags(std::uint64_t mask, double const* magnitude,
                                                           double const* alpha2, double* ln_pwr, double pwr0,
                                                           std::int32_t nave, std::int32_t mplgs) noexcept {
  int idx[max_lags];
  int const n = gather_lags(mask, idx);
  if (nave <= 0 || n == 0) {
    for (int i = 0; i < n; ++i) ln_pwr[idx[i]] = std::log(magnitude[idx[i]]);
    return mask;
  }
  double const log_sigma_fluc = std::log(fluctuation_cutoff_coeff * pwr0 / std::sqrt(static_cast<double>(2 * nave)));
  std::int32_t cutoff_lag = mplgs + 1;
  for (int i = 0; i < n; ++i) {
    int const l = idx[i];
    if (l > cutoff_lag) {
      mask &= ~(std::uint64_t{1} << l);
      continue;
    }
    ln_pwr[l] = std::log(magnitude[l]);
    // RST tests α² first; both tests are pure, and the power test is cheaper and usually false.
    if ((ln_pwr[l] <= log_sigma_fluc) && (1 / std::sqrt(alpha2[l]) <= alpha_cutoff)) {
      cutoff_lag = l;
      mask &= ~(std::uint64_t{1} << l);
    }
  }
  return mask;
}

/** The fitted values of a range (§14 determinations, the ACF part): qflg, gflg, nlag, p_l ... sd_phi. */
RSTX_HOST_DEVICE inline void write_acf_fit(fit_batch_view const& out, std::int64_t g, conversions const& conv,
                                           power_fits const& power, line_fit const& phase, int n_power) noexcept {
  auto const set = [&](fit_column c, double v) { out[c][g] = static_cast<float>(v); };
  auto const& lin = power.lin;
  auto const& quad = power.quad;
  out.qflg[g] = 1;
  set(fit_column::p_l, 10 * lin.a * 1 / conv.ln_to_log - conv.noise_db);
  set(fit_column::p_l_e, 10 * std::sqrt(power.lin_err.sigma2_a) * 1 / conv.ln_to_log);
  set(fit_column::p_s, 10 * quad.a * 1 / conv.ln_to_log - conv.noise_db);
  set(fit_column::p_s_e, 10 * std::sqrt(power.quad_err.sigma2_a) * 1 / conv.ln_to_log);
  double const v = phase.b * conv.k_v * (1 / refractive_index);
  set(fit_column::v, v);
  set(fit_column::v_e, std::sqrt(phase.sigma2_b) * conv.k_v_err * (1 / refractive_index));
  double const w_l = std::fabs(lin.b) * conv.k_w_l;
  set(fit_column::w_l, w_l);
  set(fit_column::w_l_e, std::sqrt(power.lin_err.sigma2_b) * conv.k_w_l_err);
  double const fit_sqrt = std::sqrt(std::fabs(quad.b));
  set(fit_column::w_s, fit_sqrt * conv.k_w_s);
  set(fit_column::w_s_e, std::sqrt(power.quad_err.sigma2_b) / 2. / fit_sqrt * conv.k_w_s);
  set(fit_column::sd_l, lin.chi2);
  set(fit_column::sd_s, quad.chi2);
  set(fit_column::sd_phi, phase.chi2);
  out.gflg[g] = (std::fabs(v) - (v_max_m_s - w_l * (v_max_m_s / w_max_m_s)) < 0) ? 1 : 0;
  out.nlag[g] = static_cast<std::int16_t>(n_power);
}

/**
 * The XCF values of a fitted range (§14: set_xcf_phi0 and the elevations): phi0 from lag-table row
 * 0 of the raw XCF (its atan2 `raw_phi0`) and the fitted intercept, both times phidiff; elevation
 * converts a phase to an angle with the run's routine.
 */
template <class Elevation>
RSTX_HOST_DEVICE inline void write_xcf_fit(fit_batch_view const& out, std::int64_t g, double raw_phi0, line_fit xfit,
                                           double phidiff, Elevation const& elevation,
                                           elevation_error_beam const& err) noexcept {
  auto const set = [&](fit_column c, double v) { out[c][g] = static_cast<float>(v); };
  double const phi0 = raw_phi0 * phidiff;
  xfit.a *= phidiff;
  set(fit_column::phi0, phi0);
  set(fit_column::elv, elevation(phi0));
  set(fit_column::elv_fitted, elevation(xfit.a));
  set(fit_column::elv_error, err.error_deg(xfit.a, xfit.sigma2_a));
  set(fit_column::phi0_e, std::sqrt(xfit.sigma2_a));
  set(fit_column::x_sd_phi, xfit.chi2);
}

// ---- the record plan and the range fit ---------------------------------------------------------

/** The elevation routines' constants for a record (with xcf != 0), and the conversion with the
 *  run's routine. */
struct elevation_plan {
  elevation_geometry geom;
  elevation_v2_beam v2;
  elevation_v1_beam v1;
  elevation_error_beam err;

  RSTX_HOST_DEVICE static elevation_plan make(record_params const& p) noexcept {
    elevation_plan e;
    e.geom = {p.site.interfer_m[0], p.site.interfer_m[1], p.site.interfer_m[2],
              p.site.maxbeam,       p.site.bmoff_deg,     p.site.bmsep_deg};
    e.v2 = elevation_v2_beam::prepare(e.geom, p.bmnum, p.tfreq_khz, p.site.tdiff_us);
    e.v1 = elevation_v1_beam::prepare(e.geom, p.bmnum, p.tfreq_khz, p.site.tdiff_us, p.site.phidiff);
    e.err = elevation_error_beam::prepare(e.geom, p.bmnum, p.tfreq_khz, p.site.tdiff_us);
    return e;
  }
  /** The elevation angle of phase psi with the run's routine. */
  [[nodiscard]] RSTX_HOST_DEVICE double solve(elevation_method method, record_params const& p, double psi) const noexcept {
    switch (method) {
      case elevation_method::v2: return v2.solve(psi);
      case elevation_method::v1: return v1.solve(psi);
      case elevation_method::goose: return elevation_goose(geom, p.bmnum, p.tfreq_khz, p.site.tdiff_us, psi);
    }
    return v2.solve(psi);
  }
};

/** What every range of a record shares, computed once per record. */
struct record_plan {
  lag_table lags;
  tx_samples tx;
  double noise_pwr = 0;
  conversions conv;
  elevation_plan elevation;  ///< set only when the record has xcf != 0
};

RSTX_HOST_DEVICE inline void plan_record(record_params const& p, double noise_pwr, record_plan& plan) noexcept {
  determine_lags(p, plan.lags);
  find_tx_samples(p, plan.tx);
  plan.noise_pwr = noise_pwr;
  plan.conv = conversions::make(noise_pwr, p.tfreq_khz, p.site.vdir);
  if (p.xcf != 0) plan.elevation = elevation_plan::make(p);
}

/** atan2 of a sample as RST takes it: the C library's on the host (atan2.hpp); in device code
 *  the same double-double evaluation rounded once (device_math.hpp: where the two can differ). */
RSTX_HOST_DEVICE inline double sample_phase(float const* iq) noexcept {
#if defined(__CUDA_ARCH__)
  return device_math::atan2_of_floats(iq[1], iq[0], device_math::tables::atan);
#else
  return atan2_of_floats(iq[1], iq[0]);
#endif
}

/**
 * Fits range r (0-based within the record) of record `p`: writes pwr0_db of the range always, and
 * qflg, gflg, nlag and the FITACF 3.0 columns when it is fitted; returns whether it is. The output
 * slots of unfitted ranges are left as they are (zero in a fresh batch).
 */
RSTX_HOST_DEVICE inline bool fit_range(acf_batch_view const& in, record_params const& p, record_plan const& plan,
                                       std::int32_t r, elevation_method method, fit_batch_view const& out) noexcept {
  std::int64_t const g = p.range_begin + r;
  double const noise_pwr = plan.noise_pwr;
  double const pwr = in.pwr0[g];
  out.pwr0_db[g] = static_cast<float>(lag0_power_db(pwr, noise_pwr));
  // §6 Fill_Range_List, §9 Filter_Bad_ACFs' lag-0 power cut (only when nave > 0)
  if (pwr == 0.0) return false;
  if (p.nave > 0 && pwr <= noise_pwr * 2.) return false;

  auto const& lags = plan.lags;
  std::uint64_t const phase_mask = lags.all() & ~tx_overlap(plan.tx, lags, r);

  // §6 Find_CRI over the ranges inside [0, nrang), in pulse order; α² and |R| of the phase lags.
  std::int32_t const tau = p.mpinc_us / p.smsep_us;
  float const* pwr0 = in.pwr0 + p.range_begin;
  double cri[max_pulses];
  for (std::int32_t pc = 0; pc < p.mppul; ++pc) {
    double total = 0.0;
    for (std::int32_t q = 0; q < p.mppul; ++q) {
      std::int64_t const other = std::int64_t{p.pulse[pc] - p.pulse[q]} * tau + r;
      if (q != pc && 0 <= other && other < p.nrang) total += pwr0[other];
    }
    cri[pc] = total;
  }
  float const* acf = in.acf + 2 * g * in.lag_stride;
  double alpha2[max_lags], magnitude[max_lags], ln_pwr[max_lags];  // by lag-table row
  int idx[max_lags];
  int const n_phase = gather_lags(phase_mask, idx);
  std::uint64_t power_mask = 0;
  for (int i = 0; i < n_phase; ++i) {
    int const l = idx[i];
    alpha2[l] = alpha_sq(pwr, cri[lags.pulse_idx[0][l]], cri[lags.pulse_idx[1][l]]);
    double const re = acf[2 * l], im = acf[2 * l + 1];
    magnitude[l] = std::sqrt(re * re + im * im);
    if (magnitude[l] > 0.0) power_mask |= std::uint64_t{1} << l;  // a power point needs |R| > 0
  }

  // §8 Filter_Low_Pwr_Lags
  power_mask = filter_low_power_lags(power_mask, magnitude, alpha2, ln_pwr, pwr, p.nave, p.mplgs);

  // §9 Filter_Bad_ACFs: too few power lags, or every power lag of the same power
  int const n_power = gather_lags(power_mask, idx);
  if (p.nave > 0) {
    if (n_power < min_lags) return false;
    bool differ = false;
    for (int i = 1; i < n_power && !differ; ++i) differ = ln_pwr[idx[i]] != ln_pwr[idx[0]];
    if (!differ) return false;
  }

  // §10 Power_Fits
  double t[max_lags] = {}, y[max_lags], sigma[max_lags] = {};  // (zeroed: GCC cannot see that n >= 2 below)
  for (int i = 0; i < n_power; ++i) {
    int const l = idx[i];
    t[i] = lags.t_s[l];
    y[i] = ln_pwr[l];
    sigma[i] = power_sigma(pwr, magnitude[l], alpha2[l], p.nave);
  }
  power_fits const power = fit_power(n_power, t, y, sigma);

  // §11 ACF phase (a range without phase points is left unfitted: RST would crash on it)
  if (phase_mask == 0) return false;
  int const n = gather_lags(phase_mask, idx);
  double phi[max_lags], a2[max_lags];
  for (int i = 0; i < n; ++i) {
    int const l = idx[i];
    t[i] = lags.t_s[l];
    a2[i] = alpha2[l];
    phi[i] = sample_phase(acf + 2 * l);
  }
  phase_sigmas(n, a2, t, power.lin.b, p.nave, sigma);
  phase_weights pw;
  pw.set_all(n, t, sigma);
  unwrap_acf_phase(n, t, phi, sigma, pw);
  line_fit const phase = fit_phase_origin(n, t, phi, sigma, pw);

  // §13 XCF phase: the ACF points' σ, the first replaced by the second's
  line_fit xfit;
  float const* xcf = in.xcf + 2 * g * in.lag_stride;
  if (p.xcf != 0) {
    for (int i = 0; i < n; ++i) phi[i] = sample_phase(xcf + 2 * idx[i]);
    if (n > 1) {
      sigma[0] = sigma[1];
      pw.set(0, t[0], sigma[0]);
    }
    xfit = fit_xcf_phase(n, t, phi, sigma, pw, phase.b);
  }

  // §12 Filter_Bad_Fits
  if (phase.b == 0.0 || power.lin.b == 0.0 || power.quad.b == 0.0) return false;

  // §14 determinations
  write_acf_fit(out, g, plan.conv, power, phase, n_power);
  if (p.xcf == 0) return true;  // RST computes the XCF values anyway but does not write them
  auto const elevation = [&](double psi) { return plan.elevation.solve(method, p, psi); };
  write_xcf_fit(out, g, sample_phase(xcf), xfit, p.site.phidiff, elevation, plan.elevation.err);
  return true;
}

/** The record's own results (the per-range ones are fit_range's). */
RSTX_HOST_DEVICE inline record_result record_result_of(record_params const& p, double noise_pwr,
                                                       std::int32_t fitted) noexcept {
  record_result rr;
  rr.range_begin = p.range_begin;
  rr.nrang = p.nrang;
  rr.xcf = p.xcf;
  rr.noise_sky = static_cast<float>(noise_pwr);
  rr.noise_lag0 = 0.0F;
  rr.noise_vel = 0.0F;
  rr.tdiff_us = static_cast<float>(p.site.tdiff_us);
  rr.fitted = fitted;
  return rr;
}

}  // namespace rstx::fit::detail::fitacf3
