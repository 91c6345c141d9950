// FITACF 3.0 on the CPU: threads over records; within a record, one loop over its ranges per stage.
//
// Each stage reads and writes the record's structure-of-arrays workspace: per-range lag arrays
// indexed by lag-table row, 64-bit masks of the lags still present (filters clear bits, nothing is
// deleted), and a compact list of the ranges still in play (rebuilt between stages). The formulas
// themselves are in detail/fitacf3_math.hpp, shared with future CUDA kernels.
//
// Ranges are independent once the record-level quantities (lag table, noise, transmitter-overlap
// samples) are known, so a stage may skip work that cannot change the output: power points are
// only built for ranges that pass the lag-0 power cut of the bad-ACF filter, phases only for ranges
// that reach the phase fits, XCF work only for records with xcf != 0. The numbers are unchanged.
#include "rstx/fit/fitacf3.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "detail/fitacf3_math.hpp"
#include "detail/fitacf3_range.hpp"
#include "detail/lanes.hpp"
#include "rstx/core/atan2.hpp"
#include "elevation.hpp"

namespace rstx::fit {

namespace {

namespace m = detail::fitacf3;
using m::lag_table;

/** Most zeros put on each side of pwr0 for the branch-free CRI sums (else the checked loop). */
constexpr std::int64_t max_cri_padding = 16384;

/** Everything a stage needs about one range; the per-lag arrays live in the workspace. */
struct range_fits {
  m::power_fits power;
  m::line_fit phase, xcf;
};

/** Scratch for one record, reused from record to record by each thread (never shrinks). */
struct workspace {
  std::vector<double> levels;          // [nrang] noise estimate
  std::vector<double> padded_pwr0;     // pwr0 with zeros around it (CRI)
  std::vector<std::uint64_t> tx_bad;   // [nrang] lags overlapped by the transmitter
  std::vector<std::uint64_t> phase_mask, power_mask;  // [nrang] lags with phase / power points
  std::vector<double> alpha2, magnitude, ln_pwr;  // [nrang][mplgs], by lag-table row
  std::vector<double> phase, xcf_phase;            // [nrang][mplgs], compacted ACF and XCF phases
  std::vector<std::int32_t> phase_sample;          // the samples those phases are taken of
  std::vector<range_fits> fits;        // [nrang]
  std::vector<std::int32_t> alive;     // ranges still in play, ascending
  std::vector<std::size_t> phase_start;  // [alive] where each live range's phases start in `phase`
  m::tx_samples tx;                    // record's transmitter-overlap samples
  std::unordered_map<std::uint64_t, double> noise_corrections;  // (nave, nrang) -> correction

  void resize(std::int32_t nrang, std::int32_t mplgs) {
    auto const r = static_cast<std::size_t>(nrang);
    auto const rl = r * static_cast<std::size_t>(mplgs);
    if (levels.size() < r) {
      levels.resize(r);
      tx_bad.resize(r);
      phase_mask.resize(r);
      power_mask.resize(r);
      fits.resize(r);
    }
    if (alpha2.size() < rl) {
      for (auto* v : {&alpha2, &magnitude, &ln_pwr}) v->resize(rl);
      // A lane group reads up to its largest count from each lane's start (lane_group::gather_points).
      for (auto* v : {&phase, &xcf_phase}) v->resize(rl + max_lags);
      phase_sample.resize(rl);
    }
  }
};

/** One record being fitted: its input, output and workspace. */
struct record_fit {
  acf_batch_view const& in;
  fit_batch_view const& out;
  record_params const& p;
  workspace& ws;
  std::int32_t index;

