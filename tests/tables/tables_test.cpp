// tables::locate: the order in which a table is looked for, and errors that name the table and
// the place that named it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "rstx/tables/tables.hpp"
#include "support/scoped_env.hpp"
#include "support/test_data.hpp"

namespace rstx::tables {
namespace {

namespace fs = std::filesystem;

/** Clears every variable locate() reads, for the test's duration. */
struct clean_environment {
  test::scoped_env radar{"SD_RADAR", nullptr}, hdw{"SD_HDWPATH", nullptr}, tdiff{"SD_TDIFFPATH", nullptr},
      aacgm{"AACGM_v2_DAT_PREFIX", nullptr}, igrf{"IGRF_PATH", nullptr}, rstx{"RSTX_TABLES", nullptr};
};

std::string own(std::string const& rel) { return test::tables_path(rel).string(); }

TEST(Tables, TablesFolderThenVariablesThenRstxTablesThenBuiltIn) {
  clean_environment clean;
  request all;
  all.need_tdiff = true;
  all.need_geo = true;
  // With nothing set: the copy beside the program (build/bin/../share/rstx/tables).
  {
    auto t = locate(all);
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->radar_dat.origin, "built-in");
    EXPECT_EQ(t->radar_dat.path, (test::bin_dir().parent_path() / "share/rstx/tables/radar.dat").lexically_normal().string());
    EXPECT_EQ(builtin_dir(), (test::bin_dir().parent_path() / "share/rstx/tables").lexically_normal().string());
  }
  // RSTX_TABLES names another copy, which --tables overrides.
  {
    test::scoped_env r("RSTX_TABLES", own("").c_str());
    auto t = locate(all);
    ASSERT_TRUE(t) << t.error().message();
    EXPECT_EQ(t->radar_dat.path, own("radar.dat"));
    EXPECT_EQ(t->radar_dat.origin, "RSTX_TABLES");
    EXPECT_EQ(t->aacgm_prefix.path, own("aacgm/aacgm_coeffs-13-"));
    // An RST variable wins over RSTX_TABLES for its own table only.
    test::scoped_env h("SD_HDWPATH", own("hdw/").c_str());
    t = locate(all);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->hdw_dir.origin, "SD_HDWPATH");
    EXPECT_EQ(t->radar_dat.origin, "RSTX_TABLES");
    // --tables wins over both.
    auto given = all;
    given.tables_dir = own("");
    t = locate(given);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->hdw_dir.origin, "--tables");
    EXPECT_EQ(t->igrf_dir.path, own("igrf"));
    // A named AACGM-v2 set comes from the folder, not from AACGM_v2_DAT_PREFIX.
    test::scoped_env a("AACGM_v2_DAT_PREFIX", own("aacgm/aacgm_coeffs-13-").c_str());
    given.aacgm = "14";
    t = locate(given);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->aacgm_prefix.path, own("aacgm/aacgm_coeffs-14-"));
    EXPECT_EQ(t->aacgm_prefix.origin, "--tables");
    given.aacgm = own("aacgm/aacgm_coeffs-14-");
    t = locate(given);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->aacgm_prefix.origin, "--aacgm-coeffs");
    EXPECT_EQ(t->describe().size(), 5U);
  }
}

TEST(Tables, AMissingTableIsAnErrorNamingItAndWhereItWasNamed) {
  clean_environment clean;
  auto dir = test::scratch_dir("tables_missing");
  fs::copy(own(""), dir / "copy", fs::copy_options::recursive);
  fs::remove_all(dir / "copy" / "igrf");
  request want;
  want.tables_dir = (dir / "copy").string();
  want.need_geo = true;
  auto t = locate(want);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().code, errc::not_found);
  EXPECT_NE(t.error().what.find("IGRF"), std::string::npos) << t.error().what;
  EXPECT_NE(t.error().what.find("--tables"), std::string::npos) << t.error().what;
  EXPECT_NE(t.error().what.find((dir / "copy" / "igrf").string()), std::string::npos) << t.error().what;

  test::scoped_env r("SD_RADAR", "/nonexistent/radar.dat");
  t = locate(request{});
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().what.find("SD_RADAR"), std::string::npos) << t.error().what;
  EXPECT_NE(t.error().what.find("/nonexistent/radar.dat"), std::string::npos) << t.error().what;

  request unknown_set;
  unknown_set.aacgm = "12";
  unknown_set.need_geo = true;
  EXPECT_EQ(locate(unknown_set).error().code, errc::invalid_argument);
}

}  // namespace
}  // namespace rstx::tables
