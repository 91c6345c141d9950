#pragma once
// What every rstx command-line program shares: one-line error reports on stderr and the
// exit status that goes with each kind of error.
//   0 ok, 1 usage, 2 bad input, 3 I/O, 4 internal/CUDA, 5 inputs differ (rstx diff).
#include <exception>
#include <new>
#include <string>
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

/**
 * A program's main: calls run(input_name), where run names the input it reads once it knows it,
 * and turns whatever escapes (running out of memory, a thread that cannot start) into a report
 * naming that input with exit status 4, never an abort.
 */
template <class Run>
int run_reporting_escapes(std::string_view program, std::string input_name, Run&& run) {
  try {
    return run(input_name);
  } catch (std::bad_alloc const&) {
    return report_out_of_memory(program, input_name);
  } catch (std::exception const& e) {
    return report(program, error(errc::internal, e.what()).at(input_name));
  }
}

/** Prints "PROGRAM: warning: TEXT" to stderr. */
void warn(std::string_view program, std::string_view text);

}  // namespace rstx::cli
