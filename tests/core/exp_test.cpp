// exp_many against the C library's exp, bit for bit: random arguments over the ranges FITACF
// uses and beyond, special values, every length around the block sizes, and in-place use.
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "rstx/core/atan2.hpp"
#include "rstx/core/exp.hpp"

namespace {

std::uint64_t bits(double v) { return std::bit_cast<std::uint64_t>(v); }

/** Arguments per range; RSTX_EXP_SAMPLES raises it for a long run by hand. */
std::int64_t samples() {
  if (char const* s = std::getenv("RSTX_EXP_SAMPLES")) return std::atoll(s);
  return 1'000'000;
}

std::int64_t mismatches(std::vector<double> const& x, std::vector<double> const& got) {
  std::int64_t bad = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    if (bits(got[i]) != bits(std::exp(x[i])) && ++bad <= 5)
      ADD_FAILURE() << std::hexfloat << "exp(" << x[i] << "): " << got[i] << ", C library " << std::exp(x[i]);
  return bad;
}

}  // namespace

TEST(exp_many, equals_c_library_on_random_arguments) {
  if (!rstx::detail::cpu_has_avx2_fma()) GTEST_LOG_(INFO) << "no AVX2/FMA here: the C library's loop is what runs";
  struct range {
    double lo, hi;
  };
  // FITACF: exp(ln|R|) (0..25), exp(-|b| t) (-100..0); then wide, tiny and near the fast limit.
  for (auto const r : {range{0, 25}, range{-100, 0}, range{-1, 1}, range{-1e-12, 1e-12}, range{-745, 710},
                       range{495, 505}, range{-505, -495}}) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(r.hi * 1000));
    std::uniform_real_distribution<double> u(r.lo, r.hi);
    std::vector<double> x(4099), out(x.size());
    std::int64_t bad = 0;
    for (std::int64_t done = 0; done < samples(); done += static_cast<std::int64_t>(x.size())) {
      for (auto& v : x) v = u(rng);
      rstx::exp_many(static_cast<int>(x.size()), x.data(), out.data());
      bad += mismatches(x, out);
    }
    EXPECT_EQ(bad, 0) << "range " << r.lo << " .. " << r.hi;
  }
}

TEST(exp_many, special_values_lengths_and_in_place) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<double> const specials = {0.0, -0.0, inf, -inf, std::nan(""), -std::nan(""), 709.8, -745.2, -708.5,
                                        1e-320, -1e-320, 0x1p-60, 500.0, -500.0, 499.99999, std::log(2.0)};
  std::vector<double> out(specials.size());
  rstx::exp_many(static_cast<int>(specials.size()), specials.data(), out.data());
  EXPECT_EQ(mismatches(specials, out), 0);
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(-40, 40);
  for (int n = 0; n < 300; ++n) {
    std::vector<double> x(static_cast<std::size_t>(n));
    for (auto& v : x) v = u(rng);
    if (n > 3) x[static_cast<std::size_t>(n) / 2] = std::nan("");  // a lane left to libm among others
    std::vector<double> in_place = x;
    std::vector<double> result(x.size() + 1, -7.0);
    rstx::exp_many(n, x.data(), result.data());
    EXPECT_EQ(result.back(), -7.0) << "wrote past n = " << n;
    result.pop_back();
    rstx::exp_many(n, in_place.data(), in_place.data());
    EXPECT_EQ(mismatches(x, result), 0) << n;
    EXPECT_EQ(mismatches(x, in_place), 0) << n << " in place";
  }
}
