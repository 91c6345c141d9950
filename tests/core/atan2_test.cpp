// atan2_of_floats must return exactly what the C library's atan2 returns for the same floats.
// RSTX_ATAN2_SAMPLES scales the random families up (default 1'000'000 pairs each).
#include "rstx/core/atan2.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace {

std::int64_t samples() {
  char const* env = std::getenv("RSTX_ATAN2_SAMPLES");
  return env != nullptr ? std::atoll(env) : 1'000'000;
}

std::uint64_t bits(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

struct tally {
  std::int64_t calls = 0, fast = 0, mismatches = 0;
  void check(float y, float x) {
    double const want = std::atan2(static_cast<double>(y), static_cast<double>(x));
    double const got = rstx::atan2_of_floats(y, x);
    double ignored;
    ++calls;
    fast += rstx::detail::atan2_fast(y, x, ignored) ? 1 : 0;
    if (bits(got) != bits(want) && !(std::isnan(got) && std::isnan(want))) {
      if (++mismatches <= 5)
        ADD_FAILURE() << std::hexfloat << "atan2(" << y << ", " << x << "): " << got << ", C library " << want;
    }
  }
};

/** A float with random sign and significand and a binary exponent in [lo, hi]. */
float random_float(std::mt19937_64& rng, int lo, int hi) {
  std::uniform_int_distribution<int> exponent(lo, hi);
  std::uniform_real_distribution<float> significand(1.0F, 2.0F);
  float const v = std::ldexp(significand(rng), exponent(rng));
  return (rng() & 1) ? -v : v;
}

TEST(atan2_of_floats, equals_c_library_on_acf_like_samples) {
  std::mt19937_64 rng(1);
  tally t;
  for (std::int64_t k = 0; k < samples(); ++k) t.check(random_float(rng, -10, 30), random_float(rng, -10, 30));
  EXPECT_EQ(t.mismatches, 0);
  // The fast path must decide most calls (about 90 %), or the function is only a slower atan2.
  EXPECT_GT(t.fast, t.calls * 8 / 10) << t.fast << " of " << t.calls;
}

TEST(atan2_of_floats, equals_c_library_on_every_float_exponent) {
  std::mt19937_64 rng(2);
  tally t;
  for (std::int64_t k = 0; k < samples(); ++k) {
    std::uint32_t const by = static_cast<std::uint32_t>(rng()), bx = static_cast<std::uint32_t>(rng());
    float y, x;
    std::memcpy(&y, &by, sizeof y);  // any bit pattern: subnormals, zeros, infinities, NaN
    std::memcpy(&x, &bx, sizeof x);
    t.check(y, x);
  }
  EXPECT_EQ(t.mismatches, 0);
}

TEST(atan2_of_floats, equals_c_library_near_the_diagonal_the_axes_and_table_points) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int> step(0, 512);
  std::uniform_real_distribution<float> jitter(-1e-3F, 1e-3F);
  tally t;
  for (std::int64_t k = 0; k < samples(); ++k) {
    float const x = random_float(rng, -20, 40);
    float const c = static_cast<float>(step(rng)) / 512.0F;
    float y = (k % 8 == 0) ? x * c : x * c * (1.0F + jitter(rng));  // |y/x| at or near (2i+1)/512 and i/256
    if (k % 4 == 1) y = x * std::ldexp(1.0F + jitter(rng), -static_cast<int>(rng() % 40));  // tiny ratios
    if (k % 4 == 2) y = std::nextafter(x, (rng() & 1) ? 0.0F : x * 2);                        // |y| ~ |x|
    if (rng() & 1) y = -y;
    t.check(y, x);
    t.check(x, y);
  }
  EXPECT_EQ(t.mismatches, 0);
}

TEST(atan2_of_floats, special_values_are_the_c_library_s) {
  float const inf = std::numeric_limits<float>::infinity();
  float const nan = std::numeric_limits<float>::quiet_NaN();
  float const values[] = {0.0F, -0.0F, 1.0F, -1.0F, inf, -inf, nan, 1e-45F, -1e-45F, 3.4e38F, -3.4e38F, 1e-38F};
  tally t;
  for (float y : values)
    for (float x : values) t.check(y, x);
  EXPECT_EQ(t.mismatches, 0);
}

TEST(atan2_of_floats, expansion_is_accurate_to_2_pow_minus_60) {
  // long double atan2l is good to about 2^-63, enough to show the double-double's 2^-62.
  std::mt19937_64 rng(4);
  long double worst = 0;
  for (std::int64_t k = 0; k < samples() / 10; ++k) {
    float const y = random_float(rng, -10, 30), x = random_float(rng, -10, 30);
    auto const e = rstx::detail::atan2_expand(rstx::detail::atan2_reduce(y, x), rstx::detail::atan_table);
    long double const exact = std::atan2(static_cast<long double>(std::fabs(y)), static_cast<long double>(x));
    long double const got = static_cast<long double>(e.hi) + static_cast<long double>(e.lo);
    long double const rel = std::fabs(got - exact) / exact;
    if (rel > worst) worst = rel;
  }
  EXPECT_LT(worst, std::ldexp(1.0L, -60)) << static_cast<double>(worst);
}

}  // namespace

namespace {

/** Compares sample_phases (and its scalar path) with the C library on random samples and rows. */
void check_sample_phases(void (*phases)(int, float const*, int const*, double*)) {
  std::mt19937_64 rng(5);
  std::vector<float> iq(2 * 4096);
  for (auto& v : iq) v = random_float(rng, -10, 30);
  for (std::size_t k = 0; k < iq.size(); k += 97) iq[k] = 0.0F;  // zeros among them
  iq[301] = std::numeric_limits<float>::infinity();
  std::int64_t mismatches = 0;
  std::vector<int> rows;
  std::vector<double> out;
  for (std::int64_t round = 0; round < samples() / 100; ++round) {
    int const n = static_cast<int>(rng() % 70);  // 0, partial groups of four, longer than 64
    rows.resize(static_cast<std::size_t>(n));
    out.assign(static_cast<std::size_t>(n) + 1, -1.0);
    for (auto& r : rows) r = static_cast<int>(rng() % 4096);
    phases(n, iq.data(), rows.data(), out.data());
    for (int k = 0; k < n; ++k) {
      double const want = std::atan2(static_cast<double>(iq[2 * rows[k] + 1]), static_cast<double>(iq[2 * rows[k]]));
      if (bits(out[k]) != bits(want) && ++mismatches <= 5) ADD_FAILURE() << "row " << rows[k];
    }
    EXPECT_EQ(out[static_cast<std::size_t>(n)], -1.0) << "wrote past n = " << n;
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(sample_phases, equals_c_library) {
  if (!rstx::detail::cpu_has_avx2_fma()) GTEST_LOG_(INFO) << "no AVX2/FMA here: the scalar path is what runs";
  check_sample_phases(rstx::sample_phases);
}

TEST(sample_phases, scalar_path_equals_c_library) { check_sample_phases(rstx::detail::sample_phases_scalar); }

}  // namespace
