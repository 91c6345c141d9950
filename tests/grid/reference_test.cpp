// make_grid against RST 5.0's own grid files: the shared references, RST runs with many options
// (tests/data/grid), other stations and dates, several input files. The goal, and what is asserted,
// is byte-identical output; a field-by-field comparison explains any failure.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/compare.hpp"
#include "support/test_data.hpp"

namespace rstx::grid {
namespace {

namespace fs = std::filesystem;

std::string q(fs::path const& p) { return test::quoted(p); }
std::string tables_env() { return test::table_environment(); }

std::string bin(char const* program) { return q(test::bin_dir() / program); }

fs::path data_dir() { return fs::path(RSTX_SOURCE_DIR) / "tests" / "data" / "grid"; }

/** Asserts byte identity; on a mismatch reports what differs field by field. */
void expect_same_grid(fs::path const& mine, fs::path const& reference, std::string const& what) {
  auto const a = test::read_bytes(mine);
  auto const b = test::read_bytes(reference);
  if (a == b) return;
  ADD_FAILURE() << what << ": output differs from RST's " << reference;
  auto ra = dmap::decode_all(a);
  auto rb = dmap::decode_all(b);
  ASSERT_TRUE(ra && rb);
  dmap::compare_result r;
  for (std::size_t i = 0; i < std::min(ra->size(), rb->size()); ++i)
    dmap::compare_records((*ra)[i], (*rb)[i], static_cast<std::int64_t>(i), {}, r);
  std::ostringstream why;
  why << "records " << ra->size() << " vs " << rb->size() << ", exact mismatches " << r.exact_mismatches
      << ", floats beyond 1e-5: " << r.beyond_tolerance << ", not bit-identical: " << r.not_identical;
  for (auto const& m : r.mismatches) why << "\n  record " << m.record << " " << m.field << ": " << m.what;
  ADD_FAILURE() << why.str();
}

void run_ok(std::string const& command) {
  auto r = test::run("( " + command + " ) 2>&1");  // stderr into the report, not into a redirected output
  ASSERT_EQ(r.status, 0) << command << "\n" << r.out;
}

TEST(GridReference, SharedReferenceFiles) {
  auto dir = test::scratch_dir("grid_shared");
  int compared = 0;
  for (std::string const name : {"cly_10min_float", "cly_30min_int"}) {
    auto const synth = test::shared_path("data/synth");
    struct variant {
      char const* fit;
      char const* grid;
      char const* options;
    } const variants[] = {{".rst-fitacf3.fitacf", ".rst-fitacf3.grid", ""},
                          {".rst-fitacf3.fitacf", ".rst-fitacf3.xtd.grid", "-xtd"},
                          {".rst-fitacf25.fitacf", ".rst-fitacf25.xtd.grid", "-xtd"}};
    for (auto const& v : variants) {
      auto const out = dir / (name + v.grid);
      run_ok(tables_env() + bin("make_grid") + " " + v.options + " " + q(synth / (name + v.fit)) + " > " + q(out));
      expect_same_grid(out, synth / (name + v.grid), name + v.grid);
      ++compared;
    }
  }
  EXPECT_EQ(compared, 6);
}

TEST(GridReference, RstRunsWithOptions) {
  auto dir = test::scratch_dir("grid_options");
  std::ifstream cases(data_dir() / "cases.txt");
  std::string line;
  int n = 0;
  auto const input = test::shared_path("data/synth/cly_10min_float.rst-fitacf3.fitacf");
  while (std::getline(cases, line)) {
    auto const bar = line.find('|');
    std::string const name = line.substr(0, bar), options = line.substr(bar + 1);
    auto const out = dir / (name + ".grid");
    run_ok(tables_env() + bin("make_grid") + " " + options + " " + q(input) + " > " + q(out));
    expect_same_grid(out, data_dir() / (name + ".rst.grid"), name + " [" + options + "]");
    ++n;
  }
  EXPECT_GE(n, 25);
}

TEST(GridReference, OtherStationsDatesAndHemispheres) {
  auto dir = test::scratch_dir("grid_stations");
  std::ifstream cases(data_dir() / "stations.txt");
  std::string line;
  int n = 0;
  while (std::getline(cases, line)) {
    std::vector<std::string> f;
    std::istringstream ss(line);
    for (std::string part; std::getline(ss, part, '|');) f.push_back(part);
    ASSERT_EQ(f.size(), 6u) << line;
    auto const raw = dir / (f[0] + ".rawacf");
    auto const fit = dir / (f[0] + ".fitacf");
    auto const out = dir / (f[0] + ".grid");
    run_ok(tables_env() + bin("rstx") + " sim -o " + q(raw) + " --station " + f[1] + " --start " + f[2] +
           " --duration 10m --seed " + f[3]);
    auto const sha = test::run("sha256sum " + q(raw));
    ASSERT_EQ(sha.out.substr(0, 64), f[5]) << "rstx sim no longer makes the input RST gridded: " << f[0];
    run_ok(tables_env() + bin("make_fit") + " -fitacf3 " + q(raw) + " > " + q(fit));
    run_ok(tables_env() + bin("make_grid") + " " + f[4] + " " + q(fit) + " > " + q(out));
    expect_same_grid(out, data_dir() / (f[0] + ".rst.grid"), f[0]);
    ++n;
  }
  EXPECT_GE(n, 5);
}

TEST(GridReference, SeveralInputFilesLikeRst) {
  // RST's reader keeps its state from one file to the next, so this differs from one whole file.
  auto dir = test::scratch_dir("grid_multifile");
  auto const whole = test::read_bytes(test::shared_path("data/synth/cly_10min_float.rst-fitacf3.fitacf"));
  auto records = dmap::decode_all(whole);
  ASSERT_TRUE(records);
  std::size_t const cuts[] = {0, 50, 110, records->size()};
  std::string files;
  for (int i = 0; i < 3; ++i) {
    std::vector<dmap::record> part(records->begin() + static_cast<std::ptrdiff_t>(cuts[i]),
                                   records->begin() + static_cast<std::ptrdiff_t>(cuts[i + 1]));
    auto path = dir / ("part" + std::to_string(i) + ".fitacf");
    test::write_bytes(path, *dmap::encode_all(part));
    files += ' ';
    files += q(path);
  }
  auto const out = dir / "multi.grid";
  run_ok(tables_env() + bin("make_grid") + " -xtd" + files + " > " + q(out));
  expect_same_grid(out, data_dir() / "multifile.rst.grid", "three input files");
  auto const single = dir / "single.grid";
  run_ok(tables_env() + bin("make_grid") + " -xtd " + q(test::shared_path("data/synth/cly_10min_float.rst-fitacf3.fitacf")) +
         " > " + q(single));
  EXPECT_NE(test::read_bytes(single), test::read_bytes(out)) << "several files must not act like one";
}

TEST(GridReference, RstxFitThenGridEqualsRst) {
  auto dir = test::scratch_dir("grid_chain");
  for (std::string const alg : {"3", "25"}) {
    auto const out = dir / ("chain" + alg + ".grid");
    run_ok(tables_env() + bin("make_fit") + (alg == "3" ? " -fitacf3 " : " -fitacf2 ") +
           q(test::shared_path("data/synth/cly_10min_float.rawacf.bz2")) + " | " + tables_env() + bin("make_grid") +
           " -xtd - > " + q(out));
    expect_same_grid(out, test::shared_path("data/synth/cly_10min_float.rst-fitacf" + alg + ".xtd.grid"),
                     "rstx make_fit + make_grid, FITACF " + alg);
  }
}

TEST(GridReference, SameBytesForAnyThreadCount) {
  auto dir = test::scratch_dir("grid_threads");
  auto const input = q(test::shared_path("data/synth/cly_30min_int.rst-fitacf3.fitacf"));
  std::vector<std::vector<std::byte>> outputs;
  for (int threads : {1, 2, 3, 7}) {
    auto const out = dir / fmt::format("t{}.grid", threads);
    run_ok(tables_env() + bin("make_grid") + " -xtd --threads " + std::to_string(threads) + " " + input + " > " + q(out));
    outputs.push_back(test::read_bytes(out));
  }
  for (auto const& o : outputs) EXPECT_EQ(o, outputs.front());
}

}  // namespace
}  // namespace rstx::grid
