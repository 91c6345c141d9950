// make_grid: fitacf -> grid in AACGM-v2 coordinates, compatible with RST 5's command line.
#include <cstdio>
#include <string>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "cli.hpp"
#include "report.hpp"
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
  auto want = o.tables;
  want.need_geo = true;
  auto found = tables::locate(want);
  if (!found) return cli::report(program, found.error());
  if (o.verbose)
    for (auto const& line : found->describe()) fmt::print(stderr, "Tables: {}\n", line);
  grid::table_paths const tables{found->radar_dat.path, found->hdw_dir.path, found->aacgm_prefix.path,
                                 found->igrf_dir.path};

  auto out = o.output.empty() ? dmap::writer::to_fd(STDOUT_FILENO, "<stdout>")
                              : dmap::writer::create(o.output, {dmap::compression_for_path(o.output), 9});
  if (!out) return cli::report(program, out.error());
  cli::remove_temporaries_on_signals();
  grid::run_callbacks cb;
  cb.write = [&](dmap::record const& r) { return out->write(r); };
  auto to_stderr = [](std::string_view line) { fmt::print(stderr, "{}\n", line); };
  cb.notice = to_stderr;  // RST prints "Opening file:" lines whatever -vb says
  if (o.verbose) cb.log = to_stderr;

  auto summary = grid::make_grid(o.inputs, o.run, tables, cb);
  // Records completed before a problem in the input are kept (-o included); I/O errors are not.
  if (!summary && (summary.error().code == errc::io || summary.error().code == errc::internal))
    return cli::report(program, summary.error());
  if (auto c = out->commit(); !c) return cli::report(program, c.error());
  if (!summary) return cli::report(program, summary.error());
  return 0;
}

int main(int argc, char** argv) {
  return rstx::cli::run_reporting_escapes(program, "", [&](std::string& input_name) { return run(argc, argv, input_name); });
}
