#pragma once
/**
 * @file
 * atan2 of single-precision samples, equal to the C library's `atan2((double)y, (double)x)`.
 *
 * FITACF takes two atan2 per ACF/XCF lag of every fitted range, and RST's numbers depend on the
 * exact double each call returns. glibc's atan2 (2.35+) is not correctly rounded: it rounds
 * t1 + zz of its own tables, with a documented maximum error of 0.56 ULP in one region (x > 0,
 * |y| < |x|, |y/x| >= 1/16) and at most 0.504 ULP elsewhere. So a different correctly rounded
 * atan2 would disagree with it in about 3 of 10^4 calls (measured on random float pairs).
 *
 * What this does instead: it evaluates atan2 in double-double (atan(i/256) from a table plus
 * the odd series of atan((u - c)/(1 + u c)), relative error below 2^-62), and returns the
 * correctly rounded double only when the exact value lies far enough from a rounding boundary
 * that any atan2 within glibc's error bound rounds the same way: more than 0.12 ULP away in the
 * 0.56 ULP region (twice the slack glibc's 0.06 needs), more than 0.02 ULP elsewhere (five times
 * 0.004). Otherwise, and for zeros, infinities and NaN, it calls the C library, so the result is
 * the C library's in every case; about one call in ten takes that path. tests/core/atan2_test.cpp
 * compares it with the C library on millions of sample pairs (about 9·10^8 once, by hand), and
 * the FITACF reference tests on every sample of the shared data.
 *
 * The inputs must be floats: the exact residual of the reduction y/x relies on 24-bit operands.
 * With another C library the fast path still returns glibc-compatible (correctly rounded) values
 * away from boundaries, and that library's atan2 near them.
 */
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "rstx/core/numeric.hpp"  // RSTX_HOST_DEVICE

/** sample_phases has an AVX2 path on x86-64 with GCC or clang (taken when the processor has it). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RSTX_ATAN2_AVX2 1
#else
#define RSTX_ATAN2_AVX2 0
#endif

namespace rstx {

namespace detail {

/** atan(i/256) = hi + lo, i = 0..256 (rstx/core/detail/atan2_table.inc). */
struct atan_table_row {
  double hi, lo;
};
extern atan_table_row const atan_table[257];

/** The C library's atan2, out of line (the path for boundary cases and special values). */
[[nodiscard]] double atan2_libm(double y, double x) noexcept;

/** atan2 = k + sign * atan(min/max) in each of the four cases (|y| > |x|) * 2 + (x < 0). */
struct atan2_quadrant {
  double k_hi, k_lo, sign;
  double glibc_slack;  ///< distance from a rounding boundary, in ULP, beyond which glibc rounds alike
};
inline constexpr double pi_hi = 0x1.921fb54442d18p+1, pi_lo = 0x1.1a62633145c07p-53;
/** The case's constants (a function rather than a table: device code cannot index host tables). */
RSTX_HOST_DEVICE constexpr atan2_quadrant atan2_quadrant_of(int quadrant) noexcept {
  switch (quadrant) {
    case 0: return {0.0, 0.0, 1.0, 0.12};  // x > 0, |y| <= |x|: glibc's 0.56 ULP region
    case 1: return {pi_hi, pi_lo, -1.0, 0.02};
    case 2: return {pi_hi / 2, pi_lo / 2, -1.0, 0.02};
    default: return {pi_hi / 2, pi_lo / 2, 1.0, 0.02};
  }
}
inline constexpr atan2_quadrant atan2_quadrants[4] = {atan2_quadrant_of(0), atan2_quadrant_of(1), atan2_quadrant_of(2),
                                                      atan2_quadrant_of(3)};

