// AACGM-v2: RST 5.0's own test vectors (bit-identity), the Python package aacgmv2 on a grid of
// dates, positions and heights with both coefficient sets, and every error path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "rstx/geo/aacgm_v2.hpp"
#include "support/scoped_env.hpp"
#include "support/test_data.hpp"
#include "worst_error.hpp"

namespace rstx::geo {
namespace {

namespace fs = std::filesystem;
using check::worst_error;

std::string prefix13() { return rstx::test::tables_path("aacgm/aacgm_coeffs-13-").string(); }

// Tolerances of the acceptance criteria; the measured differences are printed (and are 0).
constexpr double rst_tol_deg = 1e-9;
constexpr double rst_tol_re = 1e-12;
constexpr double python_tol_deg = 1e-6;
constexpr double python_tol_km = 1e-6;

// ---------------------------------------------------------------------------------------------
// RST vectors: "# date=YYYYMMDD HH:MM:SS ..." then "lat lon h mlat mlon r status".

struct g2a_row {
  double lat, lon, h, mlat, mlon, r;
  int status;
};

struct g2a_vectors {
  aacgm_v2_datetime when;
  std::vector<g2a_row> rows;
};

g2a_vectors read_g2a_vectors(fs::path const& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  g2a_vectors v;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      int y, mo, d, h, mi, s;
      if (std::sscanf(line.c_str(), "# date=%4d%2d%2d %d:%d:%d", &y, &mo, &d, &h, &mi, &s) == 6) {
        v.when = {y, mo, d, h, mi, s};
      }
      continue;
    }
    std::istringstream ls(line);
    g2a_row r{};
    ls >> r.lat >> r.lon >> r.h >> r.mlat >> r.mlon >> r.r >> r.status;
    EXPECT_TRUE(ls) << path << ": " << line;
    v.rows.push_back(r);
  }
  return v;
}

class RstVectors : public ::testing::TestWithParam<char const*> {};

TEST_P(RstVectors, G2AMatchesRstBitForBit) {
  fs::path const path = rstx::test::shared_path(std::string("spec/tools/vectors/") + GetParam());
  g2a_vectors const v = read_g2a_vectors(path);
  ASSERT_EQ(v.rows.size(), 400u);
  auto model = aacgm_v2_model::load(prefix13(), v.when);
  ASSERT_TRUE(model) << model.error().message();

  worst_error e_mlat("mlat"), e_mlon("mlon"), e_r("r");
  std::size_t n_fail = 0;
  for (std::size_t i = 0; i < v.rows.size(); ++i) {
    g2a_row const& row = v.rows[i];
    auto got = model->convert_g2a(row.lat, row.lon, row.h);
    std::string const where = fmt::format("row {} ({}, {}, {} km)", i, row.lat, row.lon, row.h);
    if (row.status != 0) {
      ++n_fail;
      EXPECT_FALSE(got) << where << ": RST failed with status " << row.status;
      continue;
    }
    ASSERT_TRUE(got) << where << ": " << got.error().message();
    EXPECT_LE(e_mlat.add(row.mlat, got->mlat_deg, where), rst_tol_deg) << where;
    EXPECT_LE(e_mlon.add(row.mlon, got->mlon_deg, where), rst_tol_deg) << where;
    EXPECT_LE(e_r.add(row.r, got->r_re, where), rst_tol_re) << where;
  }
  std::cout << GetParam() << " vs RST 5.0 (" << n_fail << " failing rows)\n"
            << e_mlat.report() << "\n" << e_mlon.report() << "\n" << e_r.report() << "\n";
  RecordProperty("worst_mlat_diff_deg", fmt::format("{:.3g}", e_mlat.max_abs));
  RecordProperty("worst_mlon_diff_deg", fmt::format("{:.3g}", e_mlon.max_abs));
}

INSTANTIATE_TEST_SUITE_P(Aacgm, RstVectors,
                         ::testing::Values("aacgm_v2_g2a_20150301.txt", "aacgm_v2_g2a_20210607.txt"));

// ---------------------------------------------------------------------------------------------
// The Python package aacgmv2 (same C algorithm) on a grid, both coefficient sets.

