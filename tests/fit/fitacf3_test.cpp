// The FITACF 3.0 entry point: thread-count invariance, batch edge cases and error values.
#include <bit>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "rstx/fit/fit.hpp"
#include "rstx/fit/fitacf3.hpp"
#include "rstx/fit/from_dmap.hpp"
#include "support.hpp"
#include "support/test_data.hpp"

using namespace rstx;

namespace {

fit::rawacf_batch synthetic_batch() {
  auto recs = dmap::read_file(rstx::test::shared_path("data/synth/cly_10min_float.rawacf.bz2").string());
  EXPECT_TRUE(recs);
  radar::site site;
  site.stid = 66;
  site.bmsep_deg = 3.24;
  site.interferometer_m = {0.0, 100.0, 0.0};
  site.maxbeam = 16;
  return fit::from_dmap(*recs, {}, {}, site, {}, {});
}

bool identical(fit::host_fit_batch const& a, fit::host_fit_batch const& b) {
  if (a.n_rec() != b.n_rec() || a.n_ranges() != b.n_ranges()) return false;
  for (std::int32_t i = 0; i < a.n_rec(); ++i)
    if (std::memcmp(&a.rec(i), &b.rec(i), sizeof(fit::record_result)) != 0) return false;
  for (std::int64_t r = 0; r < a.n_ranges(); ++r) {
    if (a.qflg(r) != b.qflg(r) || a.gflg(r) != b.gflg(r) || a.nlag(r) != b.nlag(r)) return false;
    if (std::bit_cast<std::uint32_t>(a.pwr0_db(r)) != std::bit_cast<std::uint32_t>(b.pwr0_db(r))) return false;
    for (int c = 0; c < fit::fit_column_count; ++c) {
      auto const col = static_cast<fit::fit_column>(c);
      if (std::bit_cast<std::uint32_t>(a.value(col, r)) != std::bit_cast<std::uint32_t>(b.value(col, r))) return false;
    }
  }
  return true;
}

}  // namespace

TEST(fitacf3, identical_for_any_thread_count) {
  auto const batch = synthetic_batch();
  auto const view = batch.acf.view();
  auto const serial = fit::fitacf3(view);
  ASSERT_TRUE(serial) << serial.error().message();
  for (int threads : {1, 2, 3, 5, 16}) {
    fit::thread_pool pool(threads);
    auto const parallel = fit::fitacf3(view, {}, fit::exec_context::cpu(&pool));
    ASSERT_TRUE(parallel);
    EXPECT_TRUE(identical(*serial, *parallel)) << threads << " threads";
  }
}

TEST(fitacf3, empty_batch) {
  fit::host_acf_batch empty;
  auto const out = fit::fitacf3(empty.view());
  ASSERT_TRUE(out);
  EXPECT_EQ(out->n_rec(), 0);
  EXPECT_EQ(out->n_ranges(), 0);
}

TEST(fitacf3, cuda_backend_is_a_clear_error) {
  auto const batch = synthetic_batch();
  fit::exec_context ctx;
  ctx.where = fit::backend::cuda;
  auto const out = fit::fitacf3(batch.acf.view(), {}, ctx);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, errc::unsupported);
}

TEST(fitacf3, rejects_batches_that_break_the_invariants) {
  auto batch = synthetic_batch();
  batch.acf.rec[3].smsep_us = 0;
  auto out = fit::fitacf3(batch.acf.view());
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, errc::invalid_argument);
  batch = synthetic_batch();
  batch.acf.rec[2].lag[1][4] = 77;
  out = fit::fitacf3(batch.acf.view());
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().what.find("lag-table row 4"), std::string::npos);
  batch = synthetic_batch();
  batch.acf.rec[1].range_begin += 1;
  EXPECT_FALSE(fit::fitacf3(batch.acf.view()));
}

TEST(fitacf3, dispatch_and_names) {
  EXPECT_TRUE(fit::algorithm_available(fit::fit_algorithm::fitacf3));
  EXPECT_STREQ(fit::algorithm_name(fit::fit_algorithm::fitacf3), "fitacf3");
  EXPECT_STREQ(fit::algorithm_name(fit::fit_algorithm::fitacf25), "fitacf2");
  auto const batch = synthetic_batch();
  auto const direct = fit::fitacf3(batch.acf.view());
  auto const dispatched = fit::fit_records(batch.acf.view(), {});
  ASSERT_TRUE(direct && dispatched);
  EXPECT_TRUE(identical(*direct, *dispatched));
}

