#include <cstring>
#include "rstx/core/error.hpp"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "rstx/core/assert.hpp"

namespace rstx {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::io: return "io";
    case errc::truncated: return "truncated";
    case errc::bad_header: return "bad_header";
    case errc::too_large: return "too_large";
    case errc::bad_type: return "bad_type";
    case errc::bad_dims: return "bad_dims";
    case errc::bad_string: return "bad_string";
    case errc::size_mismatch: return "size_mismatch";
    case errc::decompress: return "decompress";
    case errc::missing_field: return "missing_field";
    case errc::wrong_type: return "wrong_type";
    case errc::bad_value: return "bad_value";
    case errc::out_of_range: return "out_of_range";
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::unsupported: return "unsupported";
    case errc::cuda: return "cuda";
    case errc::cuda_fatal: return "cuda_fatal";
    case errc::internal: return "internal";
  }
  return "unknown";
}

std::string error::message() const {
  std::string out;
  if (!source.empty()) out += source;
  if (record >= 0) out += fmt::format("{}record {}", out.empty() ? "" : ": ", record);
  if (offset >= 0) out += fmt::format("{}byte {}", out.empty() ? "" : (record >= 0 ? ", " : ": "), offset);
  if (!out.empty()) out += ": ";
  out += to_string(code);
  out += ": ";
  out += what;
  return out;
}

error os_failure(std::string what, int e) {
  return error(errc::io, fmt::format("{}: {}", what, std::strerror(e))).with_os_error(e);
}

namespace detail {
void assert_fail(char const* condition, char const* file, int line, char const* function) noexcept {
  std::fprintf(stderr, "rstx internal error (a bug, please report it): %s:%d: %s: assertion `%s' failed\n",
               file, line, function, condition);
  std::abort();
}
}  // namespace detail

}  // namespace rstx
