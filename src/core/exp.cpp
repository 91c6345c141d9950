#include "rstx/core/exp.hpp"

#include <cmath>

#include "detail/blocks.hpp"
#include "rstx/core/atan2.hpp"  // cpu_has_avx2_fma

namespace rstx {

namespace detail {

exp_table_row const exp_table[256] = {
#include "rstx/core/detail/exp_table.inc"
};

void exp_many_scalar(int n, double const* x, double* out) noexcept {
  for (int k = 0; k < n; ++k) out[k] = std::exp(x[k]);
}

#if RSTX_ATAN2_AVX2
/** exp_avx2.cpp: exp of n values; lists in `undecided` (returns how many) those left to libm,
 *  whose out[] holds the argument instead. */
int exp_many_avx2(int n, double const* x, double* out, int* undecided);
#endif

}  // namespace detail

void exp_many(int n, double const* x, double* out) noexcept {
#if RSTX_ATAN2_AVX2
  if (detail::cpu_has_avx2_fma()) {
    // The lanes the kernel leaves hold their argument in out[], so that out may be x.
    detail::in_blocks(
        n, [&](int k, int m, int* undecided) { return detail::exp_many_avx2(m, x + k, out + k, undecided); },
        [&](int i) { out[i] = std::exp(out[i]); });
    return;
  }
#endif
  detail::exp_many_scalar(n, x, out);
}

}  // namespace rstx
