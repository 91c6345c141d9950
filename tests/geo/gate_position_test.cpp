// Range-gate geolocation against RST 5.0's own per-gate vectors (RPosGeo, RPosInvMag,
// RPosRngBmAzmElv for several radars, dates and both virtual-height models), plus the pieces.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "rstx/geo/gate_position.hpp"
#include "rstx/geo/wgs84.hpp"
#include "support/test_data.hpp"
#include "worst_error.hpp"

namespace rstx::geo {
namespace {

namespace fs = std::filesystem;
using check::worst_error;

// Acceptance tolerance; the measured differences are printed (and are 0).
constexpr double rst_tol = 1e-9;

// Test-only reader for one hdw.dat line valid at a date (the radar module owns the real parser):
// "stid status YYYYMMDD HH:MM:SS lat lon alt boresight bmoff bmsep vdir phidiff tdiffA tdiffB
//  ifX ifY ifZ recrise atten maxatten maxrange maxbeam".
radar_site_geometry site_from_hdw(fs::path const& path, int yyyymmdd) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  radar_site_geometry site;
  bool found = false;
  std::string line;
  while (std::getline(in, line)) {
    std::size_t const first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.size() < 22) continue;
    int const date = std::stoi(tok[2]);
    if (date > yyyymmdd) break;  // lines are in time order; the vectors are at 00:00:00
    site.geodetic_lat_deg = std::stod(tok[4]);
    site.geodetic_lon_deg = std::stod(tok[5]);
    site.boresight_deg = std::stod(tok[7]);
    site.beam_offset_deg = std::stod(tok[8]);
    site.beam_separation_deg = std::stod(tok[9]);
    site.recrise_us = std::stod(tok[17]);
    site.max_beam = std::stoi(tok[21]);
    found = true;
  }
  EXPECT_TRUE(found) << "no hdw line valid at " << yyyymmdd << " in " << path;
  return site;
}

struct rpos_row {
  int beam, gate;
  double rho, lat, lon, mlat, mlon, mazm, geoazm;
  int status_azm, status_mag;
};

struct rpos_vectors {
  std::map<std::string, std::string> header;  // stid, date, frang, rsep, alt, chisham, recrise, maxbeam
  std::vector<rpos_row> rows;
};

rpos_vectors read_rpos(fs::path const& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  rpos_vectors v;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (first) {
        std::istringstream ls(line.substr(1));
        for (std::string kv; ls >> kv;) {
          auto const eq = kv.find('=');
          if (eq != std::string::npos) v.header[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
      }
      first = false;
      continue;
    }
    std::istringstream ls(line);
    rpos_row r{};
    ls >> r.beam >> r.gate >> r.rho >> r.lat >> r.lon >> r.mlat >> r.mlon >> r.mazm >> r.geoazm >> r.status_azm >>
        r.status_mag;
    EXPECT_TRUE(ls) << path << ": " << line;
    v.rows.push_back(r);
  }
  return v;
}

class RstGateVectors : public ::testing::TestWithParam<char const*> {};

