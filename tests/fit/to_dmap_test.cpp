// fitacf records as RST's FitWrite lays them out (dmap.md §2, §3.2), for both algorithms.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "rstx/dmap/reader.hpp"
#include "rstx/fit/fitacf3.hpp"
#include "rstx/fit/from_dmap.hpp"
#include "rstx/fit/to_dmap.hpp"
#include "support.hpp"
#include "support/test_data.hpp"

using namespace rstx;

namespace {

std::vector<std::string> field_layout(dmap::record const& r) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < r.num_scalars(); ++i)
    out.push_back(fmt::format("S {} {}", r.scalar(i).name(), dmap::type_name(r.scalar(i).type())));
  for (std::size_t i = 0; i < r.num_arrays(); ++i) {
    auto const a = r.array(i);
    out.push_back(fmt::format("A {} {} {}", a.name(), dmap::type_name(a.type()), fmt::join(a.dims(), " ")));
  }
  return out;
}

radar::site cly() {
  radar::site s;
  s.stid = 66;
  s.interferometer_m = {0.0, 100.0, 0.0};
  s.maxbeam = 16;
  s.bmsep_deg = 3.5;
  return s;
}

}  // namespace

TEST(to_dmap, origin_command_keeps_rst_127_character_rule) {
  std::string const long_path(120, 'x');
  std::vector<char const*> argv = {"make_fit", "-fitacf3", long_path.c_str()};
  EXPECT_EQ(fit::origin_command(argv), "make_fit -fitacf3");
  std::string const fits(127 - 9 - 9 - 1, 'y');  // "make_fit"+1 + "-fitacf3"+1 + fits+1 == 127
  argv = {"make_fit", "-fitacf3", fits.c_str()};
  EXPECT_EQ(fit::origin_command(argv), fmt::format("make_fit -fitacf3 {}", fits));
  std::string const one_more(fits.size() + 1, 'y');
  argv = {"make_fit", "-fitacf3", one_more.c_str(), "-vb"};
  EXPECT_EQ(fit::origin_command(argv), "make_fit -fitacf3");
}

TEST(to_dmap, origin_time_is_asctime_without_newline) {
  EXPECT_EQ(fit::origin_time(0), "Thu Jan  1 00:00:00 1970");
  EXPECT_EQ(fit::origin_time(1795468686), "Mon Nov 23 21:18:06 2026");
}

TEST(to_dmap, fitacf3_layout_equals_rst) {
  auto const& recs = fit::test::borealis_records();
  auto const batch = fit::from_dmap(recs, {}, {}, cly(), {}, {});
  auto const out = fit::fitacf3(batch.acf.view());
  ASSERT_TRUE(out);
  auto const ref = dmap::read_file(rstx::test::shared_path("data/real/test.rawacf.rst-fitacf3.fitacf").string());
  ASSERT_TRUE(ref);
  for (std::int32_t i = 0; i < 2; ++i) {
    dmap::record r;
    fit::to_dmap(batch.prm[static_cast<std::size_t>(i)], *out, i, {1, "Mon Nov 23 21:18:06 2026", "make_fit"}, r);
    EXPECT_EQ(field_layout(r), field_layout((*ref)[static_cast<std::size_t>(i)]));
    EXPECT_EQ(r.find_scalar("origin.code")->as<std::int8_t>(), 1);
    EXPECT_EQ(r.find_scalar("origin.time")->as_string(), "Mon Nov 23 21:18:06 2026");
    EXPECT_EQ(r.find_scalar("algorithm")->as_string(), "fitacf3");
    EXPECT_EQ(r.find_scalar("ifmode")->as<std::int16_t>(), -1);  // absent in the input: RST 5.0 default
  }
}

