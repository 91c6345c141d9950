#include "rstx/fit/from_dmap.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "detail/fitacf3_math.hpp"
#include "rstx/core/time.hpp"

namespace rstx::fit {

namespace {

constexpr double rst_tdiff_not_given = -999;  // make_fit.c: tdiff_fix == -999 means "no -tdiff"

error bad(std::string what) { return error(errc::bad_value, std::move(what)); }

/** Whether RST's noise correction never terminates for (nave, nrang); cached (it is a long loop). */
bool noise_correction_hangs(std::int32_t nave, std::int32_t nrang) {
  static std::mutex mutex;
  static std::unordered_map<std::uint64_t, bool> cache;
  auto const key =
      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(nave)) << 32) | static_cast<std::uint32_t>(nrang);
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  bool hangs = false;
  (void)detail::fitacf3::noise_correction(nave, nrang, &hangs);
  std::lock_guard lock(mutex);
  cache.emplace(key, hangs);
  return hangs;
}

float load_float(std::byte const* p) noexcept {
  float v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

/** Index of the first non-finite float among `count` floats at p, or -1. */
std::int64_t first_non_finite(std::byte const* p, std::size_t count) noexcept {
  // Scan without branches (vectorises): an exponent of all ones (Inf, NaN) carries into bit 31
  // when one is added to it. Then locate the value if there is one.
  constexpr std::uint32_t exponent = 0x7f800000U;
  constexpr std::uint32_t exponent_one = 0x00800000U;
  constexpr std::size_t block = 64;
  std::uint32_t any = 0;
  std::size_t i = 0;
  for (; i + block <= count; i += block) {
    std::uint32_t bits[block];
    std::memcpy(bits, p + 4 * i, sizeof bits);
    for (std::size_t j = 0; j < block; ++j) any |= (bits[j] & exponent) + exponent_one;
  }
  for (; i < count; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, p + 4 * i, 4);
    any |= (bits & exponent) + exponent_one;
  }
  if ((any & 0x80000000U) == 0) return -1;
  for (std::size_t k = 0; k < count; ++k)
    if (!std::isfinite(load_float(p + 4 * k))) return static_cast<std::int64_t>(k);
  return -1;
}

std::int16_t slist_at(dmap::rawacf_view const& raw, std::size_t s) noexcept { return raw.slist->at<std::int16_t>(s); }

/** Checks acfd or xcfd: covers nrang × mplgs values, and the values that are used are finite. */
std::optional<error> check_cf(dmap::rawacf_view const& raw, std::optional<dmap::array_ref> const& cf,
                              char const* name) {
  if (!cf) return std::nullopt;
  auto const& p = raw.prm;
  auto const lags = static_cast<std::int64_t>(cf->dim(1));
  if (lags <= 0) return std::nullopt;  // RST treats a 0-lag array as absent
  auto const nrang_raw = static_cast<std::int64_t>(raw.nrang_raw());
  if (lags != p.mplgs && static_cast<std::int64_t>(p.nrang) * p.mplgs > nrang_raw * lags)
    return bad(fmt::format("{} has {} lags per range where mplgs is {}: its {} ranges hold fewer than the "
                           "nrang × mplgs = {} values the fit reads",
                           name, lags, p.mplgs, nrang_raw, static_cast<std::int64_t>(p.nrang) * p.mplgs));
  auto const* data = cf->bytes().data();
  std::size_t const row_floats = 2 * static_cast<std::size_t>(lags);
  if (first_non_finite(data, row_floats * raw.snum()) < 0) return std::nullopt;  // the usual case
  for (std::size_t s = 0; s < raw.snum(); ++s) {
    // With the usual layout only listed ranges below nrang are read; otherwise check every value.
    if (lags == p.mplgs && slist_at(raw, s) >= p.nrang) continue;
    auto const bad_at = first_non_finite(data + 4 * row_floats * s, row_floats);
    if (bad_at >= 0)
      return bad(fmt::format("{} holds a NaN or infinite value (range {}, lag-table row {})", name, slist_at(raw, s),
                             bad_at / 2));
  }
  return std::nullopt;
}

