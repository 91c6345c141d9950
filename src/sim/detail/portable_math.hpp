#pragma once
// exp, log, sin and cos built only from IEEE-exact operations (+, -, *, /, sqrt, floor, ldexp,
// frexp), so that the simulator gives the same bits with any C library. The platform's libm is
// allowed to differ in the last place (glibc, musl, macOS and MSVC do), which would change the
// float32 values written now and then, and with them the file's bytes.
//
// Accuracy: a few units in the last place of a double over the arguments the simulator uses
// (|x| < 700 for exp, x > 0 for log, |x| < 1e5 for sin/cos); tests/sim/portable_math_test.cpp
// compares them with libm. Reduction constants are fdlibm's (Sun Microsystems, e_exp.c,
// e_log.c, k_rem_pio2.c): each "hi" part has trailing zero bits, so k * hi is exact.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>

namespace rstx::sim::detail {

inline constexpr double pi = 3.14159265358979323846;
inline constexpr double two_pi = 2.0 * pi;

inline constexpr double ln2_hi = 6.93147180369123816490e-01;  // fdlibm e_exp.c
inline constexpr double ln2_lo = 1.90821492927058770002e-10;
inline constexpr double log2e = 1.44269504088896338700e+00;

/** e^x. */
[[nodiscard]] inline double exp_p(double x) noexcept {
  if (std::isnan(x)) return x;
  if (x < -745.2) return 0.0;
  if (x > 709.7) return std::numeric_limits<double>::infinity();
  double const k = std::floor(x * log2e + 0.5);
  double const r = (x - k * ln2_hi) - k * ln2_lo;  // |r| <= 0.35
  // Taylor series to r^13: the remainder is below 5e-18 for |r| <= 0.35.
  constexpr double c2 = 1.0 / 2.0, c3 = c2 / 3.0, c4 = c3 / 4.0, c5 = c4 / 5.0, c6 = c5 / 6.0, c7 = c6 / 7.0,
                   c8 = c7 / 8.0, c9 = c8 / 9.0, c10 = c9 / 10.0, c11 = c10 / 11.0, c12 = c11 / 12.0,
                   c13 = c12 / 13.0;
  double p = c13;
  p = p * r + c12;
  p = p * r + c11;
  p = p * r + c10;
  p = p * r + c9;
  p = p * r + c8;
  p = p * r + c7;
  p = p * r + c6;
  p = p * r + c5;
  p = p * r + c4;
  p = p * r + c3;
  p = p * r + c2;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return std::ldexp(p, static_cast<int>(k));
}

/** Natural logarithm, x > 0 (0 gives -inf, negative or NaN gives NaN). */
[[nodiscard]] inline double log_p(double x) noexcept {
  if (!(x > 0.0)) return x == 0.0 ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  if (std::isinf(x)) return x;
  int e = 0;
  double m = std::frexp(x, &e);  // x = m 2^e, m in [0.5, 1)
  if (m < 0.70710678118654752440) {
    m *= 2.0;
    --e;
  }
  // log(m) = 2 atanh(f), f = (m-1)/(m+1), |f| <= 0.1716: series to f^23 (remainder < 1e-18).
  double const f = (m - 1.0) / (m + 1.0);
  double const s = f * f;
  constexpr double c[] = {1.0 / 23.0, 1.0 / 21.0, 1.0 / 19.0, 1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0,
                         1.0 / 11.0, 1.0 / 9.0,  1.0 / 7.0,  1.0 / 5.0,  1.0 / 3.0,  1.0};
  double p = c[0];
  for (std::size_t k = 1; k < std::size(c); ++k) p = p * s + c[k];
  double const de = static_cast<double>(e);
  return de * ln2_hi + (2.0 * f * p + de * ln2_lo);
}

inline constexpr double pio2_1 = 1.57079632673412561417e+00;   // first 33 bits of pi/2
inline constexpr double pio2_2 = 6.07710050630396597660e-11;   // next 33 bits
inline constexpr double pio2_3 = 2.02226624871116645580e-21;   // the rest
inline constexpr double two_over_pi = 6.36619772367581382433e-01;

namespace portable {
// sin and cos on [-pi/4, pi/4] by their Taylor series (remainders below 1e-19).
[[nodiscard]] inline double sin_kernel(double r) noexcept {
  double const s = r * r;
  double p = -1.0 / 121645100408832000.0;  // -1/19!
  p = p * s + 1.0 / 355687428096000.0;     // 1/17!
  p = p * s - 1.0 / 1307674368000.0;       // -1/15!
  p = p * s + 1.0 / 6227020800.0;          // 1/13!
  p = p * s - 1.0 / 39916800.0;            // -1/11!
  p = p * s + 1.0 / 362880.0;              // 1/9!
  p = p * s - 1.0 / 5040.0;                // -1/7!
  p = p * s + 1.0 / 120.0;                 // 1/5!
  p = p * s - 1.0 / 6.0;                   // -1/3!
  return r + r * s * p;
}
[[nodiscard]] inline double cos_kernel(double r) noexcept {
  double const s = r * r;
  double p = 1.0 / 6402373705728000.0;   // 1/18!
  p = p * s - 1.0 / 20922789888000.0;    // -1/16!
  p = p * s + 1.0 / 87178291200.0;       // 1/14!
  p = p * s - 1.0 / 479001600.0;         // -1/12!
  p = p * s + 1.0 / 3628800.0;           // 1/10!
  p = p * s - 1.0 / 40320.0;             // -1/8!
  p = p * s + 1.0 / 720.0;               // 1/6!
  p = p * s - 1.0 / 24.0;                // -1/4!
  p = p * s + 0.5;                       // 1/2!, with the sign below
  return 1.0 - s * p;
}
}  // namespace portable

struct sin_cos {
  double sin = 0.0;
  double cos = 1.0;
};

/** sin(x) and cos(x) together; accurate for |x| < 1e5 (Cody-Waite reduction by pi/2). */
[[nodiscard]] inline sin_cos sincos_p(double x) noexcept {
  double const k = std::floor(x * two_over_pi + 0.5);
  double const r = ((x - k * pio2_1) - k * pio2_2) - k * pio2_3;
  double const s = portable::sin_kernel(r);
  double const c = portable::cos_kernel(r);
  switch (static_cast<std::int64_t>(k) & 3) {
    case 0: return {s, c};
    case 1: return {c, -s};
    case 2: return {-s, -c};
    default: return {-c, s};
  }
}
[[nodiscard]] inline double sin_p(double x) noexcept { return sincos_p(x).sin; }
[[nodiscard]] inline double cos_p(double x) noexcept { return sincos_p(x).cos; }

/** atan(x) by reduction to |x| <= tan(pi/12) and its Taylor series (remainder below 1e-18). */
[[nodiscard]] inline double atan_p(double x) noexcept {
  if (std::isnan(x)) return x;
  bool const negative = x < 0.0;
  double a = negative ? -x : x;
  bool const inverted = a > 1.0;
  if (inverted) a = 1.0 / a;  // atan(a) = pi/2 - atan(1/a)
  constexpr double sqrt3 = 1.73205080756887729353;
  constexpr double tan_pi_12 = 0.26794919243112270647;
  bool const shifted = a > tan_pi_12;
  if (shifted) a = (a * sqrt3 - 1.0) / (a + sqrt3);  // atan(a) = pi/6 + atan(that)
  double const s = a * a;
  constexpr double c[] = {-1.0 / 31.0, 1.0 / 29.0, -1.0 / 27.0, 1.0 / 25.0, -1.0 / 23.0, 1.0 / 21.0, -1.0 / 19.0, 1.0 / 17.0,
                         -1.0 / 15.0, 1.0 / 13.0, -1.0 / 11.0, 1.0 / 9.0,  -1.0 / 7.0,  1.0 / 5.0,  -1.0 / 3.0};
  double p = c[0];
  for (std::size_t k = 1; k < std::size(c); ++k) p = p * s + c[k];
  double r = a + a * s * p;
  if (shifted) r += pi / 6.0;
  if (inverted) r = pi / 2.0 - r;
  return negative ? -r : r;
}

/** asin(x), |x| <= 1 (NaN outside). */
[[nodiscard]] inline double asin_p(double x) noexcept {
  if (!(x >= -1.0 && x <= 1.0)) return std::numeric_limits<double>::quiet_NaN();
  if (x == 1.0) return pi / 2.0;
  if (x == -1.0) return -pi / 2.0;
  return atan_p(x / std::sqrt((1.0 - x) * (1.0 + x)));
}

/** 10^(db/10). */
[[nodiscard]] inline double from_db(double db) noexcept { return exp_p(db * (2.30258509299404568402 / 10.0)); }

}  // namespace rstx::sim::detail