fs::path venv_python() { return fs::path(RSTX_SOURCE_DIR) / ".venv" / "bin" / "python"; }

struct python_row {
  int code;
  aacgm_v2_datetime when;
  double in[3];
  double out[3];
  int status;  // 0 ok, 1 date rejected, 2 conversion failed
};

struct python_reference {
  std::string prefix;
  std::vector<python_row> rows;
};

// Runs tests/geo/aacgmv2_reference.py; an empty optional means the script failed (message added).
std::optional<python_reference> run_aacgmv2(std::string const& prefix_arg) {
  std::string cmd = fmt::format("'{}' '{}'", venv_python().string(),
                                (fs::path(RSTX_SOURCE_DIR) / "tests/geo/aacgmv2_reference.py").string());
  if (!prefix_arg.empty()) cmd += fmt::format(" --prefix '{}'", prefix_arg);
  auto const r = rstx::test::run(cmd);
  if (r.status != 0) {
    ADD_FAILURE() << "`" << cmd << "` exited with status " << r.status
                  << " (is aacgmv2 installed in .venv? run scripts/install-deps.sh --python)";
    return std::nullopt;
  }
  python_reference ref;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("# prefix ", 0) == 0) {
      ref.prefix = line.substr(9);
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    python_row row{};
    std::istringstream ls(line);
    std::string out_txt[3];
    ls >> row.code >> row.when.year >> row.when.month >> row.when.day >> row.when.hour >> row.when.minute >>
        row.when.second >> row.in[0] >> row.in[1] >> row.in[2] >> out_txt[0] >> out_txt[1] >> out_txt[2] >> row.status;
    if (!ls) {
      ADD_FAILURE() << "bad line from aacgmv2_reference.py: " << line;
      return std::nullopt;
    }
    for (int i = 0; i < 3; ++i) row.out[i] = std::strtod(out_txt[i].c_str(), nullptr);  // "nan" too
    ref.rows.push_back(row);
  }
  if (ref.prefix.empty() || ref.rows.empty()) {
    ADD_FAILURE() << "no output from `" << cmd << "`";
    return std::nullopt;
  }
  return ref;
}

