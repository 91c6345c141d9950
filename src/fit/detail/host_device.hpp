#pragma once
// Bit tricks for the fit's lag masks; RSTX_HOST_DEVICE and x86_double_to_int come from core.
#include <cstdint>

#include "rstx/core/numeric.hpp"

namespace rstx::fit::detail {

using rstx::x86_double_to_int;

/** Index of the lowest set bit (mask must not be 0). */
RSTX_HOST_DEVICE inline int lowest_bit(std::uint64_t mask) noexcept {
#if defined(__CUDA_ARCH__)
  return __ffsll(static_cast<long long>(mask)) - 1;
#else
  return __builtin_ctzll(mask);
#endif
}

/** Number of set bits. */
RSTX_HOST_DEVICE inline int bit_count(std::uint64_t mask) noexcept {
#if defined(__CUDA_ARCH__)
  return __popcll(mask);
#else
  // SWAR count: __builtin_popcountll is a libgcc call on baseline x86-64 (no -mpopcnt).
  mask = mask - ((mask >> 1) & 0x5555555555555555ULL);
  mask = (mask & 0x3333333333333333ULL) + ((mask >> 2) & 0x3333333333333333ULL);
  mask = (mask + (mask >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<int>((mask * 0x0101010101010101ULL) >> 56);
#endif
}

}  // namespace rstx::fit::detail
