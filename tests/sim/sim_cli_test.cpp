// End-to-end tests of `rstx sim`: exit statuses, the summary line, determinism of the files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"
#include "sim_test_util.hpp"

namespace rstx::sim {
namespace {

using namespace test_util;
namespace fs = std::filesystem;

std::string rstx_bin() { return (test::bin_dir() / "rstx").string(); }

/** Runs rstx with rstx's tables named in SD_RADAR/SD_HDWPATH (unless `tables` is false: then none is set). */
test::run_result rstx(std::string const& args, bool tables = true) {
  std::string env = "env -u SD_RADAR -u SD_HDWPATH -u RSTX_TABLES ";
  if (tables) env += "SD_RADAR='" + radar_dat() + "' SD_HDWPATH='" + hdw_dir() + "' ";
  return test::run(env + rstx_bin() + " " + args + " 2>&1");
}

class SimCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(rstx_bin())) GTEST_SKIP() << "rstx not built at " << rstx_bin();
    dir_ = test::scratch_dir("sim-cli");
  }
  fs::path dir_;
};

TEST_F(SimCli, WritesAValidFileAndSaysWhat) {
  auto const out = dir_ / "a.rawacf";
  auto r = rstx("sim -o '" + out.string() + "' --duration 2m --seed 5");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("32 records, 2 scans of 16 beams, stid 66"), std::string::npos) << r.out;
  auto recs = dmap::read_file(out.string());
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 32u);
  for (auto const& rec : *recs) EXPECT_TRUE(dmap::decode_rawacf(rec, dmap::strictness::strict));
  // Same options, same bytes; the library gives the same file too.
  auto const again = dir_ / "b.rawacf";
  ASSERT_EQ(rstx("sim -q -o '" + again.string() + "' --station 66 --duration 120s --seed 5").status, 0);
  EXPECT_EQ(test::read_bytes(out), test::read_bytes(again));
  sim_options o;
  o.duration_s = 120.0;
  o.seed = 5;
  auto const lib = run_bytes(o, cly_site());
  EXPECT_EQ(test::read_bytes(out), lib);
}

TEST_F(SimCli, OptionsReachTheRecords) {
  auto const out = dir_ / "k.rawacf.bz2";
  auto const truth = dir_ / "k.csv";
  auto r = rstx("sim -o '" + out.string() + "' --duration 60s --sequence katscan --beams 8 --reverse --nrang 75 "
                "--tfreq 12000 --int --no-xcf --width-model gaussian --truth '" + truth.string() + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  auto recs = dmap::read_file(out.string());
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 8u);
  auto v = dmap::decode_rawacf(recs->front(), dmap::strictness::strict);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->prm.bmnum, 7);
  EXPECT_EQ(v->prm.scan, 1);
  EXPECT_EQ(v->prm.nrang, 75);
  EXPECT_EQ(v->prm.tfreq, 12000);
  EXPECT_EQ(v->prm.mppul, 8);
  EXPECT_EQ(v->prm.xcf, 0);
  std::ifstream in(truth);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header.rfind("record,epoch,bmnum,gate,kind,", 0), 0u);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
}

TEST_F(SimCli, TablesFromOptionsOrAClearError) {
  auto const out = dir_ / "c.rawacf";
  // Without any setting: rstx's own tables.
  auto r = rstx("sim -q -o '" + out.string() + "' --duration 4s", false);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(out));
  fs::remove(out);
  // A table folder that is not there is an error naming it.
  r = rstx("sim -o '" + out.string() + "' --duration 4s --tables /nonexistent", false);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("/nonexistent"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(out));
  r = rstx("sim -q -o '" + out.string() + "' --duration 4s --radar-dat '" + radar_dat() + "' --hdw-path '" + hdw_dir() + "'",
           false);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(out));
}

TEST_F(SimCli, BadOptionsExitWithOne) {
  auto const out = (dir_ / "d.rawacf").string();
  EXPECT_EQ(rstx("sim -o " + out + " --duration 2x").status, 1);
  EXPECT_EQ(rstx("sim -o " + out + " --start yesterday").status, 1);
  EXPECT_EQ(rstx("sim -o " + out + " --station nowhere").status, 1);
  EXPECT_EQ(rstx("sim -o " + out + " --sequence tauscan").status, 1);
  EXPECT_EQ(rstx("sim -o " + out + " --beam-list 0,99").status, 1);
  EXPECT_EQ(rstx("sim --duration 1m").status, 1);  // no output
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace rstx::sim
