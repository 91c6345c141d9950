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

int report_out_of_memory(std::string_view program, std::string_view source) noexcept {
  auto put = [](std::string_view s) { std::fwrite(s.data(), 1, s.size(), stderr); };
  put(program);
  put(": ");
  if (!source.empty()) {
    put(source);
    put(": ");
  }
  put("internal: out of memory\n");
  std::fflush(stderr);
  return exit_status_for(errc::internal);
}

void warn(std::string_view program, std::string_view text) {
  fmt::print(stderr, "{}: warning: {}\n", program, text);
  std::fflush(stderr);
}

}  // namespace rstx::cli
