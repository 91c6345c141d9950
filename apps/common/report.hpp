#pragma once
// What every rstx command-line program shares: one-line error reports on stderr and the
// exit status that goes with each kind of error.
//   0 ok, 1 usage, 2 bad input, 3 I/O, 4 internal/CUDA, 5 inputs differ (rstx diff).
#include <string_view>

#include "rstx/core/error.hpp"

namespace rstx::cli {

/** The exit status for an error: usage 1, bad input 2, I/O 3, internal or CUDA 4. */
[[nodiscard]] int exit_status_for(errc code) noexcept;

/** Prints "PROGRAM: SOURCE: record R, byte O: CODE: WHAT" to stderr and returns its exit status. */
int report(std::string_view program, error const& e);

/** Reports running out of memory ("PROGRAM: SOURCE: internal: out of memory") without allocating
 *  anything, and returns exit status 4. */
int report_out_of_memory(std::string_view program, std::string_view source) noexcept;

/** Prints "PROGRAM: warning: TEXT" to stderr. */
void warn(std::string_view program, std::string_view text);

}  // namespace rstx::cli
