#pragma once
/**
 * @file
 * exp of many doubles, equal to the C library's `exp` bit for bit.
 *
 * FITACF 3.0 takes two exp per fitted lag (the power-fit weights and the phase σ), and RST's
 * numbers depend on the exact double each returns. glibc's exp is not correctly rounded: its
 * documented error is at most 0.509 ULP (0.511 without FMA), so it can differ from the correctly
 * rounded value only when the exact value lies within 0.011 ULP of a rounding boundary.
 *
 * What this does instead, four or more at a time with AVX2 and FMA: exp(x) = 2^(k/256) exp(r)
 * with the table 2^(j/256) in double-double (rstx/core/detail/exp_table.inc), r = x - k ln2/256 and a
 * degree-5 series, relative error below 2^-60 (0.003 ULP). The correctly rounded result is
 * returned when the value is more than exp_glibc_slack (0.03 ULP) from a rounding boundary; there
 * every exp within glibc's bound rounds the same way. Otherwise, and for |x| >= 500, NaN and
 * infinities, the C library decides, so the result is the C library's in every case; about one
 * call in sixteen takes that path. tests/core/exp_test.cpp compares it with the C library on
 * millions of arguments.
 *
 * Without AVX2 and FMA, exp_many is the C library's exp in a loop.
 */
namespace rstx {

/** out[k] = exp(x[k]) of the C library, k < n; out may be x. */
void exp_many(int n, double const* x, double* out) noexcept;

namespace detail {

struct exp_table_row {
  double hi, lo;
};
/** 2^(j/256) = hi + lo, j = 0..255 (rstx/core/detail/exp_table.inc). */
extern exp_table_row const exp_table[256];

inline constexpr double exp_inv_ln2_256 = 0x1.71547652b82fep+8;  ///< 256/ln2, rounded
inline constexpr double exp_ln2_256_hi = 0x1.62e42fefa39efp-9;   ///< ln2/256 = hi + lo
inline constexpr double exp_ln2_256_lo = 0x1.abc9e3b39803fp-64;
inline constexpr double exp_fast_limit = 500.0;  ///< |x| below this: normal results, no special case
/** Distance from a rounding boundary, in ULP, beyond which every exp within glibc's error bound
 *  (0.011 ULP past half) returns the correctly rounded value; includes this code's own 0.003. */
inline constexpr double exp_glibc_slack = 0.03;

/** exp_many without AVX2 (the C library's exp; what processors without AVX2 and FMA run). */
void exp_many_scalar(int n, double const* x, double* out) noexcept;

}  // namespace detail

}  // namespace rstx
