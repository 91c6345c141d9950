#include "rstx/dmap/products.hpp"

#include <array>
#include <unordered_map>

#include <fmt/format.h>

#include "rstx/core/time.hpp"

namespace rstx::dmap {

std::string_view to_string(product p) noexcept {
  switch (p) {
    case product::unknown: return "unknown";
    case product::rawacf: return "rawacf";
    case product::fitacf: return "fitacf";
    case product::grid: return "grid";
    case product::map: return "map";
  }
  return "?";
}

product detect_product(record const& r) noexcept {
  if (r.find_scalar("map.major.revision")) return product::map;
  if (r.find_scalar("start.year") && r.find_array("vector.mlat")) return product::grid;
  if (r.find_scalar("start.year") && r.find_array("nvec")) return product::grid;
  if (r.find_scalar("fitacf.revision.major") || r.find_array("p_l")) return product::fitacf;
  if (r.find_scalar("rawacf.revision.major") || r.find_array("acfd")) return product::rawacf;
  if (r.find_array("pwr0") && r.find_array("ltab") && r.find_scalar("noise.sky")) return product::fitacf;
  if (r.find_array("pwr0") && r.find_array("ltab")) return product::rawacf;
  return product::unknown;
}

namespace {

enum class need : std::uint8_t { optional, strict, always };

bool required(need n, strictness mode) {
  return n == need::always || (n == need::strict && mode == strictness::strict);
}

error missing(std::string_view name, type t) {
  return error(errc::missing_field, fmt::format("required {} field '{}' is missing", type_name(t), name));
}

/** One scalar of a table-driven decoder. */
template <class Out>
struct scalar_rule {
  std::string_view name;
  type t;
  need required;
  void (*store)(Out&, scalar_ref const&);
};

/**
 * Applies a table of scalar rules to a record in one pass over its scalars, RST-style: a scalar
 * is taken when name and type match, later ones overwrite earlier ones. Returns the first
 * required field that is absent (or present only with the wrong type).
 */
template <class Out, std::size_t N>
result<void> apply_rules(record const& r, std::array<scalar_rule<Out>, N> const& rules, Out& out, strictness mode) {
  static auto const index = [&] {
    std::unordered_map<std::string_view, std::size_t> m;
    for (std::size_t i = 0; i < N; ++i) m.emplace(rules[i].name, i);
    return m;
  }();
  std::array<bool, N> seen{};
  std::array<bool, N> wrong{};
  // Writers emit these fields in the table's order, so the rule after the last match is tried
  // first; the hash lookup is the fallback for any other order.
  std::size_t expected = 0;
  for (std::size_t i = 0; i < r.num_scalars(); ++i) {
    auto const s = r.scalar(i);
    std::size_t which = N;
    if (expected < N && rules[expected].name == s.name()) {
      which = expected;
    } else if (auto it = index.find(s.name()); it != index.end()) {
      which = it->second;
    } else {
      continue;
    }
    expected = which + 1;
    auto const& rule = rules[which];
    if (s.type() != rule.t) {
      wrong[which] = true;
      continue;
    }
    rule.store(out, s);
    seen[which] = true;
  }
  for (std::size_t i = 0; i < N; ++i) {
    if (seen[i] || !required(rules[i].required, mode)) continue;
    if (wrong[i])
      return unexpected(error(errc::wrong_type, fmt::format("field '{}' is not of type {}", rules[i].name,
                                                            type_name(rules[i].t))));
    return unexpected(missing(rules[i].name, rules[i].t));
  }
  return {};
}

template <class T, class Out, T Out::*member>
void set(Out& o, scalar_ref const& s) {
  o.*member = s.as<T>();
}
template <class Out, std::string Out::*member>
void set_string(Out& o, scalar_ref const& s) {
  (o.*member).assign(s.as_string());
}

using rp = radar_parms;
constexpr auto A = need::always;
constexpr auto S = need::strict;
constexpr auto O = need::optional;

// RadarParmEncode order (rprm.c); also the order encode_radar_parms_scalars writes.
std::array<scalar_rule<rp>, 46> const radar_rules{{
    {"radar.revision.major", type::char_, S, set<std::int8_t, rp, &rp::revision_major>},
    {"radar.revision.minor", type::char_, S, set<std::int8_t, rp, &rp::revision_minor>},
    {"origin.code", type::char_, S, set<std::int8_t, rp, &rp::origin_code>},
    {"origin.time", type::string, S, set_string<rp, &rp::origin_time>},
    {"origin.command", type::string, S, set_string<rp, &rp::origin_command>},
    {"cp", type::short_, S, set<std::int16_t, rp, &rp::cp>},
    {"stid", type::short_, A, set<std::int16_t, rp, &rp::stid>},
    {"time.yr", type::short_, A, set<std::int16_t, rp, &rp::year>},
    {"time.mo", type::short_, A, set<std::int16_t, rp, &rp::month>},
    {"time.dy", type::short_, A, set<std::int16_t, rp, &rp::day>},
    {"time.hr", type::short_, A, set<std::int16_t, rp, &rp::hour>},
    {"time.mt", type::short_, A, set<std::int16_t, rp, &rp::minute>},
    {"time.sc", type::short_, A, set<std::int16_t, rp, &rp::second>},
    {"time.us", type::int_, S, set<std::int32_t, rp, &rp::microsecond>},
    {"txpow", type::short_, S, set<std::int16_t, rp, &rp::txpow>},
    {"nave", type::short_, A, set<std::int16_t, rp, &rp::nave>},
    {"atten", type::short_, S, set<std::int16_t, rp, &rp::atten>},
    {"lagfr", type::short_, A, set<std::int16_t, rp, &rp::lagfr>},
    {"smsep", type::short_, A, set<std::int16_t, rp, &rp::smsep>},
    {"ercod", type::short_, S, set<std::int16_t, rp, &rp::ercod>},
    {"stat.agc", type::short_, S, set<std::int16_t, rp, &rp::agc>},
    {"stat.lopwr", type::short_, S, set<std::int16_t, rp, &rp::lopwr>},
    {"noise.search", type::float_, S, set<float, rp, &rp::noise_search>},
    {"noise.mean", type::float_, S, set<float, rp, &rp::noise_mean>},
    {"channel", type::short_, S, set<std::int16_t, rp, &rp::channel>},
    {"bmnum", type::short_, A, set<std::int16_t, rp, &rp::bmnum>},
    {"bmazm", type::float_, S, set<float, rp, &rp::bmazm>},
    {"scan", type::short_, S, set<std::int16_t, rp, &rp::scan>},
    {"offset", type::short_, S, set<std::int16_t, rp, &rp::offset>},
    {"rxrise", type::short_, S, set<std::int16_t, rp, &rp::rxrise>},
    {"intt.sc", type::short_, S, set<std::int16_t, rp, &rp::intt_sc>},
    {"intt.us", type::int_, S, set<std::int32_t, rp, &rp::intt_us>},
    {"txpl", type::short_, A, set<std::int16_t, rp, &rp::txpl>},
    {"mpinc", type::short_, A, set<std::int16_t, rp, &rp::mpinc>},
    {"mppul", type::short_, A, set<std::int16_t, rp, &rp::mppul>},
    {"mplgs", type::short_, A, set<std::int16_t, rp, &rp::mplgs>},
    {"mplgexs", type::short_, O, set<std::int16_t, rp, &rp::mplgexs>},
    {"ifmode", type::short_, O, set<std::int16_t, rp, &rp::ifmode>},
    {"nrang", type::short_, A, set<std::int16_t, rp, &rp::nrang>},
    {"frang", type::short_, A, set<std::int16_t, rp, &rp::frang>},
    {"rsep", type::short_, A, set<std::int16_t, rp, &rp::rsep>},
    {"xcf", type::short_, S, set<std::int16_t, rp, &rp::xcf>},
    {"tfreq", type::short_, A, set<std::int16_t, rp, &rp::tfreq>},
    {"mxpwr", type::int_, S, set<std::int32_t, rp, &rp::mxpwr>},
    {"lvmax", type::int_, S,
     [](rp& o, scalar_ref const& s) { o.lvmax = static_cast<std::int16_t>(s.as<std::int32_t>() & 0xffff); }},
    {"combf", type::string, S, set_string<rp, &rp::combf>},
}};

/** Checks an array's type and, when given, its number of dimensions and its element count. */
result<void> check_array(array_ref const& a, type t, std::size_t ndim, std::optional<std::uint64_t> count = {}) {
  if (a.type() != t)
    return fail(errc::wrong_type, fmt::format("array '{}' is {} instead of {}", a.name(), type_name(a.type()), type_name(t)));
  if (ndim != 0 && a.ndim() != ndim)
    return fail(errc::wrong_type, fmt::format("array '{}' has {} dimensions instead of {}", a.name(), a.ndim(), ndim));
  if (count && a.count() != *count)
    return fail(errc::wrong_type,
                fmt::format("array '{}' has {} elements where {} are expected", a.name(), a.count(), *count));
  return {};
}

/** Finds an array RST-style: the last with this name (any type; the type is then checked). */
std::optional<array_ref> last_array(record const& r, std::string_view name) {
  std::optional<array_ref> found;
  for (std::size_t i = 0; i < r.num_arrays(); ++i) {
    auto a = r.array(i);
    if (a.name() == name) found = a;
  }
  return found;
}

result<array_ref> need_array(record const& r, std::string_view name, type t, std::size_t ndim) {
  auto a = last_array(r, name);
  if (!a) return unexpected(missing(name, t));
  if (auto c = check_array(*a, t, ndim); !c) return unexpected(std::move(c.error()));
  return *a;
}

result<std::optional<array_ref>> maybe_array(record const& r, std::string_view name, type t, std::size_t ndim,
                                             std::optional<std::uint64_t> count = {}) {
  auto a = last_array(r, name);
  if (!a) return std::optional<array_ref>{};
  if (auto c = check_array(*a, t, ndim, count); !c) return unexpected(std::move(c.error()));
  return a;
}

}  // namespace

double radar_parms::epoch() const noexcept {
  return epoch_from_ymdhms(year, month, day, hour, minute, second + microsecond / 1.0e6);
}

result<void> decode_radar_parms(record const& r, strictness mode, radar_parms& p) {
  // Back to the defaults of an absent field, keeping the strings' and tables' memory.
  auto origin_time = std::move(p.origin_time), origin_command = std::move(p.origin_command), combf = std::move(p.combf);
  auto ptab_store = std::move(p.ptab), ltab_store = std::move(p.ltab);
  p = radar_parms{};
  p.origin_time = std::move(origin_time);
  p.origin_command = std::move(origin_command);
  p.combf = std::move(combf);
  p.origin_time.clear();
  p.origin_command.clear();
  p.combf.clear();
  p.ptab = std::move(ptab_store);
  p.ltab = std::move(ltab_store);
  p.ptab.clear();
  p.ltab.clear();
  if (auto s = apply_rules(r, radar_rules, p, mode); !s) return unexpected(std::move(s.error()));
  auto ptab = maybe_array(r, "ptab", type::short_, 1);
  if (!ptab) return unexpected(std::move(ptab.error()));
  auto ltab = maybe_array(r, "ltab", type::short_, 2);
  if (!ltab) return unexpected(std::move(ltab.error()));
  if (*ptab) {
    p.ptab.resize((*ptab)->count());
    (*ptab)->copy_to(std::span<std::int16_t>(p.ptab));
  }
  if (*ltab) {
    if ((*ltab)->dim(0) != 2)
      return fail(errc::wrong_type, fmt::format("array 'ltab' has first extent {} instead of 2", (*ltab)->dim(0)));
    p.ltab.resize((*ltab)->count());
    (*ltab)->copy_to(std::span<std::int16_t>(p.ltab));
  }
  return {};
}

result<radar_parms> decode_radar_parms(record const& r, strictness mode) {
  radar_parms p;
  if (auto s = decode_radar_parms(r, mode, p); !s) return unexpected(std::move(s.error()));
  return p;
}

void encode_radar_parms_scalars(radar_parms const& p, record& out) {
  out.add_scalar("radar.revision.major", p.revision_major);
  out.add_scalar("radar.revision.minor", p.revision_minor);
  out.add_scalar("origin.code", p.origin_code);
  out.add_string("origin.time", p.origin_time);
  out.add_string("origin.command", p.origin_command);
  out.add_scalar("cp", p.cp);
  out.add_scalar("stid", p.stid);
  out.add_scalar("time.yr", p.year);
  out.add_scalar("time.mo", p.month);
  out.add_scalar("time.dy", p.day);
  out.add_scalar("time.hr", p.hour);
  out.add_scalar("time.mt", p.minute);
  out.add_scalar("time.sc", p.second);
  out.add_scalar("time.us", p.microsecond);
  out.add_scalar("txpow", p.txpow);
  out.add_scalar("nave", p.nave);
  out.add_scalar("atten", p.atten);
  out.add_scalar("lagfr", p.lagfr);
  out.add_scalar("smsep", p.smsep);
  out.add_scalar("ercod", p.ercod);
  out.add_scalar("stat.agc", p.agc);
  out.add_scalar("stat.lopwr", p.lopwr);
  out.add_scalar("noise.search", p.noise_search);
  out.add_scalar("noise.mean", p.noise_mean);
  out.add_scalar("channel", p.channel);
  out.add_scalar("bmnum", p.bmnum);
  out.add_scalar("bmazm", p.bmazm);
  out.add_scalar("scan", p.scan);
  out.add_scalar("offset", p.offset);
  out.add_scalar("rxrise", p.rxrise);
  out.add_scalar("intt.sc", p.intt_sc);
  out.add_scalar("intt.us", p.intt_us);
  out.add_scalar("txpl", p.txpl);
  out.add_scalar("mpinc", p.mpinc);
  out.add_scalar("mppul", p.mppul);
  out.add_scalar("mplgs", p.mplgs);
  out.add_scalar("mplgexs", p.mplgexs);
  out.add_scalar("ifmode", p.ifmode);
  out.add_scalar("nrang", p.nrang);
  out.add_scalar("frang", p.frang);
  out.add_scalar("rsep", p.rsep);
  out.add_scalar("xcf", p.xcf);
  out.add_scalar("tfreq", p.tfreq);
  out.add_scalar("mxpwr", p.mxpwr);
  out.add_scalar("lvmax", p.lvmax);
  out.add_string("combf", p.combf);
}

void encode_radar_parms_arrays(radar_parms const& p, record& out) {
  out.add_array<std::int16_t>("ptab", p.ptab);
  std::int32_t const dims[2] = {2, static_cast<std::int32_t>(p.ltab.size() / 2)};
  out.add_array<std::int16_t>("ltab", dims, std::span<std::int16_t const>(p.ltab));
}

result<rawacf_view> decode_rawacf(record const& r, strictness mode) {
  rawacf_view v;
  auto prm = decode_radar_parms(r, mode);
  if (!prm) return unexpected(std::move(prm.error()));
  v.prm = std::move(*prm);
  if (v.prm.ptab.empty() && !last_array(r, "ptab")) return unexpected(missing("ptab", type::short_));
  if (v.prm.ltab.empty() && !last_array(r, "ltab")) return unexpected(missing("ltab", type::short_));

  static std::array<scalar_rule<rawacf_view>, 3> const rules{{
      {"rawacf.revision.major", type::int_, S, set<std::int32_t, rawacf_view, &rawacf_view::revision_major>},
      {"rawacf.revision.minor", type::int_, S, set<std::int32_t, rawacf_view, &rawacf_view::revision_minor>},
      {"thr", type::float_, S, set<float, rawacf_view, &rawacf_view::thr>},
  }};
  if (auto s = apply_rules(r, rules, v, mode); !s) return unexpected(std::move(s.error()));

  auto pwr0 = need_array(r, "pwr0", type::float_, 1);
  if (!pwr0) return unexpected(std::move(pwr0.error()));
  v.pwr0 = *pwr0;
  auto slist = maybe_array(r, "slist", type::short_, 1);
  if (!slist) return unexpected(std::move(slist.error()));
  if (*slist && (*slist)->count() > 0) v.slist = *slist;
  for (auto [name, dst] : {std::pair{"acfd", &v.acfd}, std::pair{"xcfd", &v.xcfd}}) {
    auto a = maybe_array(r, name, type::float_, 3);
    if (!a) return unexpected(std::move(a.error()));
    if (!*a || !v.slist) continue;  // without slist RST treats ACFs as absent
    if ((*a)->dim(0) != 2 || static_cast<std::size_t>((*a)->dim(2)) != v.snum())
      return fail(errc::wrong_type,
                  fmt::format("array '{}' has extents ({}, {}, {}) but must be (2, lags, {}) for {} listed ranges", name,
                              (*a)->dim(0), (*a)->dim(1), (*a)->dim(2), v.snum(), v.snum()));
    *dst = *a;
  }
  return v;
}

std::optional<array_ref> fitacf_view::get(std::string_view name) const noexcept { return last_array(*rec, name); }

result<fitacf_view> decode_fitacf(record const& r, strictness mode) {
  fitacf_view v;
  v.rec = &r;
  auto prm = decode_radar_parms(r, mode);
  if (!prm) return unexpected(std::move(prm.error()));
  v.prm = std::move(*prm);
  static std::array<scalar_rule<fitacf_view>, 6> const rules{{
      {"algorithm", type::string, O, set_string<fitacf_view, &fitacf_view::algorithm>},
      {"fitacf.revision.major", type::int_, S, set<std::int32_t, fitacf_view, &fitacf_view::revision_major>},
      {"fitacf.revision.minor", type::int_, S, set<std::int32_t, fitacf_view, &fitacf_view::revision_minor>},
      {"noise.sky", type::float_, S, set<float, fitacf_view, &fitacf_view::noise_sky>},
      {"noise.lag0", type::float_, S, set<float, fitacf_view, &fitacf_view::noise_lag0>},
      {"noise.vel", type::float_, S, set<float, fitacf_view, &fitacf_view::noise_vel>},
  }};
  if (auto s = apply_rules(r, rules, v, mode); !s) return unexpected(std::move(s.error()));
  if (auto t = r.find_scalar_last("tdiff", type::float_)) v.tdiff = t->as<float>();

  auto pwr0 = need_array(r, "pwr0", type::float_, 1);
  if (!pwr0) return unexpected(std::move(pwr0.error()));
  v.pwr0 = *pwr0;
  auto slist = maybe_array(r, "slist", type::short_, 1);
  if (!slist) return unexpected(std::move(slist.error()));
  if (*slist) v.slist = *slist;
  std::uint64_t const snum = v.snum();

  struct per_range {
    std::string_view name;
    type t;
    need required;  // when snum > 0
  };
  static constexpr per_range arrays[] = {
      {"nlag", type::short_, S},   {"qflg", type::char_, S},    {"gflg", type::char_, S},
      {"p_l", type::float_, S},    {"p_l_e", type::float_, S},  {"p_s", type::float_, S},
      {"p_s_e", type::float_, S},  {"v", type::float_, S},      {"v_e", type::float_, S},
      {"w_l", type::float_, S},    {"w_l_e", type::float_, S},  {"w_s", type::float_, S},
      {"w_s_e", type::float_, S},  {"sd_l", type::float_, S},   {"sd_s", type::float_, S},
      {"sd_phi", type::float_, S}, {"x_qflg", type::char_, O},  {"x_gflg", type::char_, O},
      {"x_p_l", type::float_, O},  {"x_p_l_e", type::float_, O}, {"x_p_s", type::float_, O},
      {"x_p_s_e", type::float_, O}, {"x_v", type::float_, O},   {"x_v_e", type::float_, O},
      {"x_w_l", type::float_, O},  {"x_w_l_e", type::float_, O}, {"x_w_s", type::float_, O},
      {"x_w_s_e", type::float_, O}, {"phi0", type::float_, O},  {"phi0_e", type::float_, O},
      {"elv", type::float_, O},    {"elv_low", type::float_, O}, {"elv_high", type::float_, O},
      {"elv_fitted", type::float_, O}, {"elv_error", type::float_, O}, {"x_sd_l", type::float_, O},
      {"x_sd_s", type::float_, O}, {"x_sd_phi", type::float_, O},
  };
  for (auto const& a : arrays) {
    auto got = maybe_array(r, a.name, a.t, 1, snum);
    if (!got) return unexpected(std::move(got.error()));
    if (!*got && snum > 0 && required(a.required, mode)) return unexpected(missing(a.name, a.t));
  }
  return v;
}

double grid_times::start_epoch() const noexcept {
  return epoch_from_ymdhms(start_year, start_month, start_day, start_hour, start_minute, start_second);
}
double grid_times::end_epoch() const noexcept {
  return epoch_from_ymdhms(end_year, end_month, end_day, end_hour, end_minute, end_second);
}

std::optional<array_ref> grid_view::get(std::string_view name) const noexcept { return last_array(*rec, name); }

result<grid_view> decode_grid(record const& r, strictness mode) {
  grid_view v;
  v.rec = &r;
  using gt = grid_times;
  // GridRead needs all twelve time scalars with exactly these types (dmap.md §3.3).
  static std::array<scalar_rule<gt>, 12> const times{{
      {"start.year", type::short_, A, set<std::int16_t, gt, &gt::start_year>},
      {"start.month", type::short_, A, set<std::int16_t, gt, &gt::start_month>},
      {"start.day", type::short_, A, set<std::int16_t, gt, &gt::start_day>},
      {"start.hour", type::short_, A, set<std::int16_t, gt, &gt::start_hour>},
      {"start.minute", type::short_, A, set<std::int16_t, gt, &gt::start_minute>},
      {"start.second", type::double_, A, set<double, gt, &gt::start_second>},
      {"end.year", type::short_, A, set<std::int16_t, gt, &gt::end_year>},
      {"end.month", type::short_, A, set<std::int16_t, gt, &gt::end_month>},
      {"end.day", type::short_, A, set<std::int16_t, gt, &gt::end_day>},
      {"end.hour", type::short_, A, set<std::int16_t, gt, &gt::end_hour>},
      {"end.minute", type::short_, A, set<std::int16_t, gt, &gt::end_minute>},
      {"end.second", type::double_, A, set<double, gt, &gt::end_second>},
  }};
  if (auto s = apply_rules(r, times, v.times, mode); !s) return unexpected(std::move(s.error()));

  auto stid = need_array(r, "stid", type::short_, 1);
  if (!stid) return unexpected(std::move(stid.error()));
  v.stid = *stid;
  v.nstations = stid->count();
  struct station_array {
    std::string_view name;
    type t;
  };
  static constexpr station_array per_station[] = {
      {"channel", type::short_}, {"nvec", type::short_}, {"freq", type::float_},
      {"major.revision", type::short_}, {"minor.revision", type::short_}, {"program.id", type::short_},
      {"noise.mean", type::float_}, {"noise.sd", type::float_}, {"gsct", type::short_},
      {"v.min", type::float_}, {"v.max", type::float_}, {"p.min", type::float_}, {"p.max", type::float_},
      {"w.min", type::float_}, {"w.max", type::float_}, {"ve.min", type::float_}, {"ve.max", type::float_},
  };
  for (auto const& a : per_station) {
    auto got = maybe_array(r, a.name, a.t, 1, v.nstations);
    if (!got) return unexpected(std::move(got.error()));
    if (!*got) return unexpected(missing(a.name, a.t));  // GridRead stops on any of these
    if (a.name == "nvec") v.nvec = **got;
  }
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < v.nstations; ++i) {
    auto const n = v.nvec.at<std::int16_t>(i);
    if (n < 0) return fail(errc::wrong_type, fmt::format("station {} has negative nvec {}", i, n));
    total += static_cast<std::uint64_t>(n);
  }
  v.nvectors = total;
  static constexpr station_array vectors[] = {
      {"vector.mlat", type::float_}, {"vector.mlon", type::float_}, {"vector.kvect", type::float_},
      {"vector.stid", type::short_}, {"vector.channel", type::short_}, {"vector.index", type::int_},
      {"vector.vel.median", type::float_}, {"vector.vel.sd", type::float_},
  };
  static constexpr station_array extended[] = {
      {"vector.pwr.median", type::float_}, {"vector.pwr.sd", type::float_},
      {"vector.wdt.median", type::float_}, {"vector.wdt.sd", type::float_},
  };
  for (auto const& a : vectors) {
    auto got = maybe_array(r, a.name, a.t, 1, total);
    if (!got) return unexpected(std::move(got.error()));
    if (!*got && total > 0) return unexpected(missing(a.name, a.t));
    if (a.name == "vector.index") v.vector_index = *got;
  }
  for (auto const& a : extended) {
    auto got = maybe_array(r, a.name, a.t, 1, total);
    if (!got) return unexpected(std::move(got.error()));
  }
  return v;
}