  [[nodiscard]] std::int64_t global(std::int32_t r) const noexcept { return p.range_begin + r; }
  [[nodiscard]] double pwr0(std::int32_t r) const noexcept { return in.pwr0[global(r)]; }
  [[nodiscard]] float const* acf(std::int32_t r) const noexcept { return in.acf + 2 * global(r) * in.lag_stride; }
  [[nodiscard]] float const* xcf(std::int32_t r) const noexcept { return in.xcf + 2 * global(r) * in.lag_stride; }
  [[nodiscard]] std::size_t lag_base(std::int32_t r) const noexcept {
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(p.mplgs);
  }
  template <class F>
  void keep_ranges_if(F&& keep) {
    auto& a = ws.alive;
    a.erase(std::remove_if(a.begin(), a.end(), [&](std::int32_t r) { return !keep(r); }), a.end());
  }
};

// ---- §5 noise -----------------------------------------------------------------------------------

double noise_power(record_fit& f) {
  auto const& p = f.p;
  if (p.nave <= 0) return 1.0;
  auto const nrang = static_cast<std::size_t>(p.nrang);
  auto& levels = f.ws.levels;
  for (std::size_t r = 0; r < nrang; ++r) levels[r] = f.in.pwr0[p.range_begin + static_cast<std::int64_t>(r)];
  // Only the lowest nrang/3 sorted values are read; ties are equal values, so their order is moot.
  std::size_t const third = nrang / 3;
  auto const lowest = levels.begin() + static_cast<std::ptrdiff_t>(third);
  std::nth_element(levels.begin(), lowest, levels.begin() + static_cast<std::ptrdiff_t>(nrang));
  std::sort(levels.begin(), lowest);  // the same values as partial_sort gives, in less time
  auto const key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(p.nave)) << 32) |
                   static_cast<std::uint32_t>(p.nrang);
  auto it = f.ws.noise_corrections.find(key);
  if (it == f.ws.noise_corrections.end())
    it = f.ws.noise_corrections.emplace(key, m::noise_correction(p.nave, p.nrang)).first;
  return m::noise_from_lowest(levels.data(), static_cast<std::int32_t>(third), it->second, p.noise_search);
}

// ---- §6 range list, §9 lag-0 power cut --------------------------------------------------------

void select_ranges(record_fit& f, double noise_pwr) {
  auto& alive = f.ws.alive;
  alive.clear();
  bool const cut = f.p.nave > 0;  // Filter_Bad_ACFs only runs when nave > 0
  double const cutoff_pwr = noise_pwr * 2.;
  for (std::int32_t r = 0; r < f.p.nrang; ++r) {
    double const pwr = f.pwr0(r);
    if (pwr == 0.0) continue;                  // Fill_Range_List
    if (cut && pwr <= cutoff_pwr) continue;    // Filter_Bad_ACFs, first criterion (applied early)
    alive.push_back(r);
  }
}

// ---- §7 transmitter overlap -------------------------------------------------------------------

void mark_tx_overlap(record_fit& f, lag_table const& lags) {
  auto const nrang = f.p.nrang;
  std::fill_n(f.ws.tx_bad.begin(), nrang, std::uint64_t{0});
  for (std::int32_t i = 0; i < f.ws.tx.n; ++i) {
    auto const& iv = f.ws.tx.at[i];
    for (std::int32_t l = 0; l < lags.n; ++l) {
      for (int k = 0; k < 2; ++k) {
        // ranges r with sample_base + r inside the interval
        std::int64_t const lo = std::max<std::int64_t>(0, iv.begin - lags.sample_base[k][l]);
        std::int64_t const hi = std::min<std::int64_t>(nrang, iv.end - lags.sample_base[k][l]);
        for (std::int64_t r = lo; r < hi; ++r) f.ws.tx_bad[static_cast<std::size_t>(r)] |= std::uint64_t{1} << l;
      }
    }
  }
  std::uint64_t const all = lags.all();
  for (auto r : f.ws.alive) f.ws.phase_mask[static_cast<std::size_t>(r)] = all & ~f.ws.tx_bad[static_cast<std::size_t>(r)];
}

// ---- §6 CRI, α², power points -----------------------------------------------------------------

