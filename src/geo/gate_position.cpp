#include "rstx/geo/gate_position.hpp"

#include <climits>
#include <cmath>

#include <fmt/format.h>

#include "detail/degrees.hpp"
#include "rstx/geo/wgs84.hpp"

namespace rstx::geo {

namespace {

using detail::acosd;
using detail::asind;
using detail::atan2d;
using detail::atand;
using detail::cosd;
using detail::sind;

// fldpnth stops when the field point's height is within this distance of the model height (km).
constexpr double height_tolerance_km = 0.5;
// RST iterates without a bound; on every realistic geometry it settles in a few steps.
constexpr int max_height_iterations = 100;
// Chisham et al. (2008) virtual-height model: xh = A + B R + C R², by slant-range segment.
constexpr double chisham_a[3] = {108.974, 384.416, 1098.28};
constexpr double chisham_b[3] = {0.0191271, -0.178640, -0.354557};
constexpr double chisham_c[3] = {6.68283e-5, 1.81405e-4, 9.39961e-5};
constexpr double chisham_near_end_km = 787.5;  // end of the first segment
constexpr double chisham_far_start_km = 2137.5;  // beyond: 1.5-hop propagation

struct vec3 {
  double x = 0, y = 0, z = 0;
};

void normalise(vec3& v) noexcept {
  double const r = std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z);
  v.x = v.x / r;
  v.y = v.y / r;
  v.z = v.z / r;
}

// Geocentric spherical (r, lat, lon in degrees) to Earth-centred Cartesian (RST sphtocar).
vec3 to_cartesian(double r, double lat, double lon) noexcept {
  return {r * sind(90.0 - lat) * cosd(lon), r * sind(90.0 - lat) * sind(lon), r * cosd(90.0 - lat)};
}

// Earth-centred Cartesian vector to local south/east/up at (lat, lon) (RST glbthor(+1)).
vec3 to_local_seu(double lat, double lon, vec3 const& r) noexcept {
  double const sx = cosd(lon) * r.x + sind(lon) * r.y;
  double const sy = -sind(lon) * r.x + cosd(lon) * r.y;
  double const sz = r.z;
  double const lax = 90 - lat;
  return {cosd(lax) * sx - sind(lax) * sz, sy, sind(lax) * sx + cosd(lax) * sz};
}

// Receiver rise time as RPosInvMag / RPosRngBmAzmElv pass it on: the site's when the record's
// is 0, then truncated to int (RPosGeo's parameter is an int).
result<gate_geometry> with_integer_rxrise(radar_site_geometry const& site, gate_geometry geom) {
  double const rx = geom.rxrise_us == 0 ? site.recrise_us : geom.rxrise_us;
  if (!(rx > INT_MIN && rx < INT_MAX)) {
    return fail(errc::invalid_argument, fmt::format("receiver rise time {} us is not a usable number", rx));
  }
  geom.rxrise_us = static_cast<int>(rx);
  return geom;
}

// B-orthogonal look direction at a gate centre, with its field point (the part that
// RPosRngBmAzmElv and RPosInvMag share).
struct look_result {
  field_point point;
  look_direction dir;
};

result<look_result> look_at_gate(radar_site_geometry const& site, int beam, int gate, gate_geometry const& geom,
                                 igrf_model const& igrf) {
  auto g = with_integer_rxrise(site, geom);
  if (!g) return unexpected(std::move(g.error()));
  auto fp = gate_field_point(site, beam, gate, *g, cell_point::centre);
  if (!fp) return unexpected(std::move(fp.error()));

  vec3 const f = to_cartesian(fp->rho_km, fp->lat_deg, fp->lon_deg);
  wgs84_surface_point const s = surface_from_geodetic(site.geodetic_lat_deg, site.geodetic_lon_deg);
  vec3 const o = to_cartesian(s.radius_km, s.geocentric_lat_deg, s.lon_deg);
  vec3 los{f.x - o.x, f.y - o.y, f.z - o.z};  // site -> field point
  normalise(los);
  vec3 h = to_local_seu(fp->lat_deg, fp->lon_deg, los);
  normalise(h);

  igrf_field_seu const b = igrf.field_seu(fp->lat_deg, fp->lon_deg, fp->rho_km);
  vec3 bv{b.south_nt, b.east_nt, b.up_nt};
  normalise(bv);
  // Replace the vertical component so that the look direction is orthogonal to B.
  h.z = -(bv.x * h.x + bv.y * h.y) / bv.z;
  normalise(h);

  look_result out;
  out.point = *fp;
  out.dir.elevation_deg = atan2d(h.z, std::sqrt(h.x * h.x + h.y * h.y));
  out.dir.azimuth_deg = atan2d(h.y, -h.x);
  return out;
}

result<magnetic_gate_position> magnetic_at(look_result const& look, gate_geometry const& geom,
                                           aacgm_v2_model const& aacgm, int beam, int gate) {
  field_point const& fp = look.point;
  // Height above the ellipsoid under the field point; the geocentric latitude goes to AACGM as
  // if it were geodetic (RST quirk, kept for identical output).
  double const height_km = fp.rho_km - surface_from_geocentric(fp.lat_deg, fp.lon_deg).radius_km;
  auto where = [&](error e) {
    e.what = fmt::format("beam {}, gate {}: {}", beam, gate, e.what);
    return unexpected(std::move(e));
  };
  auto m = aacgm.convert_g2a(fp.lat_deg, fp.lon_deg, height_km);
  if (!m) return where(std::move(m.error()));
  lat_lon const next = spherical_destination(fp.rho_km, fp.lat_deg, fp.lon_deg, look.dir.azimuth_deg,
                                             static_cast<double>(geom.rsep_km));
  auto n = aacgm.convert_g2a(next.lat_deg, next.lon_deg, height_km);
  if (!n) return where(std::move(n.error()));
  double nlon = n->mlon_deg;
  if ((nlon - m->mlon_deg) > 180) nlon = nlon - 360;
  if ((nlon - m->mlon_deg) < -180) nlon = nlon + 360;
  double const azimuth = spherical_bearing(m->mlat_deg, m->mlon_deg, n->mlat_deg, nlon);
  return magnetic_gate_position{m->mlat_deg, m->mlon_deg, azimuth};
}

}  // namespace

