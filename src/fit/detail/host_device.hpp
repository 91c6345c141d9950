#pragma once
// RSTX_HOST_DEVICE marks per-element math that the CPU loops use today and CUDA kernels will reuse:
// one definition of each formula, whatever drives it.
#if defined(__CUDACC__)
#define RSTX_HOST_DEVICE __host__ __device__
#else
#define RSTX_HOST_DEVICE
#endif

#include <cstdint>

namespace rstx::fit::detail {

/**
 * C's (int) conversion of a double as x86-64 performs it (cvttsd2si): truncation toward zero,
 * and INT_MIN for NaN or values outside the int range (undefined behaviour in C, but this is what
 * RST's binaries do, and some RST outputs depend on it).
 */
RSTX_HOST_DEVICE inline std::int32_t x86_double_to_int(double v) noexcept {
  if (!(v > -2147483649.0 && v < 2147483648.0)) return INT32_MIN;
  return static_cast<std::int32_t>(v);
}

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
