#pragma once
/**
 * @file
 * Numeric helpers shared by the algorithm modules: the host/device marker for per-element math,
 * and C's float-to-int conversion and overflowing int arithmetic as RST's x86-64 binaries perform
 * them.
 */
#include <cstdint>

// RSTX_HOST_DEVICE marks per-element math that the CPU loops use today and CUDA kernels reuse:
// one definition of each formula, whatever drives it.
#if defined(__CUDACC__)
#define RSTX_HOST_DEVICE __host__ __device__
#else
#define RSTX_HOST_DEVICE
#endif

namespace rstx {

/** The bits of a double and back (std::bit_cast, which device code cannot call). */
RSTX_HOST_DEVICE inline std::uint64_t bits_of(double x) noexcept {
#if defined(__CUDA_ARCH__)
  return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
  return __builtin_bit_cast(std::uint64_t, x);
#endif
}
RSTX_HOST_DEVICE inline double double_of(std::uint64_t b) noexcept {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(b));
#else
  return __builtin_bit_cast(double, b);
#endif
}

/**
 * C's (int) conversion of a double (or float) as x86-64 performs it (cvttsd2si): truncation toward
 * zero, and INT_MIN for NaN or values outside the int range (undefined behaviour in C, but this is
 * what RST's binaries do, and some RST outputs depend on it).
 */
RSTX_HOST_DEVICE inline std::int32_t x86_double_to_int(double v) noexcept {
  if (!(v > -2147483649.0 && v < 2147483648.0)) return INT32_MIN;
  return static_cast<std::int32_t>(v);
}

/**
 * C's int addition and multiplication as RST's x86-64 binaries perform them when they overflow:
 * 32-bit two's complement wrap-around (undefined behaviour in C and C++, which the machine code
 * does not see). For sums of untrusted values that RST computes in int.
 */
RSTX_HOST_DEVICE constexpr std::int32_t wrapping_add(std::int32_t a, std::int32_t b) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) + static_cast<std::uint32_t>(b));
}
RSTX_HOST_DEVICE constexpr std::int32_t wrapping_sub(std::int32_t a, std::int32_t b) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) - static_cast<std::uint32_t>(b));
}
RSTX_HOST_DEVICE constexpr std::int32_t wrapping_mul(std::int32_t a, std::int32_t b) noexcept {
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(a) * static_cast<std::uint32_t>(b));
}

}  // namespace rstx
