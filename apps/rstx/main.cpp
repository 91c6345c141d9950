// rstx: inspect, check, compare, convert and simulate SuperDARN DMAP files.
#include <cstdio>
#include <exception>
#include <new>

#include <fmt/format.h>

#include "command.hpp"
#include "signals.hpp"
#include "report.hpp"
#include "rstx/core/version.hpp"

namespace rstx::cli {
std::filesystem::path own_dir() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path() : self.parent_path();
}

void add_reader_options(CLI::App* cmd, dmap::reader_options& opt) {
  cmd->add_option("--max-record-size", opt.max_record_bytes,
                  "Largest record accepted, in bytes (suffixes K, M, G); larger records are errors")
      ->transform(CLI::AsSizeValue(false))
      ->capture_default_str();
}
}  // namespace rstx::cli

int main(int argc, char** argv) {
  CLI::App app{"rstx: inspect, check, compare, convert and simulate SuperDARN DMAP files", "rstx"};
  app.set_version_flag("--version", std::string("rstx ") + rstx::version_string);
  app.require_subcommand(1, 1);
  app.fallthrough(false);
  int exit_status = rstx::cli::ok;
  rstx::cli::add_dump(app, exit_status);
  rstx::cli::add_info(app, exit_status);
  rstx::cli::add_validate(app, exit_status);
  rstx::cli::add_diff(app, exit_status);
  rstx::cli::add_convert(app, exit_status);
#ifdef RSTX_HAVE_SIM
  rstx::cli::add_sim(app, exit_status);
#endif
  rstx::cli::add_doctor(app, exit_status);
  rstx::cli::add_bench(app, exit_status);
  rstx::cli::remove_temporaries_on_signals();
  try {
    app.parse(argc, argv);
  } catch (CLI::ParseError const& e) {
    int const rc = app.exit(e);
    return rc == 0 ? rstx::cli::ok : rstx::cli::usage;
  } catch (std::bad_alloc const&) {
    fmt::print(stderr, "rstx: internal: out of memory\n");
    return rstx::cli::internal;
  } catch (std::exception const& e) {
    fmt::print(stderr, "rstx: internal error: {}\n", e.what());
    return rstx::cli::internal;
  }
  return exit_status;
}
