// The rawacf simulator: scene -> expected ACFs/XCFs -> statistical fluctuations -> DMAP record.
// The model and its constants are documented in include/rstx/sim/simulate.hpp and docs/sim.md.
#include "rstx/sim/simulate.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "detail/portable_math.hpp"
#include "detail/random.hpp"
#include "rstx/core/time.hpp"

namespace rstx::sim {

namespace {

using detail::exp_p;
using detail::pi;
using detail::random_stream;
using detail::sincos_p;
using detail::stream_key;

constexpr double deg = pi / 180.0;
/** Earth radius for the echo geometry, km (the value RST's elevation and range code uses). */
constexpr double earth_radius_km = 6370.0;
/** Radar time to range, km per µs of round trip (c/2 rounded, the ROS convention: 300 µs = 45 km). */
constexpr double km_per_us = 0.15;
/** Default integration time, s (ROS 1-minute normalscan). */
constexpr double default_intt_s = 3.0;
/** E-region reflection height, km. */
constexpr double e_height_km = 110.0;
/** Natural log of 2 (Gaussian width constant of FITACF: w_s uses sqrt(ln 2)). */
constexpr double ln2 = 0.69314718055994530942;

// Random stream kinds: each record has its own scene and fluctuation streams, each scan one for the noise.
constexpr std::uint64_t tag_scene = 1;
constexpr std::uint64_t tag_fluct = 2;
constexpr std::uint64_t tag_scan = 3;
constexpr std::uint64_t tag_beam_noise = 4;

// Layout of generator::echo_ per gate.
enum echo_field : std::size_t { f_power, f_vel, f_width, f_sinel, f_coh, f_phase, echo_fields };

/** Beam angle from boresight, degrees, as RST computes it (elevation_v2, make_sim's bmazm). */
double beam_angle_deg(radar::site const& s, int bmnum) noexcept {
  return s.bmoff_deg + s.bmsep_deg * (bmnum - (s.maxbeam / 2.0 - 0.5));
}

/** Interferometer phase from sin(elevation) with the beam's sin/cos precomputed. */
double interferometer_phase(radar::site const& s, detail::sin_cos beam, double tfreq_khz, double sin_el,
                            double tdiff_us) noexcept {
  double const q = std::max(0.0, beam.cos * beam.cos - sin_el * sin_el);
  double const path_m = s.interferometer_m[0] * beam.sin + s.interferometer_m[1] * std::sqrt(q) +
                        s.interferometer_m[2] * sin_el;
  double const f_hz = tfreq_khz * 1e3;
  return detail::two_pi * f_hz * (path_m / speed_of_light_m_s - tdiff_us * 1e-6);
}

/** Phase wrapped into [-pi, pi). */
double wrap_phase(double x) noexcept { return x - detail::two_pi * std::floor((x + pi) / detail::two_pi); }

/** sin(elevation) of a reflection at height h seen at slant range r (see elevation_for_height_deg). */
double sin_elevation(double r_km, double h_km) noexcept {
  if (r_km <= 0.0) return 1.0;
  double const re = earth_radius_km;
  double const s = ((re + h_km) * (re + h_km) - re * re - r_km * r_km) / (2.0 * re * r_km);
  return std::clamp(s, 0.0, 1.0);
}

/** Elevation limits of the scene, degrees: no echo arrives below 3 degrees or above 60. */
constexpr double min_sin_el = 0.052335956242943835;  // sin(3 deg)
constexpr double max_sin_el = 0.86602540378443865;   // sin(60 deg)

std::string asctime_text(std::int64_t epoch_s) {
  static constexpr std::array<char const*, 7> days = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<char const*, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  auto const t = ymdhms_from_epoch(static_cast<double>(epoch_s));
  std::int64_t const day_number = (epoch_s >= 0 ? epoch_s : epoch_s - 86399) / 86400;
  auto const weekday = static_cast<std::size_t>(((day_number + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  return fmt::format("{} {} {:2d} {:02d}:{:02d}:{:02d} {}", days[weekday], months[static_cast<std::size_t>(t.month - 1)],
                     t.day, t.hour, t.minute, static_cast<int>(t.second), t.year);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool fits_short(std::int64_t v) noexcept { return v >= -32768 && v <= 32767; }

std::string_view scene_name(scene_kind k) noexcept {
  switch (k) {
    case scene_kind::ionosphere: return "ionosphere";
    case scene_kind::uniform: return "uniform";
    case scene_kind::noise_only: return "noise only";
  }
  return "?";
}

/**
 * Adds the fluctuation of an average of `nave` complex lag products with mean (re, im) and total
 * power product s12 = S1 S2: variance (s12 + |M|^2)/(2 nave) in phase with M, (s12 - |M|^2)/(2 nave)
 * in quadrature (circular complex Gaussian samples).
 */
void add_fluctuation(double& re, double& im, double s12, double inv_2nave, random_stream& rng) noexcept {
  double const m2 = re * re + im * im;
  double const sd_par = std::sqrt((s12 + m2) * inv_2nave);
  double const sd_perp = std::sqrt(std::max(0.0, s12 - m2) * inv_2nave);
  double const a = rng.normal() * sd_par;
  double const b = rng.normal() * sd_perp;
  if (m2 > 0.0) {
    double const m = std::sqrt(m2);
    double const c = re / m, s = im / m;
    re += a * c - b * s;
    im += a * s + b * c;
  } else {
    re += a;
    im += b;
  }
}

}  // namespace

double interferometer_phase_rad(radar::site const& site, int bmnum, double tfreq_khz, double elevation_deg,
                                double tdiff_us) noexcept {
  auto const beam = sincos_p(beam_angle_deg(site, bmnum) * deg);
  return interferometer_phase(site, beam, tfreq_khz, detail::sin_p(elevation_deg * deg), tdiff_us);
}

double elevation_for_height_deg(double slant_range_km, double virtual_height_km) noexcept {
  return detail::asin_p(sin_elevation(slant_range_km, virtual_height_km)) / deg;
}

result<radar::site> load_site(int stid, double epoch, std::string const& radar_dat, std::string const& hdw_dir) {
  auto table = radar_dat.empty() ? radar::radar_table::from_environment() : radar::radar_table::load(radar_dat);
  if (!table) return unexpected(std::move(table.error()));
  auto entry = table->load_hardware(stid, hdw_dir);
  if (!entry) return unexpected(std::move(entry.error()));
  auto s = entry->site_at(epoch);
  if (!s) return unexpected(std::move(s.error()));
  return s;
}

result<generator> generator::create(sim_options const& opt, radar::site const& site) {
  auto bad = [](std::string what) { return fail(errc::invalid_argument, std::move(what)); };
  generator g;
  g.opt_ = opt;
  g.site_ = site;
  auto& o = g.opt_;

  auto seq = sequence_by_name(o.sequence);
  if (!seq) return unexpected(std::move(seq.error()));
  g.seq_ = std::move(*seq);

  if (site.stid != o.stid)
    return bad(fmt::format("the hardware given is for station {}, not station {}", site.stid, o.stid));
  if (o.beams.empty()) {
    if (site.maxbeam <= 0) return bad(fmt::format("station {} has no beams (maxbeam {})", o.stid, site.maxbeam));
    for (int b = 0; b < site.maxbeam; ++b) o.beams.push_back(b);
  }
  for (int b : o.beams)
    if (b < 0 || b >= site.maxbeam)
      return bad(fmt::format("beam {} does not exist: station {} has beams 0-{}", b, o.stid, site.maxbeam - 1));
  if (!(o.nrang >= 1 && o.nrang <= 5000)) return bad(fmt::format("nrang {} is outside 1-5000", o.nrang));
  if (!(o.rsep_km >= 1 && o.rsep_km <= 1000)) return bad(fmt::format("rsep {} km is outside 1-1000", o.rsep_km));
  if (!(o.frang_km >= 0 && o.frang_km <= 5000)) return bad(fmt::format("frang {} km is outside 0-5000", o.frang_km));
  if (!(o.tfreq_khz >= 1000 && o.tfreq_khz <= 32767))
    return bad(fmt::format("tfreq {} kHz is outside 1000-32767", o.tfreq_khz));
  if (!(std::isfinite(o.noise) && o.noise > 0.0)) return bad(fmt::format("noise {} must be positive", o.noise));
  if (!(std::isfinite(o.duration_s) && o.duration_s >= 0.0 && o.duration_s <= 1e9))
    return bad(fmt::format("duration {} s is outside 0-1e9", o.duration_s));
  if (!(std::isfinite(o.scan_s) && o.scan_s > 0.0 && o.scan_s <= 86400.0))
    return bad(fmt::format("scan period {} s is outside (0, 86400]", o.scan_s));
  if (!std::isfinite(o.start_epoch) || std::fabs(o.start_epoch) > 1e11)
    return bad(fmt::format("start time {} is not a usable epoch", o.start_epoch));
  if (o.channel < 0 || o.channel > 2) return bad(fmt::format("channel {} is not 0, 1 or 2", o.channel));
  if (!fits_short(o.offset_us)) return bad(fmt::format("offset {} µs does not fit a short", o.offset_us));
  if (o.cp != -1 && !fits_short(o.cp)) return bad(fmt::format("cp {} does not fit a short", o.cp));

  // Timing: explicit values or derived ones, then consistency with the sampling that FITACF assumes.
  if (o.mpinc_us == 0) o.mpinc_us = g.seq_.mpinc_us;
  if (o.smsep_us == 0) o.smsep_us = static_cast<int>(std::lround(o.rsep_km / km_per_us));
  if (o.txpl_us == 0) o.txpl_us = o.smsep_us;
  if (o.lagfr_us == 0) o.lagfr_us = static_cast<int>(std::lround(o.frang_km / km_per_us));
  if (o.cp == -1) o.cp = g.seq_.cp;
  for (auto [name, v] : {std::pair{"mpinc", o.mpinc_us}, std::pair{"smsep", o.smsep_us}, std::pair{"txpl", o.txpl_us},
                         std::pair{"lagfr", o.lagfr_us}})
    if (v <= 0 || v > 32767) return bad(fmt::format("{} {} µs is outside 1-32767", name, v));
  if (o.mpinc_us % o.smsep_us != 0)
    return bad(fmt::format("mpinc {} µs is not a multiple of smsep {} µs (FITACF indexes samples by mpinc/smsep)",
                           o.mpinc_us, o.smsep_us));

  std::int64_t const nbeams = static_cast<std::int64_t>(o.beams.size());
  g.scan_us_ = std::llround(o.scan_s * 1e6);
  g.dwell_us_ = o.beam_dwell_s > 0.0 ? std::llround(o.beam_dwell_s * 1e6) : g.scan_us_ / nbeams;
  if (!(o.beam_dwell_s >= 0.0) || g.dwell_us_ <= 0 || g.dwell_us_ * nbeams > g.scan_us_)
    return bad(fmt::format("{} beams of {} s do not fit in a {} s scan", nbeams, g.dwell_us_ / 1e6, o.scan_s));
  std::int64_t const intt_us = o.intt_s > 0.0 ? std::llround(o.intt_s * 1e6)
                                              : std::min<std::int64_t>(std::llround(default_intt_s * 1e6), g.dwell_us_);
  if (!(o.intt_s >= 0.0) || intt_us > g.dwell_us_)
    return bad(fmt::format("integration time {} s is longer than the beam dwell {} s", intt_us / 1e6, g.dwell_us_ / 1e6));
  o.intt_s = static_cast<double>(intt_us) / 1e6;
  o.beam_dwell_s = static_cast<double>(g.dwell_us_) / 1e6;
  if (o.nave == 0) {
    std::int64_t const seq_us = std::int64_t{g.seq_.ptab.back()} * o.mpinc_us + o.lagfr_us + std::int64_t{o.nrang} * o.smsep_us;
    o.nave = static_cast<int>(std::clamp<std::int64_t>(intt_us / seq_us, 1, 32767));
  }
  if (o.nave < 1 || o.nave > 32767) return bad(fmt::format("nave {} is outside 1-32767", o.nave));

  if (o.scene.kind == scene_kind::uniform) {
    auto const& u = o.scene.uniform;
    if (!(u.coherence >= 0.0 && u.coherence <= 1.0)) return bad("uniform echo coherence must lie in [0, 1]");
    if (!(u.width_m_s >= 0.0 && std::isfinite(u.width_m_s))) return bad("uniform echo width must be >= 0");
    if (!(u.elevation_deg >= 0.0 && u.elevation_deg < 90.0)) return bad("uniform echo elevation must lie in [0, 90)");
    if (!std::isfinite(u.snr_db) || !std::isfinite(u.velocity_m_s)) return bad("uniform echo SNR and velocity must be finite");
  }

  // Record count: every beam slot that starts before start + duration.
  std::int64_t const dur_us = std::llround(o.duration_s * 1e6);
  g.start_us_ = std::llround(o.start_epoch * 1e6);
  g.total_scans_ = (dur_us + g.scan_us_ - 1) / g.scan_us_;
  if (g.total_scans_ > 0) {
    std::int64_t const last_start = (g.total_scans_ - 1) * g.scan_us_;
    std::int64_t in_last = 0;
    while (in_last < nbeams && last_start + in_last * g.dwell_us_ < dur_us) ++in_last;
    g.total_records_ = (g.total_scans_ - 1) * nbeams + in_last;
  }

  g.tdiff_us_ = (o.offset_us == 0 || o.channel < 2) ? site.tdiff_us[0] : site.tdiff_us[1];
  g.lambda_m_ = speed_of_light_m_s / (o.tfreq_khz * 1e3);

  // Lag rows -> pulse indices and lag times.
  int const mplgs = g.seq_.mplgs();
  for (auto& v : g.lag_pulse_) v.assign(static_cast<std::size_t>(mplgs), 0);
  g.lag_tau_s_.assign(static_cast<std::size_t>(mplgs), 0.0);
  for (int k = 0; k < mplgs; ++k) {
    for (int n = 0; n < 2; ++n) {
      auto const it = std::find(g.seq_.ptab.begin(), g.seq_.ptab.end(), g.seq_.ltab[static_cast<std::size_t>(2 * k + n)]);
      if (it == g.seq_.ptab.end()) return fail(errc::internal, fmt::format("lag row {} names a pulse not in the table", k));
      g.lag_pulse_[n][static_cast<std::size_t>(k)] = static_cast<int>(it - g.seq_.ptab.begin());
    }
    g.lag_tau_s_[static_cast<std::size_t>(k)] = g.seq_.lag_number(k) * o.mpinc_us * 1e-6;
  }

  // Parameter block: everything that is the same in every record.
  auto& p = g.prm_;
  p.revision_major = 1;
  p.revision_minor = 0;
  p.origin_code = 1;  // not produced at a radar site (as RST's make_sim)
  p.origin_time = asctime_text(floor_div(g.start_us_, 1000000));
  p.origin_command = fmt::format("rstx sim --station {} --sequence {} --seed {}", o.stid, g.seq_.name, o.seed);
  p.cp = static_cast<std::int16_t>(o.cp);
  p.stid = static_cast<std::int16_t>(o.stid);
  p.txpow = 9000;
  p.atten = 0;
  p.lagfr = static_cast<std::int16_t>(o.lagfr_us);
  p.smsep = static_cast<std::int16_t>(o.smsep_us);
  p.channel = static_cast<std::int16_t>(o.channel);
  p.offset = static_cast<std::int16_t>(o.offset_us);
  p.rxrise = static_cast<std::int16_t>(std::clamp(std::lround(site.recrise_us), 0L, 32767L));
  p.intt_sc = static_cast<std::int16_t>(intt_us / 1000000);
  p.intt_us = static_cast<std::int32_t>(intt_us % 1000000);
  p.txpl = static_cast<std::int16_t>(o.txpl_us);
  p.mpinc = static_cast<std::int16_t>(o.mpinc_us);
  p.mppul = static_cast<std::int16_t>(g.seq_.ptab.size());
  p.mplgs = static_cast<std::int16_t>(mplgs);
  p.mplgexs = 0;
  p.ifmode = 0;
  p.nrang = static_cast<std::int16_t>(o.nrang);
  p.frang = static_cast<std::int16_t>(o.frang_km);
  p.rsep = static_cast<std::int16_t>(o.rsep_km);
  p.xcf = o.xcf ? 1 : 0;
  p.tfreq = static_cast<std::int16_t>(o.tfreq_khz);
  p.mxpwr = 1070000000;  // as RST's make_sim
  p.lvmax = 20000;
  p.combf = fmt::format("rstx sim: {} scene, {} ACFs, {}{}", scene_name(o.scene.kind),
                        o.width == width_model::lorentzian ? "Lorentzian" : "Gaussian",
                        o.integer_values ? "integer values" : "float values",
                        o.fluctuations ? "" : ", no fluctuations");
  p.ptab = g.seq_.ptab;
  p.ltab = g.seq_.ltab;

  auto const nr = static_cast<std::size_t>(o.nrang);
  g.slist_.resize(nr);
  for (std::size_t i = 0; i < nr; ++i) g.slist_[i] = static_cast<std::int16_t>(i);
  g.echo_.assign(nr * echo_fields, 0.0);
  g.clutter_.assign(g.seq_.ptab.size() * nr, 0.0);
  g.pwr0_.assign(nr, 0.0F);
  g.acfd_.assign(nr * static_cast<std::size_t>(mplgs) * 2, 0.0F);
  g.xcfd_.assign(o.xcf ? g.acfd_.size() : 0, 0.0F);
  g.truth_scratch_.assign(nr, gate_truth{});
  return g;
}

record_info generator::info(std::int64_t index) const {
  RSTX_ASSERT(index >= 0 && index < total_records_);
  auto const nb = static_cast<std::int64_t>(opt_.beams.size());
  record_info r;
  r.index = index;
  r.scan = index / nb;
  r.position = static_cast<int>(index % nb);
  r.bmnum = opt_.beams[static_cast<std::size_t>(r.position)];
  std::int64_t const t_us = start_us_ + r.scan * scan_us_ + r.position * dwell_us_;
  std::int64_t const t_s = floor_div(t_us, 1000000);
  r.epoch = static_cast<double>(t_s) + static_cast<double>(t_us - t_s * 1000000) / 1e6;
  r.nave = opt_.nave;
  // Noise: the ionosphere scene lets it drift slowly from scan to scan (period 97 scans) and
  // scatter by 5 % per scan and per beam; the other scenes keep it constant.
  r.noise = opt_.noise;
  if (opt_.scene.kind == scene_kind::ionosphere) {
    random_stream scan_rng(stream_key(opt_.seed, tag_scan, static_cast<std::uint64_t>(r.scan)));
    double const drift = 1.0 + opt_.scene.ionosphere.noise_variation * detail::sin_p(detail::two_pi * static_cast<double>(r.scan) / 97.0);
    double n = opt_.noise * drift * (1.0 + 0.05 * scan_rng.normal());
    random_stream beam_rng(stream_key(opt_.seed, tag_beam_noise, static_cast<std::uint64_t>(index)));
    n *= 1.0 + 0.05 * beam_rng.normal();
    r.noise = std::max(n, 0.05 * opt_.noise);
  }
  return r;
}

bool generator::next(dmap::record& out, std::vector<gate_truth>* truth, record_info* info_out) {
  if (done()) return false;
  auto const r = make_record(next_, out, truth);
  ++next_;
  if (info_out != nullptr) *info_out = r;
  return true;
}

record_info generator::make_record(std::int64_t index, dmap::record& out, std::vector<gate_truth>* truth) {
  record_info const ri = info(index);
  auto const& o = opt_;
  auto const nr = static_cast<std::size_t>(o.nrang);
  int const mplgs = seq_.mplgs();
  auto const nlag = static_cast<std::size_t>(mplgs);
  double const noise = ri.noise;
  double const th_s = static_cast<double>(ri.epoch - static_cast<double>(start_us_) / 1e6);
  double const vdir = site_.vdir < 0.0 ? -1.0 : 1.0;
  double const xcf_sign = site_.phidiff < 0.0 ? -1.0 : 1.0;  // phidiff 0 (no interferometer): keep psi
  double const beam_deg = beam_angle_deg(site_, ri.bmnum);
  double const azimuth_deg = site_.boresight_deg + beam_deg;
  auto const beam_sc = sincos_p(beam_deg * deg);

  // ---- scene: one echo (or none) per gate ----
  random_stream scene_rng(stream_key(o.seed, tag_scene, static_cast<std::uint64_t>(index)));
  std::fill(echo_.begin(), echo_.end(), 0.0);
  auto& tr = truth_scratch_;
  std::fill(tr.begin(), tr.end(), gate_truth{});
  auto set_echo = [&](std::size_t gate, echo_kind kind, double snr_db, double vel, double width, double sin_el,
                      double coherence) {
    double* e = &echo_[gate * echo_fields];
    sin_el = std::clamp(sin_el, min_sin_el, max_sin_el);
    e[f_power] = noise * detail::from_db(snr_db);
    e[f_vel] = vel;
    e[f_width] = width;
    e[f_sinel] = sin_el;
    e[f_coh] = coherence;
    e[f_phase] = interferometer_phase(site_, beam_sc, o.tfreq_khz, sin_el, tdiff_us_);
    tr[gate] = gate_truth{kind,
                          static_cast<float>(e[f_power]),
                          static_cast<float>(snr_db),
                          static_cast<float>(vel),
                          static_cast<float>(width),
                          static_cast<float>(detail::asin_p(sin_el) / deg),
                          static_cast<float>(wrap_phase(e[f_phase])),
                          static_cast<float>(coherence)};
  };

  if (o.scene.kind == scene_kind::uniform) {
    auto const& u = o.scene.uniform;
    double const sin_el = detail::sin_p(u.elevation_deg * deg);
    std::size_t const first = u.first_gate < 0 ? nr / 3 : static_cast<std::size_t>(u.first_gate);
    for (std::size_t gi = first; gi < nr; ++gi)
      set_echo(gi, echo_kind::uniform, u.snr_db, u.velocity_m_s, u.width_m_s, sin_el, u.coherence);
  } else if (o.scene.kind == scene_kind::ionosphere) {
    auto const& io = o.scene.ionosphere;
    double const hours = th_s / 3600.0;
    double const b = static_cast<double>(ri.bmnum);
    double const tau2 = detail::two_pi;
    // F-region band edges (km): drift with time and beam.
    double const r1 = 1440.0 + 360.0 * detail::sin_p(tau2 * hours / 1.7 + b / 5.0) + 135.0 * detail::sin_p(b / 2.3);
    double const r2 = r1 + 1125.0 + 450.0 * detail::cos_p(tau2 * hours / 2.3 + b / 7.0);
    double const mid = 0.5 * (r1 + r2), half = 0.5 * (r2 - r1);
    double const h_f = io.f_virtual_height_km + 40.0 * detail::sin_p(tau2 * hours / 3.0 + b / 6.0);
    // Straight-line virtual height: beyond ~800 km the rays bend down through the F layer, which a
    // straight-line geometry represents by a virtual height growing with range (keeps far echoes at
    // the low but positive elevations that radars observe instead of below the horizon).
    auto f_height = [h_f](double r_km) { return h_f + 0.3 * std::max(0.0, r_km - 800.0); };
    // Convection: a flow whose direction turns with time; the radar sees its line-of-sight part.
    double const flow_dir = tau2 * th_s / io.flow_rotation_period_s;
    double const los = -detail::cos_p(flow_dir - azimuth_deg * deg);  // toward the radar is positive
    for (std::size_t gi = 0; gi < nr; ++gi) {
      double const r = o.frang_km + o.rsep_km * static_cast<double>(gi);
      if (io.f_region && r >= r1 && r <= r2 && scene_rng.chance(0.85)) {
        double const shape = std::max(0.0, 1.0 - std::fabs(r - mid) / (half + o.rsep_km));
        double const snr = 3.0 + (io.peak_snr_db - 3.0) * shape + scene_rng.normal(0.0, 3.0);
        double const speed = io.flow_speed_m_s * (0.75 + 0.25 * detail::sin_p(r / 405.0));
        double const vel = speed * los + scene_rng.normal(0.0, 40.0);
        double const width = std::max(15.0, 170.0 + 90.0 * detail::sin_p(r / 315.0 + hours) + scene_rng.normal(0.0, 35.0));
        set_echo(gi, echo_kind::f_region, snr, vel, width, sin_elevation(r, f_height(r)), scene_rng.uniform(0.8, 0.95));
      } else if (io.ground_scatter && r >= 540.0 && r <= 1170.0 && ri.bmnum % 5 != 2 && scene_rng.chance(0.55)) {
        // Near-range one-hop ground scatter, propagated via the E layer: the elevation is that of
        // a reflection at E-region height half-way, at slant range r/2.
        double const snr = scene_rng.uniform(6.0, 20.0);
        double const vel = scene_rng.normal(0.0, 12.0);
        double const width = std::max(3.0, scene_rng.normal(20.0, 10.0));
        set_echo(gi, echo_kind::ground, snr, vel, width, sin_elevation(0.5 * r, e_height_km), scene_rng.uniform(0.8, 0.95));
      } else if (io.e_region && r >= 315.0 && r <= 630.0 && scene_rng.chance(0.25)) {
        double const snr = scene_rng.uniform(3.0, 15.0);
        double const vel = scene_rng.normal(0.0, 300.0);
        double const width = std::max(20.0, scene_rng.normal(250.0, 80.0));
        set_echo(gi, echo_kind::e_region, snr, vel, width, sin_elevation(r, e_height_km), scene_rng.uniform(0.8, 0.95));
      } else if (io.sporadic && scene_rng.chance(0.03)) {
        double const snr = scene_rng.uniform(0.0, 6.0);
        double const vel = scene_rng.normal(0.0, 400.0);
        double const width = std::max(20.0, scene_rng.normal(200.0, 100.0));
        set_echo(gi, echo_kind::sporadic, snr, vel, width, sin_elevation(r, f_height(r)), scene_rng.uniform(0.8, 0.95));
      }
    }
  }
  for (auto& t : tr)
    if (t.kind == echo_kind::none) t.snr_db = -std::numeric_limits<float>::infinity();

  // ---- total power seen through each pulse: noise + own echo (+ echoes of the other pulses) ----
  auto const npul = seq_.ptab.size();
  int const tau_samples = o.mpinc_us / o.smsep_us;
  for (std::size_t j = 0; j < npul; ++j) {
    double* s = &clutter_[j * nr];
    for (std::size_t gi = 0; gi < nr; ++gi) s[gi] = noise + echo_[gi * echo_fields + f_power];
    if (!o.self_clutter) continue;
    for (std::size_t q = 0; q < npul; ++q) {
      if (q == j) continue;
      std::int64_t const shift = std::int64_t{seq_.ptab[j] - seq_.ptab[q]} * tau_samples;
      for (std::size_t gi = 0; gi < nr; ++gi) {
        std::int64_t const src = static_cast<std::int64_t>(gi) + shift;
        if (src >= 0 && src < static_cast<std::int64_t>(nr)) s[gi] += echo_[static_cast<std::size_t>(src) * echo_fields + f_power];
      }
    }
  }

  // ---- expected ACF/XCF, fluctuations, output arrays ----
  random_stream fl(stream_key(o.seed, tag_fluct, static_cast<std::uint64_t>(index)));
  double const inv_2nave = 1.0 / (2.0 * ri.nave);
  double const k_decay_l = detail::two_pi / lambda_m_;                       // Lorentzian: rho = exp(-k w tau)
  double const k_decay_g = (pi / lambda_m_) * (pi / lambda_m_) / ln2;        // Gaussian: rho = exp(-k (w tau)^2)
  double const k_phase = 4.0 * pi / lambda_m_ * vdir;                        // Doppler: phase = k v tau
  bool const gaussian = o.width == width_model::gaussian;
  for (std::size_t gi = 0; gi < nr; ++gi) {
    double const* e = &echo_[gi * echo_fields];
    double const power = e[f_power];
    detail::sin_cos const xrot = power > 0.0 ? sincos_p(xcf_sign * e[f_phase]) : detail::sin_cos{};
    float* acf = &acfd_[gi * nlag * 2];
    float* xcf = o.xcf ? &xcfd_[gi * nlag * 2] : nullptr;
    for (std::size_t k = 0; k < nlag; ++k) {
      double const tau = lag_tau_s_[k];
      double const s1 = clutter_[static_cast<std::size_t>(lag_pulse_[0][k]) * nr + gi];
      double const s2 = clutter_[static_cast<std::size_t>(lag_pulse_[1][k]) * nr + gi];
      double sig_re = 0.0, sig_im = 0.0;  // signal part of the correlation at this lag
      if (power > 0.0) {
        if (tau == 0.0) {
          sig_re = power;
        } else {
          double const wt = e[f_width] * tau;
          double const rho = gaussian ? exp_p(-k_decay_g * wt * wt) : exp_p(-k_decay_l * wt);
          auto const ph = sincos_p(k_phase * e[f_vel] * tau);
          sig_re = power * rho * ph.cos;
          sig_im = power * rho * ph.sin;
        }
      }
      // ACF: at lag 0 the mean is the whole power S1 (noise and clutter included).
      double are = tau == 0.0 ? s1 : sig_re;
      double aim = tau == 0.0 ? 0.0 : sig_im;
      if (o.fluctuations) add_fluctuation(are, aim, s1 * s2, inv_2nave, fl);
      if (tau == 0.0) are = std::fabs(are);  // a power; negative only in a >5 sigma draw for nave ~ 30
      acf[2 * k] = static_cast<float>(are);
      acf[2 * k + 1] = static_cast<float>(aim);
      if (xcf != nullptr) {
        double const c = e[f_coh];
        double xre = c * (sig_re * xrot.cos - sig_im * xrot.sin);
        double xim = c * (sig_re * xrot.sin + sig_im * xrot.cos);
        if (o.fluctuations) add_fluctuation(xre, xim, s1 * s2, inv_2nave, fl);
        xcf[2 * k] = static_cast<float>(xre);
        xcf[2 * k + 1] = static_cast<float>(xim);
      }
    }
    if (o.integer_values) {
      for (std::size_t k = 0; k < 2 * nlag; ++k) acf[k] = std::round(acf[k]);
      if (xcf != nullptr)
        for (std::size_t k = 0; k < 2 * nlag; ++k) xcf[k] = std::round(xcf[k]);
      if (lag_tau_s_[0] == 0.0 && acf[0] < 1.0F) acf[0] = 1.0F;  // pwr0 == 0 would mean "no data" to FITACF
    }
    pwr0_[gi] = acf[0];
  }

  // ---- the record, in RST's RawEncode order ----
  auto& p = prm_;
  std::int64_t const t_us = start_us_ + ri.scan * scan_us_ + ri.position * dwell_us_;
  std::int64_t const t_s = floor_div(t_us, 1000000);
  auto const t = ymdhms_from_epoch(static_cast<double>(t_s));
  p.year = static_cast<std::int16_t>(t.year);
  p.month = static_cast<std::int16_t>(t.month);
  p.day = static_cast<std::int16_t>(t.day);
  p.hour = static_cast<std::int16_t>(t.hour);
  p.minute = static_cast<std::int16_t>(t.minute);
  p.second = static_cast<std::int16_t>(t.second);
  p.microsecond = static_cast<std::int32_t>(t_us - t_s * 1000000);
  p.nave = static_cast<std::int16_t>(ri.nave);
  p.noise_search = static_cast<float>(noise);
  p.noise_mean = static_cast<float>(noise);
  p.bmnum = static_cast<std::int16_t>(ri.bmnum);
  p.bmazm = static_cast<float>(azimuth_deg);
  p.scan = ri.position == 0 ? 1 : 0;

  out.clear();
  dmap::encode_radar_parms_scalars(p, out);
  out.add_scalar<std::int32_t>("rawacf.revision.major", 1);
  out.add_scalar<std::int32_t>("rawacf.revision.minor", 0);
  out.add_scalar<float>("thr", 0.0F);
  dmap::encode_radar_parms_arrays(p, out);
  out.add_array<std::int16_t>("slist", slist_);
  out.add_array<float>("pwr0", pwr0_);
  std::int32_t const dims[3] = {2, mplgs, o.nrang};
  out.add_array<float>("acfd", dims, std::span<float const>(acfd_));
  if (o.xcf) out.add_array<float>("xcfd", dims, std::span<float const>(xcfd_));

  if (truth != nullptr) truth->assign(tr.begin(), tr.end());
  return ri;
}

result<sim_summary> simulate(sim_options const& opt, radar::site const& site, record_sink const& sink) {
  auto gen = generator::create(opt, site);
  if (!gen) return unexpected(std::move(gen.error()));
  sim_summary sum;
  sum.scans = gen->total_scans();
  dmap::record rec;
  std::vector<gate_truth> truth;
  record_info ri;
  while (gen->next(rec, &truth, &ri)) {
    if (sum.records == 0) sum.first_epoch = ri.epoch;
    sum.last_epoch = ri.epoch;
    ++sum.records;
    sum.bytes += rec.encoded_size();
    if (auto s = sink(rec, ri, truth); !s) return unexpected(std::move(s.error()));
  }
  return sum;
}

result<sim_summary> simulate(sim_options const& opt, radar::site const& site, dmap::writer& out) {
  return simulate(opt, site, [&out](dmap::record const& r, record_info const&, std::span<gate_truth const>) {
    return out.write(r);
  });
}

}  // namespace rstx::sim