template <class V>
void fill_power_points(record_fit& f, lag_table const& lags) {
  auto const& p = f.p;
  std::int32_t const tau = p.mpinc_us / p.smsep_us;
  // Find_CRI: CRI[pc] = Σ_{q != pc} pwr0[r + (pulse[pc] - pulse[q])*tau] over ranges inside
  // [0, nrang), summed in pulse order. The ranges outside read zeros from a padded copy of pwr0,
  // which is exact (adding +0.0 to a sum that starts at +0.0 changes nothing).
  std::int64_t reach = 0;
  for (std::int32_t j = 0; j < p.mppul; ++j)
    for (std::int32_t q = 0; q < p.mppul; ++q)
      reach = std::max<std::int64_t>(reach, std::abs(std::int64_t{p.pulse[j] - p.pulse[q]} * tau));
  bool const padded = reach <= max_cri_padding;
  auto& pad = f.ws.padded_pwr0;
  if (padded) {
    pad.assign(static_cast<std::size_t>(p.nrang + 2 * reach), 0.0);
    for (std::int32_t r = 0; r < p.nrang; ++r) pad[static_cast<std::size_t>(reach + r)] = f.pwr0(r);
  }
  for (auto r : f.ws.alive) {
    double const pwr = f.pwr0(r);
    double cri[max_pulses];
    for (std::int32_t pc = 0; pc < p.mppul; ++pc) {
      double total = 0.0;
      if (padded) {
        double const* centre = pad.data() + reach + r;
        for (std::int32_t q = 0; q < pc; ++q) total += centre[(p.pulse[pc] - p.pulse[q]) * tau];
        for (std::int32_t q = pc + 1; q < p.mppul; ++q) total += centre[(p.pulse[pc] - p.pulse[q]) * tau];
      } else {
        for (std::int32_t q = 0; q < p.mppul; ++q) {
          std::int64_t const other = std::int64_t{p.pulse[pc] - p.pulse[q]} * tau + r;
          if (q != pc && 0 <= other && other < p.nrang) total += f.pwr0(static_cast<std::int32_t>(other));
        }
      }
      cri[pc] = total;
    }
    auto const base = f.lag_base(r);
    auto const* acf = f.acf(r);
    int idx[max_lags];
    int const n = m::gather_lags(f.ws.phase_mask[static_cast<std::size_t>(r)], idx);
    double* mag = &f.ws.magnitude[base];
    double* alpha2 = &f.ws.alpha2[base];
    constexpr int width = detail::lane_width<V>;
    for (int first = 0; first < n; first += width) {  // a point per lane (the last ones repeated)
      V ci, cj, re, im;
      int rows[width];
      for (int k = 0; k < width; ++k) {
        int const l = rows[k] = idx[std::min(first + k, n - 1)];
        ci[k] = cri[lags.pulse_idx[0][l]];
        cj[k] = cri[lags.pulse_idx[1][l]];
        re[k] = acf[2 * l];
        im[k] = acf[2 * l + 1];
      }
      V const a = m::alpha_sq(detail::splat<V>(pwr), ci, cj);
      V const magnitude = detail::lane_sqrt(re * re + im * im);
      for (int k = 0; k < width && first + k < n; ++k) {
        alpha2[rows[k]] = a[k];
        mag[rows[k]] = magnitude[k];
      }
    }
    // A power point needs |R| > 0 (the phase point stays). Its ln|R| is taken in the low-power
    // filter and its σ in the power fit: the points that the filter removes never need them.
    std::uint64_t power = 0;
    for (int i = 0; i < n; ++i)
      if (mag[idx[i]] > 0.0) power |= std::uint64_t{1} << idx[i];
    f.ws.power_mask[static_cast<std::size_t>(r)] = power;
  }
}

// ---- §8 low-power lags ------------------------------------------------------------------------

void filter_low_power_lags(record_fit& f) {
  for (auto r : f.ws.alive) {
    auto& mask = f.ws.power_mask[static_cast<std::size_t>(r)];
    auto const base = f.lag_base(r);
    mask = m::filter_low_power_lags(mask, &f.ws.magnitude[base], &f.ws.alpha2[base], &f.ws.ln_pwr[base], f.pwr0(r),
                                    f.p.nave, f.p.mplgs);
  }
}

// ---- §9 bad ACFs -------------------------------------------------------------------------------

void filter_bad_acfs(record_fit& f) {
  if (f.p.nave <= 0) return;
  f.keep_ranges_if([&](std::int32_t r) {
    std::uint64_t const mask = f.ws.power_mask[static_cast<std::size_t>(r)];
    if (detail::bit_count(mask) < m::min_lags) return false;
    auto const base = f.lag_base(r);
    int idx[max_lags];
    int const n = m::gather_lags(mask, idx);
    double const first = f.ws.ln_pwr[base + static_cast<std::size_t>(idx[0])];
    for (int i = 1; i < n; ++i)
      if (f.ws.ln_pwr[base + static_cast<std::size_t>(idx[i])] != first) return true;
    return false;  // every power lag has the same power
  });
}