void compare_with_aacgmv2(std::string const& prefix_arg, std::string const& label) {
  if (!fs::exists(venv_python())) {
    GTEST_SKIP() << venv_python() << " not found: the aacgmv2 comparison needs the test virtualenv "
                 << "(scripts/install-deps.sh --python, which `make test` runs)";
  }
  auto ref = run_aacgmv2(prefix_arg);
  ASSERT_TRUE(ref);
  // Our model reads the same files as aacgmv2 did.
  std::string const prefix = ref->prefix;
  ASSERT_TRUE(fs::exists(prefix + "2020.asc")) << prefix;

  std::map<std::tuple<int, int, int, int, int, int>, result<aacgm_v2_model>> models;
  worst_error g_lat("G2A mlat"), g_lon("G2A mlon"), g_r("G2A r");
  worst_error a_lat("A2G lat"), a_lon("A2G lon"), a_h("A2G h");
  std::size_t n_ok = 0, n_conv_fail = 0, n_date_fail = 0, n_stale = 0;
  for (std::size_t i = 0; i < ref->rows.size(); ++i) {
    python_row const& row = ref->rows[i];
    auto const key = std::make_tuple(row.when.year, row.when.month, row.when.day, row.when.hour, row.when.minute,
                                     row.when.second);
    auto it = models.find(key);
    if (it == models.end()) it = models.emplace(key, aacgm_v2_model::load(prefix, row.when)).first;
    auto const& model = it->second;
    std::string const where =
        fmt::format("{} {:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d} ({}, {}, {} km)", row.code == 0 ? "G2A" : "A2G",
                    row.when.year, row.when.month, row.when.day, row.when.hour, row.when.minute, row.when.second,
                    row.in[0], row.in[1], row.in[2]);
    if (!model) {
      ASSERT_EQ(model.error().code, errc::out_of_range) << where << ": " << model.error().message();
      if (row.status == 1) {
        ++n_date_fail;
      } else {
        // aacgmv2 (like RST) keeps the coefficients of an earlier date when loading the files
        // of a later epoch fails and then accepts dates of that epoch: its values there are
        // not AACGM-v2 for the date. We reject the date instead.
        ++n_stale;
      }
      continue;
    }
    ASSERT_NE(row.status, 1) << where << ": aacgmv2 rejected a date that we accept";
    if (row.code == 0) {
      auto got = model->convert_g2a(row.in[0], row.in[1], row.in[2]);
      ASSERT_EQ(got.has_value(), row.status == 0)
          << where << ": aacgmv2 status " << row.status << ", ours: " << (got ? "ok" : got.error().message());
      if (!got) {
        ++n_conv_fail;
        continue;
      }
      EXPECT_LE(g_lat.add(row.out[0], got->mlat_deg, where), python_tol_deg) << where;
      EXPECT_LE(g_lon.add(row.out[1], got->mlon_deg, where), python_tol_deg) << where;
      EXPECT_LE(g_r.add(row.out[2], got->r_re, where), 1e-12) << where;
    } else {
      auto got = model->convert_a2g(row.in[0], row.in[1], row.in[2]);
      ASSERT_EQ(got.has_value(), row.status == 0)
          << where << ": aacgmv2 status " << row.status << ", ours: " << (got ? "ok" : got.error().message());
      if (!got) {
        ++n_conv_fail;
        continue;
      }
      EXPECT_LE(a_lat.add(row.out[0], got->lat_deg, where), python_tol_deg) << where;
      EXPECT_LE(a_lon.add(row.out[1], got->lon_deg, where), python_tol_deg) << where;
      EXPECT_LE(a_h.add(row.out[2], got->height_km, where), python_tol_km) << where;
    }
    ++n_ok;
  }
  std::cout << label << " (" << prefix << "): " << n_ok << " conversions compared, " << n_conv_fail
            << " failing in both, " << n_date_fail << " with the date rejected by both, " << n_stale
            << " rejected by us where aacgmv2 reused stale coefficients\n";
  for (auto const* e : {&g_lat, &g_lon, &g_r, &a_lat, &a_lon, &a_h}) std::cout << e->report() << "\n";
  EXPECT_GT(n_ok, 20000u);
  EXPECT_GT(n_conv_fail, 0u);  // the grid reaches the forbidden region and the height limit
  EXPECT_GT(n_date_fail, 0u);
}

TEST(AacgmV2Python, MatchesAacgmv2WithItsOwnCoefficients14) { compare_with_aacgmv2("", "aacgmv2 -14- set"); }

TEST(AacgmV2Python, MatchesAacgmv2PointedAtRstCoefficients13) {
  compare_with_aacgmv2(prefix13(), "aacgmv2 with RST's -13- set");
}

// The "-14-" files that pip installed with aacgmv2 (the test reads them in place), if present.
std::optional<std::string> venv_prefix14() {
  fs::path const lib = fs::path(RSTX_SOURCE_DIR) / ".venv" / "lib";
  std::error_code ec;
  for (auto const& py : fs::directory_iterator(lib, ec)) {
    fs::path const dir = py.path() / "site-packages" / "aacgmv2" / "aacgm_coeffs";
    if (fs::exists(dir / "aacgm_coeffs-14-2020.asc")) return (dir / "aacgm_coeffs-14-").string();
  }
  return std::nullopt;
}

