// FITACF 2.5 over the shared batch types: threads over records; each record is fitted by
// detail::fit25::fit_record (record_fit.cpp) into double-precision per-range results, which are
// then narrowed to float into the output batch, as RST's FitEncode narrows its FitRange doubles.
// The elevation angles are computed here with the shared elevation routines (elevation.hpp).
#include "rstx/fit/fitacf25.hpp"

#include <algorithm>
#include <limits>
#include <mutex>
#include <optional>
#include <string>

#include "elevation.hpp"
#include "fitacf25/detail/record_fit.hpp"

namespace rstx::fit {
namespace {

namespace f25 = detail::fit25;
static_assert(f25::max_lags == max_lags, "bad-lag masks and the batch's lag limit must agree");
static_assert(f25::max_pulses == max_pulses, "bad-pulse masks and the batch's pulse limit must agree");

/** Scratch of one thread, reused from record to record. */
struct workspace {
  f25::record_scratch scratch;
  f25::record_result result;
};

/** RST's FitPrm of one batch record. */
f25::record_params to_fit25(record_params const& r) {
  f25::record_params p;
  p.nrang = r.nrang;
  p.mplgs = r.mplgs;
  p.mppul = r.mppul;
  p.nave = r.nave;
  p.mpinc_us = r.mpinc_us;
  p.smsep_us = r.smsep_us;
  p.txpl_us = r.txpl_us;
  p.lagfr_us = r.lagfr_us;
  p.offset_us = r.offset_us;
  p.channel = r.channel;
  p.xcf = r.xcf;
  p.tfreq_khz = r.tfreq_khz;
  p.year = r.year;
  p.noise_search = r.noise_search;
  p.vdir = r.site.vdir;
  p.phidiff = r.site.phidiff;
  for (int i = 0; i < std::min(r.mppul, max_pulses); ++i) p.pulse[i] = r.pulse[i];
  for (int i = 0; i < std::min(r.mplgs, max_lags); ++i) {
    p.lag[0][i] = r.lag[0][i];
    p.lag[1][i] = r.lag[1][i];
  }
  return p;
}

/**
 * The elevation routine of one record. do_fit.c picks elev_goose when -old_elev is given and the
 * record's station is Goose Bay (stid 1), elevation (v1) for other stations, elevation_v2 by default.
 */
class elevation_solver {
 public:
  elevation_solver(record_params const& r, bool old_elevation) {
    geo_ = {r.site.interfer_m[0], r.site.interfer_m[1], r.site.interfer_m[2], r.site.maxbeam, r.site.bmoff_deg,
            r.site.bmsep_deg};
    bmnum_ = r.bmnum;
    tfreq_khz_ = r.tfreq_khz;
    tdiff_us_ = r.site.tdiff_us;
    method_ = !old_elevation ? elevation_method::v2 : (r.stid == 1 ? elevation_method::goose : elevation_method::v1);
    if (method_ == elevation_method::v2) v2_ = detail::elevation_v2_beam::prepare(geo_, bmnum_, tfreq_khz_, tdiff_us_);
    if (method_ == elevation_method::v1) {
      v1_ = detail::elevation_v1_beam::prepare(geo_, bmnum_, tfreq_khz_, tdiff_us_, r.site.phidiff);
    }
  }
  [[nodiscard]] double operator()(double psi_rad) const noexcept {
    switch (method_) {
      case elevation_method::v2: return v2_.solve(psi_rad);
      case elevation_method::v1: return v1_.solve(psi_rad);
      case elevation_method::goose: return elevation_goose(geo_, bmnum_, tfreq_khz_, tdiff_us_, psi_rad);
    }
    return std::numeric_limits<double>::quiet_NaN();
  }
  /** +1 when the interferometer is in front of the main array (Y > 0), else -1 (do_fit.c). */
  [[nodiscard]] double y_sign() const noexcept { return (geo_.y_m > 0.0) ? 1.0 : -1.0; }

