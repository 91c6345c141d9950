#include "cli.hpp"

#include <fmt/format.h>

#include "rst_options.hpp"

namespace rstx::make_fit {

namespace {

unexpected usage(std::string what) { return fail(errc::invalid_argument, std::move(what)); }

}  // namespace

std::string help_text() {
  return R"(make_fit - fit rawacf records with FITACF 3.0 (or 2.5) and write fitacf records (rstx)

Usage: make_fit [options] [rawacf]
  Reads the rawacf file (plain, .bz2, .gz or .zst; standard input if none or "-") and writes one
  fitacf record per input record to standard output (or to -o FILE).

Fitting algorithm (exactly one):
  -fitacf3                 FITACF 3.0
  -fitacf2                 FITACF 2.5
  -fitacf-version V        RST 4 style: V = 3.0 or 2.5

Options as in RST's make_fit:
  -vb                      log "Y-M-D H:M:S beam=N" per record to stderr
  -tdiff US                interferometer cable delay (microseconds) instead of hdw.dat's
  -tdiff_method N          take tdiff from the calibration file (SD_TDIFFPATH) with method N
  -old_elev                older elevation angle routine (elev_goose for Goose Bay)
  --help, --version

rstx options:
  -o FILE                  write FILE atomically instead of standard output (.bz2/.gz/.zst compress)
  --threads N              threads that fit, decompress a .bz2 input block by block ahead of the
                           fitting, and compress a .bz2/.zst output (default: all cores; 1 = one
                           thread throughout); the output is the same for any N
  --backend cpu|cuda|auto  where to fit FITACF 3.0: cuda = a CUDA GPU (exit status 4 when there is
                           no usable one), cpu, or auto (default) = the GPU when one is usable,
                           else the CPU (--backend auto and -vb say why on stderr); FITACF 2.5
                           always runs on the CPU
  --device N               the CUDA device to use (default 0)
  --strict                 stop at the first record that cannot be fitted (default: report it
                           on stderr, skip it and carry on)
  --max-record-size BYTES  largest input record accepted (default 8 MiB); larger ones are skipped
  --tables DIR             tables from DIR (radar.dat, hdw/, tdiff/) instead of rstx's own

Options may come before or after the input file; "--" ends them.

Tables: rstx's own copy (radar.dat, hardware and tdiff files), found beside the program. RST's
variables SD_RADAR (radar.dat), SD_HDWPATH (hdw.dat.* folder) and SD_TDIFFPATH (tdiff.dat.*
folder) override it, and --tables DIR (or RSTX_TABLES=DIR) points at another copy; -vb says which
files are used.

SOURCE_DATE_EPOCH=SECONDS fixes every record's origin.time (normally the processing time), so
that a run can be repeated byte for byte.

Exit status: 0 ok, 1 usage, 2 bad input (including a truncated input: every complete record is
written first; and input that is not rawacf), 3 I/O, 4 internal error (out of memory included) or
--backend cuda without a usable GPU.
)";
}

result<cli_options> parse_command_line(std::vector<std::string> const& args) {
  cli_options o;
  auto add_algorithm = [&o](fit::fit_algorithm a) {
    return [&o, a](std::string const&) -> result<void> {
      o.algorithms.push_back(a);
      return {};
    };
  };
  auto unsupported = [](std::string what) {
    return [what](std::string const&) -> result<void> { return usage(what); };
  };
  cli::option_table t("make_fit");
  t.flag("help", o.help).flag("h", o.help).flag("version", o.version)
      .flag("vb", o.verbose).flag("old_elev", o.old_elevation).flag("strict", o.strict)
      .custom("fitacf3", false, add_algorithm(fit::fit_algorithm::fitacf3))
      .custom("fitacf2", false, add_algorithm(fit::fit_algorithm::fitacf25))
      .custom("fitacf-version", true,
              [&o](std::string const& v) -> result<void> {
                if (v == "3.0" || v == "3") o.algorithms.push_back(fit::fit_algorithm::fitacf3);
                else if (v == "2.5") o.algorithms.push_back(fit::fit_algorithm::fitacf25);
                else return usage(fmt::format("-fitacf-version {}: rstx provides 3.0 and 2.5", v));
                return {};
              })
      .custom("tdiff", true,
              [&o](std::string const& v) -> result<void> {
                auto d = cli::parse_double("tdiff", v);
                if (!d) return usage(fmt::format("-tdiff {}: not a number of microseconds", v));
                o.tdiff_us = *d;
                return {};
              })
      .custom("tdiff_method", true,
              [&o](std::string const& v) -> result<void> {
                auto m = cli::parse_int("tdiff_method", v);
                if (!m) return unexpected(std::move(m.error()));
                o.tdiff_method = *m;
                return {};
              })
      .custom("o", true,
              [&o](std::string const& v) -> result<void> {
                if (v.empty()) return usage("-o needs a file name");
                o.output = v;
                return {};
              })
      .custom("threads", true,
              [&o](std::string const& v) -> result<void> {
                auto n = cli::parse_int("threads", v);
                if (!n || *n < 0) return usage(fmt::format("--threads {}: expected a count >= 0 (0 = all cores)", v));
                o.threads = *n;
                return {};
              })
      .text("tables", o.tables_dir)
      .custom("max-record-size", true,
              [&o](std::string const& v) -> result<void> {
                auto n = cli::parse_double("max-record-size", v);
                if (!n || *n < 16 || *n > 2147483647.0)
                  return usage(fmt::format("--max-record-size {}: expected a size in bytes (16 to 2147483647)", v));
                o.max_record_bytes = static_cast<std::size_t>(*n);
                return {};
              })
      .custom("backend", true,
              [&o](std::string const& v) -> result<void> {
                if (v == "cpu") o.backend = backend_choice::cpu;
                else if (v == "cuda") o.backend = backend_choice::cuda;
                else if (v == "auto") o.backend = backend_choice::automatic;
                else return usage(fmt::format("--backend {}: expected cpu, cuda or auto", v));
                o.backend_given = true;
                return {};
              })
      .custom("device", true,
              [&o](std::string const& v) -> result<void> {
                auto n = cli::parse_int("device", v);
                if (!n || *n < 0) return usage(fmt::format("--device {}: expected a CUDA device index >= 0", v));
                o.device = *n;
                return {};
              })
      .custom("lmfit2", false,
              unsupported("The lmfit2 fitting algorithm must be called using the separate binary, make_lmfit2"));
  for (char const* legacy : {"lmfit1", "fitex1", "fitex2"})
    t.custom(legacy, false, unsupported(fmt::format("option -{} (RST's legacy fitting algorithm) is not supported by rstx", legacy)));
  t.custom("old", false, unsupported("option -old (RST's old dat/fit file formats) is not supported by rstx"));

  auto operands = t.parse(args);
  if (!operands) return unexpected(std::move(operands.error()));
  if (!operands->empty()) o.input = operands->front();
  if (operands->size() > 1)
    return usage(fmt::format("unexpected argument after the input file: {}", (*operands)[1]));
  return o;
}

}  // namespace rstx::make_fit