TEST(AacgmV2CoefficientSets, Set14DiffersFromRstSet13) {
  if (!fs::exists(venv_python())) {
    GTEST_SKIP() << venv_python() << " not found: the -14- files come with aacgmv2 in the test virtualenv "
                 << "(scripts/install-deps.sh --python, which `make test` runs)";
  }
  auto const prefix14 = venv_prefix14();
  ASSERT_TRUE(prefix14) << "aacgmv2's aacgm_coeffs-14-*.asc not found under .venv/lib/*/site-packages/aacgmv2";
  g2a_vectors const v = read_g2a_vectors(rstx::test::shared_path("spec/tools/vectors/aacgm_v2_g2a_20210607.txt"));
  auto m13 = aacgm_v2_model::load(prefix13(), v.when);
  auto m14 = aacgm_v2_model::load(*prefix14, v.when);
  ASSERT_TRUE(m13 && m14);
  double worst_lat = 0, worst_lon = 0;
  for (auto const& r : v.rows) {
    auto a = m13->convert_g2a(r.lat, r.lon, r.h);
    auto b = m14->convert_g2a(r.lat, r.lon, r.h);
    ASSERT_TRUE(a && b);
    worst_lat = std::max(worst_lat, std::fabs(a->mlat_deg - b->mlat_deg));
    worst_lon = std::max(worst_lon, std::fabs(std::remainder(a->mlon_deg - b->mlon_deg, 360.0)));
  }
  std::cout << "-14- vs -13- on the 2021-06-07 RST grid: worst |dmlat| " << worst_lat << " deg, |dmlon| " << worst_lon
            << " deg\n";
  // Big enough to move a vector to another grid cell: use the -13- set to reproduce RST 5.0.
  EXPECT_GT(worst_lon, 0.01);
  EXPECT_LT(worst_lat, 0.1);
  EXPECT_LT(worst_lon, 0.5);
  // Only the -14- set reaches past 2025.
  EXPECT_TRUE(aacgm_v2_model::load(*prefix14, 2027, 8, 20));
  EXPECT_FALSE(aacgm_v2_model::load(prefix13(), 2027, 8, 20));
}

// ---------------------------------------------------------------------------------------------
// Loading: dates, files, environment.

TEST(AacgmV2Load, DateRangeFollowsTheFilesPresent) {
  auto ok_first = aacgm_v2_model::load(prefix13(), 1590, 1, 1);
  ASSERT_TRUE(ok_first) << ok_first.error().message();
  EXPECT_EQ(ok_first->epoch(), 1590);
  EXPECT_DOUBLE_EQ(ok_first->decimal_year(), 1590.0);
  auto ok_last = aacgm_v2_model::load(prefix13(), 2024, 12, 31, 23, 59, 59);
  ASSERT_TRUE(ok_last) << ok_last.error().message();
  EXPECT_EQ(ok_last->epoch(), 2020);
  EXPECT_LT(ok_last->decimal_year(), 2025.0);

  for (auto [y, mo, d, h, mi, s] : {std::tuple{2025, 1, 1, 0, 0, 0}, std::tuple{1589, 12, 31, 23, 59, 59},
                                    std::tuple{2100, 6, 1, 0, 0, 0}}) {
    auto bad = aacgm_v2_model::load(prefix13(), y, mo, d, h, mi, s);
    ASSERT_FALSE(bad) << y;
    EXPECT_EQ(bad.error().code, errc::out_of_range);
    EXPECT_NE(bad.error().what.find("[1590, 2025)"), std::string::npos) << bad.error().what;
    EXPECT_NE(bad.error().what.find(fmt::format("{:04d}-{:02d}-{:02d}", y, mo, d)), std::string::npos)
        << bad.error().what;
  }
}

TEST(AacgmV2Load, DecimalYearAndInterpolationAsRst) {
  // 2000-02-29 18:45:30: doy 60 of 366.
  auto m = aacgm_v2_model::load(prefix13(), 2000, 2, 29, 18, 45, 30);
  ASSERT_TRUE(m) << m.error().message();
  double const fyear = 2000 + ((60 - 1) + (18 + (45 + 30 / 60.) / 60.) / 24.) / 366;
  EXPECT_EQ(m->decimal_year(), fyear);
  EXPECT_EQ(m->datetime().hour, 18);
  EXPECT_EQ(m->prefix(), prefix13());
}

TEST(AacgmV2Load, RejectsImpossibleDates) {
  for (auto [y, mo, d, h, mi, s] : {std::tuple{2021, 2, 29, 0, 0, 0}, std::tuple{2020, 13, 1, 0, 0, 0},
                                    std::tuple{2020, 0, 1, 0, 0, 0}, std::tuple{2020, 4, 31, 0, 0, 0},
                                    std::tuple{2020, 1, 1, 24, 0, 0}, std::tuple{2020, 1, 1, 0, -1, 0},
                                    std::tuple{2020, 1, 1, 0, 0, 61}}) {
    auto bad = aacgm_v2_model::load(prefix13(), y, mo, d, h, mi, s);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, errc::invalid_argument) << bad.error().message();
  }
  EXPECT_TRUE(aacgm_v2_model::load(prefix13(), 2020, 2, 29));  // leap day
}

