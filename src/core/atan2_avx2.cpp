// sample_phases with AVX2 and FMA, four samples at a time: the same algorithm as the scalar code
// in atan2.hpp (reduction, table row and series, rounding test), where FMA gives the exact
// products and the exact division residual directly. Compiled for those instructions only in
// this file, and called only when the processor has them (atan2.cpp).
#include "rstx/core/atan2.hpp"

#if RSTX_ATAN2_AVX2
#include <immintrin.h>

namespace rstx::detail {

namespace {

static_assert(sizeof(atan_table_row) == 2 * sizeof(double), "one 16-byte load reads a row's hi and lo");

/** Four phases at out[0..3]; returns the mask of lanes that the C library must decide. */
__attribute__((target("avx2,fma"), always_inline)) inline int phases_of_four(float const* iq, int const* row,
                                                                             double* out) {
  // re (x) and im (y) of the four samples: one 8-byte load each (gathers are slow on many cores).
  auto const pair = [&](int j) {
    return _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<__m128i const*>(iq + 2 * row[j])));
  };
  __m128 const p01 = _mm_movelh_ps(pair(0), pair(1));  // re0 im0 re1 im1
  __m128 const p23 = _mm_movelh_ps(pair(2), pair(3));
  __m256d const x = _mm256_cvtps_pd(_mm_shuffle_ps(p01, p23, _MM_SHUFFLE(2, 0, 2, 0)));
  __m256d const y = _mm256_cvtps_pd(_mm_shuffle_ps(p01, p23, _MM_SHUFFLE(3, 1, 3, 1)));

