// make_fit: rawacf -> fitacf with FITACF 3.0 (or 2.5), compatible with RST's command line.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "cli.hpp"
#include "report.hpp"
#include "run_log.hpp"
#include "signals.hpp"
#include "rstx/cuda/device.hpp"
#include "rstx/cuda/fitacf3.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "rstx/fit/exec.hpp"
#include "rstx/fit/fit.hpp"
#include "rstx/fit/stream.hpp"
#include "rstx/fit/to_dmap.hpp"
#include "rstx/core/time.hpp"
#include "rstx/core/version.hpp"
#include "rstx/radar/hardware.hpp"
#include "rstx/tables/tables.hpp"

namespace {

constexpr char const* program = "make_fit";

std::string format_epoch(double epoch) {
  auto const t = rstx::ymdhms_from_epoch(epoch);
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02.0f}", t.year, t.month, t.day, t.hour, t.minute, t.second);
}

int usage_error(std::string const& what) {
  fmt::print(stderr, "{}: {}\n", program, what);
  return 1;
}

}  // namespace

int run(int argc, char** argv, std::string& input_name) {
  using namespace rstx;
  auto parsed = make_fit::parse_command_line(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed) return usage_error(parsed.error().what);
  auto const& cli = *parsed;
  if (cli.help) {
    fmt::print("{}", make_fit::help_text());
    return 0;
  }
  if (cli.version) {
    fmt::print("make_fit (rstx {}), compatible with RST 5.0 make_fit\n", rstx::version_string);
    return 0;
  }
  if (cli.algorithms.empty()) return usage_error("Please specify a fitting algorithm (-fitacf3 or -fitacf2)");
  for (auto a : cli.algorithms)
    if (a != cli.algorithms.front()) return usage_error("Please specify only one fitting algorithm");
  auto const algorithm = cli.algorithms.front();
  if (!cli.input.empty() && cli.input != "-") input_name = cli.input;
  // RST_LOG_FILE: the operations guide's JSON log of this run (nothing without it).
  cli::run_log run_log(program, "make_fit");
  std::string const logged_file = cli.input.empty() || cli.input == "-" ? std::string("<stdin>") : cli.input;
  run_log.started(logged_file);
  auto report_failure = [&](error const& e) {
    run_log.failed(logged_file, e.message());
    return cli::report(program, e);
  };
  if (!fit::algorithm_available(algorithm))
    return usage_error("FITACF 2.5 (-fitacf2) is not available in this rstx build yet; use -fitacf3");
  // The backend: a CUDA device opened (and self-tested) up front, so that a missing GPU is known
  // before any output is written.
  std::unique_ptr<cuda::fitacf3_device> device;
  if (cli.backend != make_fit::backend_choice::cpu) {
    bool const wanted = cli.backend == make_fit::backend_choice::cuda;
    std::string why_not;
    if (algorithm != fit::fit_algorithm::fitacf3) {
      why_not = "FITACF 2.5 has no CUDA kernels";
    } else if (auto opened = cuda::open_fitacf3({.device = cli.device}); opened) {
      device = std::move(*opened);
    } else {
      why_not = opened.error().what;
    }
    if (!device && wanted) {
      fmt::print(stderr, "{}: --backend cuda: {}; use --backend cpu or auto\n", program, why_not);
      run_log.failed(logged_file, "--backend cuda: " + why_not);
      return 4;
    }
    if (cli.verbose)
      fmt::print(stderr, "Backend: {}\n", device ? device->describe() : "CPU (" + why_not + ")");
    else if (!device && cli.backend_given)
      fmt::print(stderr, "{}: fitting on the CPU: {}\n", program, why_not);
  } else if (cli.verbose) {
    fmt::print(stderr, "Backend: CPU (--backend cpu)\n");
  }

  // Tables: rstx's own copy unless --tables or RST's variables say otherwise (tables/README.md).
  tables::request want;
  want.tables_dir = cli.tables_dir;
  want.need_tdiff = cli.tdiff_method.has_value();  // (a radar without a calibration file has none, as in RST)
  auto tables = tables::locate(want);
  if (!tables) return report_failure(tables.error());
  if (cli.verbose)
    for (auto const& line : tables->describe()) fmt::print(stderr, "Tables: {}\n", line);
  auto radars = radar::radar_table::load(tables->radar_dat.path);
  if (!radars) return report_failure(radars.error());

  dmap::reader_options ropt;
  ropt.recover = true;  // a damaged record is reported and skipped; the reader finds the next one
  if (cli.max_record_bytes) ropt.max_record_bytes = *cli.max_record_bytes;
  ropt.threads = cli.threads;  // a .bz2 input is decompressed on these threads, ahead of the fitting
  auto in = cli.input.empty() || cli.input == "-" ? dmap::reader::from_fd(STDIN_FILENO, "<stdin>", ropt)
                                                  : dmap::reader::open(cli.input, ropt);
  if (!in) return report_failure(in.error());
  auto out = cli.output.empty()
                 ? dmap::writer::to_fd(STDOUT_FILENO, "<stdout>")
                 : dmap::writer::create(cli.output, {.comp = dmap::compression_for_path(cli.output), .threads = cli.threads});
  if (!out) return report_failure(out.error());

  fit::stream_options sopt;
  sopt.run.algorithm = algorithm;
  sopt.run.old_elevation = cli.old_elevation;
  sopt.run.tdiff_us = cli.tdiff_us;
  sopt.run.tdiff_method = cli.tdiff_method;
  sopt.run.hdw_dir = tables->hdw_dir.path;
  sopt.run.tdiff_dir = tables->tdiff_dir.path;
  sopt.strict = cli.strict;
  // The reproducible-builds convention: a fixed origin.time makes the output byte-for-byte repeatable.
  if (char const* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch != nullptr && *epoch != '\0') {
    char* end = nullptr;
    long long const t = std::strtoll(epoch, &end, 10);
    if (*end != '\0' || t < 0) return usage_error(fmt::format("SOURCE_DATE_EPOCH={}: not a number of seconds", epoch));
    sopt.origin_time = t;
  }
  sopt.command = fit::origin_command(std::span<char const* const>(argv, static_cast<std::size_t>(argc)));
  fit::stream_callbacks callbacks;
  callbacks.skipped = [](error const& e) { fmt::print(stderr, "{}: {} (record skipped)\n", program, e.message()); };
  if (cli.verbose) {
    callbacks.run_set_up = [&](fit::run_setup const& setup) {
      fmt::print(stderr, "Hardware: {} (radar {}, {}), line valid from {}\n",
                 (std::filesystem::path(tables->hdw_dir.path) / setup.radar.hdw_file).string(),
                 setup.radar.stid, setup.radar.name, format_epoch(setup.site.valid_from));
    };
    callbacks.record_read = [](dmap::radar_parms const& p) {
      fmt::print(stderr, "{}-{}-{} {}:{}:{} beam={}\n", p.year, p.month, p.day, p.hour, p.minute, p.second, p.bmnum);
    };
  }

  cli::remove_temporaries_on_signals();
  fit::thread_pool pool(cli.threads);
  // A GPU fits large batches best; the CPU threads still read, decompress, convert and encode.
  if (device) sopt.chunk_records = 1024;
  auto const ctx = device ? fit::exec_context::cuda(device.get(), &pool) : fit::exec_context::cpu(&pool);
  auto const summary = fit::fit_stream(*in, *out, *radars, sopt, ctx, callbacks);
  // Every complete record before a problem in the input has been written: keep them (-o included).
  if (!summary && (summary.error().code == errc::io || summary.error().code == errc::internal))
    return report_failure(summary.error());
  if (auto c = out->commit(); !c) return report_failure(c.error());
  if (!summary) return report_failure(summary.error());
  std::error_code size_error;
  auto const input_bytes = cli.input.empty() || cli.input == "-" ? 0 : std::filesystem::file_size(cli.input, size_error);
  run_log.completed(logged_file, summary->records_out, size_error ? 0 : static_cast<std::int64_t>(input_bytes));
  if (summary->records_skipped > 0)
    cli::warn(program, fmt::format("{} of {} input records could not be fitted and were left out",
                                   summary->records_skipped, summary->records_in));
  return 0;
}

int main(int argc, char** argv) {
  return rstx::cli::run_reporting_escapes(program, "<stdin>", [&](std::string& input_name) { return run(argc, argv, input_name); });
}
