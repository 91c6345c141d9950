#pragma once
// The driver of exp_many (and of any other such function): blocks of values through an AVX2 kernel that
// decides most of them, then the C library for the lanes it leaves (whose out[] holds the
// argument, so that out may be x).
#include <algorithm>

namespace rstx::detail {

template <class Kernel, class Libm>
void many_with_fallback(int n, double const* x, double* out, Kernel&& kernel, Libm&& libm) noexcept {
  constexpr int block = 256;
  int undecided[block];
  for (int k = 0; k < n; k += block) {
    int const m = std::min(n - k, block);
    int const count = kernel(m, x + k, out + k, undecided);
    for (int u = 0; u < count; ++u) out[k + undecided[u]] = libm(out[k + undecided[u]]);
  }
}

}  // namespace rstx::detail