// ---- fitting ranges in groups of lanes (detail/lanes.hpp) --------------------------------------

/**
 * Up to lane_width<V> ranges of ws.alive, one per lane, with their points compacted lowest lag first
 * (the order of the scalar code). Lanes past `size`, and a lane's points past its own count, are
 * padding: their σ is set to 0 before fitting, which leaves them out of every sum.
 */
template <class V>
struct lane_group {
  static constexpr int lane_count = detail::lane_width<V>;
  std::int32_t range[lane_count] = {};  // padding lanes repeat the first range (never written)
  int size = 0;
  int count[lane_count] = {};
  int most = 0;                          // largest count
  detail::lane_mask_of<V> counts = {};  // count per lane
  int idx[lane_count][max_lags];         // lag rows of the points; row 0 past a lane's count

  lane_group(record_fit const& f, std::size_t first, std::vector<std::uint64_t> const& masks) {
    auto const& alive = f.ws.alive;
    size = static_cast<int>(std::min<std::size_t>(lane_count, alive.size() - first));
    for (int k = 0; k < lane_count; ++k) {
      range[k] = alive[first + static_cast<std::size_t>(k < size ? k : 0)];
      count[k] = k < size ? m::gather_lags(masks[static_cast<std::size_t>(range[k])], idx[k]) : 0;
      most = std::max(most, count[k]);
      counts[k] = count[k];
    }
    for (int k = 0; k < lane_count; ++k) std::fill(idx[k] + count[k], idx[k] + most, 0);
  }

  /** out[i][k] = value(k, i) for the i-th point of lane k, `pad` past the lane's count. Each
   *  out[i] is assembled in a register (element stores would stall the vector loads after).
   *  value(k, i) must be readable for every i < most (then one blend replaces the padding test). */
  template <class F>
  void gather_points(V* out, double pad, F&& value) const {
    V const padding = detail::splat<V>(pad);
    for (int i = 0; i < most; ++i) {
      V v;
      for (int k = 0; k < lane_count; ++k) v[k] = value(k, i);
      out[i] = detail::select(counts > i, v, padding);
    }
  }
  /** gather_points with value(k, lag row of the point): rows past a lane's count are row 0. */
  template <class F>
  void gather_rows(V* out, double pad, F&& value) const {
    gather_points(out, pad, [&](int k, int i) { return value(k, idx[k][i]); });
  }
  /** σ = 0 for the padding points. */
  void clear_padding(V* sigma) const {
    for (int i = 0; i < most; ++i) sigma[i] = detail::select(counts > i, sigma[i], V{});
  }
  [[nodiscard]] std::size_t lag_base(record_fit const& f, int k) const { return f.lag_base(range[k]); }
};

template <class V>
m::line_fit lane_of(m::line_fit_of<V> const& f, int k) {
  return {f.a[k], f.b[k], f.sigma2_a[k], f.sigma2_b[k], f.chi2[k]};
}

// ---- §10 power fits ----------------------------------------------------------------------------

template <class V>
void fit_powers(record_fit& f, lag_table const& lags) {
  auto const& ws = f.ws;
  for (std::size_t first = 0; first < ws.alive.size(); first += detail::lane_width<V>) {
    lane_group<V> const g(f, first, ws.power_mask);
    V t[max_lags], y[max_lags], mag[max_lags], alpha2[max_lags], sigma[max_lags];
    V pwr = detail::splat<V>(1.0);
    for (int k = 0; k < g.size; ++k) pwr[k] = f.pwr0(g.range[k]);
    g.gather_rows(t, 0.0, [&](int, int l) { return lags.t_s[l]; });
    g.gather_rows(y, 0.0, [&](int k, int l) { return ws.ln_pwr[g.lag_base(f, k) + static_cast<std::size_t>(l)]; });
    g.gather_rows(mag, 1.0, [&](int k, int l) { return ws.magnitude[g.lag_base(f, k) + static_cast<std::size_t>(l)]; });
    g.gather_rows(alpha2, 1.0, [&](int k, int l) { return ws.alpha2[g.lag_base(f, k) + static_cast<std::size_t>(l)]; });
    for (int i = 0; i < g.most; ++i) sigma[i] = m::power_sigma(pwr, mag[i], alpha2[i], f.p.nave);
    g.clear_padding(sigma);
    auto const fits = m::fit_power(g.most, t, y, sigma);
    for (int k = 0; k < g.size; ++k) {
      auto& out = f.ws.fits[static_cast<std::size_t>(g.range[k])].power;
      out = {lane_of(fits.lin, k), lane_of(fits.quad, k), lane_of(fits.lin_err, k), lane_of(fits.quad_err, k)};
    }
  }
}