/**
 * Copies acfd or xcfd into the batch block of a record (nrang × lag_stride complex values), zeros
 * wherever RST has zeros (ranges not listed, absent arrays) and in the padding lags. RST stores the
 * array as rows of its own lag extent (RawSetACF) and reads rows of mplgs (Copy_Fitting_Prms); with
 * the usual equal extents that is a row copy per listed range.
 */
void copy_cf(dmap::rawacf_view const& raw, std::optional<dmap::array_ref> const& cf, std::int32_t lag_stride,
             float* dst_record) {
  auto const& p = raw.prm;
  auto const stride = static_cast<std::size_t>(lag_stride);
  auto const nrang = static_cast<std::size_t>(p.nrang);
  auto const lags = cf ? static_cast<std::int64_t>(cf->dim(1)) : 0;
  if (lags <= 0 || lags != p.mplgs || p.mplgs != lag_stride) {
    std::memset(dst_record, 0, 8 * stride * nrang);
  } else {  // every listed row is overwritten below: zero only the others
    thread_local std::vector<std::uint8_t> listed;
    listed.assign(nrang, 0);
    for (std::size_t s = 0; s < raw.snum(); ++s) {
      auto const x = slist_at(raw, s);
      if (x < p.nrang) listed[static_cast<std::size_t>(x)] = 1;
    }
    for (std::size_t r = 0; r < nrang; ++r)
      if (listed[r] == 0) std::memset(dst_record + 2 * stride * r, 0, 8 * stride);
  }
  if (lags <= 0) return;
  auto const* data = cf->bytes().data();
  if (lags == p.mplgs) {
    for (std::size_t s = 0; s < raw.snum(); ++s) {
      auto const x = slist_at(raw, s);
      if (x >= p.nrang) continue;
      std::memcpy(dst_record + 2 * stride * static_cast<std::size_t>(x), data + 8 * static_cast<std::size_t>(lags) * s,
                  8 * static_cast<std::size_t>(lags));
    }
    return;
  }
  std::vector<std::int64_t> listed(raw.nrang_raw(), -1);  // rare layout: keep it simple
  for (std::size_t s = 0; s < raw.snum(); ++s) listed[static_cast<std::size_t>(slist_at(raw, s))] = static_cast<std::int64_t>(s);
  for (std::int64_t i = 0; i < p.nrang; ++i) {
    for (std::int64_t j = 0; j < p.mplgs; ++j) {
      std::int64_t const flat = i * p.mplgs + j;
      std::int64_t const row = flat / lags;
      std::int64_t const col = flat % lags;
      std::int64_t const s = listed[static_cast<std::size_t>(row)];
      if (s < 0) continue;
      auto const* src = data + 8 * static_cast<std::size_t>(s * lags + col);
      float* dst = dst_record + 2 * (stride * static_cast<std::size_t>(i) + static_cast<std::size_t>(j));
      dst[0] = load_float(src);
      dst[1] = load_float(src + 4);
    }
  }
}

}  // namespace

double choose_tdiff_us(radar::site const& site, dmap::radar_parms const& prm, tdiff_selection const& sel) noexcept {
  if (sel.method && sel.calibration != nullptr) {
    int const channel = (prm.offset == 0) ? 0 : prm.channel;
    // RadarYMDHMSGetTdiff: whole seconds.
    double const when = epoch_from_ymdhms(prm.year, prm.month, prm.day, prm.hour, prm.minute, prm.second);
    if (auto e = sel.calibration->find(*sel.method, channel, prm.tfreq, when)) return e->tdiff_us;
  }
  if (sel.fixed_us && *sel.fixed_us != rst_tdiff_not_given) return *sel.fixed_us;
  return (prm.offset == 0 || prm.channel < 2) ? site.tdiff_us[0] : site.tdiff_us[1];
}

site_params make_site_params(radar::site const& site, double tdiff_us) noexcept {
  site_params s;
  for (std::size_t i = 0; i < 3; ++i) s.interfer_m[i] = site.interferometer_m[i];
  s.bmoff_deg = site.bmoff_deg;
  s.bmsep_deg = site.bmsep_deg;
  s.phidiff = site.phidiff;
  s.vdir = site.vdir;
  s.tdiff_us = tdiff_us;
  s.maxbeam = site.maxbeam;
  s.stid = site.stid;
  return s;
}

