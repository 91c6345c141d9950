// The FITACF 3.0 entry point: thread-count invariance, batch edge cases and error values.
#include <bit>
#include <cmath>
#include <iostream>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "rstx/cuda/fitacf3.hpp"
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

TEST(fitacf3, cuda_backend_without_a_device_is_a_clear_error) {
  auto const batch = synthetic_batch();
  auto const ctx = fit::exec_context::cuda(nullptr);
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

namespace {

/** Every rawacf of the fitacf3 reference cases (odd shapes, nave 0, integer data, katscan, ...)
 *  plus the shared synthetic and real files, as batches. */
std::vector<std::pair<std::filesystem::path, fit::rawacf_batch>> odd_and_real_batches() {
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
  std::vector<std::pair<std::filesystem::path, fit::rawacf_batch>> out;
  for (auto const& input : inputs) {
    auto recs = dmap::read_file(input.string());
    EXPECT_TRUE(recs) << input;
    if (!recs) continue;
    auto batch = fit::from_dmap(*recs, {}, {}, site, {}, {});
    if (!batch.acf.rec.empty()) out.emplace_back(input, std::move(batch));
  }
  auto batch = synthetic_batch();
  batch.acf.rec[0].nave = 0;   // Inf/NaN fits
  batch.acf.rec[1].nave = -3;  // negative square-root arguments: glibc's NaN, not the processor's
  out.emplace_back("cly_10min_float with nave 0 and -3", std::move(batch));
  return out;
}

}  // namespace

TEST(fitacf3, baseline_and_best_code_paths_give_the_same_bits) {
  // The AVX2 build fits four ranges per register, the baseline two: the same operations, so the
  // same bits.
  fit::fitacf3_options baseline;
  baseline.code_path = fit::fitacf3_code_path::baseline;
  auto const batches = odd_and_real_batches();
  EXPECT_GE(batches.size(), 11u);
  for (auto const& [input, batch] : batches) {
    auto const best = fit::fitacf3(batch.acf.view());
    auto const base = fit::fitacf3(batch.acf.view(), baseline);
    ASSERT_TRUE(best && base) << input;
    EXPECT_TRUE(identical(*best, *base)) << input;
  }
}

TEST(fitacf3, one_range_at_a_time_as_the_cuda_kernels_gives_the_same_bits) {
  // The kernels' code (detail/fitacf3_range.hpp: noise by ranks, a record plan, a range per
  // thread) run on the host equals the staged CPU code, with each elevation routine.
  auto const batches = odd_and_real_batches();
  for (auto method : {fit::elevation_method::v2, fit::elevation_method::v1, fit::elevation_method::goose}) {
    fit::fitacf3_options opt;
    opt.elevation = method;
    for (auto const& [input, batch] : batches) {
      auto const cpu = fit::fitacf3(batch.acf.view(), opt);
      ASSERT_TRUE(cpu) << input;
      auto const by_range = fit::detail::fitacf3_by_range(batch.acf.view(), opt);
      EXPECT_TRUE(identical(*cpu, by_range)) << input << " elevation " << static_cast<int>(method);
    }
  }
}

TEST(fitacf3, cuda_device_gives_the_cpu_answers) {
  // On a GPU (skipped elsewhere): every odd and real batch with each elevation routine. Flags,
  // nlag and the fitted count identical; floats bit-identical where the device's libm gives
  // glibc's value, else within rtol 1e-5 (docs/cuda.md). Counts are printed for the record.
  auto device = cuda::open_fitacf3();
  if (!device) GTEST_SKIP() << "no usable CUDA device: " << device.error().message();
  auto const batches = odd_and_real_batches();
  std::int64_t floats = 0, identical_floats = 0;
  double worst = 0;
  for (auto method : {fit::elevation_method::v2, fit::elevation_method::v1, fit::elevation_method::goose}) {
    fit::fitacf3_options opt;
    opt.elevation = method;
    for (auto const& [input, batch] : batches) {
      SCOPED_TRACE(input.string() + " elevation " + std::to_string(static_cast<int>(method)));
      auto const cpu = fit::fitacf3(batch.acf.view(), opt);
      auto const gpu = fit::fitacf3(batch.acf.view(), opt, fit::exec_context::cuda(device->get()));
      ASSERT_TRUE(cpu && gpu) << (gpu ? "" : gpu.error().message());
      ASSERT_EQ(cpu->n_ranges(), gpu->n_ranges());
      for (std::int32_t i = 0; i < cpu->n_rec(); ++i) {
        EXPECT_EQ(cpu->rec(i).fitted, gpu->rec(i).fitted) << "record " << i;
        EXPECT_EQ(cpu->rec(i).noise_sky, gpu->rec(i).noise_sky) << "record " << i;
      }
      auto compare = [&](float a, float b, std::string const& what) {
        ++floats;
        if (std::bit_cast<std::uint32_t>(a) == std::bit_cast<std::uint32_t>(b)) {
          ++identical_floats;
          return;
        }
        if (std::isnan(a) && std::isnan(b)) return;
        double const rel = std::fabs(double{a} - double{b}) / std::max(std::fabs(double{a}), std::fabs(double{b}));
        worst = std::max(worst, rel);
        EXPECT_LE(rel, 1e-5) << what << ": cpu " << a << " gpu " << b;
      };
      for (std::int64_t r = 0; r < cpu->n_ranges(); ++r) {
        ASSERT_EQ(cpu->qflg(r), gpu->qflg(r)) << "range " << r;
        EXPECT_EQ(cpu->gflg(r), gpu->gflg(r)) << "range " << r;
        EXPECT_EQ(cpu->nlag(r), gpu->nlag(r)) << "range " << r;
        compare(cpu->pwr0_db(r), gpu->pwr0_db(r), "pwr0 " + std::to_string(r));
        if (cpu->qflg(r) != 1) continue;
        for (int c = 0; c <= static_cast<int>(fit::fit_column::x_sd_phi); ++c) {
          auto const col = static_cast<fit::fit_column>(c);
          compare(cpu->value(col, r), gpu->value(col, r), std::string(fit::column_name(col)) + " " + std::to_string(r));
        }
      }
    }
  }
  std::cout << "cuda vs cpu: " << identical_floats << " of " << floats << " floats bit-identical, largest relative difference "
            << worst << "\n";
  auto const stats = (*device)->stats();
  std::cout << "device: " << (*device)->describe() << ", " << stats.records << " records, kernel " << stats.kernel_seconds
            << " s\n";
}
