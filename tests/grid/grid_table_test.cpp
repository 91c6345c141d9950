// The grid table on hand-made scans at Clyde River: intervals, error weighting, cell bookkeeping
// and the record written. The byte-level agreement with RST is reference_test.cpp's job; these
// tests pin down the arithmetic so that a regression is explained, not just detected.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <map>
#include <memory>

#include "rstx/core/thread_pool.hpp"
#include "rstx/core/time.hpp"
#include "rstx/geo/aacgm_v2.hpp"
#include "rstx/geo/igrf.hpp"
#include "rstx/grid/grid_table.hpp"
#include "rstx/radar/hardware.hpp"
#include "support/test_data.hpp"

namespace rstx::grid {
namespace {

constexpr int clyde = 66;

class GridTable : public ::testing::Test {
 protected:
  void SetUp() override {
    auto radars = radar::radar_table::load(test::tables_path("radar.dat").string());
    ASSERT_TRUE(radars) << radars.error().what;
    auto cly = radars->load_hardware(clyde, test::tables_path("hdw").string() + "/");
    ASSERT_TRUE(cly) << cly.error().what;
    auto s = cly->site_at(t0);
    ASSERT_TRUE(s);
    site = *s;
    auto a = geo::aacgm_v2_model::load(test::tables_path("aacgm/aacgm_coeffs-13-").string(), 2021, 6, 7, 0, 0, 0);
    ASSERT_TRUE(a) << a.error().what;
    aacgm = std::make_unique<geo::aacgm_v2_model>(std::move(*a));
    geo.aacgm = aacgm.get();
    geo.igrf = [this](int year) -> result<geo::igrf_model const*> {
      ++igrf_loads;
      auto& slot = igrf[year];
      if (!slot) {
        auto m = geo::igrf_model::load(test::tables_path("igrf").string(), year);
        if (!m) return unexpected(std::move(m.error()));
        slot = std::make_unique<geo::igrf_model>(std::move(*m));
      }
      return slot.get();
    };
  }

  /** A scan of `beams` beams 60 s long starting at `start`, every gate empty. */
  static radar_scan empty_scan(double start, int beams = 16, int nrang = 75) {
    radar_scan s;
    s.stid = clyde;
    s.st_time = start;
    s.ed_time = start + 60;
    for (int bm = 0; bm < beams; ++bm) {
      radar_beam b;
      b.bm = bm;
      b.time = start + bm * 3.7;
      b.cpid = 153;
      b.frang = 180;
      b.rsep = 45;
      b.nrang = nrang;
      b.freq = 10700;
      b.noise = 2 + bm % 3;
      b.sct.assign(static_cast<std::size_t>(nrang), 0);
      b.rng.assign(static_cast<std::size_t>(nrang), radar_cell{});
      s.beams.push_back(std::move(b));
    }
    return s;
  }

  /** A scan holding beam `bm` alone, so that only its gates count towards the cells' `max`. */
  static radar_scan single_beam_scan(double start, int bm) {
    auto s = empty_scan(start, bm + 1);
    s.beams.erase(s.beams.begin(), s.beams.begin() + bm);
    return s;
  }

  static void set_gate(radar_scan& s, int bm, int gate, double v, double v_e, double p_l = 20, double w_l = 100) {
    auto& b = s.beams[static_cast<std::size_t>(bm)];
    b.sct[static_cast<std::size_t>(gate)] = 1;
    auto& c = b.rng[static_cast<std::size_t>(gate)];
    c.v = v;
    c.v_e = v_e;
    c.p_l = p_l;
    c.w_l = w_l;
  }

  static std::vector<float> floats(dmap::record const& r, char const* name) {
    auto a = r.find_array(name);
    EXPECT_TRUE(a) << name;
    return a ? a->values<float>() : std::vector<float>{};
  }