std::optional<error> check_rawacf(dmap::rawacf_view const& raw, input_limits const& limits) {
  auto const& p = raw.prm;
  auto const nrang_raw = static_cast<std::int64_t>(raw.nrang_raw());
  if (p.nrang <= 0) return bad(fmt::format("nrang is {}: there is no range to fit", p.nrang));
  if (p.nrang > nrang_raw)
    return bad(fmt::format("nrang {} exceeds the {} lag-0 powers in pwr0", p.nrang, nrang_raw));
  if (p.nrang > max_ranges)
    return bad(fmt::format("nrang {} is above the {} ranges rstx fits", p.nrang, max_ranges));
  if (limits.max_ranges > 0 && p.nrang > limits.max_ranges)
    return bad(fmt::format("nrang {} exceeds the hardware limit of {} ranges (hdw.dat maxrange)", p.nrang,
                           limits.max_ranges));
  if (p.mplgs <= 0) return bad(fmt::format("mplgs is {}: there is no lag to fit", p.mplgs));
  if (p.mplgs > max_lags)
    return bad(fmt::format("mplgs {} is above the {} lag-table rows rstx supports", p.mplgs, max_lags));
  auto const rows = static_cast<std::int64_t>(p.ltab_rows());
  if (rows < p.mplgs + 1)
    return bad(fmt::format("mplgs {} goes beyond the lag table: it needs {} rows, ltab has {}", p.mplgs, p.mplgs + 1,
                           rows));
  if (p.mplgexs < 0 || rows < p.mplgexs + 1)
    return bad(fmt::format("mplgexs {} does not fit the lag table of {} rows", p.mplgexs, rows));
  if (p.mppul <= 0) return bad(fmt::format("mppul is {}: there is no pulse sequence", p.mppul));
  if (static_cast<std::int64_t>(p.ptab.size()) != p.mppul)
    return bad(fmt::format("the pulse table has {} entries but mppul is {}", p.ptab.size(), p.mppul));
  if (p.mppul > max_pulses)
    return bad(fmt::format("mppul {} is above the {} pulses rstx supports", p.mppul, max_pulses));
  for (std::int32_t row = 0; row < p.mplgs; ++row) {
    for (int k = 0; k < 2; ++k) {
      auto const pulse = p.ltab[static_cast<std::size_t>(2 * row + k)];
      if (std::find(p.ptab.begin(), p.ptab.end(), pulse) == p.ptab.end())
        return bad(fmt::format("lag-table row {} refers to pulse position {}, which is beyond the pulse table", row,
                               pulse));
    }
  }
  if (p.smsep <= 0) return bad(fmt::format("smsep is {} µs: samples must be separated", p.smsep));
  for (std::size_t s = 0; s < raw.snum(); ++s) {
    auto const x = slist_at(raw, s);
    if (x < 0 || x >= nrang_raw)
      return bad(fmt::format("slist[{}] = {} is outside the {} ranges of the record", s, x, nrang_raw));
  }
  if (auto const i = first_non_finite(raw.pwr0.bytes().data(), static_cast<std::size_t>(p.nrang)); i >= 0)
    return bad(fmt::format("pwr0 holds a NaN or infinite value (range {})", i));
  if (auto e = check_cf(raw, raw.acfd, "acfd")) return e;
  if (p.xcf != 0)
    if (auto e = check_cf(raw, raw.xcfd, "xcfd")) return e;
  if (p.nave > 0 && noise_correction_hangs(p.nave, p.nrang))
    return bad(fmt::format("RST's noise-level estimate never ends for nave {} and nrang {} (make_fit hangs)", p.nave,
                           p.nrang));
  return std::nullopt;
}