double slant_range_km(int frang_km, int rsep_km, double rxrise_us, int gate, double range_edge_us) noexcept {
  int const lagfr_us = frang_km * 20 / 3;  // integer arithmetic, as in RST
  int const smsep_us = rsep_km * 20 / 3;
  return (lagfr_us - rxrise_us + (gate - 1) * smsep_us + range_edge_us) * 0.15;
}

double virtual_height_km(double r, double fh, virtual_height_model model) noexcept {
  double xh = 0;
  if (model == virtual_height_model::chisham) {
    int const s = r < chisham_near_end_km ? 0 : (r <= chisham_far_start_km ? 1 : 2);
    xh = chisham_a[s] + chisham_b[s] * r + chisham_c[s] * r * r;
    if (r < 115) xh = (r / 115.0) * 112.0;
  } else {
    if (fh <= 150) {
      xh = fh;
    } else if (r <= 600) {
      xh = 115;
    } else if (r > 600 && r < 800) {
      xh = (r - 600) / 200 * (fh - 115) + 115;
    } else {
      xh = fh;
    }
    if (r < 150) xh = (r / 150.0) * 115.0;
  }
  return xh;
}

field_point point_along(field_point const& origin, double ral, double rel, double r) noexcept {
  double const rlat = origin.lat_deg;
  double const rlon = origin.lon_deg;
  double const rrho = origin.rho_km;
  // origin in Earth-centred Cartesian
  double const sinteta = sind(90.0 - rlat);
  double const rx = rrho * sinteta * cosd(rlon);
  double const ry = rrho * sinteta * sind(rlon);
  double const rz = rrho * cosd(90.0 - rlat);
  // displacement in local south/east/up
  double sx = -r * cosd(rel) * cosd(ral);
  double sy = r * cosd(rel) * sind(ral);
  double sz = r * sind(rel);
  // rotate to Earth-centred: about east by the colatitude, then about z by the longitude
  double tx = cosd(90.0 - rlat) * sx + sind(90.0 - rlat) * sz;
  double ty = sy;
  double tz = -sind(90.0 - rlat) * sx + cosd(90.0 - rlat) * sz;
  sx = cosd(rlon) * tx - sind(rlon) * ty;
  sy = sind(rlon) * tx + cosd(rlon) * ty;
  sz = tz;
  tx = rx + sx;
  ty = ry + sy;
  tz = rz + sz;
  field_point out;
  out.rho_km = std::sqrt((tx * tx) + (ty * ty) + (tz * tz));
  out.lat_deg = 90.0 - acosd(tz / out.rho_km);
  out.lon_deg = (tx == 0 && ty == 0) ? 0 : atan2d(ty, tx);
  return out;
}