  __m256d const sign_bit = _mm256_set1_pd(-0.0);
  __m256d const ax = _mm256_andnot_pd(sign_bit, x), ay = _mm256_andnot_pd(sign_bit, y);
  __m256d const inf = _mm256_set1_pd(__builtin_inf());
  __m256d const zero = _mm256_setzero_pd();
  __m256d const ordinary =
      _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(ax, zero, _CMP_GT_OQ), _mm256_cmp_pd(ay, zero, _CMP_GT_OQ)),
                    _mm256_and_pd(_mm256_cmp_pd(ax, inf, _CMP_LT_OQ), _mm256_cmp_pd(ay, inf, _CMP_LT_OQ)));
  if (_mm256_movemask_pd(ordinary) != 0xf) return 0xf;  // zeros, infinities, NaN: all four to libm

  // Reduction: uh + ul = a/b exactly (the residual a - uh*b is exact with FMA).
  __m256d const a = _mm256_min_pd(ax, ay), b = _mm256_max_pd(ax, ay);
  __m256d const inv = _mm256_div_pd(_mm256_set1_pd(1.0), b);
  __m256d const uh = _mm256_mul_pd(a, inv);
  __m256d const r = _mm256_fnmadd_pd(uh, b, a);  // exact, or below 2^-104 relative
  __m256d const ul = _mm256_mul_pd(r, inv);
  __m256d const swapped = _mm256_cmp_pd(ay, ax, _CMP_GT_OQ);
  __m256d const negative_x = _mm256_cmp_pd(x, zero, _CMP_LT_OQ);

  // atan(u) = atan(c) + atan(d), c = i/256, d = (u - c)/(1 + u c), i = round(256 uh) from the
  // exact floor(512 uh).
  __m128i const floor512 = _mm256_cvttpd_epi32(_mm256_mul_pd(uh, _mm256_set1_pd(512.0)));
  __m128i const i = _mm_srli_epi32(_mm_add_epi32(floor512, _mm_set1_epi32(1)), 1);
  __m256d const c = _mm256_mul_pd(_mm256_cvtepi32_pd(i), _mm256_set1_pd(1.0 / 256));
  alignas(16) int rows_of_table[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(rows_of_table), i);
  auto const entry = [&](int j) { return _mm_loadu_pd(&atan_table[rows_of_table[j]].hi); };  // hi, lo
  __m256d const e02 = _mm256_insertf128_pd(_mm256_castpd128_pd256(entry(0)), entry(2), 1);
  __m256d const e13 = _mm256_insertf128_pd(_mm256_castpd128_pd256(entry(1)), entry(3), 1);
  __m256d const t_hi = _mm256_unpacklo_pd(e02, e13);  // hi0 hi1 hi2 hi3
  __m256d const t_lo = _mm256_unpackhi_pd(e02, e13);
  __m256d const v = _mm256_sub_pd(uh, c);  // exact
  __m256d const one = _mm256_set1_pd(1.0);
  __m256d const m = _mm256_mul_pd(uh, c);
  __m256d const me = _mm256_fmsub_pd(uh, c, m);
  __m256d const den = _mm256_add_pd(one, m);
  __m256d const den_lo = _mm256_add_pd(_mm256_add_pd(_mm256_sub_pd(one, den), m), _mm256_fmadd_pd(ul, c, me));
  // One division: dh need not be the correctly rounded quotient, and the residual below rounds
  // below 2^-104 relative when it is not exact.
  __m256d const inv_den = _mm256_div_pd(one, den);
  __m256d const dh = _mm256_mul_pd(v, inv_den);
  __m256d const residual = _mm256_fnmadd_pd(dh, den, v);
  __m256d const dl = _mm256_mul_pd(_mm256_fnmadd_pd(dh, den_lo, _mm256_add_pd(residual, ul)), inv_den);
  __m256d const d2 = _mm256_mul_pd(dh, dh);
  __m256d series = _mm256_fmadd_pd(d2, _mm256_set1_pd(1.0 / 9), _mm256_set1_pd(-1.0 / 7));
  series = _mm256_fmadd_pd(d2, series, _mm256_set1_pd(1.0 / 5));
  series = _mm256_fmadd_pd(d2, series, _mm256_set1_pd(-1.0 / 3));
  __m256d const tail = _mm256_mul_pd(dh, _mm256_mul_pd(d2, series));
  __m256d const q = _mm256_add_pd(dh, tail);
  __m256d const qe = _mm256_add_pd(_mm256_sub_pd(dh, q), tail);
  __m256d const bh = _mm256_add_pd(t_hi, q);
  __m256d const be = _mm256_add_pd(_mm256_sub_pd(t_hi, bh), q);
  __m256d const bl = _mm256_add_pd(be, _mm256_add_pd(_mm256_add_pd(qe, t_lo), dl));

  // k + sign * atan: k = 0 / pi (|y| <= |x|, x > 0 / x < 0), pi/2 (|y| > |x|); sign -1 unless
  // (x > 0, |y| <= |x|) or (x < 0, |y| > |x|).
  __m256d const k_hi =
      _mm256_blendv_pd(_mm256_and_pd(negative_x, _mm256_set1_pd(pi_hi)), _mm256_set1_pd(pi_hi / 2), swapped);
  __m256d const k_lo =
      _mm256_blendv_pd(_mm256_and_pd(negative_x, _mm256_set1_pd(pi_lo)), _mm256_set1_pd(pi_lo / 2), swapped);
  __m256d const negate = _mm256_and_pd(_mm256_xor_pd(swapped, negative_x), sign_bit);
  __m256d const sh = _mm256_xor_pd(bh, negate), sl = _mm256_xor_pd(bl, negate);
  __m256d const zh = _mm256_add_pd(k_hi, sh);
  __m256d const ze = _mm256_sub_pd(sh, _mm256_sub_pd(zh, k_hi));
  __m256d const zl = _mm256_add_pd(ze, _mm256_add_pd(k_lo, sl));

  // Round, and accept lanes more than glibc's slack from a rounding boundary.
  __m256d const z = _mm256_add_pd(zh, zl);
  __m256d const d = _mm256_add_pd(_mm256_sub_pd(zh, z), zl);
  __m256i const bits = _mm256_castpd_si256(z);
  __m256i const exponent = _mm256_and_si256(bits, _mm256_set1_epi64x(0x7ff0000000000000LL));
  __m256d ulp = _mm256_mul_pd(_mm256_castsi256_pd(exponent), _mm256_set1_pd(0x1p-52));
  __m256i const mantissa = _mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL));
  __m256d const power_of_two = _mm256_castsi256_pd(_mm256_cmpeq_epi64(mantissa, _mm256_setzero_si256()));
  __m256d const below = _mm256_and_pd(power_of_two, _mm256_cmp_pd(d, zero, _CMP_LT_OQ));
  ulp = _mm256_blendv_pd(ulp, _mm256_mul_pd(ulp, _mm256_set1_pd(0.5)), below);
  __m256d const widest =
      _mm256_andnot_pd(_mm256_or_pd(swapped, negative_x), _mm256_castsi256_pd(_mm256_set1_epi64x(-1)));
  __m256d const keep = _mm256_blendv_pd(_mm256_set1_pd(0.5 - atan2_quadrants[1].glibc_slack),
                                        _mm256_set1_pd(0.5 - atan2_quadrants[0].glibc_slack), widest);
  __m256d const accepted = _mm256_cmp_pd(_mm256_andnot_pd(sign_bit, d), _mm256_mul_pd(keep, ulp), _CMP_LE_OQ);
  _mm256_storeu_pd(out, _mm256_or_pd(z, _mm256_and_pd(y, sign_bit)));  // z > 0: copysign
  return ~_mm256_movemask_pd(accepted) & 0xf;
}

}  // namespace

__attribute__((target("avx2,fma"))) int sample_phases_avx2(int n, float const* iq, int const* row, double* out,
                                                           int* undecided) {
  int count = 0;
  for (int k = 0; k < n; k += 4) {
    int const* rows = row + k;
    double* phases = out + k;
    int padded_rows[4];
    double padded_phases[4];
    if (k + 4 > n) {  // the last 1-3 samples, padded with copies of the last one
      for (int j = 0; j < 4; ++j) padded_rows[j] = row[k + j < n ? k + j : n - 1];
      rows = padded_rows;
      phases = padded_phases;
    }
    int const lanes = phases_of_four(iq, rows, phases);
    if (phases == padded_phases)
      for (int j = 0; j < n - k; ++j) out[k + j] = padded_phases[j];
    for (int m = lanes; m != 0; m &= m - 1) {
      int const j = k + __builtin_ctz(static_cast<unsigned>(m));
      if (j < n) undecided[count++] = j;
    }
  }
  return count;
}

}  // namespace rstx::detail

#endif
