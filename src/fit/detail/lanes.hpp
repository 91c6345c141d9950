#pragma once
/**
 * @file
 * Lanes: one double per range of a group of ranges, so that the per-range fit
 * routines (templates over the value type V, see fitacf3_math.hpp) run on several ranges at once.
 *
 * Why: every fit sums its points in lag-table order, one add after the other; a range alone is a
 * chain of dependent adds, divisions and square roots that leaves most of the processor idle. With
 * a range per lane, the chains of four ranges advance in the same instructions. Each lane performs
 * exactly the operations the scalar code performs on its range (IEEE operations are exact per
 * element), so the results are bit-identical; points a lane does not have are masked out of sums
 * by adding +0.0 (see add_if).
 *
 * V = double is the scalar form (what a CUDA thread runs). The lane forms use GCC/clang vector
 * extensions: lanes2 (two ranges, one SSE2 register, what baseline x86-64 runs) and lanes4 (four
 * ranges, one AVX register in the AVX2 build of the record fit; elsewhere, as in the tests, GCC
 * lowers it to pairs of SSE2 operations). The helpers below are overloaded for all three, so a
 * routine is written once.
 */
#include <cmath>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "host_device.hpp"
#if defined(__CUDACC__)
#include "rstx/core/device_math.hpp"
#endif
#if !defined(__CUDA_ARCH__)
#include "rstx/core/exp.hpp"
#endif

// Lanes are passed by value between inline functions only: src/fit/CMakeLists.txt turns off the
// compilers' note (-Wpsabi) that 32-byte vectors cross object files differently with AVX.

