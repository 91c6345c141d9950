#pragma once
// The merge sort behind glibc's qsort up to 2.36 (msort.c's algorithm, written here from its
// description): split at n/2, sort both halves, merge taking from the left half unless the right
// element is strictly smaller. With a comparator that answers "equal" for NaN this reproduces
// RST's medians exactly, which no other sort order guarantees.
#include <cstddef>
#include <span>

namespace rstx::grid::detail {

template <class T, class Less>
void rst_merge_sort(std::span<T> items, std::span<T> scratch, Less less) {
  std::size_t const n = items.size();
  if (n <= 1) return;
  std::size_t const n1 = n / 2;
  rst_merge_sort(items.first(n1), scratch, less);
  rst_merge_sort(items.subspan(n1), scratch, less);
  std::size_t i = 0, j = n1, k = 0;
  while (i < n1 && j < n) {
    // glibc: if (cmp(b1, b2) <= 0) take b1 else take b2; cmp <= 0 means "not b2 < b1"
    if (!less(items[j], items[i])) scratch[k++] = items[i++];
    else scratch[k++] = items[j++];
  }
  while (i < n1) scratch[k++] = items[i++];
  // The rest of the right half is already in place.
  for (std::size_t m = 0; m < k; ++m) items[m] = scratch[m];
}

}  // namespace rstx::grid::detail