result<map_view> decode_map(record const& r, strictness mode) {
  map_view v;
  v.rec = &r;
  auto g = decode_grid(r, mode);
  if (!g) return unexpected(std::move(g.error()));
  v.grid = *g;
  struct map_scalar {
    std::string_view name;
    type t;
    need required;
  };
  // writemap.c fields; older map files lack the later IMF and model fields.
  static constexpr map_scalar scalars[] = {
      {"map.major.revision", type::short_, A}, {"map.minor.revision", type::short_, A},
      {"source", type::string, S},   {"doping.level", type::short_, S}, {"model.wt", type::short_, S},
      {"error.wt", type::short_, S}, {"IMF.flag", type::short_, S},     {"IMF.delay", type::short_, S},
      {"IMF.Bx", type::double_, S},  {"IMF.By", type::double_, S},      {"IMF.Bz", type::double_, S},
      {"IMF.Vx", type::double_, S},  {"IMF.tilt", type::double_, S},    {"IMF.Kp", type::double_, S},
      {"model.angle", type::string, S}, {"model.level", type::string, S}, {"model.tilt", type::string, S},
      {"model.name", type::string, S}, {"hemisphere", type::short_, S}, {"noigrf", type::short_, S},
      {"fit.order", type::short_, S}, {"latmin", type::float_, S},      {"chi.sqr", type::double_, S},
      {"chi.sqr.dat", type::double_, S}, {"rms.err", type::double_, S}, {"lon.shft", type::float_, S},
      {"lat.shft", type::float_, S}, {"mlt.start", type::double_, S},   {"mlt.end", type::double_, S},
      {"mlt.av", type::double_, S},  {"pot.drop", type::double_, S},    {"pot.drop.err", type::double_, S},
      {"pot.max", type::double_, S}, {"pot.max.err", type::double_, S}, {"pot.min", type::double_, S},
      {"pot.min.err", type::double_, S},
  };
  for (auto const& s : scalars) {
    if (r.find_scalar_last(s.name, s.t)) continue;
    if (!required(s.required, mode)) continue;
    if (r.find_scalar(s.name))
      return fail(errc::wrong_type, fmt::format("field '{}' is not of type {}", s.name, type_name(s.t)));
    return unexpected(missing(s.name, s.t));
  }
  for (std::string_view name : {"N", "N+1", "N+2", "N+3"}) {
    auto got = maybe_array(r, name, type::double_, 1);
    if (!got) return unexpected(std::move(got.error()));
  }
  for (std::string_view name : {"model.mlat", "model.mlon", "model.kvect", "model.vel.median", "boundary.mlat",
                                "boundary.mlon"}) {
    auto got = maybe_array(r, name, type::float_, 1);
    if (!got) return unexpected(std::move(got.error()));
  }
  return v;
}

result<product> validate_record(record const& r, strictness mode) {
  auto const kind = detect_product(r);
  auto checked = [&](auto&& view) -> result<product> {
    if (!view) return unexpected(std::move(view.error()));
    return kind;
  };
  switch (kind) {
    case product::rawacf: return checked(decode_rawacf(r, mode));
    case product::fitacf: return checked(decode_fitacf(r, mode));
    case product::grid: return checked(decode_grid(r, mode));
    case product::map: return checked(decode_map(r, mode));
    case product::unknown: break;
  }
  return fail(errc::missing_field, "record is none of rawacf, fitacf, grid or map (no identifying fields)");
}

}  // namespace rstx::dmap
