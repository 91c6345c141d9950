#pragma once
// Several AVX registers of four doubles, operated on side by side: the kernels of this folder
// (atan2, exp) have long dependency chains, and with the chains of `groups` registers
// interleaved in the instruction stream the processor runs them in parallel instead of waiting on
// one. Included only by files compiled for AVX2 and FMA through RSTX_AVX2 on every function.
#include <cstdint>

#include <immintrin.h>

#define RSTX_AVX2 __attribute__((target("avx2,fma"), always_inline)) inline

namespace rstx::detail::avx2 {

inline constexpr int groups = 4;  ///< registers per step: 16 lanes
inline constexpr int lanes = 4 * groups;
inline constexpr int all_lanes = (1 << lanes) - 1;

struct pack {
  __m256d v[groups];
};

// No lambdas below: they would not inherit the target attribute.
#define RSTX_EACH(expr)                             \
  pack r;                                           \
  for (int g = 0; g < groups; ++g) r.v[g] = (expr); \
  return r
RSTX_AVX2 pack splat(double x) { RSTX_EACH(_mm256_set1_pd(x)); }
RSTX_AVX2 pack splat_bits(long long x) { RSTX_EACH(_mm256_castsi256_pd(_mm256_set1_epi64x(x))); }
RSTX_AVX2 pack load(double const* p) { RSTX_EACH(_mm256_loadu_pd(p + 4 * g)); }
RSTX_AVX2 void store(double* p, pack const& a) {
  for (int g = 0; g < groups; ++g) _mm256_storeu_pd(p + 4 * g, a.v[g]);
}
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
/** 64-bit lanes whose bits are all 0, as a mask. */
RSTX_AVX2 pack equal_bits_zero(pack const& a) {
  RSTX_EACH(_mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_castpd_si256(a.v[g]), _mm256_setzero_si256())));
}
/** 64-bit integer lanes shifted left / right (logical). */
template <int count>
RSTX_AVX2 pack shift_left(pack const& a) {
  RSTX_EACH(_mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(a.v[g]), count)));
}
template <int count>
RSTX_AVX2 pack shift_right(pack const& a) {
  RSTX_EACH(_mm256_castsi256_pd(_mm256_srli_epi64(_mm256_castpd_si256(a.v[g]), count)));
}
/** 64-bit integer lanes a - b. */
RSTX_AVX2 pack int_sub(pack const& a, pack const& b) {
  RSTX_EACH(_mm256_castsi256_pd(_mm256_sub_epi64(_mm256_castpd_si256(a.v[g]), _mm256_castpd_si256(b.v[g]))));
}
#undef RSTX_EACH

/** Lane mask, lane 4g + j at bit 4g + j. */
RSTX_AVX2 int lane_bits(pack const& m) {
  int bits = 0;
  for (int g = 0; g < groups; ++g) bits |= _mm256_movemask_pd(m.v[g]) << (4 * g);
  return bits;
}

/**
 * Rows of a two-double table (hi, lo) at 64-bit integer lanes `index`: one 16-byte load per lane
 * (gathers are slow on many cores).
 */
RSTX_AVX2 __m128d two_doubles(void const* p) { return _mm_loadu_pd(static_cast<double const*>(p)); }

template <class Row>
RSTX_AVX2 void table_rows(Row const* table, pack const& index, pack& hi, pack& lo) {
  static_assert(sizeof(Row) == 2 * sizeof(double), "a row is hi, lo");
  alignas(32) std::int64_t rows[lanes];
  for (int g = 0; g < groups; ++g)
    _mm256_store_si256(reinterpret_cast<__m256i*>(rows + 4 * g), _mm256_castpd_si256(index.v[g]));
  for (int g = 0; g < groups; ++g) {
    std::int64_t const* j = rows + 4 * g;
    __m256d const e02 = _mm256_insertf128_pd(_mm256_castpd128_pd256(two_doubles(table + j[0])), two_doubles(table + j[2]), 1);
    __m256d const e13 = _mm256_insertf128_pd(_mm256_castpd128_pd256(two_doubles(table + j[1])), two_doubles(table + j[3]), 1);
    hi.v[g] = _mm256_unpacklo_pd(e02, e13);
    lo.v[g] = _mm256_unpackhi_pd(e02, e13);
  }
}

/**
 * Lanes where the exact value z + d (z the rounded result, d what rounding left out) lies within
 * half_minus_slack ULP of z, i.e. more than the slack from a rounding boundary: there every
 * function within that slack of correct rounding returns z. z may be negative.
 */
RSTX_AVX2 pack round_clear_of_boundary(pack const& z, pack const& d, pack const& half_minus_slack) {
  pack const abs_z = bit_andnot(splat(-0.0), z);
  pack ulp = mul(bit_and(abs_z, splat_bits(0x7ff0000000000000LL)), splat(0x1p-52));
  pack const at_power_of_two = equal_bits_zero(bit_and(abs_z, splat_bits(0x000fffffffffffffLL)));
  // Below a power of two the ULP is half: d pointing toward zero.
  pack const toward_zero = compare<_CMP_LT_OQ>(bit_xor(d, bit_and(z, splat(-0.0))), splat(0.0));
  ulp = blend(ulp, mul(ulp, splat(0.5)), bit_and(at_power_of_two, toward_zero));
  return compare<_CMP_LE_OQ>(bit_andnot(splat(-0.0), d), mul(half_minus_slack, ulp));
}

/**
 * The loop of a many-values kernel: of_pack(in, out) computes `lanes` values and returns the lanes
 * it leaves to the C library (their out[] holding the argument); the last values are padded with
 * `pad`. Lists those lanes in `undecided` and returns how many.
 */
template <int (*of_pack)(double const*, double*)>
RSTX_AVX2 int many_values(int n, double const* x, double* out, int* undecided, double pad) {
  int count = 0;
  int k = 0;
  for (; k + lanes <= n; k += lanes) {
    for (int m = of_pack(x + k, out + k); m != 0; m &= m - 1)
      undecided[count++] = k + __builtin_ctz(static_cast<unsigned>(m));
  }
  if (k < n) {
    alignas(32) double in[lanes];
    double res[lanes];
    for (int j = 0; j < lanes; ++j) in[j] = k + j < n ? x[k + j] : pad;
    int const m = of_pack(in, res);
    for (int j = 0; j < n - k; ++j) {
      out[k + j] = res[j];
      if ((m >> j) & 1) undecided[count++] = k + j;
    }
  }
  return count;
}

}  // namespace rstx::detail::avx2