// ---- phases of all ranges still in play, in one call each for ACF and XCF -----------------

/** phases[phase_start[j] + i] = atan2 of the i-th phase lag of the j-th live range. */
void take_phases(record_fit& f, std::vector<std::size_t>& phase_start) {
  std::size_t n = 0;
  phase_start.clear();
  for (auto r : f.ws.alive) {
    int idx[max_lags];
    int const count = m::gather_lags(f.ws.phase_mask[static_cast<std::size_t>(r)], idx);
    auto const first = static_cast<std::int32_t>(static_cast<std::int64_t>(r) * f.in.lag_stride);
    for (int i = 0; i < count; ++i) f.ws.phase_sample[n + static_cast<std::size_t>(i)] = first + idx[i];
    phase_start.push_back(n);
    n += static_cast<std::size_t>(count);
  }
  // Sample numbers count from the record's first range (sample_phases overlaps all ranges).
  auto const offset = 2 * f.p.range_begin * f.in.lag_stride;
  sample_phases(static_cast<int>(n), f.in.acf + offset, f.ws.phase_sample.data(), f.ws.phase.data());
  if (f.p.xcf != 0) sample_phases(static_cast<int>(n), f.in.xcf + offset, f.ws.phase_sample.data(), f.ws.xcf_phase.data());
}

// ---- §11 ACF phase, §12 bad fits, §13 XCF phase -----------------------------------------------

/**
 * The ACF and XCF phase fits of each group of ranges together. RST fits the XCF phases after
 * Filter_Bad_Fits, of the ranges that survive it; a range's XCF fit depends only on its own points
 * and ACF slope, so fitting it before the filter (and discarding it for the ranges the filter
 * drops) gives the same numbers. The XCF points have the same lags, α² and power slope as the ACF
 * phase points, hence the same σ and weights, except the first point's σ (lag 0: 0 without CRI),
 * which is replaced by that of the second. Nothing from the XCF fit is written when xcf == 0.
 */
