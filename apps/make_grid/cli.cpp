#include "cli.hpp"

#include <cctype>
#include <cstdlib>
#include <thread>

#include <fmt/format.h>

#include "rst_options.hpp"
#include "rstx/core/time.hpp"

namespace rstx::make_grid_cli {

namespace {

unexpected usage(std::string what) { return fail(errc::invalid_argument, std::move(what)); }

/** RST's TimeStrToSOD: "HH" or "HH:MM" to seconds of day (atoi semantics). */
double seconds_of_day(std::string const& text) {
  auto const colon = text.find(':');
  if (colon == std::string::npos) return std::atoi(text.c_str()) * 3600.0;
  return std::atoi(text.substr(0, colon).c_str()) * 3600.0 + std::atoi(text.c_str() + colon + 1) * 60.0;
}

/** RST's TimeStrToEpoch: YYYYMMDD (two-digit years before 1970 get 1900 added) to epoch. */
double date_epoch(std::string const& text) {
  int const v = std::atoi(text.c_str());
  int year = v / 10000;
  if (year < 1970) year += 1900;
  return epoch_from_ymdhms(year, (v / 100) % 100, v % 100, 0, 0, 0.0);
}

result<void> check_hhmm(std::string const& option, std::string const& v) {
  bool ok = !v.empty();
  for (char c : v) ok = ok && (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == ':');
  if (!ok) return usage(fmt::format("-{} {}: expected HH:MM", option, v));
  return {};
}

result<void> check_date(std::string const& option, std::string const& v) {
  bool ok = v.size() == 8 || v.size() == 6;
  for (char c : v) ok = ok && std::isdigit(static_cast<unsigned char>(c)) != 0;
  if (!ok) return usage(fmt::format("-{} {}: expected YYYYMMDD", option, v));
  return {};
}

}  // namespace

std::string help_text() {
  return R"(make_grid - grid fitted SuperDARN scans in AACGM-v2 coordinates (rstx)

Usage: make_grid [options] fitacf...
  Reads fitacf files (plain, .bz2, .gz or .zst; "-" or none for standard input) and writes grid
  records to standard output (or to -o FILE). Several files are read the way RST reads them, which
  is not the same as concatenating them. Like RST, the median filter needs three scans and the
  interval still open at the end of the input is not written (see --flush-last).

Options as in RST 5's make_grid:
  -vb                log each record written ("Storing:...") on stderr (the
                     "Opening file:" lines are printed in any case, as by RST)
  -st HH:MM, -et HH:MM, -sd YYYYMMDD, -ed YYYYMMDD, -ex HH:MM   start, end, extent
  -tl S              scan length in seconds (0: use the scan flag)
  -i S               grid record length in seconds (default 120)
  -cn a|b            stereo channel A or B;  -cn_fix a|b|c|d  channel written (RST: also filters)
  -ebm B,B,...       exclude these beams
  -minrng G, -maxrng G        exclude gates below / from G on
  -minsrng KM, -maxsrng KM    exclude by slant range (overrides -minrng/-maxrng)
  -fwgt N            median filter weighting mode (-1: no filter)
  -vmin V -vmax V -pmin P -pmax P -wmin W -wmax W -vemin E -vemax E   bounds (35 2500 3 60 10 1000 0 200)
  -alt KM            mapping altitude (default 300)
  -fmax N            maximum frequency variation (RST compares it with kHz values; never triggers)
  -nav               no 3-scan median filter (alone it gives empty grids, as in RST; add -fwgt -1)
  -nlm               do not check operating parameters across the filter's scans
  -nb                do not apply the bounds
  -ns                exclude beams with a negative scan flag
  -xtd               also write power and width medians and spreads
  -isort             sort power and width by themselves (default: by velocity)
  -ion               exclude ground scatter (default);  -gs  exclude ionospheric scatter;  -both  keep both
  -inertial          grid in the inertial frame (add the Earth's rotation velocity)
  -chisham           Chisham virtual height model
  --help, --version

rstx options:
  -o FILE            write FILE atomically instead of standard output (.bz2/.gz/.zst compress)
  --threads N        threads that median-filter scan windows, decompress .bz2 inputs and
                     compress a .bz2/.zst output (default: all cores); the output is the same
                     for any N
  --flush-last       also write the interval still open when the input ends
  --max-record-size BYTES   largest input record accepted (default 8 MiB)
  --aacgm-coeffs SET AACGM-v2 coefficients: 13 (RST 5.0's set, the default), 14 (the set derived
                     with IGRF-14), or a path prefix such as DIR/aacgm_coeffs-14-
  --tables DIR       tables from DIR (radar.dat, hdw/, aacgm/, igrf/) instead of rstx's own

Not supported: -old_aacgm (AACGM v1), -old/-fit/-cfit (old input formats).

Options may come before or after the input files; "--" ends them.

Tables: rstx's own copy, found beside the program. RST's variables SD_RADAR (radar.dat),
SD_HDWPATH (hdw.dat.*), AACGM_v2_DAT_PREFIX (AACGM-v2 coefficients, e.g. .../aacgm_coeffs-13-)
and IGRF_PATH (IGRF coefficients, coef.dat) override it, and --tables DIR (or RSTX_TABLES=DIR)
points at another copy; -vb says which files were loaded.

Exit status: 0 ok, 1 usage, 2 bad input (records complete before the problem are written; input
that is not fitacf), 3 I/O, 4 internal error (out of memory included).
)";
}

result<cli_options> parse_command_line(std::vector<std::string> const& args) {
  cli_options o;
  auto& r = o.run;
  bool nav = false, nlm = false, nb = false, ion = false, gs = false, both = false, chisham = false;
  int fwgt = 0;
  int channel = 0;  // RST: the read filter and the written channel share this variable
  std::string st, et, sd, ed, ex, ebm, cn, cn_fix;
  std::string max_record;
  cli::option_table t("make_grid");
  auto reject = [](std::string what) {
    return [what](std::string const&) -> result<void> { return usage(what); };
  };
  t.flag("help", o.help).flag("h", o.help).flag("version", o.version).flag("vb", o.verbose)
      .text("st", st).text("et", et).text("sd", sd).text("ed", ed).text("ex", ex)
      .integer("tl", r.scan.scan_length_s).integer("i", r.mapping.interval_s)
      .text("cn", cn).text("cn_fix", cn_fix)
      .text("ebm", ebm)
      .integer("minrng", r.ranges.min_gate).integer("maxrng", r.ranges.max_gate)
      .number("minsrng", r.ranges.min_slant_km).number("maxsrng", r.ranges.max_slant_km)
      .integer("fwgt", fwgt)
      .number("vmin", r.bounds.min[0]).number("vmax", r.bounds.max[0])
      .number("pmin", r.bounds.min[1]).number("pmax", r.bounds.max[1])
      .number("wmin", r.bounds.min[2]).number("wmax", r.bounds.max[2])
      .number("vemin", r.bounds.min[3]).number("vemax", r.bounds.max[3])
      .number("alt", r.mapping.altitude_km).integer("fmax", r.fmax)
      .flag("nav", nav).flag("nlm", nlm).flag("nb", nb).flag("ns", r.exclude_out_of_scan)
      .flag("xtd", r.header.extended).flag("isort", r.isort)
      .flag("ion", ion).flag("gs", gs).flag("both", both).flag("inertial", r.mapping.inertial).flag("chisham", chisham)
      .custom("old_aacgm", false, reject("-old_aacgm (AACGM v1 coefficients) is not supported by rstx yet; AACGM-v2 is used by default"))
      .custom("old", false, reject("-old (the old fit format) is not supported by rstx"))
      .custom("fit", false, reject("-fit (the old fit format) is not supported by rstx"))
      .custom("cfit", false, reject("-cfit (cfit input) is not supported by rstx"))
      .text("o", o.output).integer("threads", r.threads).flag("flush-last", r.flush_last)
      .text("max-record-size", max_record).text("aacgm-coeffs", o.tables.aacgm).text("tables", o.tables.tables_dir);
  auto operands = t.parse(args);
  if (!operands) return unexpected(std::move(operands.error()));
  o.inputs = std::move(*operands);
  if (o.help || o.version) return o;

  if (!st.empty()) {
    if (auto c = check_hhmm("st", st); !c) return unexpected(std::move(c.error()));
    r.start_sod = seconds_of_day(st);
  }
  if (!et.empty()) {
    if (auto c = check_hhmm("et", et); !c) return unexpected(std::move(c.error()));
    r.end_sod = seconds_of_day(et);
  }
  if (!ex.empty()) {
    if (auto c = check_hhmm("ex", ex); !c) return unexpected(std::move(c.error()));
    r.extent_s = seconds_of_day(ex);
  }
  if (!sd.empty()) {
    if (auto c = check_date("sd", sd); !c) return unexpected(std::move(c.error()));
    r.start_date = date_epoch(sd);
  }
  if (!ed.empty()) {
    if (auto c = check_date("ed", ed); !c) return unexpected(std::move(c.error()));
    r.end_date = date_epoch(ed);
  }
  // set_stereo_channel then set_fix_channel, into the same variable (an RST quirk: -cn_fix also
  // changes which records are read), whatever their order on the command line.
  auto first_letter = [](std::string const& v) { return v.empty() ? 0 : std::tolower(static_cast<unsigned char>(v[0])); };
  if (!cn.empty()) {
    int const c = first_letter(cn);
    channel = c == 'a' ? 1 : c == 'b' ? 2 : -1;
    if (channel == -1) o.warnings.push_back(fmt::format("Unknown Stereo channel {}, leaving unset", cn));
  }
  if (!cn_fix.empty()) {
    int const c = first_letter(cn_fix);
    channel = c == 'a' ? 1 : c == 'b' ? 2 : c == 'c' ? 3 : c == 'd' ? 4 : -1;
    if (channel == -1) o.warnings.push_back(fmt::format("Unknown fix channel {}, leaving unset", cn_fix));
  }
  if (!ebm.empty()) {  // parse_ebeam: comma-separated, atoi each
    std::size_t from = 0;
    for (;;) {
      auto const comma = ebm.find(',', from);
      r.exclude_beams.push_back(std::atoi(ebm.substr(from, comma - from).c_str()));
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
  }
  if (!max_record.empty()) {
    auto v = cli::parse_double("max-record-size", max_record);
    if (!v || *v < 16) return usage(fmt::format("--max-record-size {}: expected a size in bytes (at least 16)", max_record));
    r.reader.max_record_bytes = static_cast<std::size_t>(*v);
  }
  if (r.mapping.interval_s <= 0) return usage(fmt::format("-i {}: the record length must be positive", r.mapping.interval_s));
  if (r.scan.scan_length_s < 0) return usage(fmt::format("-tl {}: the scan length cannot be negative", r.scan.scan_length_s));
  if (!(r.mapping.altitude_km >= 90.0))
    return usage(fmt::format("-alt {}: the mapping altitude must be at least 90 km", r.mapping.altitude_km));
  if (r.threads < 0) return usage("--threads: expected a count >= 0 (0 = all cores)");
  r.reader.threads = r.threads;  // .bz2 inputs are decompressed on these threads too

  // The derived settings, exactly as make_grid.c derives them.
  r.filter_mode = fwgt > 0 ? fwgt - 1 : fwgt;
  r.median = !nav;
  r.check_ops = !nlm;
  r.apply_bounds = !nb;
  r.header.gsct = 1;
  if (gs) r.header.gsct = 0;
  if (ion) r.header.gsct = 1;
  if (both) r.header.gsct = 2;
  r.header.channel = channel != -1 ? channel : 0;
  r.scan.channel = channel;
  if (r.apply_bounds) {
    r.header.min = r.bounds.min;
    r.header.max = r.bounds.max;
  }
  r.mapping.model = chisham ? geo::virtual_height_model::chisham : geo::virtual_height_model::standard;
  if (o.inputs.empty()) o.inputs.push_back("-");
  return o;
}

}  // namespace rstx::make_grid_cli