TEST_P(RstGateVectors, EveryColumnMatchesRst) {
  std::string const name = GetParam();
  rpos_vectors const v = read_rpos(rstx::test::shared_path("spec/tools/vectors/" + name));
  ASSERT_FALSE(v.rows.empty());
  std::string const code = name.substr(5, 3);  // rpos_<code>_...
  int const date = std::stoi(v.header.at("date"));
  int const year = date / 10000, month = date / 100 % 100, day = date % 100;

  radar_site_geometry const site = site_from_hdw(rstx::test::tables_path("hdw/hdw.dat." + code), date);
  ASSERT_EQ(site.max_beam, std::stoi(v.header.at("maxbeam")));
  gate_geometry geom;
  geom.frang_km = std::stoi(v.header.at("frang"));
  geom.rsep_km = std::stoi(v.header.at("rsep"));
  geom.rxrise_us = std::stoi(v.header.at("recrise"));
  geom.altitude_km = std::stod(v.header.at("alt"));
  geom.model = std::stoi(v.header.at("chisham")) != 0 ? virtual_height_model::chisham : virtual_height_model::standard;

  // make_grid: IGRF at the integer year, AACGM-v2 at 00:00 UT of the run's first day.
  auto igrf = igrf_model::load(rstx::test::tables_path("igrf").string(), year);
  ASSERT_TRUE(igrf) << igrf.error().message();
  std::string const prefix13 = rstx::test::tables_path("aacgm/aacgm_coeffs-13-").string();
  auto aacgm = aacgm_v2_model::load(prefix13, year, month, day);
  ASSERT_TRUE(aacgm) << aacgm.error().message();

  worst_error e_rho("rho"), e_lat("lat"), e_lon("lon"), e_mlat("mlat"), e_mlon("mlon"), e_mazm("mazm"),
      e_geoazm("geoazm");
  for (auto const& row : v.rows) {
    std::string const where = fmt::format("{} beam {} gate {}", name, row.beam, row.gate);
    auto loc = locate_gate(site, row.beam, row.gate, geom, *igrf, *aacgm);
    if (row.status_azm != 0 || row.status_mag != 0) {
      EXPECT_FALSE(loc) << where << ": RST failed";
      continue;
    }
    ASSERT_TRUE(loc) << where << ": " << loc.error().message();
    EXPECT_LE(e_rho.add(row.rho, loc->point.rho_km, where), rst_tol * 1e3) << where;
    EXPECT_LE(e_lat.add(row.lat, loc->point.lat_deg, where), rst_tol) << where;
    EXPECT_LE(e_lon.add(row.lon, loc->point.lon_deg, where), rst_tol) << where;
    EXPECT_LE(e_mlat.add(row.mlat, loc->magnetic.mlat_deg, where), rst_tol) << where;
    EXPECT_LE(e_mlon.add(row.mlon, loc->magnetic.mlon_deg, where), rst_tol) << where;
    EXPECT_LE(e_mazm.add(row.mazm, loc->magnetic.azimuth_deg, where), rst_tol) << where;
    EXPECT_LE(e_geoazm.add(row.geoazm, loc->geographic.azimuth_deg, where), rst_tol) << where;

    // The separate entry points give the same bits as the combined one.
    auto fp = gate_field_point(site, row.beam, row.gate, geom);
    auto look = gate_look_direction(site, row.beam, row.gate, geom, *igrf);
    auto mag = gate_magnetic_position(site, row.beam, row.gate, geom, *igrf, *aacgm);
    ASSERT_TRUE(fp && look && mag) << where;
    EXPECT_EQ(fp->rho_km, loc->point.rho_km) << where;
    EXPECT_EQ(fp->lat_deg, loc->point.lat_deg) << where;
    EXPECT_EQ(fp->lon_deg, loc->point.lon_deg) << where;
    EXPECT_EQ(look->azimuth_deg, loc->geographic.azimuth_deg) << where;
    EXPECT_EQ(look->elevation_deg, loc->geographic.elevation_deg) << where;
    EXPECT_EQ(mag->mlat_deg, loc->magnetic.mlat_deg) << where;
    EXPECT_EQ(mag->mlon_deg, loc->magnetic.mlon_deg) << where;
    EXPECT_EQ(mag->azimuth_deg, loc->magnetic.azimuth_deg) << where;
  }
  std::cout << name << " vs RST 5.0 (" << v.rows.size() << " gates)\n";
  for (auto const* e : {&e_rho, &e_lat, &e_lon, &e_mlat, &e_mlon, &e_mazm, &e_geoazm}) {
    std::cout << e->report() << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Rpos, RstGateVectors,
                         ::testing::Values("rpos_cly_20210607_std.txt", "rpos_cly_20210607_chisham.txt",
                                           "rpos_cly_20210607_std_allgates.txt", "rpos_fir_20190115_std.txt",
                                           "rpos_han_20150301_std.txt", "rpos_sas_20150301_std.txt"));

TEST(GatePieces, SlantRangeUsesIntegerArithmetic) {
  EXPECT_EQ(slant_range_km(180, 45, 100, 1), (1200 - 100.0) * 0.15);
  // 181*20/3 = 1206 (not 1206.67); 44*20/3 = 293
  EXPECT_EQ(slant_range_km(181, 44, 0, 3), (1206 - 0.0 + 2 * 293) * 0.15);
  EXPECT_EQ(slant_range_km(180, 45, 0, 1, -150.0), (1200 - 0.0 + 0 - 150.0) * 0.15);
}

TEST(GatePieces, VirtualHeightModels) {
  using vh = virtual_height_model;
  EXPECT_EQ(virtual_height_km(100, 300, vh::standard), (100 / 150.0) * 115.0);
  EXPECT_EQ(virtual_height_km(500, 300, vh::standard), 115);
  EXPECT_EQ(virtual_height_km(700, 300, vh::standard), (700.0 - 600) / 200 * (300.0 - 115) + 115);
  EXPECT_EQ(virtual_height_km(800, 300, vh::standard), 300);
  EXPECT_EQ(virtual_height_km(900, 120, vh::standard), 120);  // low nominal heights are used as is
  EXPECT_EQ(virtual_height_km(100, 120, vh::standard), (100 / 150.0) * 115.0);
  EXPECT_EQ(virtual_height_km(100, 300, vh::chisham), (100 / 115.0) * 112.0);
  EXPECT_EQ(virtual_height_km(500, 300, vh::chisham), 108.974 + 0.0191271 * 500 + 6.68283e-5 * 500 * 500);
  EXPECT_EQ(virtual_height_km(1000, 300, vh::chisham), 384.416 + -0.178640 * 1000 + 1.81405e-4 * 1000 * 1000);
  EXPECT_EQ(virtual_height_km(3000, 300, vh::chisham), 1098.28 + -0.354557 * 3000 + 9.39961e-5 * 3000 * 3000);
}

TEST(GatePieces, FieldPointHeightIsTheVirtualHeight) {
  radar_site_geometry site{52.16, -106.53, 23.1, 0, 3.24, 16, 0};
  for (int gate : {0, 5, 20, 74}) {
    auto fp = gate_field_point(site, 7, gate, {});
    ASSERT_TRUE(fp) << fp.error().message();
    double const r = slant_range_km(180, 45, 0, gate + 1);
    double const h = fp->rho_km - surface_from_geocentric(fp->lat_deg, fp->lon_deg).radius_km;
    EXPECT_NEAR(h, virtual_height_km(r, 300, virtual_height_model::standard), 0.5) << gate;
  }
  // The near corner lies before the centre in range and to the lower-beam side.
  auto centre = gate_field_point(site, 7, 30, {});
  auto corner = gate_field_point(site, 7, 30, {}, cell_point::near_corner);
  ASSERT_TRUE(centre && corner);
  EXPECT_NE(centre->lat_deg, corner->lat_deg);
}

TEST(GatePieces, InvalidParameters) {
  radar_site_geometry site{52.16, -106.53, 23.1, 0, 3.24, 16, 0};
  gate_geometry low;
  low.altitude_km = 30;  // RST would take this as an elevation angle
  auto r = gate_field_point(site, 0, 0, low);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::invalid_argument);
  site.max_beam = 0;
  EXPECT_FALSE(gate_field_point(site, 0, 0, {}));
}