template <class V>
void fit_phases(record_fit& f, lag_table const& lags) {
  auto const& p = f.p;
  auto& ws = f.ws;
  // RST dereferences an empty phase list here (a crash); that only happens with nave <= 0 and
  // every lag overlapped by the transmitter. Such ranges are left unfitted.
  f.keep_ranges_if([&](std::int32_t r) { return ws.phase_mask[static_cast<std::size_t>(r)] != 0; });
  take_phases(f, ws.phase_start);
  for (std::size_t first = 0; first < ws.alive.size(); first += detail::lane_width<V>) {
    lane_group<V> const g(f, first, ws.phase_mask);
    V t[max_lags], alpha2[max_lags], phi[max_lags], sigma[max_lags];
    V lin_b{};
    for (int k = 0; k < g.size; ++k) lin_b[k] = ws.fits[static_cast<std::size_t>(g.range[k])].power.lin.b;
    g.gather_rows(t, 0.0, [&](int, int l) { return lags.t_s[l]; });
    g.gather_rows(alpha2, 1.0, [&](int k, int l) { return ws.alpha2[g.lag_base(f, k) + static_cast<std::size_t>(l)]; });
    std::size_t start[g.lane_count];
    for (int k = 0; k < g.lane_count; ++k) start[k] = ws.phase_start[first + static_cast<std::size_t>(k < g.size ? k : 0)];
    g.gather_points(phi, 0.0, [&](int k, int i) { return ws.phase[start[k] + static_cast<std::size_t>(i)]; });
    m::phase_sigmas(g.most, alpha2, t, lin_b, p.nave, sigma);
    g.clear_padding(sigma);
    m::phase_weights_of<V> pw;
    pw.set_all(g.most, t, sigma);
    m::unwrap_acf_phase(g.most, g.counts, t, phi, sigma, pw);
    auto const fit = m::fit_phase_origin(g.most, t, phi, sigma, pw);
    for (int k = 0; k < g.size; ++k) ws.fits[static_cast<std::size_t>(g.range[k])].phase = lane_of(fit, k);
    if (p.xcf == 0) continue;

    V xphi[max_lags];
    g.gather_points(xphi, 0.0, [&](int k, int i) { return ws.xcf_phase[start[k] + static_cast<std::size_t>(i)]; });
    if (g.most > 1) {
      sigma[0] = detail::select(g.counts > 1, sigma[1], sigma[0]);
      pw.set(0, t[0], sigma[0]);
    }
    auto const xfit = m::fit_xcf_phase(g.most, t, xphi, sigma, pw, fit.b);
    for (int k = 0; k < g.size; ++k) ws.fits[static_cast<std::size_t>(g.range[k])].xcf = lane_of(xfit, k);
  }
  f.keep_ranges_if([&](std::int32_t r) {  // Filter_Bad_Fits
    auto const& fits = ws.fits[static_cast<std::size_t>(r)];
    return !(fits.phase.b == 0.0 || fits.power.lin.b == 0.0 || fits.power.quad.b == 0.0);
  });
}

// ---- §14 determinations ------------------------------------------------------------------------

void determinations(record_fit& f, double noise_pwr, fitacf3_options const& opt) {
  auto const& p = f.p;
  auto const& out = f.out;
  for (std::int32_t r = 0; r < p.nrang; ++r)
    out.pwr0_db[f.global(r)] = static_cast<float>(m::lag0_power_db(f.pwr0(r), noise_pwr));

  out.rec[f.index] = m::record_result_of(p, noise_pwr, static_cast<std::int32_t>(f.ws.alive.size()));

  auto const conv = m::conversions::make(noise_pwr, p.tfreq_khz, p.site.vdir);
  for (auto r : f.ws.alive) {
    auto const& fits = f.ws.fits[static_cast<std::size_t>(r)];
    m::write_acf_fit(out, f.global(r), conv, fits.power, fits.phase,
                     detail::bit_count(f.ws.power_mask[static_cast<std::size_t>(r)]));
  }
  if (p.xcf == 0) return;  // RST computes the XCF values anyway but does not write them

  auto const plan = m::elevation_plan::make(p);
  auto const elevation = [&](double psi) { return plan.solve(opt.elevation, p, psi); };
  for (auto r : f.ws.alive) {
    auto const* xcf = f.xcf(r);
    m::write_xcf_fit(out, f.global(r), atan2_of_floats(xcf[1], xcf[0]), f.ws.fits[static_cast<std::size_t>(r)].xcf,
                     p.site.phidiff, elevation, plan.err);
  }
}

// ---- driver ------------------------------------------------------------------------------------

/** The whole algorithm for one record, in RST's order (fitacftoplevel.c, Fitacf); the fits run
 *  on groups of ranges of the lane type V. */
template <class V>
void fit_record(acf_batch_view const& in, std::int32_t index, fitacf3_options const& opt, fit_batch_view const& out,
                workspace& ws) {
  record_params const& p = in.rec[index];
  ws.resize(p.nrang, p.mplgs);
  record_fit f{in, out, p, ws, index};

  lag_table lags;
  m::determine_lags(p, lags);
  double const noise_pwr = noise_power(f);
  select_ranges(f, noise_pwr);
  m::find_tx_samples(p, ws.tx);
  mark_tx_overlap(f, lags);
  fill_power_points<V>(f, lags);
  filter_low_power_lags(f);
  filter_bad_acfs(f);
  fit_powers<V>(f, lags);  // before the phase fits: the phase σ depends on the fitted power decay
  fit_phases<V>(f, lags);
  determinations(f, noise_pwr, opt);
}

