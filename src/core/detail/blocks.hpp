#pragma once
// The driver of the AVX2 kernels that decide most values and leave the rest to the C library
// (sample_phases, exp_many): blocks of values through the kernel, then the undecided ones.
#include <algorithm>

namespace rstx::detail {

/**
 * Calls kernel(first, count, undecided) for blocks [first, first + count) of at most 256 of the
 * n values; it returns how many of them it left undecided and lists their indices within the
 * block in `undecided`. decide(index) then settles each of those.
 */
template <class Kernel, class Decide>
void in_blocks(int n, Kernel&& kernel, Decide&& decide) noexcept {
  constexpr int block = 256;
  int undecided[block];
  for (int k = 0; k < n; k += block) {
    int const count = kernel(k, std::min(n - k, block), undecided);
    for (int u = 0; u < count; ++u) decide(k + undecided[u]);
  }
}

}  // namespace rstx::detail
