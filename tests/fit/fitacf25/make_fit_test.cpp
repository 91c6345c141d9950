// Acceptance: rstx's make_fit -fitacf2 (the whole program) against RST 5.0's make_fit -fitacf2, on
// every rawacf in ../shared/data that has an .rst-fitacf25.fitacf reference, the extra references
// of tests/data/fit/fitacf25 (cases.txt), the documented deviations (deviations.txt, checked to
// differ exactly as documented), and any case listed in $RSTX_FIT25_CASES (lines
// `rawacf reference [options]`, absolute paths) for ad-hoc checks against other RST outputs.
//
// Records must agree in number and order, integers and strings exactly (origin.* aside: RST writes
// the wall clock there), floats within rtol = atol = 1e-5 and, the real goal, bit for bit: the
// report lists per field how many floats are not bit-identical, and the test requires none.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "rstx/dmap/compare.hpp"
#include "rstx/dmap/reader.hpp"
#include "support/test_data.hpp"

namespace rstx::fit {
namespace {

namespace fs = std::filesystem;

struct fit_case {
  fs::path raw, ref;
  std::string kind;               // empty, or the deviation's kind (deviations.txt)
  std::vector<std::string> opts;  // make_fit options, -fitacf2 included
};

fs::path extra_dir() { return fs::path(RSTX_SOURCE_DIR) / "tests/data/fit/fitacf25"; }

std::vector<fit_case> read_cases(fs::path const& list, fs::path const& base, bool with_kind) {
  std::vector<fit_case> out;
  std::ifstream in(list);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    fit_case c;
    std::string raw, ref;
    if (!(ls >> raw >> ref)) continue;
    c.raw = base / raw;
    c.ref = base / ref;
    if (with_kind) ls >> c.kind;
    for (std::string w; ls >> w;) c.opts.push_back(w);
    if (c.opts.empty()) c.opts.push_back("-fitacf2");
    out.push_back(std::move(c));
  }
  return out;
}

/** The shared references: X.rawacf[.bz2] with X[.rawacf].rst-fitacf25.fitacf. */
std::vector<fit_case> shared_cases() {
  std::vector<fit_case> out;
  for (auto const& f : test::shared_dmap_files()) {
    std::string const name = f.filename().string();
    std::string const suffix = ".rst-fitacf25.fitacf";
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    std::string stem = name.substr(0, name.size() - suffix.size());
    if (stem.size() > 7 && stem.compare(stem.size() - 7, 7, ".rawacf") == 0) stem.resize(stem.size() - 7);
    for (char const* ext : {".rawacf", ".rawacf.bz2"}) {
      if (fs::exists(f.parent_path() / (stem + ext))) {
        out.push_back({f.parent_path() / (stem + ext), f, "", {"-fitacf2"}});
        break;
      }
    }
  }
  return out;
}

struct run_output {
  int status = -1;
  std::vector<dmap::record> records;
  std::string stderr_text;
};

run_output run_make_fit(fit_case const& c, std::string const& tag) {
  fs::path const dir = test::scratch_dir("fitacf25_make_fit_" + tag);
  fs::path const out = dir / "out.fitacf";
  fs::path const err = dir / "stderr.txt";
  fs::path const tables = test::tables_path("");
  std::string cmd = "SD_RADAR='" + (tables / "radar.dat").string() + "' SD_HDWPATH='" + (tables / "hdw").string() +
                    "/' SD_TDIFFPATH='" + (tables / "tdiff").string() + "/' '" + (test::bin_dir() / "make_fit").string() +
                    "'";
  for (auto const& o : c.opts) cmd += " '" + o + "'";
  cmd += " -o '" + out.string() + "' '" + c.raw.string() + "' 2>'" + err.string() + "'";
  run_output r;
  r.status = test::run(cmd).status;
  std::ifstream e(err);
  r.stderr_text.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  if (r.status == 0) {
    auto recs = dmap::read_file(out.string());
    EXPECT_TRUE(recs) << recs.error().message();
    if (recs) r.records = std::move(*recs);
  }
  return r;
}

std::vector<dmap::record> read_reference(fs::path const& p) {
  auto recs = dmap::read_file(p.string());
  EXPECT_TRUE(recs) << recs.error().message();
  return recs ? std::move(*recs) : std::vector<dmap::record>{};
}

void print_report(std::string const& title, dmap::compare_result const& res) {
  std::cout << "[make_fit -fitacf2] " << title << ": " << res.records_a << " records (RST " << res.records_b
            << "), " << res.float_values << " floats, " << res.not_identical << " not bit-identical, "
            << res.beyond_tolerance << " beyond 1e-5, " << res.exact_mismatches << " exact mismatches\n";
  for (auto const& [name, f] : res.fields) {
    if (f.not_identical != 0 || f.beyond_tolerance != 0) {
      std::cout << "    " << name << ": " << f.values << " values, " << f.not_identical << " not bit-identical, max rel "
                << f.max_rel_diff << "\n";
    }
  }
  for (auto const& m : res.mismatches) std::cout << "    record " << m.record << " " << m.field << ": " << m.what << "\n";
}

dmap::compare_result compare_all(std::vector<dmap::record> const& mine, std::vector<dmap::record> const& ref,
                                 dmap::compare_options const& opt = {}) {
  dmap::compare_result res;
  res.records_a = static_cast<std::int64_t>(mine.size());
  res.records_b = static_cast<std::int64_t>(ref.size());
  for (std::size_t i = 0; i < std::min(mine.size(), ref.size()); ++i) {
    dmap::compare_records(mine[i], ref[i], static_cast<std::int64_t>(i), opt, res);
  }
  return res;
}

void check_identical(fit_case const& c, std::string const& tag) {
  SCOPED_TRACE(c.ref.string());
  auto const got = run_make_fit(c, tag);
  ASSERT_EQ(got.status, 0) << got.stderr_text;
  auto const ref = read_reference(c.ref);
  auto const res = compare_all(got.records, ref);
  print_report(c.ref.filename().string(), res);
  EXPECT_TRUE(res.equal());
  EXPECT_EQ(res.not_identical, 0U);
  EXPECT_EQ(got.stderr_text, "");
}

TEST(Fitacf25MakeFit, SharedReferencesBitIdentical) {
  auto const cases = shared_cases();
  ASSERT_GE(cases.size(), 3U);  // real/test.rawacf and both synthetic files
  for (std::size_t i = 0; i < cases.size(); ++i) check_identical(cases[i], "shared" + std::to_string(i));
}

TEST(Fitacf25MakeFit, ExtraReferencesBitIdentical) {
  auto cases = read_cases(extra_dir() / "cases.txt", extra_dir(), false);
  ASSERT_FALSE(cases.empty());
  if (char const* extra = std::getenv("RSTX_FIT25_CASES"); extra != nullptr && *extra != '\0') {
    auto more = read_cases(extra, "/", false);
    cases.insert(cases.end(), more.begin(), more.end());
  }
  for (std::size_t i = 0; i < cases.size(); ++i) check_identical(cases[i], "extra" + std::to_string(i));
}

/** The deviation cases of deviations.txt, by kind. */
fit_case deviation(std::string const& kind) {
  for (auto& c : read_cases(extra_dir() / "deviations.txt", extra_dir(), true)) {
    if (c.kind == kind) return c;
  }
  ADD_FAILURE() << "no deviation case " << kind;
  return {};
}

// smsep = 0: RST's FITACF 2.5 substitutes txpl; rstx's make_fit leaves the record out (from_dmap
// refuses smsep <= 0 for every algorithm) and says so. The record before it is identical.
TEST(Fitacf25MakeFit, ZeroSmsepRecordIsReportedAndLeftOut) {
  auto const c = deviation("smsep0");
  auto const got = run_make_fit(c, "smsep0");
  ASSERT_EQ(got.status, 0) << got.stderr_text;
  EXPECT_NE(got.stderr_text.find("smsep"), std::string::npos) << got.stderr_text;
  auto const ref = read_reference(c.ref);
  ASSERT_EQ(ref.size(), 2U);
  ASSERT_EQ(got.records.size(), 1U);
  auto const res = compare_all(got.records, {ref[0]});
  EXPECT_TRUE(res.equal());
  EXPECT_EQ(res.not_identical, 0U);
}

// Stale XCF ranges: in a record with xcf = 0 and nave <= 1 after an XCF record, RST writes the
// previous record's XCF-fitted ranges again (zero values); rstx writes no range there. Everything
// else is identical.
TEST(Fitacf25MakeFit, StaleXcfRangesAreNotRepeated) {
  auto const c = deviation("stale_xcf");
  auto const got = run_make_fit(c, "stale");
  ASSERT_EQ(got.status, 0) << got.stderr_text;
  auto const ref = read_reference(c.ref);
  ASSERT_EQ(ref.size(), 2U);
  ASSERT_EQ(got.records.size(), 2U);
  auto const first = compare_all({got.records[0]}, {ref[0]});
  EXPECT_TRUE(first.equal());
  EXPECT_EQ(first.not_identical, 0U);
  EXPECT_FALSE(got.records[1].find_array("slist").has_value());
  EXPECT_TRUE(ref[1].find_array("slist").has_value());
  dmap::compare_options opt;
  opt.ignore = {"origin.*", "slist", "nlag", "qflg", "gflg", "p_l", "p_l_e", "p_s", "p_s_e", "v", "v_e",
                "w_l",      "w_l_e", "w_s",  "w_s_e", "sd_l", "sd_s", "sd_phi"};
  auto const second = compare_all({got.records[1]}, {ref[1]}, opt);
  EXPECT_TRUE(second.equal());
  EXPECT_EQ(second.not_identical, 0U);
}

}  // namespace
}  // namespace rstx::fit