TEST(AacgmV2Load, MissingFilesNameThePath) {
  auto no_dir = aacgm_v2_model::load("/nonexistent-rstx-dir/aacgm_coeffs-13-", 2015, 3, 1);
  ASSERT_FALSE(no_dir);
  EXPECT_EQ(no_dir.error().code, errc::not_found);
  EXPECT_NE(no_dir.error().message().find("/nonexistent-rstx-dir/aacgm_coeffs-13-"), std::string::npos)
      << no_dir.error().message();

  std::string const wrong_set = rstx::test::tables_path("aacgm/aacgm_coeffs-99-").string();
  auto none = aacgm_v2_model::load(wrong_set, 2015, 3, 1);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, errc::not_found);
  EXPECT_NE(none.error().message().find(wrong_set), std::string::npos) << none.error().message();
}

// Writes a coefficient file with `n` numbers (all 0.5) or with a given text.
void write_file(fs::path const& p, std::string const& text) {
  std::ofstream out(p);
  out << text;
}
std::string numbers(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i % 6 == 5) ? "0.5\n" : "0.5 ";
  return s;
}

TEST(AacgmV2Load, GapInTheEpochsIsNotFound) {
  auto dir = rstx::test::scratch_dir("aacgm_gap");
  std::string const prefix = (dir / "coeffs-").string();
  write_file(dir / "coeffs-2000.asc", numbers(aacgm_v2_model::values_per_file));
  write_file(dir / "coeffs-2010.asc", numbers(aacgm_v2_model::values_per_file));
  auto ok = aacgm_v2_model::load(prefix, 2007, 1, 1);  // needs 2005: missing
  ASSERT_FALSE(ok);
  EXPECT_EQ(ok.error().code, errc::not_found);
  EXPECT_EQ(ok.error().source, prefix + "2005.asc");
  auto late = aacgm_v2_model::load(prefix, 2010, 1, 1);  // range is [2000, 2010)
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, errc::out_of_range);
}

TEST(AacgmV2Load, MalformedFilesAreBadValue) {
  auto dir = rstx::test::scratch_dir("aacgm_bad");
  std::string const prefix = (dir / "c-").string();
  write_file(dir / "c-2000.asc", numbers(aacgm_v2_model::values_per_file));
  write_file(dir / "c-2005.asc", numbers(aacgm_v2_model::values_per_file - 1));
  write_file(dir / "c-2010.asc", numbers(100) + " 0.1x " + numbers(3529));
  write_file(dir / "c-2015.asc", numbers(aacgm_v2_model::values_per_file + 1));
  write_file(dir / "c-2020.asc", numbers(aacgm_v2_model::values_per_file));
  for (int year : {2001, 2011, 2016}) {
    auto bad = aacgm_v2_model::load(prefix, year, 6, 1);
    ASSERT_FALSE(bad) << year;
    EXPECT_EQ(bad.error().code, errc::bad_value) << bad.error().message();
    EXPECT_NE(bad.error().source.find("c-20"), std::string::npos);
  }
  auto bad_token = aacgm_v2_model::load(prefix, 2011, 6, 1);
  ASSERT_FALSE(bad_token);
  EXPECT_GT(bad_token.error().offset, 0) << bad_token.error().message();  // points at "0.1x"
}

using rstx::test::scoped_env;

TEST(AacgmV2Load, EnvironmentVariable) {
  {
    scoped_env unset("AACGM_v2_DAT_PREFIX", nullptr);
    auto m = aacgm_v2_model::load_from_env({2015, 3, 1});
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::not_found);
    EXPECT_NE(m.error().what.find("AACGM_v2_DAT_PREFIX"), std::string::npos) << m.error().what;
  }
  {
    scoped_env empty("AACGM_v2_DAT_PREFIX", "");
    EXPECT_FALSE(aacgm_v2_model::load_from_env({2015, 3, 1}));
  }
  scoped_env set("AACGM_v2_DAT_PREFIX", prefix13().c_str());
  auto m = aacgm_v2_model::load_from_env({2015, 3, 1});
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->prefix(), prefix13());
}

