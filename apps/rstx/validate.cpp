// rstx validate FILE...: structure and record-type checks. Exit 0 when every file passes.
#include <cstdio>
#include <map>

#include <fmt/format.h>

#include "command.hpp"
#include "report.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"

namespace rstx::cli {

namespace {

constexpr std::size_t max_problems_shown = 20;

/** The problems of one file: all counted, the first few kept (a file can have millions). */
struct problem_list {
  std::int64_t count = 0;
  std::vector<std::string> shown;

  void push_back(std::string what) {
    ++count;
    if (shown.size() < max_problems_shown) shown.push_back(std::move(what));
  }
  [[nodiscard]] bool empty() const noexcept { return count == 0; }
};

struct validate_options {
  std::vector<std::string> paths;
  bool strict = false;
  bool quiet = false;
  std::string expect;
  dmap::reader_options reader;
};

/** Checks one file; returns the problems found (empty: valid). Reading errors end the check. */
problem_list check_file(std::string const& path, validate_options const& o, std::int64_t& records,
                                    std::map<dmap::product, std::int64_t>& kinds, int& status) {
  problem_list problems;
  auto opt = o.reader;
  opt.recover = true;
  auto rd = dmap::reader::open(path, opt);
  if (!rd) {
    status = std::max(status, exit_status_for(rd.error().code));
    problems.push_back(rd.error().message());
    return problems;
  }
  auto const mode = o.strict ? dmap::strictness::strict : dmap::strictness::lenient;
  std::optional<dmap::product> want;
  if (!o.expect.empty()) {
    for (auto p : {dmap::product::rawacf, dmap::product::fitacf, dmap::product::grid, dmap::product::map})
      if (dmap::to_string(p) == o.expect) want = p;
  }
  dmap::record r;
  for (;;) {
    auto got = rd->next(r);
    for_new_skips(*rd, [&](dmap::skipped_region const& s) {
      problems.push_back(fmt::format("{} ({} bytes unreadable)", s.reason.message(), s.length));
    });
    if (!got) {
      problems.push_back(got.error().message());
      break;
    }
    if (!*got) break;
    std::int64_t const index = rd->records_read() - 1;
    auto kind = dmap::validate_record(r, mode);
    if (!kind) {
      problems.push_back(error(kind.error()).at(path, index).at_offset(rd->last_record_offset()).message());
      continue;
    }
    ++kinds[*kind];
    if (want && *kind != *want)
      problems.push_back(fmt::format("{}: record {}: is {}, expected {}", path, index, dmap::to_string(*kind), o.expect));
  }
  records = rd->records_read();
  if (records == 0 && problems.empty()) problems.push_back(fmt::format("{}: the file holds no records", path));
  if (kinds.size() > 1) problems.push_back(fmt::format("{}: records of more than one type", path));
  if (!problems.empty()) status = std::max(status, static_cast<int>(bad_input));
  return problems;
}

int run_validate(validate_options const& o) {
  int status = ok;
  for (auto const& path : o.paths) {
    std::int64_t records = 0;
    std::map<dmap::product, std::int64_t> kinds;
    auto const problems = check_file(path, o, records, kinds, status);
    if (problems.empty()) {
      if (!o.quiet)
        fmt::print("{}: OK: {} {} record(s)\n", path, records,
                   kinds.empty() ? "?" : dmap::to_string(kinds.begin()->first));
      continue;
    }
    fmt::print("{}: FAIL: {} problem(s) in {} record(s)\n", path, problems.count, records);
    for (auto const& p : problems.shown) fmt::print("  {}\n", p);
    if (problems.count > static_cast<std::int64_t>(problems.shown.size()))
      fmt::print("  ... and {} more\n", problems.count - static_cast<std::int64_t>(problems.shown.size()));
  }
  std::fflush(stdout);
  return status;
}

}  // namespace

void add_validate(CLI::App& app, int& exit_status) {
  auto o = std::make_shared<validate_options>();
  auto* cmd = app.add_subcommand("validate", "Check the structure and record types of DMAP files");
  cmd->add_option("files", o->paths, "DMAP files, plain or compressed; - for standard input")->required();
  cmd->add_flag("--strict", o->strict, "Require every field current RST writes (default: only what processing needs)");
  cmd->add_option("--type", o->expect, "Require this record type")->check(CLI::IsMember({"rawacf", "fitacf", "grid", "map"}));
  cmd->add_flag("-q,--quiet", o->quiet, "Print only failures");
  add_reader_options(cmd, o->reader);
  cmd->footer("Every problem in a file is listed (up to 20). Exit status: 0 all files valid, 2 a file is invalid,\n"
              "3 a file cannot be read.");
  cmd->callback([o, &exit_status] { exit_status = run_validate(*o); });
}

}  // namespace rstx::cli
