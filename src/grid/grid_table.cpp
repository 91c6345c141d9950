#include "rstx/grid/grid_table.hpp"

#include <algorithm>
#include <cmath>

#include "rstx/core/numeric.hpp"
#include "rstx/core/time.hpp"

namespace rstx::grid {

namespace {

constexpr double pi = 3.14159265358979323846;  // rmath.h PI
constexpr double earth_radius_km = 6371.2;     // rmath.h RE
constexpr double v_e_min = 100.0;              // gtable.c: errors are floored before weighting
constexpr double p_l_e_min = 1.0;
constexpr double w_l_e_min = 1.0;
constexpr std::int16_t major_revision = 2;     // gtable.h
constexpr std::int16_t minor_revision = 0;

double cosd(double deg) { return std::cos(pi * (deg) / 180.0); }
double sind(double deg) { return std::sin(pi * (deg) / 180.0); }

}  // namespace

bool grid_table::interval_complete(radar_scan const& scan) {
  double const tm = (scan.st_time + scan.ed_time) / 2.0;
  if (st_time_ == -1) return false;
  if (!(tm > ed_time_)) return false;
  average();
  return true;
}

bool grid_table::flush() {
  if (st_time_ == -1 || status_ == 0) return false;
  average();
  return true;
}

void grid_table::average() {
  npnt_ = 0;
  freq_ = freq_ / nscan_;
  noise_mean_ = noise_mean_ / nscan_;
  noise_sd_ = noise_sd_ / nscan_;
  for (auto& c : cells_) {
    if (c.cnt == 0) continue;
    if (c.cnt <= (0.25 * nscan_ * c.max)) {  // seen in too few of the interval's scans
      c.cnt = 0;
      continue;
    }
    ++npnt_;
    c.vel_n = c.vel_n / c.vel_sd;
    c.vel_e = c.vel_e / c.vel_sd;
    c.vel_median = std::sqrt(c.vel_n * c.vel_n + c.vel_e * c.vel_e);
    c.azm = std::atan2(c.vel_e, c.vel_n) * 180. / std::acos(-1.);
    c.wdt_median = c.wdt_median / c.wdt_sd;
    c.pwr_median = c.pwr_median / c.pwr_sd;
    c.vel_sd = 1 / std::sqrt(c.vel_sd);
    c.wdt_sd = 1 / std::sqrt(c.wdt_sd);
    c.pwr_sd = 1 / std::sqrt(c.pwr_sd);
  }
  status_ = 0;
}

namespace {

/** What fixes a beam's geometry (GridTableAddBeam compares the same four values). */
radar::beam_layout layout_of(radar_beam const& b) noexcept { return {b.bm, b.frang, b.rsep, b.nrang}; }

}  // namespace

std::optional<std::size_t> grid_table::find_geometry(radar::beam_layout const& layout) const noexcept {
  for (std::size_t i = 0; i < geometries_.size(); ++i)
    if (geometries_[i].layout == layout) return i;
  return std::nullopt;
}

result<void> grid_table::add_new_geometries(radar_scan const& scan, radar::site const& site, geolocation const& geo,
                                            double scan_centre) {
  // The new beam geometries of the scan (GridTableAddBeam), geolocated together; they are then
  // added in the scan's beam order, which fixes the order of new cells as in RST.
  std::vector<radar::beam_layout> layouts;
  for (auto const& b : scan.beams) {
    if (b.bm == -1) continue;
    auto const layout = layout_of(b);
    if (!find_geometry(layout) && std::find(layouts.begin(), layouts.end(), layout) == layouts.end())
      layouts.push_back(layout);
  }
  if (layouts.empty()) return {};
  // IGRF at the integer year of this scan's centre.
  int const year = ymdhms_from_epoch(scan_centre).year;
  auto igrf = geo.igrf(year);
  if (!igrf) return unexpected(std::move(igrf.error()));
  auto gates = radar::beams_gate_coordinates(site, layouts, map_.altitude_km, map_.model, **igrf, *geo.aacgm, map_.pool);
  if (!gates) return unexpected(std::move(gates.error()));
  for (std::size_t i = 0; i < layouts.size(); ++i) add_geometry(layouts[i], site, (*gates)[i]);
  return {};
}

void grid_table::add_geometry(radar::beam_layout const& layout, radar::site const& site,
                              std::vector<radar::gate_coordinates> const& gates) {
  double const velco = (2 * pi / 86400.0) * earth_radius_km * 1000 * std::cos(pi * site.geo_lat_deg / 180.0);

  beam_geometry g;
  g.layout = layout;
  auto const nrang = static_cast<std::size_t>(layout.nrang);
  g.cell_index.resize(nrang);
  g.azm.resize(nrang);
  g.cos_azm.resize(nrang);
  g.sin_azm.resize(nrang);
  g.ival.resize(nrang);
  for (std::size_t r = 0; r < gates.size(); ++r) {
    auto const& gc = gates[r];
    double const lat = gc.mlat_deg;
    double lon = gc.mlon_deg;
    double azm = gc.mag_azimuth_deg;
    if (azm < 0.) azm += 360.;
    if (lon < 0) lon += 360;
    // Cells are 1° of latitude tall and round(360·cos(lat)) to a band; the float rounding of
    // the cell centre is part of RST's cell definition.
    // C's (int) casts as RST's binary performs them (a NaN position gives INT_MIN, not undefined behaviour).
    auto const as_int = [](double v) { return x86_double_to_int(v); };
    float const grdlat = lat > 0 ? static_cast<float>(as_int(lat) + 0.5) : static_cast<float>(as_int(lat) - 0.5);
    double const lspc = (as_int(360 * std::cos(std::fabs(grdlat) * pi / 180) + 0.5)) / (360.0);
    float const grdlon = static_cast<float>((as_int(lon * lspc) + 0.5) / lspc);
    int const ref = lat > 0 ? wrapping_add(wrapping_mul(1000, as_int(lat)), as_int(lon * lspc))
                            : wrapping_sub(wrapping_mul(-1000, as_int(-lat)), as_int(lon * lspc));
    auto [it, added] = cell_of_ref_.try_emplace(ref, cells_.size());
    if (added) cells_.push_back(cell{});
    auto& c = cells_[it->second];
    c.ref = ref;
    c.max++;
    c.mlat = grdlat;
    c.mlon = grdlon;
    g.cell_index[r] = static_cast<int>(it->second);
    g.azm[r] = azm;
    g.cos_azm[r] = cosd(azm);  // the same calls add_scan made for every cell of every scan
    g.sin_azm[r] = sind(azm);
    g.ival[r] = velco * std::cos(pi * (90 + gc.geo_azimuth_deg) / 180.0);
  }
  geometries_.push_back(std::move(g));
}

result<void> grid_table::add_scan(radar_scan const& scan, radar::site const& site, geolocation const& geo) {
  double const tm = (scan.st_time + scan.ed_time) / 2.0;
  if (status_ == 0) {
    status_ = 1;
    noise_mean_ = 0;
    noise_sd_ = 0;
    freq_ = 0;
    nscan_ = 0;
    for (auto& c : cells_) {  // GridTableZero: keeps ref, max, mlat, mlon
      c.azm = 0;
      c.vel_n = c.vel_e = c.vel_sd = 0;
      c.pwr_median = c.pwr_sd = 0;
      c.wdt_median = c.wdt_sd = 0;
      c.cnt = 0;
    }
    // Intervals start at the scan's start time, not a multiple of -i (RST left that line out).
    st_time_ = scan.st_time;
    ed_time_ = st_time_ + map_.interval_s;
    st_id_ = scan.stid;
  }
  if (auto added = add_new_geometries(scan, site, geo, tm); !added) return added;
  for (auto const& b : scan.beams) {
    if (b.bm == -1) continue;
    auto const& g = geometries_[*find_geometry(layout_of(b))];
    for (std::size_t r = 0; r < static_cast<std::size_t>(b.nrang); ++r) {
      if (b.sct[r] == 0) continue;
      auto const& rc = b.rng[r];
      double v_e = rc.v_e, p_l_e = rc.p_l_e, w_l_e = rc.w_l_e;
      if (v_e < v_e_min) v_e = v_e_min;  // "less than": a NaN error stays NaN, as in RST
      if (p_l_e < p_l_e_min) p_l_e = p_l_e_min;
      if (w_l_e < w_l_e_min) w_l_e = w_l_e_min;
      auto& c = cells_[static_cast<std::size_t>(g.cell_index[r])];
      double const azm = g.azm[r];
      c.azm += azm;
      if (map_.inertial) {
        c.vel_n += -(rc.v + g.ival[r]) * 1 / (v_e * v_e) * g.cos_azm[r];
        c.vel_e += -(rc.v + g.ival[r]) * 1 / (v_e * v_e) * g.sin_azm[r];
      } else {
        c.vel_n += -rc.v * g.cos_azm[r] / (v_e * v_e);
        c.vel_e += -rc.v * g.sin_azm[r] / (v_e * v_e);
      }
      c.pwr_median += rc.p_l * 1 / (p_l_e * p_l_e);
      c.wdt_median += rc.w_l * 1 / (w_l_e * w_l_e);
      c.vel_sd += 1 / (v_e * v_e);
      c.pwr_sd += 1 / (p_l_e * p_l_e);
      c.wdt_sd += 1 / (w_l_e * w_l_e);
      c.cnt++;
    }
  }
  double freq = 0, noise = 0, variance = 0;
  int cnt = 0;
  for (auto const& b : scan.beams) {
    if (b.bm == -1) continue;
    prog_id_ = b.cpid;
    freq += b.freq;
    noise += b.noise;
    cnt++;
  }
  freq = freq / cnt;
  noise = noise / cnt;
  for (auto const& b : scan.beams) {
    if (b.bm == -1) continue;
    variance += (b.noise - noise) * (b.noise - noise);
  }
  noise_mean_ += noise;
  noise_sd_ += std::sqrt(variance / cnt);
  freq_ += freq;
  nscan_++;
  return {};
}

dmap::record grid_table::to_record() const {
  std::vector<cell const*> written;
  for (auto const& c : cells_)
    if (c.cnt != 0) written.push_back(&c);
  auto const start = ymdhms_from_epoch(st_time_);
  auto const end = ymdhms_from_epoch(ed_time_);
  dmap::record r;
  auto add_time = [&](char const* prefix, ymdhms const& t) {
    std::string const p = prefix;
    r.add_scalar<std::int16_t>(p + ".year", static_cast<std::int16_t>(t.year));
    r.add_scalar<std::int16_t>(p + ".month", static_cast<std::int16_t>(t.month));
    r.add_scalar<std::int16_t>(p + ".day", static_cast<std::int16_t>(t.day));
    r.add_scalar<std::int16_t>(p + ".hour", static_cast<std::int16_t>(t.hour));
    r.add_scalar<std::int16_t>(p + ".minute", static_cast<std::int16_t>(t.minute));
    r.add_scalar<double>(p + ".second", t.second);
  };
  add_time("start", start);
  add_time("end", end);
  auto one_short = [&](char const* name, int v) {
    r.add_array<std::int16_t>(name, std::vector<std::int16_t>{static_cast<std::int16_t>(v)});
  };
  auto one_float = [&](char const* name, double v) {
    r.add_array<float>(name, std::vector<float>{static_cast<float>(v)});
  };
  one_short("stid", st_id_);
  one_short("channel", header_.channel);
  one_short("nvec", static_cast<int>(written.size()));
  one_float("freq", freq_);
  one_short("major.revision", major_revision);
  one_short("minor.revision", minor_revision);
  one_short("program.id", prog_id_);
  one_float("noise.mean", noise_mean_);
  one_float("noise.sd", noise_sd_);
  one_short("gsct", header_.gsct);
  one_float("v.min", header_.min[0]);
  one_float("v.max", header_.max[0]);
  one_float("p.min", header_.min[1]);
  one_float("p.max", header_.max[1]);
  one_float("w.min", header_.min[2]);
  one_float("w.max", header_.max[2]);
  one_float("ve.min", header_.min[3]);
  one_float("ve.max", header_.max[3]);
  if (written.empty()) return r;
  auto floats = [&](char const* name, double cell::*field) {
    std::vector<float> v;
    v.reserve(written.size());
    for (auto const* c : written) v.push_back(static_cast<float>(c->*field));
    r.add_array<float>(name, v);
  };
  auto shorts = [&](char const* name, int value) {
    r.add_array<std::int16_t>(name, std::vector<std::int16_t>(written.size(), static_cast<std::int16_t>(value)));
  };
  floats("vector.mlat", &cell::mlat);
  floats("vector.mlon", &cell::mlon);
  floats("vector.kvect", &cell::azm);
  shorts("vector.stid", st_id_);
  shorts("vector.channel", header_.channel);
  std::vector<std::int32_t> index;
  for (auto const* c : written) index.push_back(c->ref);
  r.add_array<std::int32_t>("vector.index", index);
  floats("vector.vel.median", &cell::vel_median);
  floats("vector.vel.sd", &cell::vel_sd);
  if (header_.extended) {
    floats("vector.pwr.median", &cell::pwr_median);
    floats("vector.pwr.sd", &cell::pwr_sd);
    floats("vector.wdt.median", &cell::wdt_median);
    floats("vector.wdt.sd", &cell::wdt_sd);
  }
  return r;
}

}  // namespace rstx::grid