result<field_point> field_point_at_height(double gdlat, double gdlon, double psi, double bore, double fh, double r,
                                          virtual_height_model model) {
  double const xh = virtual_height_km(r, fh, model);
  wgs84_surface_point const site = surface_from_geodetic(gdlat, gdlon);
  double const rrad = site.radius_km;
  field_point const origin{rrad, site.geocentric_lat_deg, site.lon_deg};
  double const del = site.vertical_deviation_deg;
  double frad = rrad;  // ellipsoid radius under the field point, updated each step
  if (r == 0) r = 0.1;  // the elevation formula divides by r

  field_point fp;
  for (int iter = 0;; ++iter) {
    if (iter == max_height_iterations) {
      return fail(errc::out_of_range,
                  fmt::format("field point: virtual-height iteration did not converge (slant range {} km, "
                              "height {} km)",
                              r, xh));
    }
    double const frho = frad + xh;
    // elevation of the field point at radius frho seen from the site (law of cosines)
    double const rel = asind(((frho * frho) - (rrad * rrad) - (r * r)) / (2.0 * rrad * r));
    double xel = rel;
    if (model == virtual_height_model::chisham && r > chisham_far_start_km) {
      // 1.5-hop: the elevation that sets the cone angle is that of the first hop
      double const gmma = acosd((rrad * rrad + frho * frho - r * r) / (2.0 * rrad * frho));
      double const beta = asind(rrad * sind(gmma / 3.0) / (r / 3.0));
      xel = 90.0 - beta - (gmma / 3.0);
    }
    // azimuth off boresight for cone angle psi at elevation xel
    double tan_azi = 0;
    if (((cosd(psi) * cosd(psi)) - (sind(xel) * sind(xel))) < 0) {
      tan_azi = 1e32;
    } else {
      tan_azi = std::sqrt((sind(psi) * sind(psi)) / ((cosd(psi) * cosd(psi)) - (sind(xel) * sind(xel))));
    }
    double const azi = psi > 0 ? atand(tan_azi) * 1.0 : atand(tan_azi) * -1.0;
    double const xal = azi + bore;
    // rotate the pointing direction from the geodetic to the geocentric vertical (RST geocnvrt)
    double const kxg = cosd(xel) * sind(xal);
    double const kyg = cosd(xel) * cosd(xal);
    double const kzg = sind(xel);
    double const kyr = kyg * cosd(del) + kzg * sind(del);
    double const ral = atan2d(kxg, kyr);

    fp = point_along(origin, ral, rel, r);
    frad = surface_from_geocentric(fp.lat_deg, fp.lon_deg).radius_km;
    double const fhx = fp.rho_km - frad;
    if (!(std::fabs(fhx - xh) > height_tolerance_km)) break;
  }
  if (!std::isfinite(fp.rho_km) || !std::isfinite(fp.lat_deg) || !std::isfinite(fp.lon_deg)) {
    return fail(errc::out_of_range,
                fmt::format("field point: no solution for slant range {} km at virtual height {} km", r, xh));
  }
  return fp;
}

