// sample_phases with AVX2 and FMA, sixteen samples at a time: the same algorithm as the scalar code
// in atan2.hpp (reduction, table row and series, rounding test), where FMA gives the exact
// products and the exact division residual directly. Compiled for those instructions only in
// this file, and called only when the processor has them (atan2.cpp).
//
// The samples are four groups of four, one per AVX register, and every step is written for all
// groups at once (pack): the chain of one group is long (two divisions, the table lookup, the
// series, the double-double sums), and with the chains side by side in the instruction stream the
// processor runs them in parallel instead of waiting on one. Measured per phase on one core: 5.3 ns
// with one group, 4.5 with two, 3.7 with four.
#include "rstx/core/atan2.hpp"

#if RSTX_ATAN2_AVX2
#include <immintrin.h>

#define RSTX_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

namespace rstx::detail {

namespace {

static_assert(sizeof(atan_table_row) == 2 * sizeof(double), "one 16-byte load reads a row's hi and lo");

constexpr int groups = 4;  // AVX registers of four lanes per step

/** `groups` registers of four doubles, or of 64-bit integers (the same bits). */
struct pack {
  __m256d v[groups];
};
struct index_pack {
  __m128i v[groups];  // four int32 per group
};

// Each operation applies its instruction to every group (no lambdas: they would not inherit the
// target attribute).
#define RSTX_EACH(expr)                                \
  pack r;                                              \
  for (int g = 0; g < groups; ++g) r.v[g] = (expr);    \
  return r
RSTX_AVX2 pack splat(double x) { RSTX_EACH(_mm256_set1_pd(x)); }
RSTX_AVX2 pack splat_bits(long long x) { RSTX_EACH(_mm256_castsi256_pd(_mm256_set1_epi64x(x))); }
#define RSTX_PACK_OP2(name, intrinsic) \
  RSTX_AVX2 pack name(pack const& a, pack const& b) { RSTX_EACH(intrinsic(a.v[g], b.v[g])); }
#define RSTX_PACK_OP3(name, intrinsic) \
  RSTX_AVX2 pack name(pack const& a, pack const& b, pack const& c) { RSTX_EACH(intrinsic(a.v[g], b.v[g], c.v[g])); }
RSTX_PACK_OP2(add, _mm256_add_pd)
RSTX_PACK_OP2(sub, _mm256_sub_pd)
RSTX_PACK_OP2(mul, _mm256_mul_pd)
RSTX_PACK_OP2(div, _mm256_div_pd)
RSTX_PACK_OP2(min, _mm256_min_pd)
RSTX_PACK_OP2(max, _mm256_max_pd)
RSTX_PACK_OP2(bit_and, _mm256_and_pd)
RSTX_PACK_OP2(bit_andnot, _mm256_andnot_pd)  // ~a & b
RSTX_PACK_OP2(bit_or, _mm256_or_pd)
RSTX_PACK_OP2(bit_xor, _mm256_xor_pd)
RSTX_PACK_OP3(fmadd, _mm256_fmadd_pd)    // a*b + c
RSTX_PACK_OP3(fmsub, _mm256_fmsub_pd)    // a*b - c
RSTX_PACK_OP3(fnmadd, _mm256_fnmadd_pd)  // c - a*b
RSTX_PACK_OP3(blend, _mm256_blendv_pd)   // mask c ? b : a
#undef RSTX_PACK_OP2
#undef RSTX_PACK_OP3

template <int predicate>
RSTX_AVX2 pack compare(pack const& a, pack const& b) {
  RSTX_EACH(_mm256_cmp_pd(a.v[g], b.v[g], predicate));
}
RSTX_AVX2 pack equal_bits_zero(pack const& a) {  // 64-bit lanes equal to 0, as a mask
  RSTX_EACH(_mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_castpd_si256(a.v[g]), _mm256_setzero_si256())));
}
RSTX_AVX2 pack to_double(index_pack const& i) { RSTX_EACH(_mm256_cvtepi32_pd(i.v[g])); }
#undef RSTX_EACH

/** re, im of sample `row` as the low two floats. */
RSTX_AVX2 __m128 sample(float const* iq, int row) {
  return _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<__m128i const*>(iq + 2 * row)));
}
/** hi, lo of a table row. */
RSTX_AVX2 __m128d table_entry(int row) { return _mm_loadu_pd(&atan_table[row].hi); }
/** Lane mask, lane 4g + j at bit 4g + j. */
RSTX_AVX2 int lane_bits(pack const& m) {
  int bits = 0;
  for (int g = 0; g < groups; ++g) bits |= _mm256_movemask_pd(m.v[g]) << (4 * g);
  return bits;
}

/** Phases at out[0..4 groups); returns the mask of lanes that the C library must decide. */
RSTX_AVX2 int phases_of_pack(float const* iq, int const* row, double* out) {
  constexpr int all = (1 << (4 * groups)) - 1;
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
  alignas(16) int rows_of_table[4 * groups];
  for (int g = 0; g < groups; ++g) _mm_store_si128(reinterpret_cast<__m128i*>(rows_of_table + 4 * g), i.v[g]);
  pack t_hi, t_lo;
  for (int g = 0; g < groups; ++g) {
    int const* t = rows_of_table + 4 * g;
    __m256d const e02 = _mm256_insertf128_pd(_mm256_castpd128_pd256(table_entry(t[0])), table_entry(t[2]), 1);
    __m256d const e13 = _mm256_insertf128_pd(_mm256_castpd128_pd256(table_entry(t[1])), table_entry(t[3]), 1);
    t_hi.v[g] = _mm256_unpacklo_pd(e02, e13);  // hi0 hi1 hi2 hi3
    t_lo.v[g] = _mm256_unpackhi_pd(e02, e13);
  }
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
  pack const exponent = bit_and(z, splat_bits(0x7ff0000000000000LL));
  pack ulp = mul(exponent, splat(0x1p-52));
  pack const power_of_two = equal_bits_zero(bit_and(z, splat_bits(0x000fffffffffffffLL)));
  pack const below = bit_and(power_of_two, compare<_CMP_LT_OQ>(d, zero));
  ulp = blend(ulp, mul(ulp, splat(0.5)), below);
  pack const widest = bit_andnot(bit_or(swapped, negative_x), splat_bits(-1));
  pack const keep = blend(splat(0.5 - atan2_quadrants[1].glibc_slack), splat(0.5 - atan2_quadrants[0].glibc_slack),
                          widest);
  pack const accepted = bit_and(ordinary, compare<_CMP_LE_OQ>(bit_andnot(sign_bit, d), mul(keep, ulp)));
  pack const phase = bit_or(z, bit_and(y, sign_bit));  // z > 0: copysign
  for (int g = 0; g < groups; ++g) _mm256_storeu_pd(out + 4 * g, phase.v[g]);
  return ~lane_bits(accepted) & all;
}

}  // namespace

__attribute__((target("avx2,fma"))) int sample_phases_avx2(int n, float const* iq, int const* row, double* out,
                                                           int* undecided) {
  constexpr int width = 4 * groups;
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

#undef RSTX_AVX2

#endif
