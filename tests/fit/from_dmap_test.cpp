// Records that cannot be fitted: each is reported with its index and left out of the batch, the
// records around it are converted and fitted as usual, and nothing crashes. RST crashes, hangs or
// reads out of bounds on most of these (nrang 30000, slist 5000, mppul 0, NaN ACFs, ...).
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rstx/fit/fitacf3.hpp"
#include "rstx/fit/from_dmap.hpp"
#include "support.hpp"

using namespace rstx;
using fit::test::borealis_records;
using fit::test::with_array;
using fit::test::with_scalar;

namespace {

radar::site cly_site() {
  auto const t = fit::test::shared_tables();
  auto radars = radar::radar_table::load(t.radar_dat);
  EXPECT_TRUE(radars);
  auto cly = radars->load_hardware(66, t.hdw_dir);
  EXPECT_TRUE(cly);
  auto site = cly->site_at(1623088860.0);
  EXPECT_TRUE(site);
  return *site;
}

std::vector<std::int16_t> int16s(dmap::record const& r, char const* name) {
  return r.find_array(name)->values<std::int16_t>();
}
std::vector<float> floats(dmap::record const& r, char const* name) { return r.find_array(name)->values<float>(); }

/** Puts `bad` between two good records; checks it alone is rejected with the expected words. */
void expect_rejected(dmap::record const& bad, errc code, std::string const& words) {
  SCOPED_TRACE(words);
  std::vector<dmap::record> recs = {borealis_records()[0], bad, borealis_records()[1]};
  // Stream indices with gaps (stretches skipped between the records) label the records as given.
  std::vector<std::int64_t> const indices = {40, 43, 44};
  std::vector<std::int64_t> const offsets = {0, 73000, 146000};
  auto const site = cly_site();
  auto batch = fit::from_dmap(recs, indices, offsets, site, {}, {});
  ASSERT_EQ(batch.rejected.size(), 1U);
  auto const& rej = batch.rejected.front();
  EXPECT_EQ(rej.index, 43);
  EXPECT_EQ(rej.reason.record, 43);
  EXPECT_EQ(rej.reason.offset, 73000);
  EXPECT_EQ(rej.reason.code, code) << rej.reason.message();
  EXPECT_NE(rej.reason.what.find(words), std::string::npos) << rej.reason.what;
  ASSERT_EQ(batch.input_index, (std::vector<std::int64_t>{40, 44}));
  auto fitted = fit::fitacf3(batch.acf.view());
  ASSERT_TRUE(fitted) << fitted.error().message();
  EXPECT_EQ(fitted->n_rec(), 2);
  EXPECT_GT(fitted->rec(0).fitted, 0);
  EXPECT_GT(fitted->rec(1).fitted, 0);
}

dmap::record base() { return borealis_records()[0]; }

}  // namespace

TEST(from_dmap, good_records_are_all_converted) {
  auto const site = cly_site();
  auto batch = fit::from_dmap(borealis_records(), {}, {}, site, {}, {});
  EXPECT_TRUE(batch.rejected.empty());
  ASSERT_EQ(batch.acf.rec.size(), 2U);
  EXPECT_EQ(batch.acf.lag_stride, 22);
  EXPECT_EQ(batch.acf.rec[1].range_begin, 100);
  EXPECT_EQ(batch.prm[0].stid, 66);
  EXPECT_TRUE(fit::validate(batch.acf.view()));
}

TEST(from_dmap, nrang_not_positive) {
  expect_rejected(with_scalar<std::int16_t>(base(), "nrang", 0), errc::bad_value, "nrang is 0");
  expect_rejected(with_scalar<std::int16_t>(base(), "nrang", -5), errc::bad_value, "nrang is -5");
}

TEST(from_dmap, nrang_beyond_the_ranges_present) {
  expect_rejected(with_scalar<std::int16_t>(base(), "nrang", 30000), errc::bad_value,
                  "nrang 30000 exceeds the 100 lag-0 powers");
}

TEST(from_dmap, nrang_above_the_ranges_rstx_fits) {
  // 1001 lag-0 powers present, so only the fixed limit (fit::max_ranges) rejects it.
  auto r = with_scalar<std::int16_t>(base(), "nrang", fit::max_ranges + 1);
  r = with_array<float>(r, "pwr0", {fit::max_ranges + 1}, std::vector<float>(fit::max_ranges + 1, 1.0F));
  expect_rejected(r, errc::bad_value, "nrang 1001 is above the 1000 ranges rstx fits");
}

