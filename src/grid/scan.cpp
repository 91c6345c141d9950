#include "rstx/grid/scan.hpp"

#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

#include "rstx/core/numeric.hpp"
#include "rstx/dmap/products.hpp"

namespace rstx::grid {

namespace {

constexpr std::size_t max_beams_per_scan = 1000;  // FitReadRadarScan's limit

/** The per-range arrays make_grid reads; FitDecode takes an array when name, type and rank match. */
struct fitacf_arrays {
  std::optional<dmap::array_ref> pwr0, slist, qflg, gflg, v, v_e, p_l, w_l;

  explicit fitacf_arrays(dmap::record const& r) {
    struct wanted {
      std::string_view name;
      dmap::type t;
      std::optional<dmap::array_ref> fitacf_arrays::*slot;
    };
    static constexpr wanted table[] = {
        {"pwr0", dmap::type::float_, &fitacf_arrays::pwr0}, {"slist", dmap::type::short_, &fitacf_arrays::slist},
        {"qflg", dmap::type::char_, &fitacf_arrays::qflg},  {"gflg", dmap::type::char_, &fitacf_arrays::gflg},
        {"v", dmap::type::float_, &fitacf_arrays::v},       {"v_e", dmap::type::float_, &fitacf_arrays::v_e},
        {"p_l", dmap::type::float_, &fitacf_arrays::p_l},   {"w_l", dmap::type::float_, &fitacf_arrays::w_l},
    };
    for (std::size_t i = 0; i < r.num_arrays(); ++i) {  // one pass; a later match replaces an earlier one
      auto a = r.array(i);
      if (a.ndim() != 1) continue;
      for (auto const& w : table)
        if (a.type() == w.t && a.name() == w.name) this->*w.slot = a;
    }
  }
};

}  // namespace

result<fitacf_beam> beam_from_fitacf(dmap::record const& r) {
  fitacf_beam out;
  dmap::radar_parms prm;
  if (auto s = beam_from_fitacf(r, out, prm); !s) return unexpected(std::move(s.error()));
  return out;
}

result<void> beam_from_fitacf(dmap::record const& r, fitacf_beam& out, dmap::radar_parms& prm) {
  if (auto s = dmap::decode_radar_parms(r, dmap::strictness::lenient, prm); !s) return s;
  fitacf_arrays const a(r);
  if (!a.pwr0) return fail(errc::missing_field, "fitacf record has no float array 'pwr0'");
  auto const nrang_fit = static_cast<std::int64_t>(a.pwr0->count());
  if (prm.nrang < 0 || prm.nrang > nrang_fit)
    return fail(errc::bad_value, fmt::format("nrang is {} but pwr0 holds {} ranges", prm.nrang, nrang_fit));
  if (prm.nrang > max_gates)
    return fail(errc::bad_value, fmt::format("nrang is {}, above the {} range gates make_grid accepts", prm.nrang, max_gates));
  if (prm.bmnum > max_beam_number)
    return fail(errc::bad_value,
                fmt::format("bmnum is {}, above the largest beam number make_grid accepts ({})", prm.bmnum, max_beam_number));

  out.stid = prm.stid;
  out.version_major = prm.revision_major;
  out.version_minor = prm.revision_minor;
  auto& b = out.beam;
  b.time = prm.epoch();
  b.scan = prm.scan;
  b.bm = prm.bmnum;
  b.bmazm = prm.bmazm;
  b.cpid = prm.cp;
  b.intt_sc = prm.intt_sc;
  b.intt_us = prm.intt_us;
  b.nave = prm.nave;
  b.frang = prm.frang;
  b.rsep = prm.rsep;
  b.rxrise = prm.rxrise;
  b.freq = prm.tfreq;
  b.noise = x86_double_to_int(prm.noise_search);  // RadarBeam.noise is an int
  b.atten = prm.atten;
  b.channel = prm.channel;
  b.nrang = prm.nrang;
  auto const nrang = static_cast<std::size_t>(prm.nrang);
  b.sct.assign(nrang, 0);
  b.rng.resize(nrang);
  for (std::size_t g = 0; g < nrang; ++g) b.rng[g] = radar_cell{.p_0 = a.pwr0->at<float>(g)};  // one pass, no fill first
  if (!a.slist || a.slist->count() == 0) return {};

  auto const& slist = *a.slist;
  std::size_t const snum = slist.count();
  for (std::size_t s = 0; s < snum; ++s) {
    auto const g = slist.at<std::int16_t>(s);
    if (g < 0 || g >= nrang_fit)
      return fail(errc::bad_value, fmt::format("slist[{}] = {} is outside the record's {} ranges", s, g, nrang_fit));
  }
  // FitDecode fills ranges up to pwr0's length; the scan looks at the first nrang of them.
  auto for_listed = [&](std::optional<dmap::array_ref> const& arr, auto&& assign) -> result<void> {
    if (!arr) return {};
    if (arr->count() > snum)
      return fail(errc::wrong_type,
                  fmt::format("array '{}' has {} values for {} listed ranges", arr->name(), arr->count(), snum));
    for (std::size_t s = 0; s < arr->count(); ++s) {
      auto const g = static_cast<std::size_t>(slist.at<std::int16_t>(s));
      if (g < nrang) assign(b.rng[g], *arr, s);
    }
    return {};
  };
  // qflg == 1 marks usable scatter; without a qflg array every listed range counts (FitDecode).
  if (!a.qflg)
    for (std::size_t s = 0; s < snum; ++s)
      if (auto const g = static_cast<std::size_t>(slist.at<std::int16_t>(s)); g < nrang) b.sct[g] = 1;
  if (a.qflg) {
    if (a.qflg->count() > snum)
      return fail(errc::wrong_type, fmt::format("array 'qflg' has {} values for {} listed ranges", a.qflg->count(), snum));
    for (std::size_t s = 0; s < a.qflg->count(); ++s)
      if (auto const g = static_cast<std::size_t>(slist.at<std::int16_t>(s)); g < nrang)
        b.sct[g] = a.qflg->at<std::int8_t>(s) == 1 ? 1 : 0;
  }
  if (auto ok = for_listed(a.gflg, [](radar_cell& c, dmap::array_ref const& x, std::size_t s) { c.gsct = x.at<std::int8_t>(s); }); !ok)
    return ok;
  std::pair<std::optional<dmap::array_ref> const*, double radar_cell::*> const floats[] = {
      {&a.v, &radar_cell::v}, {&a.v_e, &radar_cell::v_e}, {&a.p_l, &radar_cell::p_l}, {&a.w_l, &radar_cell::w_l}};
  for (auto const& entry : floats) {
    double radar_cell::*const field = entry.second;  // a named variable: clang 14 cannot capture bindings
    auto ok = for_listed(*entry.first, [field](radar_cell& c, dmap::array_ref const& x, std::size_t s) { c.*field = x.at<float>(s); });
    if (!ok) return ok;
  }
  return {};
}

void scan_reader::recycle(radar_scan& scan) {
  // A few scans' worth of beams, counted in bytes so that unusually long beams are not all kept.
  constexpr std::size_t most_kept_bytes = std::size_t{4} << 20;
  for (auto& b : scan.beams) {
    std::size_t const bytes = b.rng.capacity() * sizeof(radar_cell) + b.sct.capacity();
    if (spare_bytes_ + bytes > most_kept_bytes) continue;
    spare_bytes_ += bytes;
    spare_.push_back(std::move(b));
  }
  scan.beams.clear();
}

result<bool> scan_reader::read_one(record_source const& next, bool filter_channel) {
  for (;;) {
    auto rec = next();
    if (!rec) return unexpected(std::move(rec.error()));
    if (!*rec) {
      has_pending_ = false;
      return false;
    }
    if (pending_.beam.sct.capacity() == 0 && !spare_.empty()) {  // reuse a recycled beam's memory
      pending_.beam = std::move(spare_.back());
      spare_.pop_back();
      spare_bytes_ -= std::min(spare_bytes_, pending_.beam.rng.capacity() * sizeof(radar_cell) + pending_.beam.sct.capacity());
    }
    if (!fitacf_seen_) {
      // The first identifiable record tells the kind of file: rawacf, grid or map input is
      // refused (RST makes empty grids of it and exits 0). Later records go unchecked.
      auto const kind = dmap::detect_product(***rec);
      if (kind != dmap::product::fitacf && kind != dmap::product::unknown)
        return fail(errc::wrong_type,
                    fmt::format("this is a {} record; make_grid reads fitacf records", dmap::to_string(kind)));
      fitacf_seen_ = kind == dmap::product::fitacf;
    }
    if (auto b = beam_from_fitacf(***rec, pending_, prm_); !b) return unexpected(std::move(b.error()));
    int const ch = pending_.beam.channel;
    if (filter_channel && ((rules_.channel == 2 && ch != 2) || (rules_.channel == 1 && ch == 2))) continue;
    has_pending_ = true;
    return true;
  }
}

result<bool> scan_reader::skip_to_scan_start(record_source const& next) {
  // make_grid reads these records directly (FitFread), without the channel filter.
  for (;;) {
    auto got = read_one(next, false);
    if (!got) return unexpected(std::move(got.error()));
    if (!*got) return false;
    if (std::abs(pending_.beam.scan) == 1) return true;
  }
}

result<scan_reader::status> scan_reader::read(record_source const& next, radar_scan& out) {
  if (state_ != 1) {
    auto got = read_one(next, rules_.channel != 0);
    if (!got) return unexpected(std::move(got.error()));
    if (!*got) return status::end;
  }
  if (!has_pending_) return status::end;  // a pending record was expected but the input had none
  if (state_ != 2) {
    out.stid = pending_.stid;
    out.version_major = pending_.version_major;
    out.version_minor = pending_.version_minor;
    out.st_time = pending_.beam.time;
    if (rules_.scan_length_s != 0)
      out.st_time = wrapping_mul(rules_.scan_length_s, x86_double_to_int(out.st_time / rules_.scan_length_s));
    recycle(out);
  }
  state_ = 1;
  for (;;) {
    out.ed_time = pending_.beam.time;
    out.beams.push_back(std::move(pending_.beam));
    pending_.beam = radar_beam{};
    has_pending_ = false;
    if (out.beams.size() > max_beams_per_scan)
      return fail(errc::bad_value, fmt::format("more than {} beams in one scan: is the scan flag or -tl right?",
                                               max_beams_per_scan));
    auto got = read_one(next, rules_.channel != 0);
    if (!got) return unexpected(std::move(got.error()));
    if (!*got) {
      state_ = 2;
      return status::last_scan;
    }
    bool const done = rules_.scan_length_s == 0 ? std::abs(pending_.beam.scan) == 1
                                                : out.ed_time - out.st_time >= rules_.scan_length_s;
    if (done) return status::scan;
  }
}

}  // namespace rstx::grid
