#pragma once
/**
 * @file
 * exp and atan2 for device code, with the C library's results wherever that can be had without
 * calling it: the double-double evaluations of exp.hpp and atan2.hpp (relative error below 2^-60),
 * rounded once to the nearest double. That is the correctly rounded value, and glibc's value
 * except where glibc itself is not correctly rounded (glibc's exp errs by up to 0.509 ULP, its
 * atan2 by up to 0.56 ULP) or the exact value lies within this code's 2^-60 of a rounding boundary.
 * The host code takes the C library there; the device cannot, which is the whole difference.
 *
 * Why not the device's own exp and atan2: CUDA documents up to 1 ULP (exp) and 2 ULP (atan2) of
 * error, so they differ from glibc far more often. These functions use only IEEE operations and
 * fma, so compiled for the host they give the device's bits: tests/core/device_math_test.cpp
 * measures their agreement with the C library on millions of arguments, without a GPU.
 *
 * The tables are passed in: host code passes detail::exp_table and detail::atan_table, device code
 * the copies below (device code cannot read host arrays).
 */
#include <cmath>
#include <cstdint>

#include "rstx/core/atan2.hpp"
#include "rstx/core/exp.hpp"
#include "rstx/core/numeric.hpp"

namespace rstx::device_math {

/** exp(x): the nearest double to the double-double evaluation of exp.hpp (|x| < 500), else the
 *  platform's exp (overflow, underflow, NaN and infinities, which it gets exactly). */
RSTX_HOST_DEVICE inline double exp(double x, detail::exp_table_row const* table) noexcept {
  if (!(x > -detail::exp_fast_limit && x < detail::exp_fast_limit)) return std::exp(x);
  // k = round(x 256/ln2) from the shifted sum (its low mantissa bits hold k + 2^51); r = x - k ln2/256.
  constexpr double shift = 0x1.8p52;
  double const shifted = x * detail::exp_inv_ln2_256 + shift;
  double const kd = shifted - shift;
  double r = std::fma(-kd, detail::exp_ln2_256_hi, x);
  r = std::fma(-kd, detail::exp_ln2_256_lo, r);
  // exp(r) - 1 = r + r^2 (1/2 + r (1/6 + r (1/24 + r/120))), truncated below 2^-66 for |r| <= ln2/512.
  double h = std::fma(r, 1.0 / 120, 1.0 / 24);
  h = std::fma(r, h, 1.0 / 6);
  h = std::fma(r, h, 0.5);
  double const p = std::fma(r * r, h, r);
  // j = k mod 256 (the 2^51 offset is a multiple of 256); 2^(k div 256) from the exponent field.
  std::uint64_t const k_offset = bits_of(shifted) & 0x000fffffffffffffULL;
  auto const& t = table[k_offset & 255];
  std::uint64_t const biased = (k_offset >> 8) - ((std::uint64_t{1} << 43) - 1023);
  // 2^(j/256) (1 + p) = t.hi + (t.hi p + t.lo), rounded once; the scaling by 2^(k div 256) is exact.
  double const q = std::fma(t.hi, p, t.lo);
  return (t.hi + q) * double_of(biased << 52);
}

/** atan2((double)y, (double)x): the nearest double to atan2.hpp's double-double expansion for
 *  ordinary values; zeros, infinities and NaN go to the platform's atan2 (exact results there). */
RSTX_HOST_DEVICE inline double atan2_of_floats(float y, float x, detail::atan_table_row const* table) noexcept {
  double const yd = y, xd = x;
  if (!detail::atan2_ordinary(yd, xd)) return std::atan2(yd, xd);
  double out = 0;
  (void)detail::atan2_round(detail::atan2_expand(detail::atan2_reduce(yd, xd), table), 0.0, yd, out);
  return out;
}

#if defined(__CUDACC__)
/** Device copies of the tables (internal linkage: one per translation unit that uses them). */
namespace tables {
static __device__ detail::exp_table_row const exp[256] = {
#include "rstx/core/detail/exp_table.inc"
};
static __device__ detail::atan_table_row const atan[257] = {
#include "rstx/core/detail/atan2_table.inc"
};
}  // namespace tables
#endif

}  // namespace rstx::device_math
