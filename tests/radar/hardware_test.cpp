#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "rstx/core/time.hpp"
#include "rstx/radar/hardware.hpp"
#include "support/test_data.hpp"

namespace rstx::radar {
namespace {

std::string radar_dat() { return test::tables_path("radar.dat").string(); }
std::string hdw_dir() { return test::tables_path("hdw").string(); }

TEST(Hardware, LoadsTheRadarList) {
  auto t = radar_table::load(radar_dat());
  ASSERT_TRUE(t) << t.error().message();
  EXPECT_GT(t->radars().size(), 40u);
  auto const* cly = t->find(66);
  ASSERT_NE(cly, nullptr);
  EXPECT_EQ(cly->name, "Clyde River");
  EXPECT_EQ(cly->hdw_file, "hdw.dat.cly");
  ASSERT_FALSE(cly->codes.empty());
  EXPECT_EQ(cly->codes[0], "cly");
  EXPECT_EQ(t->find(12345), nullptr);
}

TEST(Hardware, EveryShippedHardwareFileParses) {
  auto t = radar_table::load(radar_dat());
  ASSERT_TRUE(t);
  int loaded = 0;
  for (auto const& r : t->radars()) {
    if (!std::filesystem::exists(hdw_dir() + "/" + r.hdw_file)) continue;
    auto h = t->load_hardware(r.stid, hdw_dir());
    ASSERT_TRUE(h) << h.error().message();
    EXPECT_FALSE(h->sites.empty());
    for (auto const& s : h->sites) {
      EXPECT_GT(s.maxbeam, 0);
      EXPECT_LE(std::abs(s.geo_lat_deg), 90.0);
    }
    ++loaded;
  }
  EXPECT_GE(loaded, 40);
}

TEST(Hardware, SiteLookupPicksTheLineValidAtTheTime) {
  auto t = radar_table::load(radar_dat());
  auto cly = t->load_hardware(66, hdw_dir());
  ASSERT_TRUE(cly);
  // hdw.dat.cly: 2012-08-06 bmsep 3.24; 2020-01-13 bmsep 3.50; 2022-02-01 18:00 bmsep 3.24
  auto a = cly->site_at(epoch_from_ymdhms(2021, 6, 7, 18, 1, 0));
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(a->bmsep_deg, 3.50);
  EXPECT_DOUBLE_EQ(a->interferometer_m[1], 100.0);
  EXPECT_EQ(a->maxbeam, 16);
  auto b = cly->site_at(epoch_from_ymdhms(2022, 2, 1, 17, 59, 59));
  EXPECT_DOUBLE_EQ(b->bmsep_deg, 3.50);
  auto c = cly->site_at(epoch_from_ymdhms(2022, 2, 1, 18, 0, 0));
  EXPECT_DOUBLE_EQ(c->bmsep_deg, 3.24);
  auto before = cly->site_at(epoch_from_ymdhms(2012, 8, 5, 0, 0, 0));  // RST reads out of bounds here
  ASSERT_FALSE(before);
  EXPECT_EQ(before.error().code, errc::not_found);
}

TEST(Hardware, BothFileFormats) {
  std::string const text =
      "# comment\n"
      "  66  1 20200113 00:00:00  70.487 -68.504 28.0 -55.62 0.50 3.50 1 -1 0.1 0.2 1.0 100.0 -2.0 50.0 10 0 100 16\n"
      "99 2001 86400 50 60 0 10 3.24 1 10 0.5 1 0 100 0 0 0 75 16\n"
      "66 2005 3600 70 -68 28 -55 3.1 1 10 0.3 -1 2.0 -100 3.0 100 3 75 24\n";
  auto s = parse_hardware(text, 66, "hdw.test");
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(s->size(), 2u);
  auto const& cur = (*s)[0];
  EXPECT_DOUBLE_EQ(cur.bmoff_deg, 0.5);
  EXPECT_DOUBLE_EQ(cur.phidiff, -1.0);
  EXPECT_DOUBLE_EQ(cur.tdiff_us[0], 0.1);
  EXPECT_DOUBLE_EQ(cur.tdiff_us[1], 0.2);
  EXPECT_DOUBLE_EQ(cur.interferometer_m[2], -2.0);
  EXPECT_DOUBLE_EQ(cur.recrise_us, 50.0);
  auto const& old = (*s)[1];
  EXPECT_DOUBLE_EQ(old.valid_from, epoch_from_ymdhms(2005, 1, 1, 1, 0, 0));
  EXPECT_DOUBLE_EQ(old.tdiff_us[0], 0.3);
  EXPECT_DOUBLE_EQ(old.tdiff_us[1], 0.3);
  EXPECT_DOUBLE_EQ(old.interferometer_m[1], -100.0);
  EXPECT_EQ(old.maxbeam, 24);
  EXPECT_EQ(old.maxrange, 75);
}

TEST(Hardware, MalformedLinesNameFileAndLine) {
  auto s = parse_hardware("66 1 20200113 00:00:00 70.5 -68.5 28 -55 0 3.5 1 1 0 0 0 100 0 0 10 0 100\n", 66, "hdw.bad");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().source, "hdw.bad");
  EXPECT_NE(s.error().what.find("line 1"), std::string::npos);
  auto t = parse_hardware("66 1 20200113 00:00:00 70.5 xx 28 -55 0 3.5 1 1 0 0 0 100 0 0 10 0 100 16\n", 66, "hdw.bad");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().what.find("'xx'"), std::string::npos);
}

TEST(Hardware, MissingTablesAndVariables) {
  auto missing = radar_table::load("/nonexistent/radar.dat");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  EXPECT_EQ(missing.error().source, "/nonexistent/radar.dat");
  ::unsetenv("SD_RADAR");
  auto env = radar_table::from_environment();
  ASSERT_FALSE(env);
  EXPECT_NE(env.error().what.find("SD_RADAR"), std::string::npos);
  auto t = radar_table::load(radar_dat());
  auto nohdw = t->load_hardware(66, "/nonexistent");
  ASSERT_FALSE(nohdw);
  EXPECT_NE(nohdw.error().source.find("hdw.dat.cly"), std::string::npos);
}

TEST(Hardware, TdiffCalibrationLookup) {
  auto t = tdiff_table::load("tst", test::tables_path("tdiff").string());
  ASSERT_TRUE(t) << t.error().message();
  ASSERT_GE(t->entries().size(), 8u);
  auto e = t->find(0, 1, 9950, epoch_from_ymdhms(1995, 11, 20, 0, 0, 0));
  ASSERT_TRUE(e);
  EXPECT_DOUBLE_EQ(e->tdiff_us, 0.013);
  auto f = t->find(4, 2, 12000, epoch_from_ymdhms(2021, 6, 7, 0, 0, 0));
  ASSERT_TRUE(f);
  EXPECT_DOUBLE_EQ(f->tdiff_us, 0.150);
  EXPECT_FALSE(t->find(4, 2, 25000, epoch_from_ymdhms(2021, 6, 7, 0, 0, 0)));
  EXPECT_FALSE(t->find(7, 1, 12000, epoch_from_ymdhms(2021, 6, 7, 0, 0, 0)));
}

}  // namespace
}  // namespace rstx::radar