TEST(from_dmap, nrang_above_a_configured_limit) {
  std::vector<dmap::record> recs = {base()};
  fit::input_limits limits;
  limits.max_ranges = 75;
  auto batch = fit::from_dmap(recs, {}, {}, cly_site(), {}, limits);
  ASSERT_EQ(batch.rejected.size(), 1U);
  EXPECT_NE(batch.rejected[0].reason.what.find("hardware limit of 75"), std::string::npos);
}

TEST(from_dmap, slist_out_of_range) {
  auto slist = int16s(base(), "slist");
  slist[10] = 5000;
  expect_rejected(with_array<std::int16_t>(base(), "slist", {100}, slist), errc::bad_value, "slist[10] = 5000");
  slist[10] = -1;
  expect_rejected(with_array<std::int16_t>(base(), "slist", {100}, slist), errc::bad_value, "slist[10] = -1");
}

TEST(from_dmap, acfd_dims_that_do_not_match_slist) {
  auto acfd = floats(base(), "acfd");
  acfd.resize(2 * 22 * 99);
  expect_rejected(with_array<float>(base(), "acfd", {2, 22, 99}, acfd), errc::wrong_type, "acfd");
}

TEST(from_dmap, acfd_with_too_few_lags_for_nrang_times_mplgs) {
  auto const acfd = floats(base(), "acfd");
  std::vector<float> short_rows;
  for (int s = 0; s < 100; ++s)
    for (int k = 0; k < 2 * 10; ++k) short_rows.push_back(acfd[static_cast<std::size_t>(s * 44 + k)]);
  expect_rejected(with_array<float>(base(), "acfd", {2, 10, 100}, short_rows), errc::bad_value,
                  "acfd has 10 lags per range");
}