TEST(fitacf3, nave_zero_with_every_lag_overlapped_does_not_crash) {
  // RST dereferences an empty list here (segfault); rstx leaves the range unfitted.
  auto batch = synthetic_batch();
  auto& p = batch.acf.rec[0];
  p.nave = 0;
  p.txpl_us = 30000;  // the transmitter window covers every sample
  auto const out = fit::fitacf3(batch.acf.view());
  ASSERT_TRUE(out);
  EXPECT_EQ(out->rec(0).fitted, 0);
  EXPECT_EQ(out->rec(0).noise_sky, 1.0F);  // nave <= 0: noise 1, as in RST
}

TEST(fitacf3, records_with_different_shapes_in_one_batch) {
  // A 75-range record between 100-range ones, and one with fewer lags than the stride.
  auto recs = fit::test::borealis_records();
  auto const r75 = fit::test::with_scalar<std::int16_t>(recs[0], "nrang", 75);
  auto const m18 = fit::test::with_scalar<std::int16_t>(recs[1], "mplgs", 18);
  std::vector<dmap::record> mixed = {recs[0], r75, m18, recs[1]};
  radar::site site;
  site.stid = 66;
  site.interferometer_m = {0.0, 100.0, 0.0};
  site.maxbeam = 16;
  site.bmsep_deg = 3.5;
  auto const batch = fit::from_dmap(mixed, {}, {}, site, {}, {});
  ASSERT_TRUE(batch.rejected.empty());
  EXPECT_EQ(batch.acf.rec[2].range_begin, 175);
  auto const together = fit::fitacf3(batch.acf.view());
  ASSERT_TRUE(together);
  // Each record fitted alone gives the same result as in the mixed batch.
  for (std::size_t k = 0; k < mixed.size(); ++k) {
    std::vector<dmap::record> one = {mixed[k]};
    auto const single = fit::from_dmap(one, {}, {}, site, {}, {});
    auto const alone = fit::fitacf3(single.acf.view());
    ASSERT_TRUE(alone);
    auto const begin = together->rec(static_cast<std::int32_t>(k)).range_begin;
    for (std::int64_t r = 0; r < alone->rec(0).nrang; ++r) {
      ASSERT_EQ(together->qflg(begin + r), alone->qflg(r));
      for (int c = 0; c < fit::fit_column_count; ++c) {
        auto const col = static_cast<fit::fit_column>(c);
        ASSERT_EQ(std::bit_cast<std::uint32_t>(together->value(col, begin + r)),
                  std::bit_cast<std::uint32_t>(alone->value(col, r)))
            << "record " << k << " range " << r << " " << fit::column_name(col);
      }
    }
  }
}

TEST(fitacf3, baseline_and_best_code_paths_give_the_same_bits) {
  // The AVX2 build fits four ranges per register, the baseline two: the same operations, so the
  // same bits. Every rawacf of the fitacf3 reference cases (odd shapes, nave 0, integer data,
  // katscan, ...) plus the shared synthetic and real files, and a record pushed into the NaN paths.
  std::vector<std::filesystem::path> inputs = {rstx::test::shared_path("data/synth/cly_10min_float.rawacf.bz2"),
                                               rstx::test::shared_path("data/synth/cly_30min_int.rawacf.bz2"),
                                               rstx::test::shared_path("data/real/test.rawacf")};
  for (auto const& e : std::filesystem::directory_iterator(std::filesystem::path(RSTX_SOURCE_DIR) / "tests/data/fit/fitacf3"))
    if (e.path().extension() == ".rawacf") inputs.push_back(e.path());
  radar::site site;
  site.stid = 66;
  site.bmsep_deg = 3.24;
  site.interferometer_m = {0.0, 100.0, 0.0};
  site.maxbeam = 16;
  fit::fitacf3_options baseline;
  baseline.code_path = fit::fitacf3_code_path::baseline;
  int compared = 0;
  for (auto const& input : inputs) {
    auto recs = dmap::read_file(input.string());
    ASSERT_TRUE(recs) << input;
    auto batch = fit::from_dmap(*recs, {}, {}, site, {}, {});
    if (batch.acf.rec.empty()) continue;
    auto const best = fit::fitacf3(batch.acf.view());
    auto const base = fit::fitacf3(batch.acf.view(), baseline);
    ASSERT_TRUE(best && base) << input;
    EXPECT_TRUE(identical(*best, *base)) << input;
    ++compared;
  }
  EXPECT_GE(compared, 10);
  auto batch = synthetic_batch();
  batch.acf.rec[0].nave = 0;   // Inf/NaN fits
  batch.acf.rec[1].nave = -3;  // negative square-root arguments: glibc's NaN, not the processor's
  auto const best = fit::fitacf3(batch.acf.view());
  auto const base = fit::fitacf3(batch.acf.view(), baseline);
  ASSERT_TRUE(best && base);
  EXPECT_TRUE(identical(*best, *base));
}
