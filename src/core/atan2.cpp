#include "rstx/core/atan2.hpp"

#include <algorithm>

namespace rstx {

namespace detail {

atan_table_row const atan_table[257] = {
#include "atan2_table.inc"
};

double atan2_libm(double y, double x) noexcept { return std::atan2(y, x); }

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
int sample_phases_avx2_4(float const* iq, int const* row, double* out);
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
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (detail::cpu_has_avx2_fma()) {
    for (int k = 0; k < n; k += 4) {
      int const* rows = row + k;
      double* phases = out + k;
      int padded_rows[4];
      double padded_phases[4];
      if (k + 4 > n) {  // the last 1-3 samples, padded with copies of the last one
        for (int j = 0; j < 4; ++j) padded_rows[j] = row[std::min(k + j, n - 1)];
        rows = padded_rows;
        phases = padded_phases;
      }
      int undecided = detail::sample_phases_avx2_4(iq, rows, phases);
      if (undecided == 0xf) {  // a zero, infinity or NaN among them, or all four near a boundary
        for (int j = 0; j < 4; ++j) phases[j] = atan2_of_floats(iq[2 * rows[j] + 1], iq[2 * rows[j]]);
        undecided = 0;
      }
      for (; undecided != 0; undecided &= undecided - 1) {
        int const j = __builtin_ctz(static_cast<unsigned>(undecided));
        phases[j] = detail::atan2_libm(static_cast<double>(iq[2 * rows[j] + 1]), static_cast<double>(iq[2 * rows[j]]));
      }
      if (phases == padded_phases)
        for (int j = 0; j < n - k; ++j) out[k + j] = padded_phases[j];
    }
    return;
  }
#endif
  detail::sample_phases_scalar(n, iq, row, out);
}

}  // namespace rstx