TEST(GatePieces, ZeroRangeAndSphericalHelpers) {
  auto fp = field_point_at_height(60, 10, 0, 0, 300, 0, virtual_height_model::standard);
  ASSERT_TRUE(fp) << fp.error().message();  // slant range 0 is taken as 0.1 km
  EXPECT_NEAR(fp->lat_deg, surface_from_geodetic(60, 10).geocentric_lat_deg, 0.01);

  lat_lon const d = spherical_destination(6671, 0, 179.9, 90, 100);
  EXPECT_NEAR(d.lat_deg, 0.0, 1e-9);
  EXPECT_GT(d.lon_deg, 180.0);  // [0, 360]
  lat_lon const w = spherical_destination(6671, 0, 0.1, -90, 100);
  EXPECT_GT(w.lon_deg, 359.0);
  EXPECT_NEAR(spherical_bearing(60, 10, 61, 10), 0.0, 1e-6);
  EXPECT_NEAR(spherical_bearing(60, 10, 60, 11), 89.567, 1e-3);
  EXPECT_NEAR(spherical_bearing(60, 10, 60, 9), -89.567, 1e-3);
  EXPECT_EQ(spherical_bearing(60, 10, 60, 10), 0.0);  // NaN -> 0, as RST
}

TEST(GatePieces, MagneticErrorsPropagateWithGate) {
  // A radar on the magnetic equator: the AACGM-v2 forbidden region at low heights.
  radar_site_geometry const site{-3, -30, 90, 0, 3.24, 16, 0};
  gate_geometry const geom;
  auto igrf = igrf_model::load(rstx::test::tables_path("igrf").string(), 2015);
  auto aacgm = aacgm_v2_model::load(rstx::test::tables_path("aacgm/aacgm_coeffs-13-").string(), 2015, 3, 1);
  ASSERT_TRUE(igrf && aacgm);
  bool saw_error = false;
  for (int gate = 0; gate < 10 && !saw_error; ++gate) {
    auto r = locate_gate(site, 7, gate, geom, *igrf, *aacgm);
    if (!r) {
      saw_error = true;
      EXPECT_EQ(r.error().code, errc::out_of_range);
      EXPECT_NE(r.error().what.find("gate"), std::string::npos) << r.error().what;
    }
  }
  EXPECT_TRUE(saw_error);
}

}  // namespace
}  // namespace rstx::geo
