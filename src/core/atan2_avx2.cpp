// sample_phases with AVX2 and FMA, sixteen samples at a time: the same algorithm as the scalar code
// in atan2.hpp (reduction, table row and series, rounding test), where FMA gives the exact
// products and the exact division residual directly. Compiled for those instructions only in
// this file, and called only when the processor has them (atan2.cpp).
//
// The samples are four groups of four, one per AVX register, every step written for all groups at
// once (detail/avx2_pack.hpp): the chain of one group is long (two divisions, the table lookup,
// the series, the double-double sums), and side by side the chains run in parallel. Measured per
// phase on one core: 5.3 ns with one group, 4.5 with two, 3.7 with four.
#include "rstx/core/atan2.hpp"

#if RSTX_ATAN2_AVX2
#include "detail/avx2_pack.hpp"

namespace rstx::detail {

namespace {

using namespace avx2;

struct index_pack {
  __m128i v[groups];  // four int32 per group
};
RSTX_AVX2 pack to_double(index_pack const& i) {
  pack r;
  for (int g = 0; g < groups; ++g) r.v[g] = _mm256_cvtepi32_pd(i.v[g]);
  return r;
}

/** re, im of sample `row` as the low two floats. */
RSTX_AVX2 __m128 sample(float const* iq, int row) {
  return _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<__m128i const*>(iq + 2 * row)));
}

