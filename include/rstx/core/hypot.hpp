#pragma once
/**
 * @file
 * hypot of single-precision samples, equal to glibc's `hypot((double)x, (double)y)` bit for bit.
 *
 * glibc (2.35 and later) computes hypot with C. F. Borges' corrected square root ("An Improved
 * Algorithm for hypot(a,b)", arXiv:1904.09481, 2019, the unfused MyHypot3): sqrt of the rounded
 * x^2 + y^2, then one correction from the residual expanded exactly. Its result is not always
 * the correctly rounded one (about 1 in 10^3 float pairs differ), so FITACF 2.5's magnitudes must
 * come from the same sequence of operations, which this writes down inline (no call, no errno
 * wrapper). Float operands need none of glibc's rescaling (their squares neither overflow nor
 * underflow in double), only its shortcut for a negligible smaller operand.
 * tests/core/hypot_test.cpp compares it with the C library's hypot.
 */
#include <algorithm>
#include <cmath>

#include "rstx/core/numeric.hpp"  // RSTX_HOST_DEVICE

namespace rstx {

/** `hypot((double)x, (double)y)` as glibc computes it, for finite floats. */
RSTX_HOST_DEVICE inline double hypot_of_floats(float x, float y) noexcept {
  double const a = std::fabs(static_cast<double>(x)), b = std::fabs(static_cast<double>(y));
  double const ax = std::max(a, b), ay = std::min(a, b);
  if (ay <= ax * 0x1p-54) return ax + ay;  // the smaller one cannot change the rounded result
  double h = std::sqrt(ax * ax + ay * ay);
  double t1, t2;
  if (h <= 2.0 * ay) {
    double const delta = h - ay;
    t1 = ax * (2.0 * delta - ax);
    t2 = (delta - 2.0 * (ax - ay)) * delta;
  } else {
    double const delta = h - ax;
    t1 = 2.0 * delta * (ax - 2.0 * ay);
    t2 = (4.0 * delta - ay) * ay + delta * delta;
  }
  h -= (t1 + t2) / (2.0 * h);
  return h;
}

}  // namespace rstx