TEST(from_dmap, mppul_zero_or_inconsistent) {
  expect_rejected(with_scalar<std::int16_t>(base(), "mppul", 0), errc::bad_value, "mppul is 0");
  auto r = with_array<std::int16_t>(base(), "ptab", {0}, {});
  expect_rejected(with_scalar<std::int16_t>(r, "mppul", 0), errc::bad_value, "mppul is 0");
  expect_rejected(with_scalar<std::int16_t>(base(), "mppul", 8), errc::bad_value,
                  "the pulse table has 7 entries but mppul is 8");
  std::vector<std::int16_t> many(70);
  for (int i = 0; i < 70; ++i) many[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(i);
  expect_rejected(with_scalar<std::int16_t>(with_array<std::int16_t>(base(), "ptab", {70}, many), "mppul", 70),
                  errc::bad_value, "above the 64 pulses");
}

TEST(from_dmap, mplgs_beyond_the_lag_table) {
  expect_rejected(with_scalar<std::int16_t>(base(), "mplgs", 0), errc::bad_value, "mplgs is 0");
  expect_rejected(with_scalar<std::int16_t>(base(), "mplgs", 30), errc::bad_value, "mplgs 30 goes beyond the lag table");
  expect_rejected(with_scalar<std::int16_t>(base(), "mplgs", 65), errc::bad_value, "above the 64 lag-table rows");
  expect_rejected(with_scalar<std::int16_t>(base(), "mplgexs", 40), errc::bad_value, "mplgexs 40");
}

TEST(from_dmap, lag_table_entry_beyond_the_pulse_table) {
  auto ltab = int16s(base(), "ltab");
  ltab[2 * 5 + 1] = 99;
  expect_rejected(with_array<std::int16_t>(base(), "ltab", {2, 23}, ltab), errc::bad_value,
                  "lag-table row 5 refers to pulse position 99");
}

TEST(from_dmap, nan_or_inf_data) {
  auto acfd = floats(base(), "acfd");
  acfd[2 * (7 * 22 + 3)] = std::numeric_limits<float>::quiet_NaN();
  expect_rejected(with_array<float>(base(), "acfd", {2, 22, 100}, acfd), errc::bad_value,
                  "acfd holds a NaN or infinite value (range 7, lag-table row 3)");
  auto xcfd = floats(base(), "xcfd");
  xcfd[2 * (9 * 22) + 1] = std::numeric_limits<float>::infinity();
  expect_rejected(with_array<float>(base(), "xcfd", {2, 22, 100}, xcfd), errc::bad_value, "xcfd holds a NaN");
  auto pwr0 = floats(base(), "pwr0");
  pwr0[12] = -std::numeric_limits<float>::infinity();
  expect_rejected(with_array<float>(base(), "pwr0", {100}, pwr0), errc::bad_value, "pwr0 holds a NaN");
}

TEST(from_dmap, nan_xcfd_is_ignored_without_xcf) {
  auto xcfd = floats(base(), "xcfd");
  xcfd[5] = std::numeric_limits<float>::quiet_NaN();
  auto r = with_scalar<std::int16_t>(with_array<float>(base(), "xcfd", {2, 22, 100}, xcfd), "xcf", 0);
  std::vector<dmap::record> recs = {r};
  auto batch = fit::from_dmap(recs, {}, {}, cly_site(), {}, {});
  EXPECT_TRUE(batch.rejected.empty());
}

TEST(from_dmap, sample_separation_not_positive) {
  expect_rejected(with_scalar<std::int16_t>(base(), "smsep", 0), errc::bad_value, "smsep is 0");
  expect_rejected(with_scalar<std::int16_t>(base(), "smsep", -300), errc::bad_value, "smsep is -300");
}

TEST(from_dmap, noise_estimate_that_never_ends_in_rst) {
  expect_rejected(with_scalar<std::int16_t>(base(), "nrang", 5), errc::bad_value, "never ends for nave 31 and nrang 5");
}

TEST(from_dmap, missing_pwr0) {
  expect_rejected(fit::test::without(base(), "pwr0"), errc::missing_field, "pwr0");
}

TEST(from_dmap, rst_quirks_are_reproduced_not_rejected) {
  // nrang below the pwr0 extent, slist entries above nrang, duplicate slist entries (last wins).
  auto slist = int16s(base(), "slist");
  slist[3] = 60;  // range 60 listed twice: RST keeps the later one (the original row 60)
  auto r = with_scalar<std::int16_t>(with_array<std::int16_t>(base(), "slist", {100}, slist), "nrang", 80);
  std::vector<dmap::record> recs = {r};
  auto batch = fit::from_dmap(recs, {}, {}, cly_site(), {}, {});
  ASSERT_TRUE(batch.rejected.empty());
  EXPECT_EQ(batch.acf.rec[0].nrang, 80);
  auto const acfd = floats(base(), "acfd");
  EXPECT_EQ(batch.acf.acf[2 * 22 * 60], acfd[2 * 22 * 60]);  // row of slist[60], not slist[3]
  EXPECT_EQ(batch.acf.acf[2 * 22 * 3], 0.0F);                // range 3 is no longer listed
}

TEST(from_dmap, tdiff_selection_rules) {
  radar::site s;
  s.tdiff_us = {0.25, -0.5};
  dmap::radar_parms p;
  p.year = 2021;
  p.month = 6;
  p.day = 7;
  p.tfreq = 10500;
  fit::tdiff_selection none;
  EXPECT_EQ(fit::choose_tdiff_us(s, p, none), 0.25);  // offset 0: channel A
  p.offset = 400;
  p.channel = 2;
  EXPECT_EQ(fit::choose_tdiff_us(s, p, none), -0.5);  // stereo channel B
  p.channel = 1;
  EXPECT_EQ(fit::choose_tdiff_us(s, p, none), 0.25);
  fit::tdiff_selection fixed;
  fixed.fixed_us = 1.5;
  EXPECT_EQ(fit::choose_tdiff_us(s, p, fixed), 1.5);
  fixed.fixed_us = -999;  // RST's "not given"
  EXPECT_EQ(fit::choose_tdiff_us(s, p, fixed), 0.25);
  auto table = radar::tdiff_table::parse("4 1 8000 20000 20200101 00:00:00 20221231 00:00:00 0.125 0.001\n", "t");
  ASSERT_TRUE(table);
  fit::tdiff_selection cal;
  cal.method = 4;
  cal.fixed_us = 2.0;
  cal.calibration = &*table;
  EXPECT_EQ(fit::choose_tdiff_us(s, p, cal), 0.125);  // channel 1, in band and time
  p.channel = 2;
  EXPECT_EQ(fit::choose_tdiff_us(s, p, cal), 2.0);  // no entry: -tdiff
  cal.fixed_us.reset();
  EXPECT_EQ(fit::choose_tdiff_us(s, p, cal), -0.5);  // no entry, no -tdiff: hardware
}