  double const t0 = epoch_from_ymdhms(2021, 6, 7, 20, 10, 0);
  radar::site site;
  std::unique_ptr<geo::aacgm_v2_model> aacgm;
  std::map<int, std::unique_ptr<geo::igrf_model>> igrf;
  int igrf_loads = 0;
  geolocation geo;
};

TEST_F(GridTable, OneGateTwiceIsAveragedWithInverseVarianceWeights) {
  grid_table table({}, {.channel = 0, .gsct = 1, .min = {}, .max = {}, .extended = true});
  auto first = empty_scan(t0);
  set_gate(first, 7, 30, 100.0, 10.0, 20.0, 150.0);  // v_e below 100 m/s is floored to 100
  auto second = empty_scan(t0 + 60);
  set_gate(second, 7, 30, 300.0, 200.0, 30.0, 250.0);
  ASSERT_FALSE(table.interval_complete(first));
  ASSERT_TRUE(table.add_scan(first, site, geo));
  ASSERT_FALSE(table.interval_complete(second));  // its centre, t0+90, is inside [t0, t0+120]
  ASSERT_TRUE(table.add_scan(second, site, geo));

  auto third = empty_scan(t0 + 120);  // centre t0+150: the interval is complete
  ASSERT_TRUE(table.interval_complete(third));
  EXPECT_EQ(table.vectors(), 1);
  EXPECT_EQ(table.start_time(), t0);
  EXPECT_EQ(table.end_time(), t0 + 120);

  auto const r = table.to_record();
  double const w1 = 1 / (100.0 * 100.0), w2 = 1 / (200.0 * 200.0);
  EXPECT_FLOAT_EQ(floats(r, "vector.vel.median").at(0), static_cast<float>((100 * w1 + 300 * w2) / (w1 + w2)));
  EXPECT_FLOAT_EQ(floats(r, "vector.vel.sd").at(0), static_cast<float>(1 / std::sqrt(w1 + w2)));
  // Power and width errors are zero as read and floored to 1: plain means.
  EXPECT_FLOAT_EQ(floats(r, "vector.pwr.median").at(0), 25.0F);
  EXPECT_FLOAT_EQ(floats(r, "vector.wdt.median").at(0), 200.0F);
  EXPECT_FLOAT_EQ(floats(r, "vector.pwr.sd").at(0), static_cast<float>(1 / std::sqrt(2.0)));
  EXPECT_EQ(r.find_array("vector.index")->values<std::int32_t>().size(), 1U);
  EXPECT_EQ(r.find_array("nvec")->values<std::int16_t>().at(0), 1);
  EXPECT_EQ(r.find_array("stid")->values<std::int16_t>().at(0), clyde);
  EXPECT_FLOAT_EQ(floats(r, "freq").at(0), 10700.0F);
  EXPECT_EQ(r.find_array("program.id")->values<std::int16_t>().at(0), 153);
}

TEST_F(GridTable, CellIsPlacedOnTheEqualAreaGridAndVelocityPointsAwayForPositiveDoppler) {
  grid_table table({}, {});
  auto scan = single_beam_scan(t0, 3);
  set_gate(scan, 0, 20, 250.0, 150.0);
  ASSERT_TRUE(table.add_scan(scan, site, geo));
  ASSERT_TRUE(table.flush());
  auto const r = table.to_record();

  // Where the gate is, computed directly from the geometry module.
  auto const& g_igrf = *geo.igrf(2021).value();
  auto gates = radar::beam_gate_coordinates(site, {3, 180, 45, 75}, 300.0, geo::virtual_height_model::standard, g_igrf,
                                            *aacgm);
  ASSERT_TRUE(gates);
  auto const& gate = (*gates)[20];
  double const band = std::floor(gate.mlat_deg);
  float const mlat = floats(r, "vector.mlat").at(0);
  EXPECT_FLOAT_EQ(mlat, static_cast<float>(band + 0.5));
  double const cells_in_band = std::round(360 * std::cos((band + 0.5) * M_PI / 180));
  double const lon = gate.mlon_deg < 0 ? gate.mlon_deg + 360 : gate.mlon_deg;
  int const column = static_cast<int>(lon * cells_in_band / 360);
  EXPECT_EQ(r.find_array("vector.index")->values<std::int32_t>().at(0), 1000 * static_cast<int>(band) + column);
  EXPECT_NEAR(floats(r, "vector.mlon").at(0), (column + 0.5) * 360 / cells_in_band, 1e-3);
  EXPECT_GE(lon, column * 360 / cells_in_band);
  EXPECT_LT(lon, (column + 1) * 360 / cells_in_band);

  // A positive (approaching) Doppler velocity is written as a positive speed pointing along
  // the line of sight towards the radar: azimuth + 180°.
  EXPECT_FLOAT_EQ(floats(r, "vector.vel.median").at(0), 250.0F);
  double const away = std::remainder(floats(r, "vector.kvect").at(0) - (gate.mag_azimuth_deg + 180.0), 360.0);
  EXPECT_NEAR(away, 0.0, 1e-3);
}

TEST_F(GridTable, SeveralBeamsGeolocatedTogetherEqualEachAloneOnAnyPool) {
  auto const& g_igrf = *geo.igrf(2021).value();
  std::vector<radar::beam_layout> const layouts = {{0, 180, 45, 75}, {7, 180, 45, 0}, {15, 405, 15, 30}, {7, 180, 45, 75}};
  for (int threads : {1, 2, 3}) {
    thread_pool pool(threads);
    auto together = radar::beams_gate_coordinates(site, layouts, 300.0, geo::virtual_height_model::standard, g_igrf,
                                                   *aacgm, &pool);
    ASSERT_TRUE(together) << together.error().what;
    ASSERT_EQ(together->size(), layouts.size());
    for (std::size_t i = 0; i < layouts.size(); ++i) {
      auto alone = radar::beam_gate_coordinates(site, layouts[i], 300.0, geo::virtual_height_model::standard, g_igrf,
                                                *aacgm);
      ASSERT_TRUE(alone);
      ASSERT_EQ((*together)[i].size(), alone->size());
      for (std::size_t g = 0; g < alone->size(); ++g) {  // bit for bit
        EXPECT_EQ(std::bit_cast<std::uint64_t>((*together)[i][g].mlat_deg), std::bit_cast<std::uint64_t>((*alone)[g].mlat_deg));
        EXPECT_EQ(std::bit_cast<std::uint64_t>((*together)[i][g].mlon_deg), std::bit_cast<std::uint64_t>((*alone)[g].mlon_deg));
        EXPECT_EQ(std::bit_cast<std::uint64_t>((*together)[i][g].mag_azimuth_deg),
                  std::bit_cast<std::uint64_t>((*alone)[g].mag_azimuth_deg));
        EXPECT_EQ(std::bit_cast<std::uint64_t>((*together)[i][g].geo_azimuth_deg),
                  std::bit_cast<std::uint64_t>((*alone)[g].geo_azimuth_deg));
      }
    }
  }
  std::vector<radar::beam_layout> const bad = {{0, 180, 45, 75}, {1, 180, 45, -1}};
  EXPECT_FALSE(radar::beams_gate_coordinates(site, bad, 300.0, geo::virtual_height_model::standard, g_igrf, *aacgm));
}

TEST_F(GridTable, CellsSeenInTooFewScansAreDropped) {
  // A cell is kept when its count exceeds a quarter of (scans × gates mapping into it). Four
  // scans of one beam: near gates have scatter in one scan only (count = gates, not more than a
  // quarter of 4 × gates: dropped); far gates in three scans (kept, except perhaps a cell that
  // straddles the boundary).
  grid_table table({.interval_s = 120}, {});
  for (int i = 0; i < 4; ++i) {
    auto s = single_beam_scan(t0 + 30 * i, 15);
    s.ed_time = s.st_time + 30;
    if (i == 0) {
      for (int g = 0; g <= 20; ++g) set_gate(s, 0, g, 200.0, 120.0);
    } else {
      for (int g = 50; g < 75; ++g) set_gate(s, 0, g, 400.0, 120.0);
    }
    ASSERT_TRUE(table.add_scan(s, site, geo));
  }
  ASSERT_TRUE(table.flush());
  EXPECT_GE(table.vectors(), 5);
  auto const r = table.to_record();
  // Gates of a cell look along slightly different azimuths, so the vector mean is a little shorter.
  for (float v : floats(r, "vector.vel.median")) EXPECT_NEAR(v, 400.0, 0.1);
}

TEST_F(GridTable, BeamGeometryIsComputedOncePerLayout) {
  grid_table table({}, {});
  auto scan = empty_scan(t0);
  set_gate(scan, 1, 5, 100.0, 100.0);
  ASSERT_TRUE(table.add_scan(scan, site, geo));
  int const after_first = igrf_loads;
  EXPECT_EQ(after_first, 1);  // the scan's 16 new geometries come from one geolocation pass (one IGRF request)
  ASSERT_TRUE(table.add_scan(empty_scan(t0 + 60), site, geo));
  EXPECT_EQ(igrf_loads, after_first);
  auto other_range = empty_scan(t0 + 120, 1);
  other_range.beams[0].rsep = 15;
  ASSERT_TRUE(table.add_scan(other_range, site, geo));
  EXPECT_EQ(igrf_loads, after_first + 1);
}

TEST_F(GridTable, IntervalsStartAtTheFirstScanNotAtAMultipleOfTheLength) {
  grid_table table({.interval_s = 120}, {});
  auto scan = empty_scan(t0 + 17);
  set_gate(scan, 2, 40, 100.0, 100.0);
  ASSERT_TRUE(table.add_scan(scan, site, geo));
  ASSERT_TRUE(table.flush());
  EXPECT_EQ(table.start_time(), t0 + 17);
  EXPECT_EQ(table.end_time(), t0 + 137);
  auto const r = table.to_record();
  EXPECT_EQ(r.find_scalar("start.second")->as<double>(), 17.0);
  EXPECT_EQ(r.find_scalar("end.minute")->as<std::int16_t>(), 12);
}

TEST_F(GridTable, NoiseStatisticsAreMeansOfPerScanMeansAndSpreads) {
  grid_table table({}, {});
  auto scan = empty_scan(t0, 3);  // noise 2, 3, 4
  set_gate(scan, 0, 10, 100.0, 100.0);
  ASSERT_TRUE(table.add_scan(scan, site, geo));
  ASSERT_TRUE(table.flush());
  auto const r = table.to_record();
  EXPECT_FLOAT_EQ(floats(r, "noise.mean").at(0), 3.0F);
  EXPECT_FLOAT_EQ(floats(r, "noise.sd").at(0), static_cast<float>(std::sqrt(2.0 / 3.0)));
}

TEST_F(GridTable, EmptyIntervalWritesHeaderOnlyAndMissingTablesAreErrors) {
  grid_table table({}, {.channel = 1, .gsct = 0, .min = {35, 3, 10, 0}, .max = {2500, 60, 1000, 200}});
  ASSERT_TRUE(table.add_scan(empty_scan(t0), site, geo));
  ASSERT_TRUE(table.flush());
  auto const r = table.to_record();
  EXPECT_EQ(r.find_array("nvec")->values<std::int16_t>().at(0), 0);
  EXPECT_FALSE(r.find_array("vector.mlat"));
  EXPECT_FLOAT_EQ(floats(r, "v.max").at(0), 2500.0F);
  EXPECT_EQ(r.find_array("channel")->values<std::int16_t>().at(0), 1);

  grid_table broken({}, {});
  geolocation no_igrf = geo;
  no_igrf.igrf = [](int) -> result<geo::igrf_model const*> {
    return unexpected(error(errc::not_found, "no IGRF coefficients").at("/nowhere/coef.dat"));
  };
  auto added = broken.add_scan(empty_scan(t0), site, no_igrf);
  ASSERT_FALSE(added);
  EXPECT_NE(added.error().what.find("IGRF"), std::string::npos);
}

}  // namespace
}  // namespace rstx::grid
