#pragma once
/**
 * @file
 * RSTX_ASSERT: checks a precondition that rstx itself guarantees. A failure is a bug in rstx,
 * never bad input (bad input becomes an `rstx::error`). It stays on in every build and aborts
 * with the file, line and condition.
 */

namespace rstx::detail {
[[noreturn]] void assert_fail(char const* condition, char const* file, int line,
                              char const* function) noexcept;
}  // namespace rstx::detail

#define RSTX_ASSERT(cond)                                                              \
  do {                                                                                 \
    if (!(cond)) [[unlikely]]                                                          \
      ::rstx::detail::assert_fail(#cond, __FILE__, __LINE__, __func__);                \
  } while (false)