/** Dekker's exact product a*b = p + e for a, b without overflow (no FMA needed). */
RSTX_HOST_DEVICE inline void exact_product(double a, double b, double& p, double& e) noexcept {
  constexpr double splitter = 134217729.0;  // 2^27 + 1: Veltkamp's split into 26 + 27 bits
  double const as = a * splitter, bs = b * splitter;
  double const ah = as - (as - a), al = a - ah;
  double const bh = bs - (bs - b), bl = b - bh;
  p = a * b;
  e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

/** The reduction of atan2(y, x) to atan(uh + ul), uh + ul = min(|x|,|y|) / max(|x|,|y|). */
struct atan2_reduced {
  double uh, ul;
  int quadrant;
};

RSTX_HOST_DEVICE inline atan2_reduced atan2_reduce(double y, double x) noexcept {
  double const ax = std::fabs(x), ay = std::fabs(y);
#if defined(__CUDA_ARCH__)
  double const a = ay < ax ? ay : ax, b = ax < ay ? ay : ax;  // std::min/max (ordinary values only)
#else
  double const a = std::min(ax, ay), b = std::max(ax, ay);  // minsd/maxsd: no branch to mispredict
#endif
  double const inv = 1.0 / b;
  double const uh = a * inv;
  // a/b = uh + r/b: uh*b = p + e exactly, a - p is exact (p is within a few ulps of a), and with
  // 24-bit a and b the residual a - uh*b is representable, so r is exact.
  double p, e;
  exact_product(uh, b, p, e);
  double const r = (a - p) - e;
  return {uh, r * inv, (ay > ax ? 2 : 0) + (x < 0 ? 1 : 0)};
}

/** atan2 before the sign of y, as hi + lo with relative error below 2^-62 (about 2^-69 in fact). */
struct atan2_expansion {
  double hi, lo;
};

/** `table` is atan_table on the host, a device copy of it in device code. */
RSTX_HOST_DEVICE inline atan2_expansion atan2_expand(atan2_reduced const& u, atan_table_row const* table) noexcept {
  // atan(u) = atan(c) + atan(d) with c = i/256 nearest to u and d = (u - c) / (1 + u c), |d| <=
  // 1/512; atan(d) from its odd series (truncated below 2^-90 relative). i = round(256 uh) comes
  // from the exact floor(512 uh): uh*256 + 0.5 could round up below a half-way point.
  int const i = (static_cast<int>(u.uh * 512.0) + 1) >> 1;
  double const c = static_cast<double>(i) * (1.0 / 256);
  auto const& t = table[i];
  double const v = u.uh - c;  // exact: i >= 1 means uh >= 1/512
  double m, me;
  exact_product(u.uh, c, m, me);
  double const den = 1.0 + m;  // 1 + u c = den + den_lo
  double const den_lo = ((1.0 - den) + m) + (me + u.ul * c);
  double const dh = v / den;  // d = dh + dl
  double p, pe;
  exact_product(dh, den, p, pe);
  double const residual = (v - p) - pe;  // exact: v - dh*den
  double const dl = (residual + u.ul - dh * den_lo) / den;
  double const d2 = dh * dh;
  double const tail = dh * (d2 * (-1.0 / 3 + d2 * (1.0 / 5 + d2 * (-1.0 / 7 + d2 * (1.0 / 9)))));
  double const q = dh + tail;  // |tail| < |dh|
  double const qe = (dh - q) + tail;
  double const bh = t.hi + q;  // |q| < atan(c), or c = 0
  double const be = (t.hi - bh) + q;
  double const bl = be + (qe + t.lo + dl);
  auto const k = atan2_quadrant_of(u.quadrant);
  double const sh = k.sign * bh, sl = k.sign * bl;
  double const zh = k.k_hi + sh;  // k = 0 or k >= pi/2 > |sh|
  double const ze = sh - (zh - k.k_hi);
  return {zh, ze + (k.k_lo + sl)};
}

/**
 * Rounds an expansion to double (with the sign of y) and tells whether that is the C library's
 * result: true when hi + lo is more than `slack` ULP from a rounding boundary.
 */
RSTX_HOST_DEVICE inline bool atan2_round(atan2_expansion const& e, double slack, double y, double& out) noexcept {
  double const z = e.hi + e.lo;
  double const d = (e.hi - z) + e.lo;  // exact value - z, to well below 2^-100 relative
  auto const bits = bits_of(z);
  double ulp = double_of(bits & 0x7ff0000000000000ULL) * 0x1p-52;
  if ((bits & 0x000fffffffffffffULL) == 0 && d < 0) ulp *= 0.5;  // a power of two: finer below
  out = std::copysign(z, y);
  return std::fabs(d) <= (0.5 - slack) * ulp;
}

/** Neither zero nor infinite nor NaN: the values the expansion covers. */
RSTX_HOST_DEVICE inline bool atan2_ordinary(double y, double x) noexcept {
  constexpr double inf = __builtin_huge_val();
  double const ax = std::fabs(x), ay = std::fabs(y);
  return ax > 0.0 && ay > 0.0 && ax < inf && ay < inf;
}

/** The fast path alone: sets `out` and returns true when it decides the C library's result. */
[[nodiscard]] inline bool atan2_fast(float y, float x, double& out) noexcept {
  double const yd = y, xd = x;
  if (!atan2_ordinary(yd, xd)) return false;
  auto const u = atan2_reduce(yd, xd);
  return atan2_round(atan2_expand(u, atan_table), atan2_quadrant_of(u.quadrant).glibc_slack, yd, out);
}

}  // namespace detail

/** `atan2((double)y, (double)x)`, the C library's exact result (see the file comment). */
[[nodiscard]] inline double atan2_of_floats(float y, float x) noexcept {
  double out;
  if (detail::atan2_fast(y, x, out)) return out;
  return detail::atan2_libm(y, x);
}

/**
 * The phases of n complex samples: out[k] = atan2_of_floats(iq[2 j + 1], iq[2 j]) with j = row[k]
 * (iq holds re, im pairs). Four at a time with AVX2 and FMA where the processor has them, else
 * one by one; the values are the same either way.
 */
void sample_phases(int n, float const* iq, int const* row, double* out) noexcept;

namespace detail {
/** sample_phases without AVX2 (what processors without it run; for tests). */
void sample_phases_scalar(int n, float const* iq, int const* row, double* out) noexcept;
/** Whether sample_phases uses AVX2 and FMA on this processor. */
[[nodiscard]] bool cpu_has_avx2_fma() noexcept;
}  // namespace detail

}  // namespace rstx
