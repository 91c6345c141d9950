#include "rstx/core/atan2.hpp"

#include "detail/blocks.hpp"

namespace rstx {

namespace detail {

atan_table_row const atan_table[257] = {
#include "rstx/core/detail/atan2_table.inc"
};

double atan2_libm(double y, double x) noexcept { return std::atan2(y, x); }

#if RSTX_ATAN2_AVX2
/** atan2_avx2.cpp: phases of n samples; lists in `undecided` (returns how many) those left to libm. */
int sample_phases_avx2(int n, float const* iq, int const* row, double* out, int* undecided);

bool cpu_has_avx2_fma() noexcept {
  static bool const has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}
#else
bool cpu_has_avx2_fma() noexcept { return false; }
#endif

void sample_phases_scalar(int n, float const* iq, int const* row, double* out) noexcept {
  for (int k = 0; k < n; ++k) out[k] = atan2_of_floats(iq[2 * row[k] + 1], iq[2 * row[k]]);
}

}  // namespace detail

void sample_phases(int n, float const* iq, int const* row, double* out) noexcept {
#if RSTX_ATAN2_AVX2
  if (detail::cpu_has_avx2_fma()) {
    // Left to the C library: samples near a rounding boundary, zeros, infinities and NaN.
    detail::in_blocks(
        n, [&](int k, int m, int* undecided) { return detail::sample_phases_avx2(m, iq, row + k, out + k, undecided); },
        [&](int i) {
          int const j = row[i];
          out[i] = detail::atan2_libm(static_cast<double>(iq[2 * j + 1]), static_cast<double>(iq[2 * j]));
        });
    return;
  }
#endif
  detail::sample_phases_scalar(n, iq, row, out);
}

}  // namespace rstx
