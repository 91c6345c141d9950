// make_grid: fitacf -> grid in AACGM-v2 coordinates, compatible with RST 5's command line.
#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli.hpp"
#include "report.hpp"
#include "run_log.hpp"
#include "signals.hpp"
#include "rstx/core/version.hpp"
#include "rstx/dmap/writer.hpp"
#include "rstx/grid/make_grid.hpp"
#include "rstx/tables/tables.hpp"

namespace {
constexpr char const* program = "make_grid";
}

int run(int argc, char** argv, std::string& input_name) {
  using namespace rstx;
  auto parsed = make_grid_cli::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed) return cli::report(program, parsed.error());
  auto const& o = *parsed;
  if (o.help) {
    fmt::print("{}", make_grid_cli::help_text());
    return 0;
  }
  if (o.version) {
    fmt::print("make_grid (rstx {}), compatible with RST 5.0 make_grid\n", version_string);
    return 0;
  }
  for (auto const& w : o.warnings) cli::warn(program, w);
  if (o.inputs.size() == 1) input_name = o.inputs.front();
  // RST_LOG_FILE: the operations guide's JSON log of this run (nothing without it).
  cli::run_log run_log(program, "make_grid");
  std::string const logged_file = fmt::format("{}", fmt::join(o.inputs, " "));
  run_log.started(logged_file);
  auto report_failure = [&](error const& e) {
    run_log.failed(logged_file, e.message());
    return cli::report(program, e);
  };
  auto want = o.tables;
  want.need_geo = true;
  auto found = tables::locate(want);
  if (!found) return report_failure(found.error());
  if (o.verbose)
    for (auto const& line : found->describe()) fmt::print(stderr, "Tables: {}\n", line);
  grid::table_paths const tables{found->radar_dat.path, found->hdw_dir.path, found->aacgm_prefix.path,
                                 found->igrf_dir.path};

  auto out = o.output.empty() ? dmap::writer::to_fd(STDOUT_FILENO, "<stdout>")
                              : dmap::writer::create(o.output, {.comp = dmap::compression_for_path(o.output), .threads = o.run.threads});
  if (!out) return report_failure(out.error());
  cli::remove_temporaries_on_signals();
  grid::run_callbacks cb;
  cb.write = [&](dmap::record const& r) { return out->write(r); };
  auto to_stderr = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
  cb.notice = to_stderr;  // RST prints "Opening file:" lines whatever -vb says
  if (o.verbose) cb.log = to_stderr;

  auto summary = grid::make_grid(o.inputs, o.run, tables, cb);
  // Records completed before a problem in the input are kept (-o included); I/O errors are not.
  if (!summary && (summary.error().code == errc::io || summary.error().code == errc::internal))
    return report_failure(summary.error());
  if (auto c = out->commit(); !c) return report_failure(c.error());
  if (!summary) return report_failure(summary.error());
  std::int64_t input_bytes = 0;
  for (auto const& f : o.inputs) {
    std::error_code size_error;
    auto const n = std::filesystem::file_size(f, size_error);
    if (!size_error) input_bytes += static_cast<std::int64_t>(n);
  }
  run_log.completed(logged_file, summary->grid_records, input_bytes);
  return 0;
}

int main(int argc, char** argv) {
  return rstx::cli::run_reporting_escapes(program, "", [&](std::string& input_name) { return run(argc, argv, input_name); });
}
