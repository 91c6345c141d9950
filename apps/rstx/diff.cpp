// rstx diff A B: field-by-field comparison of two DMAP files (origin.* ignored). Integers and strings
// must match exactly, floats within |a-b| <= atol + rtol*|b| (NaN equals NaN). Exit 0 equal, 5 different.
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "report.hpp"
#include "rstx/dmap/compare.hpp"
#include "rstx/dmap/reader.hpp"

namespace rstx::cli {

namespace {

struct diff_options {
  std::string a;
  std::string b;
  dmap::compare_options cmp;
  std::vector<std::string> ignore;
  bool no_default_ignore = false;
  bool json = false;
  bool quiet = false;
  dmap::reader_options reader;
};

std::string num(double v) { return fmt::format("{:.9g}", v); }

void print_text(diff_options const& o, dmap::compare_result const& r) {
  fmt::print("A: {} ({} records)\nB: {} ({} records)\n", o.a, r.records_a, o.b, r.records_b);
  if (r.records_a != r.records_b) fmt::print("record counts differ: {} vs {}\n", r.records_a, r.records_b);
  fmt::print("values compared:            {} ({} floats)\n", r.values, r.float_values);
  fmt::print("exact mismatches:           {}\n", r.exact_mismatches);
  fmt::print("floats not bit-identical:   {}\n", r.not_identical);
  fmt::print("floats beyond tolerance:    {} (rtol {}, atol {})\n", r.beyond_tolerance, o.cmp.rtol, o.cmp.atol);
  if (!r.mismatches.empty()) {
    fmt::print("first exact mismatches:\n");
    for (auto const& m : r.mismatches) fmt::print("  record {} {}: {}\n", m.record, m.field, m.what);
  }
  if (!r.largest.empty()) {
    fmt::print("largest float differences:\n  {:>7} {:<16} {:>6} {:>16} {:>16} {:>10} {:>10}\n", "record", "field",
               "index", "A", "B", "abs", "rel");
    for (auto const& d : r.largest)
      fmt::print("  {:>7} {:<16} {:>6} {:>16} {:>16} {:>10.3g} {:>10.3g}{}\n", d.record, d.field, d.index, num(d.a),
                 num(d.b), d.abs_diff, d.rel_diff, d.within_tolerance ? "" : "  beyond tolerance");
  }
  bool header = false;
  for (auto const& [name, st] : r.fields) {
    if (st.not_identical == 0) continue;
    if (!header) {
      fmt::print("fields with differences:\n  {:<16} {:>10} {:>14} {:>10} {:>10} {:>10}\n", "field", "values",
                 "not identical", "beyond", "max abs", "max rel");
      header = true;
    }
    fmt::print("  {:<16} {:>10} {:>14} {:>10} {:>10.3g} {:>10.3g}\n", name, st.values, st.not_identical,
               st.beyond_tolerance, st.max_abs_diff, st.max_rel_diff);
  }
  if (r.equal())
    fmt::print("RESULT: equal{}\n", r.not_identical == 0 ? " (bit-identical)" : " within tolerance");
  else
    fmt::print("RESULT: different\n");
}

nlohmann::json to_json(diff_options const& o, dmap::compare_result const& r) {
  nlohmann::json j{{"a", o.a}, {"b", o.b}, {"records_a", r.records_a}, {"records_b", r.records_b},
                   {"values", r.values}, {"float_values", r.float_values}, {"exact_mismatches", r.exact_mismatches},
                   {"not_identical", r.not_identical}, {"beyond_tolerance", r.beyond_tolerance},
                   {"rtol", o.cmp.rtol}, {"atol", o.cmp.atol}, {"equal", r.equal()}};
  auto& m = j["mismatches"] = nlohmann::json::array();
  for (auto const& x : r.mismatches) m.push_back({{"record", x.record}, {"field", x.field}, {"what", x.what}});
  auto& f = j["fields"] = nlohmann::json::object();
  for (auto const& [name, st] : r.fields)
    if (st.not_identical > 0)
      f[name] = {{"values", st.values}, {"not_identical", st.not_identical}, {"beyond_tolerance", st.beyond_tolerance},
                 {"max_abs_diff", st.max_abs_diff}, {"max_rel_diff", st.max_rel_diff}};
  return j;
}

int run_diff(diff_options& o) {
  if (o.no_default_ignore) o.cmp.ignore.clear();
  o.cmp.ignore.insert(o.cmp.ignore.end(), o.ignore.begin(), o.ignore.end());
  auto ra = dmap::reader::open(o.a, o.reader);
  if (!ra) return report("rstx diff", ra.error());
  auto rb = dmap::reader::open(o.b, o.reader);
  if (!rb) return report("rstx diff", rb.error());
  dmap::compare_result result;
  dmap::record x, y;
  bool more_a = true, more_b = true;
  while (more_a || more_b) {
    if (more_a) {
      auto got = ra->next(x);
      if (!got) return report("rstx diff", got.error());
      more_a = *got;
    }
    if (more_b) {
      auto got = rb->next(y);
      if (!got) return report("rstx diff", got.error());
      more_b = *got;
    }
    if (more_a && more_b) dmap::compare_records(x, y, ra->records_read() - 1, o.cmp, result);
  }
  result.records_a = ra->records_read();
  result.records_b = rb->records_read();
  if (o.json) fmt::print("{}\n", to_json(o, result).dump(2));
  else if (!o.quiet) print_text(o, result);
  std::fflush(stdout);
  return result.equal() ? ok : differ;
}

}  // namespace

void add_diff(CLI::App& app, int& exit_status) {
  auto o = std::make_shared<diff_options>();
  auto* cmd = app.add_subcommand("diff", "Compare two DMAP files field by field (origin.* ignored)");
  cmd->add_option("a", o->a, "First file (e.g. rstx output)")->required();
  cmd->add_option("b", o->b, "Second file (e.g. the RST reference); tolerances are relative to it")->required();
  cmd->add_option("--rtol", o->cmp.rtol, "Relative tolerance for floats")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--atol", o->cmp.atol, "Absolute tolerance for floats")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_option("--ignore", o->ignore, "Also ignore this field (a trailing * matches any suffix); repeatable");
  cmd->add_flag("--no-default-ignore", o->no_default_ignore, "Compare origin.* too");
  cmd->add_option("--show", o->cmp.keep_largest, "How many of the largest differences to list")->capture_default_str();
  cmd->add_flag("--json", o->json, "Summary as JSON");
  cmd->add_flag("-q,--quiet", o->quiet, "No output; the exit status says equal (0) or different (5)");
  add_reader_options(cmd, o->reader);
  cmd->footer("Exit status: 0 equal within tolerance, 5 different, 2/3 when a file cannot be read.");
  cmd->callback([o, &exit_status] { exit_status = run_diff(*o); });
}

}  // namespace rstx::cli
