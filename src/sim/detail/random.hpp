#pragma once
// Portable random numbers for the simulator: the same seed gives the same numbers with any
// compiler and C++ library (unlike std::normal_distribution, whose algorithm is unspecified).
//
//  - splitmix64 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators",
//    doi:10.1145/2714064.2660195) mixes seeds and stream numbers into generator states;
//  - xoshiro256** (Blackman & Vigna 2021, "Scrambled linear pseudorandom number generators",
//    doi:10.1145/3460772) draws the numbers;
//  - normals come from the ziggurat method (tables built with the portable exp/log of
//    portable_math.hpp, so they are the same bits everywhere).
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "portable_math.hpp"

namespace rstx::sim::detail {

/** The splitmix64 output function (a bijective 64-bit mixer). */
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/** A 64-bit key for stream `index` of kind `tag` under `seed` (distinct inputs, unrelated keys). */
[[nodiscard]] constexpr std::uint64_t stream_key(std::uint64_t seed, std::uint64_t tag, std::uint64_t index) noexcept {
  return mix64(mix64(seed + 0x9e3779b97f4a7c15ULL * (tag + 1)) ^ (index * 0xd1b54a32d192ed03ULL + tag));
}

class xoshiro256ss {
 public:
  /** State from a 64-bit key through splitmix64, as the xoshiro authors recommend. */
  explicit constexpr xoshiro256ss(std::uint64_t key) noexcept {
    std::uint64_t x = key;
    for (auto& w : s_) {
      x += 0x9e3779b97f4a7c15ULL;
      w = mix64(x);
    }
  }
  constexpr std::uint64_t next() noexcept {
    std::uint64_t const result = rotl(s_[1] * 5, 7) * 9;
    std::uint64_t const t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /** Uniform in [0, 1), 53 random bits. */
  constexpr double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /** Uniform in [lo, hi). */
  constexpr double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

/**
 * Ziggurat tables for the standard normal, 256 layers (Marsaglia & Tsang 2000, "The ziggurat method
 * for generating random variables", J. Stat. Softw. 5(8), doi:10.18637/jss.v005.i08; layout and
 * wedge test as in Doornik 2005, "An improved ziggurat method to generate normal random samples").
 * Built once from the portable exp/log, so the tables are the same bits everywhere.
 */
struct ziggurat_tables {
  static constexpr int layers = 256;
  static constexpr double r = 3.6541528853610088;       // start of the tail
  static constexpr double v = 4.92867323399e-3;         // area of each layer (density exp(-x^2/2))
  std::array<double, layers + 1> x{};                   // layer edges; x[0] = v / f(r) for the base strip
  std::array<double, layers> ratio{};                   // x[i+1] / x[i]: inside this, no test needed

  ziggurat_tables() noexcept {
    double f = exp_p(-0.5 * r * r);
    x[0] = v / f;
    x[1] = r;
    for (int i = 2; i < layers; ++i) {
      x[static_cast<std::size_t>(i)] = std::sqrt(-2.0 * log_p(v / x[static_cast<std::size_t>(i - 1)] + f));
      f = exp_p(-0.5 * x[static_cast<std::size_t>(i)] * x[static_cast<std::size_t>(i)]);
    }
    x[layers] = 0.0;
    for (std::size_t i = 0; i < layers; ++i) ratio[i] = x[i + 1] / x[i];
  }
  static ziggurat_tables const& get() noexcept {
    static ziggurat_tables const t;
    return t;
  }
};

/** Uniform and standard normal numbers from one xoshiro256** stream. */
class random_stream {
 public:
  explicit random_stream(std::uint64_t key) noexcept : g_(key), z_(&ziggurat_tables::get()) {}
  double uniform() noexcept { return g_.uniform(); }
  double uniform(double lo, double hi) noexcept { return g_.uniform(lo, hi); }
  /** True with probability p. */
  bool chance(double p) noexcept { return g_.uniform() < p; }
  /** Standard normal (mean 0, variance 1), by the ziggurat method. */
  double normal() noexcept {
    auto const& z = *z_;
    for (;;) {
      // One 64-bit draw: bits 0-7 pick the layer, bits 11-63 give u in [-1, 1).
      std::uint64_t const bits = g_.next();
      auto const i = static_cast<std::size_t>(bits & 0xff);
      double const u = static_cast<double>(bits >> 11) * 0x1.0p-52 - 1.0;
      if (std::fabs(u) < z.ratio[i]) return u * z.x[i];
      if (i == 0) return tail(u < 0.0);
      double const xv = u * z.x[i];
      double const f0 = exp_p(-0.5 * (z.x[i] * z.x[i] - xv * xv));
      double const f1 = exp_p(-0.5 * (z.x[i + 1] * z.x[i + 1] - xv * xv));
      if (f1 + g_.uniform() * (f0 - f1) < 1.0) return xv;
    }
  }
  double normal(double mean, double sd) noexcept { return mean + sd * normal(); }

 private:
  /** Beyond r: Marsaglia's (1964) tail method. */
  double tail(bool negative) noexcept {
    double a = 0.0, b = 0.0;
    do {
      a = log_p(1.0 - g_.uniform()) / ziggurat_tables::r;  // 1 - u is in (0, 1]
      b = log_p(1.0 - g_.uniform());
    } while (-2.0 * b < a * a);
    return negative ? a - ziggurat_tables::r : ziggurat_tables::r - a;
  }
  xoshiro256ss g_;
  ziggurat_tables const* z_;
};

}  // namespace rstx::sim::detail