// ---------------------------------------------------------------------------------------------
// Conversions: errors, inverse, harmonics, threads.

class AacgmV2Convert : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = aacgm_v2_model::load(prefix13(), 2015, 3, 1);
    ASSERT_TRUE(m) << m.error().message();
    model_.emplace(std::move(*m));
  }
  aacgm_v2_model const& model() const { return *model_; }
  std::optional<aacgm_v2_model> model_;
};

TEST_F(AacgmV2Convert, DomainErrors) {
  for (double lat : {90.000001, -91.0, 1e300}) {
    auto r = model().convert_g2a(lat, 0, 300);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::out_of_range) << r.error().message();
  }
  EXPECT_TRUE(model().convert_g2a(90, 0, 300));
  EXPECT_TRUE(model().convert_g2a(-90, 0, 300));
  // The 2000 km limit is on the geocentric height: 1995 km above the equator is 2001.9 km
  // above the 6371.2 km sphere, 1995 km above the pole only 1980.6 km.
  auto high = model().convert_g2a(0, 0, 1995);
  ASSERT_FALSE(high);
  EXPECT_EQ(high.error().code, errc::out_of_range);
  EXPECT_NE(high.error().what.find("2000"), std::string::npos);
  EXPECT_TRUE(model().convert_g2a(89, 0, 1995));
  EXPECT_FALSE(model().convert_g2a(60, 0, 2000.5, geographic_frame::geocentric));
  EXPECT_TRUE(model().convert_g2a(60, 0, 2000, geographic_frame::geocentric));
  // Forbidden region near the magnetic equator (fails in RST/aacgmv2 too).
  auto forbidden = model().convert_g2a(-12, -80, 0);
  ASSERT_FALSE(forbidden);
  EXPECT_EQ(forbidden.error().code, errc::out_of_range);
  EXPECT_NE(forbidden.error().what.find("forbidden"), std::string::npos);
  auto nan = model().convert_g2a(NAN, 0, 300);
  ASSERT_FALSE(nan);
  EXPECT_EQ(nan.error().code, errc::invalid_argument);
  // A2G: below the latitude whose field line reaches the height.
  auto low = model().convert_a2g(1, 0, 300);
  ASSERT_FALSE(low);
  EXPECT_EQ(low.error().code, errc::out_of_range);
  EXPECT_FALSE(model().convert_a2g(91, 0, 300));
  EXPECT_FALSE(model().convert_a2g(60, 0, 2001));
}

TEST_F(AacgmV2Convert, LongitudeNeedNotBeWrapped) {
  for (double lon : {-170.0, -12.5, 0.0, 45.0, 179.0}) {
    auto a = model().convert_g2a(65, lon, 300);
    auto b = model().convert_g2a(65, lon + 360, 300);
    auto c = model().convert_g2a(65, lon - 720, 300);
    ASSERT_TRUE(a && b && c);
    EXPECT_NEAR(a->mlat_deg, b->mlat_deg, 1e-9);
    EXPECT_NEAR(a->mlon_deg, b->mlon_deg, 1e-9);
    EXPECT_NEAR(a->mlat_deg, c->mlat_deg, 1e-9);
    EXPECT_NEAR(a->mlon_deg, c->mlon_deg, 1e-9);
    EXPECT_GT(a->mlon_deg, -180.0);
    EXPECT_LE(a->mlon_deg, 180.0);
  }
}

TEST_F(AacgmV2Convert, InverseIsCloseToForward) {
  // A2G is a separate fit of the inverse map, so a round trip is only approximately the identity.
  worst_error e_lat("lat"), e_lon("lon");
  for (double lat = -80; lat <= 80; lat += 10) {
    if (std::fabs(lat) < 40) continue;  // low latitudes: forbidden-region edge
    for (double lon = -180; lon < 180; lon += 30) {
      for (double h : {0.0, 300.0, 1000.0}) {
        auto fwd = model().convert_g2a(lat, lon, h, geographic_frame::geocentric);
        ASSERT_TRUE(fwd);
        auto back = model().convert_a2g(fwd->mlat_deg, fwd->mlon_deg, h, geographic_frame::geocentric);
        ASSERT_TRUE(back) << back.error().message();
        std::string const where = fmt::format("({}, {}, {} km)", lat, lon, h);
        EXPECT_LT(e_lat.add(lat, back->lat_deg, where), 0.25) << where;
        double dlon = std::remainder(back->lon_deg - lon, 360.0);
        EXPECT_LT(e_lon.add(0.0, dlon * std::cos(lat * M_PI / 180), where), 0.25) << where;
        EXPECT_EQ(back->height_km, h);
      }
    }
  }
  std::cout << "G2A -> A2G round trip (geocentric)\n" << e_lat.report() << "\n" << e_lon.report() << " (x cos lat)\n";
}