result<field_point> gate_field_point(radar_site_geometry const& site, int beam, int gate, gate_geometry const& geom,
                                     cell_point point) {
  if (!(geom.altitude_km >= 90)) {
    return fail(errc::invalid_argument,
                fmt::format("altitude {} km: must be >= 90 km (RST reads smaller values as an elevation angle, "
                            "which rstx does not support)",
                            geom.altitude_km));
  }
  if (site.max_beam <= 0) return fail(errc::invalid_argument, fmt::format("max_beam {} must be > 0", site.max_beam));
  double bm_edge = 0;
  double range_edge = 0;
  if (point == cell_point::near_corner) {
    bm_edge = -site.beam_separation_deg * 0.5;
    range_edge = -0.5 * geom.rsep_km * 20 / 3;
  }
  double const rx = geom.rxrise_us == 0 ? site.recrise_us : geom.rxrise_us;
  double const offset = site.max_beam / 2.0 - 0.5;
  double const psi = site.beam_separation_deg * (beam - offset) + bm_edge + site.beam_offset_deg;
  double const d = slant_range_km(geom.frang_km, geom.rsep_km, rx, gate + 1, range_edge);
  auto fp = field_point_at_height(site.geodetic_lat_deg, site.geodetic_lon_deg, psi, site.boresight_deg,
                                  geom.altitude_km, d, geom.model);
  if (!fp) {
    fp.error().what = fmt::format("beam {}, gate {}: {}", beam, gate, fp.error().what);
  }
  return fp;
}

result<look_direction> gate_look_direction(radar_site_geometry const& site, int beam, int gate,
                                           gate_geometry const& geom, igrf_model const& igrf) {
  auto look = look_at_gate(site, beam, gate, geom, igrf);
  if (!look) return unexpected(std::move(look.error()));
  return look->dir;
}

result<magnetic_gate_position> gate_magnetic_position(radar_site_geometry const& site, int beam, int gate,
                                                      gate_geometry const& geom, igrf_model const& igrf,
                                                      aacgm_v2_model const& aacgm) {
  auto look = look_at_gate(site, beam, gate, geom, igrf);
  if (!look) return unexpected(std::move(look.error()));
  return magnetic_at(*look, geom, aacgm, beam, gate);
}

result<gate_location> locate_gate(radar_site_geometry const& site, int beam, int gate, gate_geometry const& geom,
                                  igrf_model const& igrf, aacgm_v2_model const& aacgm) {
  auto look = look_at_gate(site, beam, gate, geom, igrf);
  if (!look) return unexpected(std::move(look.error()));
  auto mag = magnetic_at(*look, geom, aacgm, beam, gate);
  if (!mag) return unexpected(std::move(mag.error()));
  return gate_location{look->point, look->dir, *mag};
}

lat_lon spherical_destination(double frho, double flat, double flon, double az, double r) noexcept {
  double const api = 4 * std::atan(1.0);
  double const cside = 90.0 - flat;
  double const aangl = az > 180 ? az - 360 : az;
  double const bside = r / frho * (180.0 / api);
  double arg = cosd(bside) * cosd(cside) + sind(bside) * sind(cside) * cosd(aangl);
  if (arg <= -1.0) arg = -1.0;
  if (arg >= 1.0) arg = 1.0;
  double const aside = acosd(arg);
  arg = (cosd(bside) - cosd(aside) * cosd(cside)) / (sind(aside) * sind(cside));
  if (arg <= -1.0) arg = -1.0;
  if (arg >= 1.0) arg = 1.0;
  double bangl = acosd(arg);
  if (aangl < 0) bangl = -bangl;
  lat_lon out{90 - aside, flon + bangl};
  if (out.lon_deg < 0) out.lon_deg += 360;
  if (out.lon_deg > 360) out.lon_deg -= 360;
  return out;
}

double spherical_bearing(double mlat, double mlon, double nlat, double nlon) noexcept {
  double const aside = 90 - nlat;
  double const cside = 90 - mlat;
  double const bangl = nlon - mlon;
  double arg = cosd(aside) * cosd(cside) + sind(aside) * sind(cside) * cosd(bangl);
  double const bside = acosd(arg);
  arg = (cosd(aside) - cosd(bside) * cosd(cside)) / (sind(bside) * sind(cside));
  double aangl = acosd(arg);
  if (bangl < 0) aangl = -aangl;
  return std::isnan(aangl) ? 0.0 : aangl;
}

}  // namespace rstx::geo