// Two builds of the same code: `flatten` inlines every stage and math routine into each, so the
// AVX2 one is compiled for AVX2 throughout (four ranges per register) while the other runs on any
// x86-64 (two per SSE2 register). Both perform the same IEEE operations: the results are the same.
using record_fitter = void (*)(acf_batch_view const&, std::int32_t, fitacf3_options const&, fit_batch_view const&,
                               workspace&);

[[gnu::flatten]] void fit_record_baseline(acf_batch_view const& in, std::int32_t index, fitacf3_options const& opt,
                                          fit_batch_view const& out, workspace& ws) {
  fit_record<detail::lanes2>(in, index, opt, out, ws);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
[[gnu::flatten, gnu::target("avx2")]] void fit_record_avx2(acf_batch_view const& in, std::int32_t index,
                                                           fitacf3_options const& opt, fit_batch_view const& out,
                                                           workspace& ws) {
  fit_record<detail::lanes4>(in, index, opt, out, ws);
}
#endif

record_fitter choose_fitter(fitacf3_options const& opt) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (opt.code_path != fitacf3_code_path::baseline && __builtin_cpu_supports("avx2")) return fit_record_avx2;
#endif
  (void)opt;
  return fit_record_baseline;
}

}  // namespace

result<void> validate(acf_batch_view const& in) {
  auto const invalid = [](std::int32_t i, std::string what) {
    return fail(errc::invalid_argument, fmt::format("batch record {}: {}", i, what));
  };
  if (in.n_rec < 0 || in.n_ranges < 0) return fail(errc::invalid_argument, "negative batch extents");
  if (in.n_rec > 0 && (in.lag_stride < 1 || in.lag_stride > max_lags))
    return fail(errc::invalid_argument, fmt::format("lag_stride {} outside 1..{}", in.lag_stride, max_lags));
  std::int64_t next = 0;
  for (std::int32_t i = 0; i < in.n_rec; ++i) {
    auto const& p = in.rec[i];
    if (p.range_begin != next) return invalid(i, "ranges are not stored back to back");
    if (p.nrang < 1) return invalid(i, "nrang < 1");
    next += p.nrang;
    if (p.mplgs < 1 || p.mplgs > in.lag_stride) return invalid(i, "mplgs outside 1..lag_stride");
    if (p.mppul < 1 || p.mppul > max_pulses) return invalid(i, "mppul outside 1..max_pulses");
    if (p.smsep_us <= 0) return invalid(i, "smsep <= 0");
    for (std::int32_t l = 0; l < p.mplgs; ++l)
      for (int k = 0; k < 2; ++k)
        if (std::find(p.pulse, p.pulse + p.mppul, p.lag[k][l]) == p.pulse + p.mppul)
          return invalid(i, fmt::format("lag-table row {} names a pulse that is not in the pulse table", l));
  }
  if (next != in.n_ranges) return fail(errc::invalid_argument, "n_ranges is not the sum of nrang");
  return {};
}

namespace detail {

host_fit_batch fitacf3_cpu(acf_batch_view const& in, fitacf3_options const& opt, exec_context const& ctx,
                           host_fit_batch reuse) {
  host_fit_batch result = std::move(reuse);
  result.reset(in, fit_algorithm::fitacf3);
  fit_batch_view const out = result.view();
  record_fitter const fit = choose_fitter(opt);
  ctx.parallel_for(in.n_rec, 4, [&](std::int64_t begin, std::int64_t end) {
    thread_local workspace ws;
    for (std::int64_t i = begin; i < end; ++i) fit(in, static_cast<std::int32_t>(i), opt, out, ws);
  });
  return result;
}

}  // namespace detail

result<host_fit_batch> fitacf3(acf_batch_view const& in, fitacf3_options const& opt, exec_context const& ctx,
                               host_fit_batch reuse) {
  if (ctx.where == backend::cuda && ctx.device == nullptr)
    return fail(errc::unsupported, "FITACF 3.0 on CUDA needs an open device (none was given)");
  if (auto v = validate(in); !v) return unexpected(std::move(v.error()));
  if (ctx.where == backend::cuda) return ctx.device->fitacf3(in, opt.elevation, std::move(reuse));
  return detail::fitacf3_cpu(in, opt, ctx, std::move(reuse));
}

}  // namespace rstx::fit