TEST(AacgmV2Harmonics, OrthogonalWithAacgmNormalisation) {
  // Midpoint quadrature over the sphere: <Y_k, Y_k'> = 0 for k != k', 1 for m = 0 and 1/2 for
  // m != 0 (real harmonics normalised like complex ones).
  constexpr int n_theta = 180, n_phi = 90;
  constexpr int n_k = aacgm_v2_model::n_harmonics;
  std::vector<double> gram(n_k * n_k, 0.0);
  for (int i = 0; i < n_theta; ++i) {
    double const th = (i + 0.5) * M_PI / n_theta;
    for (int j = 0; j < n_phi; ++j) {
      double const ph = (j + 0.5) * 2 * M_PI / n_phi;
      auto y = aacgm_v2_harmonics(th, ph);
      ASSERT_EQ(y.size(), static_cast<std::size_t>(n_k));
      double const w = std::sin(th) * (M_PI / n_theta) * (2 * M_PI / n_phi);
      for (int a = 0; a < n_k; ++a)
        for (int b = 0; b < n_k; ++b) gram[a * n_k + b] += w * y[a] * y[b];
    }
  }
  for (int l = 0; l <= 10; ++l) {
    for (int m = -l; m <= l; ++m) {
      int const k = l * (l + 1) + m;
      for (int k2 = 0; k2 < n_k; ++k2) {
        double const want = k2 == k ? (m == 0 ? 1.0 : 0.5) : 0.0;
        EXPECT_NEAR(gram[k * n_k + k2], want, 2e-3) << "l=" << l << " m=" << m << " k'=" << k2;
      }
    }
  }
  // Low degrees in closed form, with AACGM's signs.
  double const th = 0.7, ph = -2.1;
  auto y = aacgm_v2_harmonics(th, ph);
  EXPECT_NEAR(y[0], std::sqrt(1 / (4 * M_PI)), 1e-15);
  EXPECT_NEAR(y[2], std::sqrt(3 / (4 * M_PI)) * std::cos(th), 1e-15);
  EXPECT_NEAR(y[3], -std::sqrt(3 / (8 * M_PI)) * std::sin(th) * std::cos(ph), 1e-15);
  EXPECT_NEAR(y[1], -std::sqrt(3 / (8 * M_PI)) * std::sin(th) * std::sin(ph), 1e-15);
}

TEST(AacgmV2Threads, ConcurrentConversionsMatchSerial) {
  g2a_vectors const v = read_g2a_vectors(rstx::test::shared_path("spec/tools/vectors/aacgm_v2_g2a_20210607.txt"));
  auto model = aacgm_v2_model::load(prefix13(), v.when);
  ASSERT_TRUE(model);
  std::vector<magnetic_coords> serial;
  for (auto const& r : v.rows) serial.push_back(*model->convert_g2a(r.lat, r.lon, r.h));
  constexpr int n_threads = 8;
  std::vector<int> mismatches(n_threads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < n_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 20; ++rep) {
        // each thread walks the rows in a different order and height sequence
        for (std::size_t i = 0; i < v.rows.size(); ++i) {
          std::size_t const j = (i * 7 + static_cast<std::size_t>(t) * 13) % v.rows.size();
          auto got = model->convert_g2a(v.rows[j].lat, v.rows[j].lon, v.rows[j].h);
          if (!got || got->mlat_deg != serial[j].mlat_deg || got->mlon_deg != serial[j].mlon_deg) ++mismatches[t];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < n_threads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace rstx::geo
