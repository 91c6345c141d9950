#include "cli.hpp"

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace rstx::make_fit {

namespace {

unexpected usage(std::string what) { return fail(errc::invalid_argument, std::move(what)); }

template <class T>
std::optional<T> parse_number(std::string const& s) {
  if constexpr (std::is_floating_point_v<T>) {
    char* end = nullptr;
    double const v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size()) return std::nullopt;
    return v;
  } else {
    T v{};
    auto const [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
  }
}

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
  --threads N              worker threads (default: all cores); output is the same for any N
  --backend cpu|cuda|auto  where to fit (default auto = cpu; the CUDA backend is not built yet)
  --strict                 stop at the first record that cannot be fitted (default: report it
                           on stderr, skip it and carry on)

Environment: SD_RADAR (radar.dat), SD_HDWPATH (hdw.dat.* directory), SD_TDIFFPATH (tdiff.dat.*
directory) are required, as for RST.

Exit status: 0 ok, 1 usage, 2 bad input (including a truncated input: every complete record is
written first), 3 I/O, 4 internal error.
)";
}

result<cli_options> parse_command_line(std::vector<std::string> const& args) {
  cli_options o;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    std::string const& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') break;  // "-" and file names end the options
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto value = [&]() -> result<std::string> {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) return usage(fmt::format("option {} needs a value", arg));
      return args[++i];
    };
    auto flag = [&]() -> result<void> {
      if (inline_value) return usage(fmt::format("option -{} takes no value", name));
      return {};
    };

    if (name == "help" || name == "h") {
      o.help = true;
    } else if (name == "version") {
      o.version = true;
    } else if (name == "vb" || name == "old_elev" || name == "strict" || name == "fitacf3" || name == "fitacf2") {
      if (auto f = flag(); !f) return unexpected(std::move(f.error()));
      if (name == "vb") o.verbose = true;
      if (name == "old_elev") o.old_elevation = true;
      if (name == "strict") o.strict = true;
      if (name == "fitacf3") o.algorithms.push_back(fit::fit_algorithm::fitacf3);
      if (name == "fitacf2") o.algorithms.push_back(fit::fit_algorithm::fitacf25);
    } else if (name == "fitacf-version") {
      auto v = value();
      if (!v) return unexpected(std::move(v.error()));
      if (*v == "3.0" || *v == "3")
        o.algorithms.push_back(fit::fit_algorithm::fitacf3);
      else if (*v == "2.5")
        o.algorithms.push_back(fit::fit_algorithm::fitacf25);
      else
        return usage(fmt::format("-fitacf-version {}: rstx provides 3.0 and 2.5", *v));
    } else if (name == "tdiff") {
      auto v = value();
      if (!v) return unexpected(std::move(v.error()));
      auto d = parse_number<double>(*v);
      if (!d) return usage(fmt::format("-tdiff {}: not a number of microseconds", *v));
      o.tdiff_us = *d;
    } else if (name == "tdiff_method") {
      auto v = value();
      if (!v) return unexpected(std::move(v.error()));
      auto m = parse_number<int>(*v);
      if (!m) return usage(fmt::format("-tdiff_method {}: not an integer", *v));
      o.tdiff_method = *m;
    } else if (name == "o") {
      auto v = value();
      if (!v) return unexpected(std::move(v.error()));
      if (v->empty()) return usage("-o needs a file name");
      o.output = *v;
    } else if (name == "threads") {
      auto v = value();
      if (!v) return unexpected(std::move(v.error()));
      auto n = parse_number<int>(*v);
      if (!n || *n < 0) return usage(fmt::format("--threads {}: expected a count >= 0 (0 = all cores)", *v));
      o.threads = *n;
    } else if (name == "backend") {
      auto v = value();
      if (!v) return unexpected(std::move(v.error()));
      if (*v == "cpu")
        o.backend = backend_choice::cpu;
      else if (*v == "cuda")
        o.backend = backend_choice::cuda;
      else if (*v == "auto")
        o.backend = backend_choice::automatic;
      else
        return usage(fmt::format("--backend {}: expected cpu, cuda or auto", *v));
    } else if (name == "lmfit2") {
      return usage("The lmfit2 fitting algorithm must be called using the separate binary, make_lmfit2");
    } else if (name == "lmfit1" || name == "fitex1" || name == "fitex2" || name == "old") {
      return usage(fmt::format("option -{} (RST's {}) is not supported by rstx", name,
                               name == "old" ? "old dat/fit file formats" : "legacy fitting algorithm"));
    } else {
      return usage(fmt::format("Option not recognized: {} (please try: make_fit --help)", arg));
    }
  }
  if (i < args.size()) o.input = args[i++];
  if (i < args.size()) return usage(fmt::format("unexpected argument after the input file: {}", args[i]));
  return o;
}

}  // namespace rstx::make_fit