 private:
  elevation_geometry geo_;
  int bmnum_ = 0;
  double tfreq_khz_ = 0.0;
  double tdiff_us_ = 0.0;
  elevation_method method_ = elevation_method::v2;
  detail::elevation_v2_beam v2_;
  detail::elevation_v1_beam v1_;
};

void set(fit_batch_view const& out, fit_column c, std::int64_t idx, double v) noexcept {
  out[c][idx] = static_cast<float>(v);  // C assignment: round to nearest, HUGE_VAL -> +Inf
}

/** Stores one record's results (the values FitEncode would write) into the output batch. */
void store(f25::record_result const& res, record_params const& rp, bool old_elevation, fit_batch_view const& out,
           std::int32_t i) {
  record_result& rr = out.rec[i];
  rr.noise_sky = static_cast<float>(res.noise_sky);
  rr.noise_lag0 = 0.0F;
  rr.noise_vel = 0.0F;
  rr.tdiff_us = static_cast<float>(rp.site.tdiff_us);

  bool const xcf = rp.xcf != 0;
  std::optional<elevation_solver> elevation;
  std::int32_t fitted = 0;
  for (std::int32_t r = 0; r < rp.nrang; ++r) {
    auto const k = static_cast<std::size_t>(r);
    std::int64_t const idx = rp.range_begin + r;
    out.pwr0_db[idx] = static_cast<float>(res.pwr0_db[k]);
    f25::range_fit const& a = res.acf[k];
    out.qflg[idx] = static_cast<std::int8_t>(a.qflg);
    if (a.qflg != f25::qflg_ok) continue;  // not written (2, 4: rejected; 8: velocity aliased)
    ++fitted;
    out.gflg[idx] = static_cast<std::int8_t>(a.gsct);
    out.nlag[idx] = static_cast<std::int8_t>(a.nump);  // a char in RST's FitRange
    set(out, fit_column::p_l, idx, a.p_l);
    set(out, fit_column::p_l_e, idx, a.p_l_err);
    set(out, fit_column::p_s, idx, a.p_s);
    set(out, fit_column::p_s_e, idx, a.p_s_err);
    set(out, fit_column::v, idx, a.v);
    set(out, fit_column::v_e, idx, a.v_err);
    set(out, fit_column::w_l, idx, a.w_l);
    set(out, fit_column::w_l_e, idx, a.w_l_err);
    set(out, fit_column::w_s, idx, a.w_s);
    set(out, fit_column::w_s_e, idx, a.w_s_err);
    set(out, fit_column::sd_l, idx, a.sdev_l);
    set(out, fit_column::sd_s, idx, a.sdev_s);
    set(out, fit_column::sd_phi, idx, a.sdev_phi);
    if (!xcf) continue;

    // The XCF block is written for every written range, whatever its XCF fit gave (RST writes the
    // FitRange as the fit left it).
    f25::range_fit const& x = res.xcf[k];
    out.x_qflg[idx] = static_cast<std::int8_t>(x.qflg);
    out.x_gflg[idx] = static_cast<std::int8_t>(x.gsct);
    set(out, fit_column::x_p_l, idx, x.p_l);
    set(out, fit_column::x_p_l_e, idx, x.p_l_err);
    set(out, fit_column::x_p_s, idx, x.p_s);
    set(out, fit_column::x_p_s_e, idx, x.p_s_err);
    set(out, fit_column::x_v, idx, x.v);
    set(out, fit_column::x_v_e, idx, x.v_err);
    set(out, fit_column::x_w_l, idx, x.w_l);
    set(out, fit_column::x_w_l_e, idx, x.w_l_err);
    set(out, fit_column::x_w_s, idx, x.w_s);
    set(out, fit_column::x_w_s_e, idx, x.w_s_err);
    set(out, fit_column::phi0, idx, x.phi0);
    set(out, fit_column::phi0_e, idx, x.phi0_err);
    set(out, fit_column::x_sd_l, idx, x.sdev_l);
    set(out, fit_column::x_sd_s, idx, x.sdev_s);
    set(out, fit_column::x_sd_phi, idx, x.sdev_phi);
    double elv = 0.0, elv_low = 0.0, elv_high = 0.0;
    if (res.elevation_wanted[k] != 0) {
      if (!elevation) elevation.emplace(rp, old_elevation);
      double const s = elevation->y_sign();
      elv = (*elevation)(x.phi0);
      elv_low = (*elevation)(x.phi0 + s * x.phi0_err);
      elv_high = (*elevation)(x.phi0 - s * x.phi0_err);
    }
    set(out, fit_column::elv, idx, elv);
    set(out, fit_column::elv_low, idx, elv_low);
    set(out, fit_column::elv_high, idx, elv_high);
  }
  rr.fitted = fitted;
}

/** The extents the record loop relies on (the rest is checked per record by fit_record). */
result<void> check_extents(acf_batch_view const& in) {
  if (in.n_rec < 0 || in.n_ranges < 0) return fail(errc::invalid_argument, "negative batch extents");
  if (in.n_rec > 0 && (in.lag_stride < 1 || in.lag_stride > max_lags)) {
    return fail(errc::invalid_argument, "lag_stride " + std::to_string(in.lag_stride) + " outside 1.." +
                                            std::to_string(max_lags));
  }
  if (in.n_rec > 0 && (in.rec == nullptr || in.pwr0 == nullptr || in.acf == nullptr)) {
    return fail(errc::invalid_argument, "batch without records, pwr0 or acf arrays");
  }
  std::int64_t next = 0;
  for (std::int32_t i = 0; i < in.n_rec; ++i) {
    auto const& p = in.rec[i];
    auto const bad = [&](char const* what) {
      return fail(errc::invalid_argument, "batch record " + std::to_string(i) + ": " + what);
    };
    if (p.range_begin != next) return bad("ranges are not stored back to back");
    if (p.nrang < 0) return bad("nrang < 0");
    if (p.mplgs > in.lag_stride) return bad("mplgs above lag_stride");
    next += p.nrang;
  }
  if (next != in.n_ranges) return fail(errc::invalid_argument, "n_ranges is not the sum of nrang");
  return {};
}

}  // namespace

namespace detail {

result<host_fit_batch> fitacf25_cpu(acf_batch_view const& in, fitacf25_options const& opt, exec_context const& ctx,
                                    host_fit_batch reuse) {
  host_fit_batch batch = std::move(reuse);
  batch.reset(in, fit_algorithm::fitacf25);
  fit_batch_view const out = batch.view();
  std::mutex error_mutex;
  std::optional<error> first_error;  // the error of the lowest record index, whatever the threads
  std::int32_t first_error_rec = std::numeric_limits<std::int32_t>::max();

  ctx.parallel_for(in.n_rec, 8, [&](std::int64_t begin, std::int64_t end) {
    thread_local workspace ws;
    for (std::int64_t i = begin; i < end; ++i) {
      auto const rec = static_cast<std::int32_t>(i);
      record_params const& rp = in.rec[rec];
      f25::record_params const p = to_fit25(rp);
      std::size_t const offset = static_cast<std::size_t>(rp.range_begin) * static_cast<std::size_t>(in.lag_stride) * 2;
      f25::record_samples s;
      s.pwr0 = in.pwr0 + rp.range_begin;
      s.acf = in.acf + offset;
      s.xcf = (in.xcf != nullptr) ? in.xcf + offset : nullptr;
      s.lag_stride = in.lag_stride;
      if (auto r = f25::fit_record(p, s, opt.flag_row13_for_17_lags, ws.scratch, ws.result); !r) {
        std::lock_guard lock(error_mutex);
        if (rec < first_error_rec) {
          first_error_rec = rec;
          error e = std::move(r.error());
          e.what = "batch record " + std::to_string(rec) + ": " + e.what;
          first_error = std::move(e);
        }
        continue;
      }
      store(ws.result, rp, opt.old_elevation, out, rec);
    }
  });
  if (first_error) return unexpected(std::move(*first_error));
  return batch;
}

}  // namespace detail

result<host_fit_batch> fitacf25(acf_batch_view const& in, fitacf25_options const& opt, exec_context const& ctx,
                                host_fit_batch reuse) {
  if (ctx.where != backend::cpu) return fail(errc::unsupported, "FITACF 2.5 has no CUDA backend in this build");
  if (auto v = check_extents(in); !v) return unexpected(std::move(v.error()));
  return detail::fitacf25_cpu(in, opt, ctx, std::move(reuse));
}

}  // namespace rstx::fit
