// exp_many with AVX2 and FMA (see exp.hpp for the method and its error bound). Compiled for those
// instructions only in this file, and called only when the processor has them (exp.cpp). Like
// atan2_avx2.cpp, each step works on several registers of four, side by side, so that their
// dependency chains overlap.
#include "rstx/core/exp.hpp"

#include "rstx/core/atan2.hpp"  // RSTX_ATAN2_AVX2

#if RSTX_ATAN2_AVX2
#include <cstdint>

#include <immintrin.h>

#define RSTX_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

namespace rstx::detail {

namespace {

static_assert(sizeof(exp_table_row) == 2 * sizeof(double), "one 16-byte load reads a row's hi and lo");

constexpr int groups = 4;  // AVX registers of four lanes per step

struct pack {
  __m256d v[groups];
};

#define RSTX_EACH(expr)                             \
  pack r;                                           \
  for (int g = 0; g < groups; ++g) r.v[g] = (expr); \
  return r
RSTX_AVX2 pack splat(double x) { RSTX_EACH(_mm256_set1_pd(x)); }
RSTX_AVX2 pack splat_bits(long long x) { RSTX_EACH(_mm256_castsi256_pd(_mm256_set1_epi64x(x))); }
RSTX_AVX2 pack load(double const* p) { RSTX_EACH(_mm256_loadu_pd(p + 4 * g)); }
#define RSTX_PACK_OP2(name, intrinsic) \
  RSTX_AVX2 pack name(pack const& a, pack const& b) { RSTX_EACH(intrinsic(a.v[g], b.v[g])); }
#define RSTX_PACK_OP3(name, intrinsic) \
  RSTX_AVX2 pack name(pack const& a, pack const& b, pack const& c) { RSTX_EACH(intrinsic(a.v[g], b.v[g], c.v[g])); }
RSTX_PACK_OP2(add, _mm256_add_pd)
RSTX_PACK_OP2(sub, _mm256_sub_pd)
RSTX_PACK_OP2(mul, _mm256_mul_pd)
RSTX_PACK_OP2(bit_and, _mm256_and_pd)
RSTX_PACK_OP2(bit_andnot, _mm256_andnot_pd)  // ~a & b
RSTX_PACK_OP3(fmadd, _mm256_fmadd_pd)        // a*b + c
RSTX_PACK_OP3(fnmadd, _mm256_fnmadd_pd)      // c - a*b
RSTX_PACK_OP3(blend, _mm256_blendv_pd)       // mask c ? b : a
template <int predicate>
RSTX_AVX2 pack compare(pack const& a, pack const& b) {
  RSTX_EACH(_mm256_cmp_pd(a.v[g], b.v[g], predicate));
}
RSTX_AVX2 pack equal_bits_zero(pack const& a) {  // 64-bit lanes equal to 0, as a mask
  RSTX_EACH(_mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_castpd_si256(a.v[g]), _mm256_setzero_si256())));
}
/** 2^e from the biased exponent field e + 1023 held in 64-bit lanes. */
RSTX_AVX2 pack power_of_two(pack const& biased) { RSTX_EACH(_mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(biased.v[g]), 52))); }
#undef RSTX_EACH
#undef RSTX_PACK_OP2
#undef RSTX_PACK_OP3

RSTX_AVX2 int lane_bits(pack const& m) {
  int bits = 0;
  for (int g = 0; g < groups; ++g) bits |= _mm256_movemask_pd(m.v[g]) << (4 * g);
  return bits;
}
RSTX_AVX2 __m128d table_entry(std::int64_t j) { return _mm_loadu_pd(&exp_table[j].hi); }

