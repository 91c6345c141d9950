// FITACF 2.5 entry point over the shared batch types (src/fit/fitacf25/fitacf25.cpp): thread-count
// independence, the dispatch through fit_records, errors, and edge batches. Bit-identity with RST
// is checked by record_fit_test.cpp (the core) and make_fit_test.cpp (the whole program).
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "rstx/core/time.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/fit/fit.hpp"
#include "rstx/fit/fitacf25.hpp"
#include "rstx/fit/from_dmap.hpp"
#include "rstx/radar/hardware.hpp"
#include "support/test_data.hpp"

namespace rstx::fit {
namespace {

rawacf_batch load_batch(std::string const& rel) {
  auto recs = dmap::read_file(test::shared_path(rel).string());
  EXPECT_TRUE(recs) << recs.error().message();
  auto table = radar::radar_table::load(test::tables_path("radar.dat").string());
  EXPECT_TRUE(table);
  auto first = dmap::decode_radar_parms(recs->front(), dmap::strictness::lenient);
  EXPECT_TRUE(first);
  auto radar = table->load_hardware(first->stid, test::tables_path("hdw").string() + "/");
  EXPECT_TRUE(radar);
  auto site = radar->site_at(
      epoch_from_ymdhms(first->year, first->month, first->day, first->hour, first->minute, first->second));
  EXPECT_TRUE(site);
  return from_dmap(*recs, {}, {}, *site, tdiff_selection{}, input_limits{});
}

void expect_same(host_fit_batch const& a, host_fit_batch const& b) {
  ASSERT_EQ(a.n_rec(), b.n_rec());
  ASSERT_EQ(a.n_ranges(), b.n_ranges());
  for (std::int32_t i = 0; i < a.n_rec(); ++i) {
    EXPECT_EQ(std::memcmp(&a.rec(i), &b.rec(i), sizeof(record_result)), 0) << "record " << i;
  }
  std::int64_t differing = 0;
  for (std::int64_t r = 0; r < a.n_ranges(); ++r) {
    bool same = std::bit_cast<std::uint32_t>(a.pwr0_db(r)) == std::bit_cast<std::uint32_t>(b.pwr0_db(r)) &&
                a.qflg(r) == b.qflg(r) && a.gflg(r) == b.gflg(r) && a.nlag(r) == b.nlag(r) &&
                a.x_qflg(r) == b.x_qflg(r) && a.x_gflg(r) == b.x_gflg(r);
    for (int c = 0; c < fit_column_count; ++c) {
      auto const col = static_cast<fit_column>(c);
      same = same && std::bit_cast<std::uint32_t>(a.value(col, r)) == std::bit_cast<std::uint32_t>(b.value(col, r));
    }
    if (!same) ++differing;
  }
  EXPECT_EQ(differing, 0);
}

TEST(Fitacf25Batch, SameResultsForAnyNumberOfThreads) {
  auto batch = load_batch("data/synth/cly_10min_float.rawacf.bz2");
  ASSERT_TRUE(batch.rejected.empty());
  auto one = fitacf25(batch.acf.view());
  ASSERT_TRUE(one) << one.error().message();
  for (int threads : {2, 3, 7}) {
    thread_pool pool(threads);
    auto many = fitacf25(batch.acf.view(), {}, exec_context::cpu(&pool));
    ASSERT_TRUE(many) << many.error().message();
    expect_same(*one, *many);
  }
  std::int64_t fitted = 0;
  for (std::int32_t i = 0; i < one->n_rec(); ++i) fitted += one->rec(i).fitted;
  EXPECT_EQ(fitted, 4481);  // the reference's slist entries (record_fit_test.cpp)
  EXPECT_EQ(one->algorithm(), fit_algorithm::fitacf25);
}

TEST(Fitacf25Batch, DispatchedByFitRecords) {
  auto batch = load_batch("data/real/test.rawacf");
  ASSERT_TRUE(algorithm_available(fit_algorithm::fitacf25));
  EXPECT_STREQ(algorithm_name(fit_algorithm::fitacf25), "fitacf2");
  fit_options opt;
  opt.algorithm = fit_algorithm::fitacf25;
  auto via = fit_records(batch.acf.view(), opt);
  auto direct = fitacf25(batch.acf.view());
  ASSERT_TRUE(via && direct);
  expect_same(*via, *direct);
}

TEST(Fitacf25Batch, OnlyFittedRangesAreMarkedAndXcfBlockFollowsXcf) {
  auto batch = load_batch("data/real/test.rawacf");
  auto res = fitacf25(batch.acf.view());
  ASSERT_TRUE(res);
  for (std::int32_t i = 0; i < res->n_rec(); ++i) {
    auto const& rr = res->rec(i);
    std::int32_t fitted = 0;
    for (std::int64_t r = rr.range_begin; r < rr.range_begin + rr.nrang; ++r) {
      if (res->qflg(r) == 1) ++fitted;
      if (res->qflg(r) != 1) {
        EXPECT_EQ(res->x_qflg(r), 0);  // XCFs are fitted only where the ACF was
      }
    }
    EXPECT_EQ(fitted, rr.fitted);
    EXPECT_EQ(rr.noise_lag0, 0.0F);
    EXPECT_EQ(rr.noise_vel, 0.0F);
  }
}

TEST(Fitacf25Batch, EmptyBatch) {
  host_acf_batch empty;
  auto res = fitacf25(empty.view());
  ASSERT_TRUE(res) << res.error().message();
  EXPECT_EQ(res->n_rec(), 0);
}

TEST(Fitacf25Batch, CudaBackendIsNotAvailable) {
  host_acf_batch empty;
  exec_context ctx;
  ctx.where = backend::cuda;
  auto res = fitacf25(empty.view(), {}, ctx);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, errc::unsupported);
}

/** A one-record batch of a 7-pulse sequence with flat ACFs (all parameters valid). */
host_acf_batch tiny_batch() {
  host_acf_batch b;
  b.lag_stride = 4;
  record_params p;
  p.nrang = 30;
  p.mplgs = 4;
  p.mppul = 7;
  p.nave = 20;
  p.smsep_us = 300;
  p.mpinc_us = 2400;
  p.txpl_us = 300;
  p.lagfr_us = 1200;
  p.tfreq_khz = 10500;
  p.year = 2020;
  std::int16_t const pulses[7] = {0, 9, 12, 20, 22, 26, 27};
  std::copy(pulses, pulses + 7, p.pulse);
  std::int16_t const lags[2][4] = {{0, 26, 20, 9}, {0, 27, 22, 12}};
  for (int k = 0; k < 2; ++k) std::copy(lags[k], lags[k] + 4, p.lag[k]);
  p.site.interfer_m[1] = 100.0;
  p.site.maxbeam = 16;
  p.site.bmsep_deg = 3.24;
  b.rec.push_back(p);
  b.pwr0.assign(30, 1000.0F);
  b.acf.assign(30 * 4 * 2, 0.0F);
  for (std::size_t i = 0; i < b.acf.size(); i += 2) b.acf[i] = 1000.0F;
  b.xcf = b.acf;
  return b;
}

TEST(Fitacf25Batch, InconsistentExtentsAreRejected) {
  auto b = tiny_batch();
  auto v = b.view();
  v.n_ranges = 29;
  auto res = fitacf25(v);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, errc::invalid_argument);
}

TEST(Fitacf25Batch, RecordWithoutSampleSeparationIsAnError) {
  auto b = tiny_batch();
  b.rec[0].smsep_us = 0;
  b.rec[0].txpl_us = 0;
  auto res = fitacf25(b.view());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, errc::bad_value);
  EXPECT_NE(res.error().what.find("batch record 0"), std::string::npos) << res.error().what;
}

TEST(Fitacf25Batch, OneAverageGivesZeros) {
  auto b = tiny_batch();
  b.rec[0].nave = 1;
  auto res = fitacf25(b.view());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->rec(0).noise_sky, 0.0F);
  EXPECT_EQ(res->rec(0).fitted, 0);
  for (std::int64_t r = 0; r < res->n_ranges(); ++r) {
    EXPECT_EQ(res->pwr0_db(r), 0.0F);
    EXPECT_EQ(res->qflg(r), 0);
  }
}

}  // namespace
}  // namespace rstx::fit