namespace rstx::fit::detail {

/** The type of a comparison of two V: bool for double, a lane mask for lanes. */
template <class V>
using mask_of = decltype(V{} < V{});

// ---- scalar forms --------------------------------------------------------------------------------

RSTX_HOST_DEVICE inline double select(bool m, double a, double b) noexcept { return m ? a : b; }
RSTX_HOST_DEVICE inline bool mask_not(bool m) noexcept { return !m; }
RSTX_HOST_DEVICE inline bool mask_and(bool a, bool b) noexcept { return a && b; }
RSTX_HOST_DEVICE inline bool any(bool m) noexcept { return m; }
RSTX_HOST_DEVICE inline double lane_sqrt(double x) noexcept { return std::sqrt(x); }
/** out[i] = exp(x[i]), i < n (out may be x). */
RSTX_HOST_DEVICE inline void lane_exp_all(int n, double const* x, double* out) noexcept {
#if defined(__CUDA_ARCH__)
  // The C library's exp except in rare cases (device_math.hpp), not the device's less exact one.
  for (int i = 0; i < n; ++i) out[i] = device_math::exp(x[i], device_math::tables::exp);
#else
  exp_many(n, x, out);
#endif
}
RSTX_HOST_DEVICE inline double lane_fabs(double x) noexcept { return std::fabs(x); }
RSTX_HOST_DEVICE inline double lane_copysign(double m, double s) noexcept { return std::copysign(m, s); }
/** Truncation toward zero of 0 <= x < 2^51 (the only values callers pass). */
RSTX_HOST_DEVICE inline double lane_trunc_small(double x) noexcept {
  return static_cast<double>(static_cast<std::int64_t>(x));
}

#if !defined(__CUDA_ARCH__)
// ---- lane forms ----------------------------------------------------------------------------------

using lanes2 = double __attribute__((vector_size(16)));
using lanes4 = double __attribute__((vector_size(32)));
using lane_mask2 = std::int64_t __attribute__((vector_size(16)));
using lane_mask4 = std::int64_t __attribute__((vector_size(32)));

/** Width and mask type of a lane type; empty for anything else (which leaves the templates below
 *  out of overload resolution). */
template <class V>
struct lane_info {};
template <>
struct lane_info<lanes2> {
  static constexpr int width = 2;
  using mask = lane_mask2;
};
template <>
struct lane_info<lanes4> {
  static constexpr int width = 4;
  using mask = lane_mask4;
};
template <class V>
concept lane_type = requires { lane_info<V>::width; };
template <lane_type V>
using lane_mask_of = typename lane_info<V>::mask;
template <lane_type V>
inline constexpr int lane_width = lane_info<V>::width;

template <lane_type V>
inline V splat(double x) noexcept {
  return V{} + x;
}
/** a where m is set, b elsewhere: a bit select (GCC lowers a vector ?: to branches on SSE2). */
template <lane_type V>
inline V select(lane_mask_of<V> m, V a, V b) noexcept {
  using M = lane_mask_of<V>;
  return __builtin_bit_cast(V, (__builtin_bit_cast(M, a) & m) | (__builtin_bit_cast(M, b) & ~m));
}
inline lane_mask2 mask_not(lane_mask2 m) noexcept { return ~m; }
inline lane_mask4 mask_not(lane_mask4 m) noexcept { return ~m; }
inline lane_mask2 mask_and(lane_mask2 a, lane_mask2 b) noexcept { return a & b; }
inline lane_mask4 mask_and(lane_mask4 a, lane_mask4 b) noexcept { return a & b; }
/** Whether any lane is set (masks are all-ones or zero per lane: the sign bits tell). */
inline bool any(lane_mask2 m) noexcept {
#if defined(__SSE2__)
  return _mm_movemask_pd(__builtin_bit_cast(__m128d, m)) != 0;
#else
  return (m[0] | m[1]) != 0;
#endif
}
inline bool any(lane_mask4 m) noexcept {
  // An OR across the lanes in registers (taking the halves apart goes through memory).
  lane_mask4 const folded = m | __builtin_shufflevector(m, m, 2, 3, 0, 1);
  return (folded[0] | folded[1]) != 0;
}

/** Negative lanes recomputed by glibc's sqrt, as the scalar code does (with errno on, GCC's
 *  inline sqrt hands negative arguments to glibc): the NaN is then glibc's whatever the version.
 *  The other lanes are sqrtpd's, which is glibc's value for arguments >= 0 and NaN. */
template <lane_type V>
inline V glibc_sqrt_negative_lanes(V x, V r) noexcept {
  if (any(x < 0.0)) [[unlikely]]
    for (int k = 0; k < lane_width<V>; ++k)
      if (x[k] < 0.0) r[k] = std::sqrt(x[k]);
  return r;
}
/** sqrtpd on two lanes. */
inline lanes2 sqrt_instruction(lanes2 x) noexcept {
#if defined(__SSE2__)
  return __builtin_bit_cast(lanes2, _mm_sqrt_pd(__builtin_bit_cast(__m128d, x)));
#else
  return lanes2{__builtin_sqrt(x[0]), __builtin_sqrt(x[1])};
#endif
}
inline lanes2 lane_sqrt(lanes2 x) noexcept { return glibc_sqrt_negative_lanes(x, sqrt_instruction(x)); }
/** As two SSE2 square roots: a 256-bit one would need AVX in every function this is compiled
 *  into, and lanes4 routines are also instantiated outside the AVX2 build. The halves are taken
 *  apart and joined in registers (a struct of halves goes through memory), and the test for
 *  negative arguments is made once for the four. */
inline lanes4 lane_sqrt(lanes4 x) noexcept {
  lanes2 const lo = sqrt_instruction(lanes2(__builtin_shufflevector(x, x, 0, 1)));
  lanes2 const hi = sqrt_instruction(lanes2(__builtin_shufflevector(x, x, 2, 3)));
  return glibc_sqrt_negative_lanes(x, lanes4(__builtin_shufflevector(lo, hi, 0, 1, 2, 3)));
}

/** exp of n lane values at once (one call to exp_many over their doubles). */
template <lane_type V>
inline void lane_exp_all(int n, V const* x, V* out) noexcept {
  using doubles = double __attribute__((may_alias));
  exp_many(n * lane_width<V>, reinterpret_cast<doubles const*>(x), reinterpret_cast<doubles*>(out));
}

template <lane_type V>
inline V lane_fabs(V x) noexcept {
  using M = lane_mask_of<V>;
  return __builtin_bit_cast(V, __builtin_bit_cast(M, x) & INT64_MAX);
}

template <lane_type V>
inline V lane_copysign(V m, V s) noexcept {
  using M = lane_mask_of<V>;
  return __builtin_bit_cast(V, (__builtin_bit_cast(M, m) & INT64_MAX) | (__builtin_bit_cast(M, s) & INT64_MIN));
}

/** For 0 <= x < 2^51: adding and subtracting 2^52 rounds to an integer exactly; one step down
 *  where that rounded up gives the truncation (no conversion to integers, which SSE2 lacks). */
template <lane_type V>
inline V lane_trunc_small(V x) noexcept {
  constexpr double two_52 = 4503599627370496.0;
  V const r = (x + two_52) - two_52;
  return r - select(r > x, V{} + 1.0, V{});
}
#endif

}  // namespace rstx::fit::detail