TEST(to_dmap, no_xcf_block_without_xcf_and_nothing_after_pwr0_without_fits) {
  auto recs = fit::test::borealis_records();
  auto const no_xcf = fit::test::with_scalar<std::int16_t>(recs[0], "xcf", 0);
  auto const nothing = fit::test::with_scalar<std::int16_t>(recs[1], "nave", 3);  // noise cut removes all
  std::vector<dmap::record> in = {no_xcf, nothing};
  auto const batch = fit::from_dmap(in, {}, {}, cly(), {}, {});
  auto const out = fit::fitacf3(batch.acf.view());
  ASSERT_TRUE(out);
  dmap::record r;
  fit::to_dmap(batch.prm[0], *out, 0, {}, r);
  EXPECT_TRUE(r.find_array("sd_phi"));
  EXPECT_FALSE(r.find_array("phi0"));
  EXPECT_FALSE(r.find_array("elv"));
  fit::to_dmap(batch.prm[1], *out, 1, {}, r);
  if (out->rec(1).fitted == 0) {
    EXPECT_EQ(std::string(r.array(r.num_arrays() - 1).name()), "pwr0");
    EXPECT_FALSE(r.find_array("slist"));
  }
}

TEST(to_dmap, fitacf25_layout_and_slist_from_either_flag) {
  auto const& recs = fit::test::borealis_records();
  auto const batch = fit::from_dmap(recs, {}, {}, cly(), {}, {});
  fit::host_fit_batch out(batch.acf.view(), fit::fit_algorithm::fitacf25);
  auto v = out.view();
  v.qflg[5] = 1;
  v.x_qflg[9] = 1;  // written too (FitEncode: qflg == 1 or x_qflg == 1)
  v.nlag[5] = 12;
  v.col[static_cast<int>(fit::fit_column::elv_low)][9] = 17.5F;
  dmap::record r;
  fit::to_dmap(batch.prm[0], out, 0, {}, r);
  EXPECT_EQ(r.find_scalar("algorithm")->as_string(), "fitacf2");
  EXPECT_EQ(r.find_scalar("fitacf.revision.major")->as<std::int32_t>(), 2);
  EXPECT_EQ(r.find_scalar("fitacf.revision.minor")->as<std::int32_t>(), 5);
  EXPECT_EQ(r.find_array("slist")->values<std::int16_t>(), (std::vector<std::int16_t>{5, 9}));
  EXPECT_EQ(r.find_array("nlag")->values<std::int16_t>(), (std::vector<std::int16_t>{12, 0}));
  EXPECT_EQ(r.find_array("elv_low")->values<float>(), (std::vector<float>{0.0F, 17.5F}));
  std::vector<std::string> names;
  for (std::size_t i = 0; i < r.num_arrays(); ++i) names.emplace_back(r.array(i).name());
  std::vector<std::string> const expected = {
      "ptab", "ltab", "pwr0", "slist", "nlag", "qflg", "gflg", "p_l", "p_l_e", "p_s", "p_s_e", "v", "v_e", "w_l",
      "w_l_e", "w_s", "w_s_e", "sd_l", "sd_s", "sd_phi", "x_qflg", "x_gflg", "x_p_l", "x_p_l_e", "x_p_s", "x_p_s_e",
      "x_v", "x_v_e", "x_w_l", "x_w_l_e", "x_w_s", "x_w_s_e", "phi0", "phi0_e", "elv", "elv_low", "elv_high",
      "x_sd_l", "x_sd_s", "x_sd_phi"};
  EXPECT_EQ(names, expected);
}

TEST(to_dmap, lag_table_rows_follow_mplgexs_and_mppul_the_pulse_table) {
  auto recs = fit::test::borealis_records();
  auto ltab = recs[0].find_array("ltab")->values<std::int16_t>();
  ltab.insert(ltab.end(), {0, 0, 0, 0});
  auto r0 = fit::test::with_array<std::int16_t>(recs[0], "ltab", {2, 25}, ltab);
  r0 = fit::test::with_scalar<std::int16_t>(r0, "mplgexs", 24);
  std::vector<dmap::record> in = {r0};
  auto const batch = fit::from_dmap(in, {}, {}, cly(), {}, {});
  ASSERT_TRUE(batch.rejected.empty());
  auto const out = fit::fitacf3(batch.acf.view());
  dmap::record r;
  fit::to_dmap(batch.prm[0], *out, 0, {}, r);
  EXPECT_EQ(r.find_array("ltab")->dim(1), 25);
  EXPECT_EQ(r.find_scalar("mppul")->as<std::int16_t>(), 7);
}
