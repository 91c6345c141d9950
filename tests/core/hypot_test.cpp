// hypot_of_floats must return exactly what the C library's hypot returns for the same floats.
#include "rstx/core/hypot.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

namespace {

std::int64_t samples() {
  char const* env = std::getenv("RSTX_ATAN2_SAMPLES");  // the same knob as the atan2 test
  return env != nullptr ? std::atoll(env) : 1'000'000;
}

std::int64_t mismatches_on(std::mt19937_64& rng, bool any_bits) {
  std::int64_t bad = 0;
  for (std::int64_t k = 0; k < samples(); ++k) {
    auto const a = static_cast<std::uint32_t>(rng()), b = static_cast<std::uint32_t>(rng());
    float x, y;
    if (any_bits) {  // every finite float: zeros, subnormals, the whole exponent range
      std::memcpy(&x, &a, sizeof x);
      std::memcpy(&y, &b, sizeof y);
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
    } else {  // ACF-like: similar magnitudes, where the correction step decides the last bit
      x = std::ldexp(static_cast<float>(a & 0xffffff), static_cast<int>(a >> 27) - 20);
      y = x * (1.0F + (static_cast<float>(b & 0xffff) - 32768.0F) / 3e4F);
      if (b & (1U << 20)) y = -y;
    }
    double const want = std::hypot(static_cast<double>(x), static_cast<double>(y));
    double const got = rstx::hypot_of_floats(x, y);
    if (std::memcmp(&want, &got, sizeof want) != 0 && ++bad <= 5)
      ADD_FAILURE() << std::hexfloat << "hypot(" << x << ", " << y << "): " << got << ", C library " << want;
  }
  return bad;
}

TEST(hypot_of_floats, equals_c_library_on_acf_like_samples) {
  std::mt19937_64 rng(11);
  EXPECT_EQ(mismatches_on(rng, false), 0);
}

TEST(hypot_of_floats, equals_c_library_on_every_finite_float) {
  std::mt19937_64 rng(12);
  EXPECT_EQ(mismatches_on(rng, true), 0);
}

TEST(hypot_of_floats, is_not_simply_the_rounded_square_root) {
  // Guards the test itself: sqrt(x*x + y*y) differs from glibc's hypot on such samples.
  std::mt19937_64 rng(11);
  int differ = 0;
  for (int k = 0; k < 100000; ++k) {
    auto const a = static_cast<std::uint32_t>(rng()), b = static_cast<std::uint32_t>(rng());
    float const x = std::ldexp(static_cast<float>(a & 0xffffff), static_cast<int>(a >> 27) - 20);
    float const y = x * (1.0F + (static_cast<float>(b & 0xffff) - 32768.0F) / 3e4F);
    double const naive = std::sqrt(static_cast<double>(x) * x + static_cast<double>(y) * y);
    differ += naive != rstx::hypot_of_floats(x, y);
  }
  EXPECT_GT(differ, 100);
}

}  // namespace
