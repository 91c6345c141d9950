#include "report.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace rstx::cli {

int exit_status_for(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument: return 1;
    case errc::io: return 3;
    case errc::internal:
    case errc::cuda:
    case errc::cuda_fatal: return 4;
    default: return 2;
  }
}

int report(std::string_view program, error const& e) {
  fmt::print(stderr, "{}: {}\n", program, e.message());
  std::fflush(stderr);
  return exit_status_for(e.code);
}

void warn(std::string_view program, std::string_view text) {
  fmt::print(stderr, "{}: warning: {}\n", program, text);
  std::fflush(stderr);
}

}  // namespace rstx::cli
