// rstx dump FILE: every scalar and array of every record, in the layout of RST's dmapdump, or as
// JSON Lines (one object per record) with --json.
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "report.hpp"
#include "rstx/dmap/reader.hpp"

namespace rstx::cli {

namespace {

struct dump_options {
  std::string path;
  bool json = false;
  bool headers_only = false;
  bool recover = false;
  dmap::reader_options reader;
  std::optional<std::int64_t> first;
  std::optional<std::int64_t> count;
  std::vector<std::string> fields;
};

bool wanted(std::string_view name, std::vector<std::string> const& fields) {
  if (fields.empty()) return true;
  for (auto const& f : fields)
    if (f == name) return true;
  return false;
}

/** Shortest text that reads back to the same value; NaN/Inf spelled out. */
std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}

std::string value_text(dmap::type t, auto const& get_double, auto const& get_int) {
  if (dmap::is_floating(t)) return number_text(get_double());
  return fmt::format("{}", get_int());
}

void print_text(dmap::record const& r, std::int64_t index, std::int64_t offset, dump_options const& o,
                std::string& out) {
  out += fmt::format("record {} (byte {}):\nscalars:\n", index, offset);
  for (std::size_t i = 0; i < r.num_scalars(); ++i) {
    auto const s = r.scalar(i);
    if (!wanted(s.name(), o.fields)) continue;
    out += fmt::format("\t{}\t\"{}\" = ", dmap::type_name(s.type()), s.name());
    if (s.type() == dmap::type::string) {
      out += fmt::format("\"{}\"\n", s.as_string());
    } else {
      out += value_text(s.type(), [&] { return s.to_double(); }, [&] { return s.to_int64(); });
      out += '\n';
    }
  }
  out += "arrays:\n";
  for (std::size_t i = 0; i < r.num_arrays(); ++i) {
    auto const a = r.array(i);
    if (!wanted(a.name(), o.fields)) continue;
    out += fmt::format("\t{}\t\"{}\" ", dmap::type_name(a.type()), a.name());
    // dmapdump prints the extents slowest first, e.g. acfd [100][22][2].
    for (std::size_t d = a.ndim(); d-- > 0;) out += fmt::format("[{}]", a.dim(d));
    if (o.headers_only) {
      out += '\n';
      continue;
    }
    out += '=';
    std::uint64_t const row = a.ndim() > 0 && a.dim(0) > 0 ? static_cast<std::uint64_t>(a.dim(0)) : 1;
    if (a.type() == dmap::type::string) {
      auto const strings = a.strings();
      for (std::size_t k = 0; k < strings.size(); ++k)
        out += fmt::format("{}\"{}\"", k % row == 0 ? "\n\t\t" : ",\t", strings[k]);
    } else {
      for (std::uint64_t k = 0; k < a.count(); ++k) {
        out += k % row == 0 ? "\n\t\t" : ",\t";
        out += value_text(a.type(), [&] { return a.to_double(k); }, [&] { return a.to_int64(k); });
      }
    }
    out += '\n';
  }
}

nlohmann::json json_number(dmap::type t, double d, std::int64_t i) {
  if (!dmap::is_floating(t)) return i;
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  return d;
}

nlohmann::json to_json(dmap::record const& r, std::int64_t index, std::int64_t offset, dump_options const& o) {
  nlohmann::json rec;
  rec["record"] = index;
  rec["offset"] = offset;
  auto& scalars = rec["scalars"] = nlohmann::json::array();
  for (std::size_t i = 0; i < r.num_scalars(); ++i) {
    auto const s = r.scalar(i);
    if (!wanted(s.name(), o.fields)) continue;
    nlohmann::json f{{"name", s.name()}, {"type", dmap::type_name(s.type())}};
    if (s.type() == dmap::type::string) f["value"] = std::string(s.as_string());
    else f["value"] = json_number(s.type(), s.to_double(), dmap::is_integer(s.type()) ? s.to_int64() : 0);
    scalars.push_back(std::move(f));
  }
  auto& arrays = rec["arrays"] = nlohmann::json::array();
  for (std::size_t i = 0; i < r.num_arrays(); ++i) {
    auto const a = r.array(i);
    if (!wanted(a.name(), o.fields)) continue;
    nlohmann::json f{{"name", a.name()}, {"type", dmap::type_name(a.type())}, {"dims", a.dims()}};
    if (!o.headers_only) {
      auto& values = f["values"] = nlohmann::json::array();
      if (a.type() == dmap::type::string) {
        for (auto sv : a.strings()) values.push_back(std::string(sv));
      } else {
        for (std::uint64_t k = 0; k < a.count(); ++k)
          values.push_back(json_number(a.type(), a.to_double(k), dmap::is_integer(a.type()) ? a.to_int64(k) : 0));
      }
    }
    arrays.push_back(std::move(f));
  }
  return rec;
}

int run_dump(dump_options const& o) {
  dmap::reader_options ro = o.reader;
  ro.recover = o.recover;
  auto rd = dmap::reader::open(o.path, ro);
  if (!rd) return report("rstx dump", rd.error());
  dmap::record r;
  std::string out;
  std::int64_t const first = o.first.value_or(0);
  for (;;) {
    auto got = rd->next(r);
    for_new_skips(*rd, [](dmap::skipped_region const& s) {
      warn("rstx dump", fmt::format("skipped {} damaged bytes at byte {}: {}", s.length, s.offset, s.reason.message()));
    });
    if (!got) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      return report("rstx dump", got.error());
    }
    if (!*got) break;
    std::int64_t const index = rd->records_read() - 1;
    if (index < first) continue;
    if (o.count && index >= first + *o.count) break;
    if (o.json) {
      out += to_json(r, index, rd->last_record_offset(), o).dump();
      out += '\n';
    } else {
      print_text(r, index, rd->last_record_offset(), o, out);
    }
    if (out.size() > (1u << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) return report("rstx dump", error(errc::io, "cannot write to standard output"));
  return ok;
}

}  // namespace

void add_dump(CLI::App& app, int& exit_status) {
  auto o = std::make_shared<dump_options>();
  auto* cmd = app.add_subcommand("dump", "Print every scalar and array of a DMAP file (like RST's dmapdump)");
  cmd->add_option("file", o->path, "DMAP file, plain or compressed; - for standard input")->required();
  cmd->add_flag("--json", o->json, "One JSON object per record (JSON Lines); NaN/Inf as strings");
  cmd->add_flag("--headers", o->headers_only, "Print array names and extents without their values");
  cmd->add_option("--field", o->fields, "Only these fields (repeatable)");
  cmd->add_option("--first", o->first, "Index of the first record to print (0-based)");
  cmd->add_option("--count", o->count, "Number of records to print");
  cmd->add_flag("--recover", o->recover, "Skip damaged stretches (reported on stderr) instead of stopping");
  add_reader_options(cmd, o->reader);
  cmd->callback([o, &exit_status] { exit_status = run_dump(*o); });
}

}  // namespace rstx::cli