rawacf_batch from_dmap(std::span<dmap::record const> records, std::span<std::int64_t const> indices,
                       std::span<std::int64_t const> offsets, radar::site const& site, tdiff_selection const& tdiff,
                       input_limits const& limits, exec_context const& ctx, rawacf_batch recycled) {
  auto const n = static_cast<std::int64_t>(records.size());
  // Phase 1 (parallel): decode and check every record.
  std::vector<std::optional<dmap::rawacf_view>> views(records.size());
  std::vector<std::optional<error>> reasons(records.size());
  ctx.parallel_for(n, 8, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      auto const k = static_cast<std::size_t>(i);
      auto v = dmap::decode_rawacf(records[k], dmap::strictness::lenient);
      if (!v) {
        reasons[k] = std::move(v.error());
        continue;
      }
      if (auto why = check_rawacf(*v, limits)) {
        reasons[k] = std::move(why);
        continue;
      }
      views[k] = std::move(*v);
    }
  });

  // Phase 2 (serial): place the fittable records.
  rawacf_batch out = std::move(recycled);
  out.input_index.clear();
  out.rejected.clear();
  std::int64_t n_ranges = 0;
  std::int32_t lag_stride = 1;
  std::vector<std::int64_t> slot(records.size(), -1);
  for (std::size_t k = 0; k < records.size(); ++k) {
    auto const index = k < indices.size() ? indices[k] : static_cast<std::int64_t>(k);
    if (reasons[k]) {
      auto e = std::move(*reasons[k]);
      e.record = index;
      if (k < offsets.size() && e.offset < 0) e.offset = offsets[k];
      out.rejected.push_back({index, std::move(e)});
      continue;
    }
    slot[k] = static_cast<std::int64_t>(out.input_index.size());
    out.input_index.push_back(index);
    n_ranges += views[k]->prm.nrang;
    lag_stride = std::max<std::int32_t>(lag_stride, views[k]->prm.mplgs);
  }
  auto const n_batch = out.input_index.size();
  out.acf.lag_stride = lag_stride;
  out.acf.rec.assign(n_batch, record_params{});
  out.prm.resize(n_batch);
  // Sized, not cleared: every value is written below (copy_cf zeroes what it does not copy).
  out.acf.pwr0.resize(static_cast<std::size_t>(n_ranges));
  auto const cf_size = static_cast<std::size_t>(n_ranges) * static_cast<std::size_t>(lag_stride) * 2;
  out.acf.acf.resize(cf_size);
  out.acf.xcf.resize(cf_size);
  std::int64_t next_range = 0;
  for (std::size_t k = 0; k < records.size(); ++k) {
    if (slot[k] < 0) continue;
    out.acf.rec[static_cast<std::size_t>(slot[k])].range_begin = next_range;
    next_range += views[k]->prm.nrang;
  }

  // Phase 3 (parallel): fill parameters and copy data.
  ctx.parallel_for(n, 8, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      auto const k = static_cast<std::size_t>(i);
      if (slot[k] < 0) continue;
      auto const b = static_cast<std::size_t>(slot[k]);
      auto& raw = *views[k];
      auto const& p = raw.prm;
      record_params& rp = out.acf.rec[b];
      rp.nrang = p.nrang;
      rp.mplgs = p.mplgs;
      rp.mppul = p.mppul;
      rp.nave = p.nave;
      rp.smsep_us = p.smsep;
      rp.mpinc_us = p.mpinc;
      rp.txpl_us = p.txpl;
      rp.lagfr_us = p.lagfr;
      rp.offset_us = p.offset;
      rp.channel = p.channel;
      rp.bmnum = p.bmnum;
      rp.tfreq_khz = p.tfreq;
      rp.xcf = p.xcf;
      rp.cp = p.cp;
      rp.stid = p.stid;
      rp.year = p.year;
      rp.noise_search = p.noise_search;
      for (std::int32_t j = 0; j < p.mppul; ++j) rp.pulse[j] = p.ptab[static_cast<std::size_t>(j)];
      for (std::int32_t row = 0; row <= p.mplgs; ++row) {
        rp.lag[0][row] = p.ltab[static_cast<std::size_t>(2 * row)];
        rp.lag[1][row] = p.ltab[static_cast<std::size_t>(2 * row + 1)];
      }
      rp.site = make_site_params(site, choose_tdiff_us(site, p, tdiff));

      auto const rb = static_cast<std::size_t>(rp.range_begin);
      std::memcpy(out.acf.pwr0.data() + rb, raw.pwr0.bytes().data(), 4 * static_cast<std::size_t>(p.nrang));
      auto const cf_offset = rb * static_cast<std::size_t>(lag_stride) * 2;
      copy_cf(raw, raw.acfd, lag_stride, out.acf.acf.data() + cf_offset);
      copy_cf(raw, p.xcf != 0 ? raw.xcfd : std::nullopt, lag_stride, out.acf.xcf.data() + cf_offset);
      out.prm[b] = std::move(raw.prm);
    }
  });
  return out;
}

}  // namespace rstx::fit
