// exp_many with AVX2 and FMA (see exp.hpp for the method and its error bound). Compiled for those
// instructions only in this file, and called only when the processor has them (exp.cpp). Like
// atan2_avx2.cpp, each step works on several registers of four, side by side, so that their
// dependency chains overlap.
#include "rstx/core/exp.hpp"

#include "rstx/core/atan2.hpp"  // RSTX_ATAN2_AVX2

#if RSTX_ATAN2_AVX2
#include "detail/avx2_pack.hpp"

namespace rstx::detail {

namespace {

using namespace avx2;

/** exp of in[0..4 groups) into out; returns the lanes left to libm (out holds their argument). */
RSTX_AVX2 int exp_of_pack(double const* in, double* out) {
  constexpr int all = all_lanes;
  pack const x = load(in);
  pack const ok = bit_and(compare<_CMP_GT_OQ>(x, splat(-exp_fast_limit)), compare<_CMP_LT_OQ>(x, splat(exp_fast_limit)));
  if (lane_bits(ok) == 0) {
    store(out, x);
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
  pack t_hi, t_lo;
  table_rows(exp_table, bit_and(k_offset, splat_bits(255)), t_hi, t_lo);
  pack const biased = int_sub(shift_right<8>(k_offset), splat_bits((std::int64_t{1} << 43) - 1023));

  // 2^(j/256) (1 + p) = s + d, s rounded (|q| < t_hi: the sum and its error are exact).
  pack const q = fmadd(t_hi, p, t_lo);
  pack const s = add(t_hi, q);
  pack const d = add(sub(t_hi, s), q);

  // Accept lanes more than exp_glibc_slack from a rounding boundary.
  pack const accepted = bit_and(ok, round_clear_of_boundary(s, d, splat(0.5 - exp_glibc_slack)));
  store(out, blend(x, mul(s, shift_left<52>(biased)), accepted));  // exact: normal results
  return ~lane_bits(accepted) & all;
}

}  // namespace

__attribute__((target("avx2,fma"))) int exp_many_avx2(int n, double const* x, double* out, int* undecided) {
  return many_values<exp_of_pack>(n, x, out, undecided, 0.0);
}

}  // namespace rstx::detail

#endif