/** Phases at out[0..4 groups); returns the mask of lanes that the C library must decide. */
RSTX_AVX2 int phases_of_pack(float const* iq, int const* row, double* out) {
  constexpr int all = all_lanes;
  // re (x) and im (y) of the samples: one 8-byte load each (gathers are slow on many cores).
  pack x, y;
  for (int g = 0; g < groups; ++g) {
    int const* rows = row + 4 * g;
    __m128 const p01 = _mm_movelh_ps(sample(iq, rows[0]), sample(iq, rows[1]));  // re0 im0 re1 im1
    __m128 const p23 = _mm_movelh_ps(sample(iq, rows[2]), sample(iq, rows[3]));
    x.v[g] = _mm256_cvtps_pd(_mm_shuffle_ps(p01, p23, _MM_SHUFFLE(2, 0, 2, 0)));
    y.v[g] = _mm256_cvtps_pd(_mm_shuffle_ps(p01, p23, _MM_SHUFFLE(3, 1, 3, 1)));
  }

  // Zeros, infinities and NaN go to libm; their lanes compute on 1 + 1i instead (harmless values:
  // a NaN would index the table out of bounds).
  pack const sign_bit = splat(-0.0);
  pack const inf = splat(__builtin_inf());
  pack const zero = splat(0.0);
  pack const one = splat(1.0);
  pack const ax_in = bit_andnot(sign_bit, x), ay_in = bit_andnot(sign_bit, y);
  pack const ordinary = bit_and(bit_and(compare<_CMP_GT_OQ>(ax_in, zero), compare<_CMP_GT_OQ>(ay_in, zero)),
                                bit_and(compare<_CMP_LT_OQ>(ax_in, inf), compare<_CMP_LT_OQ>(ay_in, inf)));
  if (lane_bits(ordinary) == 0) return all;
  x = blend(one, x, ordinary);
  y = blend(one, y, ordinary);
  pack const ax = bit_andnot(sign_bit, x), ay = bit_andnot(sign_bit, y);

  // Reduction: uh + ul = a/b exactly (the residual a - uh*b is exact with FMA).
  pack const a = min(ax, ay), b = max(ax, ay);
  pack const inv = div(one, b);
  pack const uh = mul(a, inv);
  pack const r = fnmadd(uh, b, a);  // exact, or below 2^-104 relative
  pack const ul = mul(r, inv);
  pack const swapped = compare<_CMP_GT_OQ>(ay, ax);
  pack const negative_x = compare<_CMP_LT_OQ>(x, zero);

  // atan(u) = atan(c) + atan(d), c = i/256, d = (u - c)/(1 + u c), i = round(256 uh) from the
  // exact floor(512 uh).
  pack const uh512 = mul(uh, splat(512.0));
  index_pack i;
  for (int g = 0; g < groups; ++g)
    i.v[g] = _mm_srli_epi32(_mm_add_epi32(_mm256_cvttpd_epi32(uh512.v[g]), _mm_set1_epi32(1)), 1);
  pack const c = mul(to_double(i), splat(1.0 / 256));
  pack rows;
  for (int g = 0; g < groups; ++g) rows.v[g] = _mm256_castsi256_pd(_mm256_cvtepi32_epi64(i.v[g]));
  pack t_hi, t_lo;
  table_rows(atan_table, rows, t_hi, t_lo);
  pack const v = sub(uh, c);  // exact
  pack const m = mul(uh, c);
  pack const me = fmsub(uh, c, m);
  pack const den = add(one, m);
  pack const den_lo = add(add(sub(one, den), m), fmadd(ul, c, me));
  // One division: dh need not be the correctly rounded quotient, and the residual below rounds
  // below 2^-104 relative when it is not exact.
  pack const inv_den = div(one, den);
  pack const dh = mul(v, inv_den);
  pack const residual = fnmadd(dh, den, v);
  pack const dl = mul(fnmadd(dh, den_lo, add(residual, ul)), inv_den);
  pack const d2 = mul(dh, dh);
  pack series = fmadd(d2, splat(1.0 / 9), splat(-1.0 / 7));
  series = fmadd(d2, series, splat(1.0 / 5));
  series = fmadd(d2, series, splat(-1.0 / 3));
  pack const tail = mul(dh, mul(d2, series));
  pack const q = add(dh, tail);
  pack const qe = add(sub(dh, q), tail);
  pack const bh = add(t_hi, q);
  pack const be = add(sub(t_hi, bh), q);
  pack const bl = add(be, add(add(qe, t_lo), dl));

  // k + sign * atan: k = 0 / pi (|y| <= |x|, x > 0 / x < 0), pi/2 (|y| > |x|); sign -1 unless
  // (x > 0, |y| <= |x|) or (x < 0, |y| > |x|).
  pack const k_hi = blend(bit_and(negative_x, splat(pi_hi)), splat(pi_hi / 2), swapped);
  pack const k_lo = blend(bit_and(negative_x, splat(pi_lo)), splat(pi_lo / 2), swapped);
  pack const negate = bit_and(bit_xor(swapped, negative_x), sign_bit);
  pack const sh = bit_xor(bh, negate), sl = bit_xor(bl, negate);
  pack const zh = add(k_hi, sh);
  pack const ze = sub(sh, sub(zh, k_hi));
  pack const zl = add(ze, add(k_lo, sl));

  // Round, and accept lanes more than glibc's slack from a rounding boundary.
  pack const z = add(zh, zl);
  pack const d = add(sub(zh, z), zl);
  pack const widest = bit_andnot(bit_or(swapped, negative_x), splat_bits(-1));
  pack const keep = blend(splat(0.5 - atan2_quadrants[1].glibc_slack), splat(0.5 - atan2_quadrants[0].glibc_slack),
                          widest);
  pack const accepted = bit_and(ordinary, round_clear_of_boundary(z, d, keep));
  pack const phase = bit_or(z, bit_and(y, sign_bit));  // z > 0: copysign
  store(out, phase);
  return ~lane_bits(accepted) & all;
}

}  // namespace

__attribute__((target("avx2,fma"))) int sample_phases_avx2(int n, float const* iq, int const* row, double* out,
                                                           int* undecided) {
  constexpr int width = lanes;
  int count = 0;
  for (int k = 0; k < n; k += width) {
    int const* rows = row + k;
    double* phases = out + k;
    int padded_rows[width];
    double padded_phases[width];
    if (k + width > n) {  // the last samples, padded with copies of the last one
      for (int j = 0; j < width; ++j) padded_rows[j] = row[k + j < n ? k + j : n - 1];
      rows = padded_rows;
      phases = padded_phases;
    }
    int const lanes = phases_of_pack(iq, rows, phases);
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