/** exp of in[0..4 groups) into out; returns the lanes left to libm (out holds their argument). */
RSTX_AVX2 int exp_of_pack(double const* in, double* out) {
  constexpr int all = (1 << (4 * groups)) - 1;
  pack const x = load(in);
  pack const ok = bit_and(compare<_CMP_GT_OQ>(x, splat(-exp_fast_limit)), compare<_CMP_LT_OQ>(x, splat(exp_fast_limit)));
  if (lane_bits(ok) == 0) {
    for (int g = 0; g < groups; ++g) _mm256_storeu_pd(out + 4 * g, x.v[g]);
    return all;
  }
  pack const xs = bit_and(x, ok);  // 0 where libm decides

  // k = round(x 256/ln2) from the shifted sum (its low mantissa bits are k + 2^51); r = x - k ln2/256
  // with two FMA (each one rounding of a value below ln2/512).
  pack const shift = splat(0x1.8p52);
  pack const shifted = add(mul(xs, splat(exp_inv_ln2_256)), shift);
  pack const kd = sub(shifted, shift);
  pack r = fnmadd(kd, splat(exp_ln2_256_hi), xs);
  r = fnmadd(kd, splat(exp_ln2_256_lo), r);

  // exp(r) - 1 = r + r^2 (1/2 + r (1/6 + r (1/24 + r/120))): truncated below 2^-66 for |r| <= ln2/512.
  pack h = fmadd(r, splat(1.0 / 120), splat(1.0 / 24));
  h = fmadd(r, h, splat(1.0 / 6));
  h = fmadd(r, h, splat(0.5));
  pack const p = fmadd(mul(r, r), h, r);

  // j = k mod 256 (the 2^51 offset is a multiple of 256), 2^(k div 256) from the exponent field.
  pack const k_offset = bit_and(shifted, splat_bits(0x000fffffffffffffLL));  // k + 2^51 as an integer
  alignas(32) std::int64_t rows[4 * groups];
  pack biased;
  for (int g = 0; g < groups; ++g) {
    __m256i const bits = _mm256_castpd_si256(k_offset.v[g]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(rows + 4 * g), _mm256_and_si256(bits, _mm256_set1_epi64x(255)));
    __m256i const e = _mm256_sub_epi64(_mm256_srli_epi64(bits, 8), _mm256_set1_epi64x((std::int64_t{1} << 43) - 1023));
    biased.v[g] = _mm256_castsi256_pd(e);
  }
  pack t_hi, t_lo;
  for (int g = 0; g < groups; ++g) {
    std::int64_t const* j = rows + 4 * g;
    __m256d const e02 = _mm256_insertf128_pd(_mm256_castpd128_pd256(table_entry(j[0])), table_entry(j[2]), 1);
    __m256d const e13 = _mm256_insertf128_pd(_mm256_castpd128_pd256(table_entry(j[1])), table_entry(j[3]), 1);
    t_hi.v[g] = _mm256_unpacklo_pd(e02, e13);
    t_lo.v[g] = _mm256_unpackhi_pd(e02, e13);
  }

  // 2^(j/256) (1 + p) = s + d, s rounded (|q| < t_hi: the sum and its error are exact).
  pack const q = fmadd(t_hi, p, t_lo);
  pack const s = add(t_hi, q);
  pack const d = add(sub(t_hi, s), q);

  // Accept lanes more than exp_glibc_slack from a rounding boundary.
  pack const sign_bit = splat(-0.0);
  pack ulp = mul(bit_and(s, splat_bits(0x7ff0000000000000LL)), splat(0x1p-52));
  pack const at_power_of_two = equal_bits_zero(bit_and(s, splat_bits(0x000fffffffffffffLL)));
  pack const below = bit_and(at_power_of_two, compare<_CMP_LT_OQ>(d, splat(0.0)));
  ulp = blend(ulp, mul(ulp, splat(0.5)), below);
  pack const accepted =
      bit_and(ok, compare<_CMP_LE_OQ>(bit_andnot(sign_bit, d), mul(splat(0.5 - exp_glibc_slack), ulp)));
  pack const result = blend(x, mul(s, power_of_two(biased)), accepted);  // exact: normal results
  for (int g = 0; g < groups; ++g) _mm256_storeu_pd(out + 4 * g, result.v[g]);
  return ~lane_bits(accepted) & all;
}

}  // namespace

__attribute__((target("avx2,fma"))) int exp_many_avx2(int n, double const* x, double* out, int* undecided) {
  constexpr int width = 4 * groups;
  int count = 0;
  int k = 0;
  for (; k + width <= n; k += width) {
    for (int m = exp_of_pack(x + k, out + k); m != 0; m &= m - 1)
      undecided[count++] = k + __builtin_ctz(static_cast<unsigned>(m));
  }
  if (k < n) {  // the last values, padded with zeros
    alignas(32) double in[width] = {};
    double res[width];
    for (int j = 0; j < n - k; ++j) in[j] = x[k + j];
    int const m = exp_of_pack(in, res);
    for (int j = 0; j < n - k; ++j) {
      out[k + j] = res[j];
      if ((m >> j) & 1) undecided[count++] = k + j;
    }
  }
  return count;
}

}  // namespace rstx::detail

#undef RSTX_AVX2

#endif
