// device_math's exp and atan2 (what the CUDA kernels call) compiled for the host, which gives the
// device's bits: IEEE operations and fma only. They must be within 1 ULP of the C library always,
// and equal to it in all but a tiny fraction of calls, measured here and written in docs/cuda.md.
#include "rstx/core/device_math.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "rstx/dmap/reader.hpp"
#include "support/test_data.hpp"

namespace {

std::int64_t ulps_apart(double a, double b) {
  std::int64_t ia, ib;
  std::memcpy(&ia, &a, sizeof ia);
  std::memcpy(&ib, &b, sizeof ib);
  if ((ia < 0) != (ib < 0)) return a == b ? 0 : INT64_MAX;
  return ia > ib ? ia - ib : ib - ia;
}

struct tally {
  std::int64_t calls = 0, differ = 0;
  template <class Want, class Got>
  void check(Want want, Got got) {
    ++calls;
    if (std::isnan(want) && std::isnan(got)) return;
    auto const apart = ulps_apart(want, got);
    if (apart != 0) ++differ;
    if (apart > 1) ADD_FAILURE() << std::hexfloat << "C library " << want << ", device_math " << got;
  }
  [[nodiscard]] double rate() const { return static_cast<double>(differ) / static_cast<double>(calls); }
};

}  // namespace

TEST(DeviceMath, ExpEqualsTheCLibraryButForRareCases) {
  using rstx::detail::exp_table;
  tally t;
  std::mt19937_64 rng(7);
  // FITACF takes exp of ln|R| (about -10..40) and of -|slope| t (about -50..0).
  std::uniform_real_distribution<double> wide(-60.0, 60.0), narrow(-1.0, 1.0);
  for (int i = 0; i < 2'000'000; ++i) {
    double const x = (i % 2 == 0) ? wide(rng) : narrow(rng);
    t.check(std::exp(x), rstx::device_math::exp(x, exp_table));
  }
  for (double x : {0.0, -0.0, 1e-300, -1e-300, 499.9, -499.9, 500.0, -745.2, 709.8, 710.0,
                   std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                   std::numeric_limits<double>::quiet_NaN()})
    t.check(std::exp(x), rstx::device_math::exp(x, exp_table));
  std::cout << "exp: " << t.differ << " of " << t.calls << " differ from the C library by 1 ULP (" << t.rate() << ")\n";
  EXPECT_LT(t.rate(), 2e-3);  // measured 8.8e-4: where glibc's exp is not correctly rounded
}

TEST(DeviceMath, Atan2EqualsTheCLibraryButForRareCases) {
  using rstx::detail::atan_table;
  tally random_pairs, samples;
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> value(-3e4F, 3e4F);
  for (int i = 0; i < 2'000'000; ++i) {
    float const y = value(rng), x = value(rng);
    random_pairs.check(std::atan2(double{y}, double{x}), rstx::device_math::atan2_of_floats(y, x, atan_table));
  }
  for (float y : {0.0F, -0.0F, 1.0F, -1.0F, std::numeric_limits<float>::infinity()})
    for (float x : {0.0F, -0.0F, 2.0F, -2.0F, -std::numeric_limits<float>::infinity()})
      random_pairs.check(std::atan2(double{y}, double{x}), rstx::device_math::atan2_of_floats(y, x, atan_table));
  // Every ACF and XCF sample of a real file: the phases FITACF takes.
  auto recs = rstx::dmap::read_file(rstx::test::shared_path("data/real/test.rawacf").string());
  ASSERT_TRUE(recs);
  for (auto const& rec : *recs)
    for (char const* name : {"acfd", "xcfd"})
      if (auto a = rec.find_array(name); a && a->type() == rstx::dmap::type::float_)
        for (std::size_t k = 0; k + 1 < a->count(); k += 2) {
          float const re = a->at<float>(k), im = a->at<float>(k + 1);
          samples.check(std::atan2(double{im}, double{re}), rstx::device_math::atan2_of_floats(im, re, atan_table));
        }
  std::cout << "atan2: random pairs " << random_pairs.differ << " of " << random_pairs.calls << " ("
            << random_pairs.rate() << "), real samples " << samples.differ << " of " << samples.calls << "\n";
  EXPECT_GT(samples.calls, 5'000);
  EXPECT_LT(random_pairs.rate(), 2e-3);
  EXPECT_LT(samples.rate(), 2e-3);
}
