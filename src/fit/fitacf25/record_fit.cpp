#include "fitacf25/detail/record_fit.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "rstx/core/assert.hpp"

namespace rstx::fit::detail::fit25 {
namespace {

/**
 * Appends to out[k..] the samples that one pulse train overlaps (badlags.c / badlags_s.c):
 * a sample is bad if its time lies in [t1, t2] of a pulse, t1 = pulse*mpinc - txpl/2 + offset,
 * t2 = t1 + 3*txpl/2 + 100 µs (receiver-on delay). Integer arithmetic as in RST. `smsep` > 0.
 * Returns false if more than `cap` samples would be listed.
 */
bool overlapped_samples(record_params const& p, std::int64_t smsep, std::int64_t offset, std::int32_t* out,
                        int& k, int cap) {
  int i = -1;
  std::int64_t ts = p.lagfr_us;
  std::int64_t sample = 0;
  std::int64_t t1 = 0;
  std::int64_t t2 = 0;
  while (i < p.mppul - 1) {
    // Skip the pulses that end before the current sample.
    while ((ts > t2) && (i < p.mppul - 1)) {
      ++i;
      t1 = std::int64_t{p.pulse[i]} * std::int64_t{p.mpinc_us} - p.txpl_us / 2 + offset;
      t2 = t1 + 3 * p.txpl_us / 2 + 100;
    }
    // Advance to the first sample at or after the pulse start. RST steps one sample at a time;
    // the closed form gives the same sample and time without a loop of unbounded length.
    if (ts < t1) {
      std::int64_t const steps = (t1 - ts + smsep - 1) / smsep;
      sample += steps;
      ts += steps * smsep;
    }
    while ((ts >= t1) && (ts <= t2)) {
      if (k >= cap) return false;
      out[k++] = static_cast<std::int32_t>(sample);
      ++sample;
      ts += smsep;
    }
  }
  return true;
}

}  // namespace

result<void> find_bad_samples(record_params const& p, bad_samples& out) {
  out.smsep_us = p.smsep_us;
  if (out.smsep_us <= 0) {
    // RST (FitACFBadlags) substitutes txpl for a missing smsep, and gives up without a result
    // (uninitialised list) when txpl is missing too.
    if (p.txpl_us <= 0) return fail(errc::bad_value, "smsep and txpl are both <= 0: bad samples undefined");
    out.smsep_us = p.txpl_us;
  }
  out.tau_smp = p.mpinc_us / out.smsep_us;

  std::int32_t tmp[max_bad_samples];
  int k = 0;
  bool ok = overlapped_samples(p, out.smsep_us, 0, tmp, k, max_bad_samples);
  if (ok && p.offset_us != 0) {
    // Stereo (FitACFBadlagsStereo): the other channel's pulses, offset by -offset on channel 1
    // and +offset otherwise, merged into one ascending list without duplicates.
    std::int64_t const offset = (p.channel == 1) ? -std::int64_t{p.offset_us} : std::int64_t{p.offset_us};
    ok = overlapped_samples(p, out.smsep_us, offset, tmp, k, max_bad_samples);
  }
  if (!ok) {
    return fail(errc::unsupported, "more than " + std::to_string(max_bad_samples) +
                                       " samples overlapped by the transmitter (RST's list overflows)");
  }

  if (p.offset_us == 0) {
    std::copy(tmp, tmp + k, out.smp);
    out.n = k;
  } else {
    // Insertion from the end of the sorted list, rejecting duplicates (RST's merge). RST copies
    // an undefined first entry when no sample is bad at all; here the list is then empty.
    int n = 0;
    if (k > 0) {
      out.smp[0] = tmp[0];
      n = 1;
    }
    for (int i = 1; i < k; ++i) {
      for (int j = n - 1; j >= 0; --j) {
        if (tmp[i] == out.smp[j]) break;
        if (tmp[i] > out.smp[j]) {
          for (int l = n; l > j + 1; --l) out.smp[l] = out.smp[l - 1];
          out.smp[j + 1] = tmp[i];
          ++n;
          break;
        }
        if (j == 0) {
          for (int l = n; l > 0; --l) out.smp[l] = out.smp[l - 1];
          out.smp[0] = tmp[i];
          ++n;
        }
      }
    }
    out.n = n;
  }

  for (int q = 0; q < p.mppul; ++q) {
    std::uint64_t rows = 0;
    for (int l = 0; l < p.mplgs; ++l) {
      if (p.lag[0][l] == p.pulse[q] || p.lag[1][l] == p.pulse[q]) rows |= bit(l);
    }
    out.pulse_rows[q] = rows;
    out.pulse_smp[q] = std::int64_t{p.pulse[q]} * out.tau_smp;
  }
  return {};
}

std::uint64_t tx_bad_rows_exact(record_params const& p, bad_samples const& b, int r, std::uint64_t rows) noexcept {
  std::uint64_t mask = 0;
  // The list is ascending and RST stops at the first entry beyond sam2 (after testing it).
  for (int i = 0; i < p.mplgs; ++i) {
    if (!is_set(rows, i)) continue;
    std::int64_t const sam1 = std::int64_t{p.lag[0][i]} * b.tau_smp + r;
    std::int64_t const sam2 = std::int64_t{p.lag[1][i]} * b.tau_smp + r;
    for (int j = 0; j < b.n; ++j) {
      if ((sam1 == b.smp[j]) || (sam2 == b.smp[j])) mask |= bit(i);
      if (sam2 < b.smp[j]) break;
    }
  }
  return mask;
}

void tx_bad_rows(record_params const& p, bad_samples const& b, std::uint64_t* out) noexcept {
  std::fill(out, out + p.nrang, std::uint64_t{0});
  // With the list ascending, row i of range r is bad exactly when sam2 = lag[1][i]*tau + r or
  // sam1 = lag[0][i]*tau + r is in the list, provided sam1 <= sam2; so each bad sample s marks
  // ranges s - lag[1][i]*tau and s - lag[0][i]*tau.
  std::uint64_t exact_rows = 0;
  for (int i = 0; i < p.mplgs; ++i) {
    if (std::int64_t{p.lag[0][i]} * b.tau_smp > std::int64_t{p.lag[1][i]} * b.tau_smp) exact_rows |= bit(i);
  }
  for (int j = 0; j < b.n; ++j) {
    std::int64_t const smp = b.smp[j];
    for (int i = 0; i < p.mplgs; ++i) {
      if (is_set(exact_rows, i)) continue;
      std::int64_t const r2 = smp - std::int64_t{p.lag[1][i]} * b.tau_smp;
      if (r2 >= 0 && r2 < p.nrang) out[r2] |= bit(i);
      std::int64_t const r1 = smp - std::int64_t{p.lag[0][i]} * b.tau_smp;
      if (r1 >= 0 && r1 < p.nrang) out[r1] |= bit(i);
    }
  }
  if (exact_rows != 0) {
    for (int r = 0; r < p.nrang; ++r) out[r] |= tx_bad_rows_exact(p, b, r, exact_rows);
  }
}

std::uint64_t cri_bad_rows(record_params const& p, bad_samples const& b, std::int32_t const* pwr0_int,
                           int r) noexcept {
  std::uint64_t bad_pulses = 0;
  for (int ck = 0; ck < p.mppul; ++ck) {
    double tot_cri = 0;
    for (int q = 0; q < p.mppul; ++q) {
      // (pulse[ck] - pulse[q]) * tau + r, as RST's range_overlap table holds it
      std::int64_t const ck_range = b.pulse_smp[ck] - b.pulse_smp[q] + r;
      if ((q != ck) && (0 <= ck_range) && (ck_range < p.nrang)) tot_cri = tot_cri + pwr0_int[ck_range];
    }
    auto const min_pwr = static_cast<std::int64_t>(pwr0_int[r]);
    if (static_cast<double>(min_pwr) < tot_cri) bad_pulses |= bit(ck);
  }
  std::uint64_t mask = 0;
  for (int q = 0; q < p.mppul; ++q) {
    if (is_set(bad_pulses, q)) mask |= b.pulse_rows[q];
  }
  return mask;
}

std::uint64_t range_bad_lags(record_params const& p, bad_samples const& b, std::int32_t const* pwr0_int, int r,
                             bool flag_row13) noexcept {
  std::uint64_t mask = tx_bad_rows_exact(p, b, r);
  // Only for the old 7-pulse 16-lag sequence in RST's intent; see fitacf25_options.
  if ((p.mplgs == 17) && flag_row13) mask |= bit(13);
  return mask | cri_bad_rows(p, b, pwr0_int, r);
}

result<void> fit_record(record_params const& p, record_samples const& in, bool flag_row13_for_17_lags,
                        record_scratch& scratch, record_result& out) {
  if (p.nrang < 0) return fail(errc::bad_value, "nrang < 0");
  auto const nrang = static_cast<std::size_t>(p.nrang);
  out.noise_sky = 0.0;
  out.pwr0_db.assign(nrang, 0.0);
  out.acf.assign(nrang, zeroed_range_fit());
  out.xcf.assign(nrang, zeroed_range_fit());
  out.elevation_wanted.assign(nrang, 0);

  // do_fit: records of one average are not fitted; every output stays zero.
  if (p.nave <= 1) return {};

  if (p.mplgs < 1 || p.mplgs > max_lags) {
    return fail(errc::unsupported, "mplgs = " + std::to_string(p.mplgs) + " outside [1, " +
                                       std::to_string(max_lags) + "]");
  }
  if (p.mppul < 0 || p.mppul > max_pulses) {
    return fail(errc::unsupported, "mppul = " + std::to_string(p.mppul) + " outside [0, " +
                                       std::to_string(max_pulses) + "]");
  }
  bool const has_acf = in.acf != nullptr;
  bool const has_xcf = in.xcf != nullptr;
  RSTX_ASSERT(in.pwr0 != nullptr || nrang == 0);
  RSTX_ASSERT((!has_acf && !has_xcf) || in.lag_stride >= p.mplgs);
  int const mplgs = p.mplgs;

  double const freq_to_vel = c_m_s / (4 * pi) / (p.tfreq_khz * 1000.0);

  bad_samples bad;
  if (auto r = find_bad_samples(p, bad); !r) return r;

  // fill_fit_block: FitPrm.pwr0 and FitPrm.noise are int.
  scratch.pwr0_int.resize(nrang);
  for (std::size_t r = 0; r < nrang; ++r) scratch.pwr0_int[r] = x86_double_to_int(in.pwr0[r]);
  std::int32_t const noise_int = x86_double_to_int(p.noise_search);

  // calc_skynoise: mean of up to ten non-zero values among the lowest nrang/3 lag-0 powers
  // (zeros are added but not counted); the search noise if that is below 1.
  scratch.sorted.assign(scratch.pwr0_int.begin(), scratch.pwr0_int.end());
  std::sort(scratch.sorted.begin(), scratch.sorted.end());
  double mnpwr = 0.0;
  {
    int ni = 0;
    int i = 0;
    while ((ni < 10) && (i < p.nrang / 3)) {
      if (scratch.sorted[static_cast<std::size_t>(i)] != 0.0) ++ni;
      mnpwr = mnpwr + scratch.sorted[static_cast<std::size_t>(i++)];
    }
    ni = (ni > 0) ? ni : 1;
    mnpwr = mnpwr / ni;
    if (mnpwr < 1.0) mnpwr = noise_int;
  }
  double const skynoise = mnpwr;
  out.noise_sky = skynoise;

  // FitACFCkRng, evaluated once per range and only for the ranges that need it.
  std::uint64_t const row13 = (p.mplgs == 17 && (flag_row13_for_17_lags || p.year < 1993)) ? bit(13) : 0;
  scratch.tx_mask.resize(nrang);
  tx_bad_rows(p, bad, scratch.tx_mask.data());
  scratch.bad_mask.resize(nrang);
  scratch.mask_done.assign(nrang, 0);
  auto range_mask = [&](std::size_t r) -> std::uint64_t {
    if (scratch.mask_done[r] == 0) {
      scratch.bad_mask[r] =
          scratch.tx_mask[r] | row13 | cri_bad_rows(p, bad, scratch.pwr0_int.data(), static_cast<int>(r));
      scratch.mask_done[r] = 1;
    }
    return scratch.bad_mask[r];
  };

  // Missing sample arrays read as zeros.
  std::size_t const stride = (has_acf || has_xcf) ? 2 * static_cast<std::size_t>(in.lag_stride) : 0;
  if (!has_acf || !has_xcf) scratch.zeros.assign(2 * static_cast<std::size_t>(mplgs), 0.0F);
  auto acf = [&](std::size_t r) { return has_acf ? in.acf + r * stride : scratch.zeros.data(); };
  auto xcf = [&](std::size_t r) { return has_xcf ? in.xcf + r * stride : scratch.zeros.data(); };

  // noise_stat: fluctuation level of the ACFs of weak ranges (0 < Re R(0) <= 1.6 skynoise): the
  // mean |R(k)| over lags within [R0 - 2f, R0 + f], f = R0/sqrt(nave), or its spread if larger.
  double noise_pwr = 0.0;
  {
    double const plim = 1.6 * mnpwr;
    double sum_p = 0.0;
    double sum_p2 = 0.0;
    int npt = 0;
    for (std::size_t i = 0; i < nrang; ++i) {
      float const* z = acf(i);
      double const re0 = z[0];
      if ((re0 > plim) || (re0 <= 0.0)) continue;
      std::uint64_t const bdlag = range_mask(i);
      double const fluct = re0 / std::sqrt(static_cast<double>(p.nave));
      double low_lim = re0 - 2.0 * fluct;
      if (low_lim < 0) low_lim = low_lim + fluct;
      double const high_lim = re0 + fluct;
      for (int j = 1; j < mplgs; ++j) {
        if (is_set(bdlag, j)) continue;
        double const re_j = z[2 * j];
        double const im_j = z[2 * j + 1];
        double const temp = std::sqrt(re_j * re_j + im_j * im_j);
        if (temp < low_lim || temp > high_lim) continue;
        ++npt;
        sum_p = sum_p + temp;
        sum_p2 = sum_p2 + temp * temp;
      }
    }
    if (npt < 2) {
      noise_pwr = plim / std::sqrt(static_cast<double>(p.nave));
    } else {
      sum_p = sum_p / npt;
      double const var = (sum_p2 - sum_p * sum_p * npt) / static_cast<double>(npt - 1);
      double const sigma = (var > 0.0) ? std::sqrt(var) : 0.0;
      noise_pwr = (sum_p > sigma) ? sum_p : sigma;
    }
  }

  // power_to_snr: lag-0 power in dB above the sky noise, -50 where not above it.
  double const skylog = (skynoise > 0.0) ? 10.0 * std::log10(skynoise) : 0.0;
  for (std::size_t i = 0; i < nrang; ++i) {
    double const d = static_cast<double>(scratch.pwr0_int[i]) - skynoise;
    out.pwr0_db[i] = (d <= 0.0) ? -50.0 : 10.0 * std::log10(d) - skylog;
  }

  // init_fit_range_data
  std::fill(out.acf.begin(), out.acf.end(), initial_range_fit());
  if (p.xcf != 0) std::fill(out.xcf.begin(), out.xcf.end(), initial_range_fit());

  fit_params fp;
  fp.mplgs = mplgs;
  fp.nave = p.nave;
  fp.mpinc_us = p.mpinc_us;
  fp.noise_int = noise_int;
  for (int k = 0; k < mplgs; ++k) {
    fp.tau[k] = p.lag[1][k] - p.lag[0][k];
    fp.tau2[k] = fp.tau[k] * fp.tau[k];
  }

  for (std::size_t k = 0; k < nrang; ++k) {
    range_fit& a = out.acf[k];
    a.qflg = fit_acf(acf(k), [&] { return range_mask(k); }, fp, noise_pwr, false, 0.0, a);
    double const xomega = a.v;  // the XCF fit starts from the unconverted ACF slope
    if (a.qflg == qflg_ok) {
      if (!convert_units(a, freq_to_vel, skylog, p.vdir, p.mpinc_us, true)) a.qflg = qflg_velocity;
      if (a.gsct == 0) a.gsct = ground_scatter(a);
    }
    if ((p.xcf == 0) || (a.qflg != qflg_ok)) continue;

    range_fit& x = out.xcf[k];
    x.qflg = fit_acf(xcf(k), [&] { return range_mask(k); }, fp, noise_pwr, true, xomega, x);
    if (x.qflg == qflg_ok) {
      convert_units(x, freq_to_vel, skylog, p.vdir, p.mpinc_us, false);
      if (x.phi0 > pi) x.phi0 = x.phi0 - 2 * pi;
      if (x.phi0 < -pi) x.phi0 = x.phi0 + 2 * pi;
      if (p.phidiff != 0) x.phi0 = x.phi0 * p.phidiff;
      out.elevation_wanted[k] = 1;
    }
  }
  return {};
}

}  // namespace rstx::fit::detail::fit25
