// make_grid's command line (RST 5's options and rstx's own) and the binary end to end: -o, .bz2,
// standard input, -vb, --flush-last, missing tables, bad and truncated input, exit statuses.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli.hpp"
#include "rstx/core/time.hpp"
#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "support/test_data.hpp"

namespace rstx::make_grid_cli {
namespace {

namespace fs = std::filesystem;

TEST(MakeGridCli, DefaultsAreRsts) {
  auto o = parse_command_line({"in.fitacf"});
  ASSERT_TRUE(o) << o.error().what;
  auto const& r = o->run;
  EXPECT_EQ(o->inputs, std::vector<std::string>{"in.fitacf"});
  EXPECT_EQ(r.mapping.interval_s, 120);
  EXPECT_EQ(r.mapping.altitude_km, 300.0);
  EXPECT_EQ(r.scan.scan_length_s, 0);
  EXPECT_TRUE(r.median);
  EXPECT_TRUE(r.check_ops);
  EXPECT_TRUE(r.apply_bounds);
  EXPECT_EQ(r.filter_mode, 0);
  EXPECT_EQ(r.header.gsct, 1);
  EXPECT_EQ(r.header.min, (std::array<double, 4>{35, 3, 10, 0}));
  EXPECT_EQ(r.header.max, (std::array<double, 4>{2500, 60, 1000, 200}));
  EXPECT_FALSE(r.flush_last);
  EXPECT_EQ(parse_command_line({})->inputs, std::vector<std::string>{"-"});
}

TEST(MakeGridCli, RstOptions) {
  auto o = parse_command_line({"-vb", "-tl", "60", "-i", "300", "-ebm", "3,4,10", "-minrng", "10", "-maxsrng", "2000.5",
                               "-fwgt", "2", "-vmax", "1500", "-alt", "250", "-nlm", "-ns", "-xtd", "-isort", "-both",
                               "-inertial", "-chisham", "-st", "20:12", "-sd", "20210607", "-ex", "1:30", "a", "b"});
  ASSERT_TRUE(o) << o.error().what;
  auto const& r = o->run;
  EXPECT_TRUE(o->verbose);
  EXPECT_EQ(r.scan.scan_length_s, 60);
  EXPECT_EQ(r.mapping.interval_s, 300);
  EXPECT_EQ(r.exclude_beams, (std::vector<int>{3, 4, 10}));
  EXPECT_EQ(r.ranges.min_gate, 10);
  EXPECT_EQ(r.ranges.max_slant_km, 2000.5);
  EXPECT_EQ(r.filter_mode, 1);
  EXPECT_EQ(r.bounds.max[0], 1500.0);
  EXPECT_EQ(r.header.max[0], 1500.0);  // the limits written are the ones applied
  EXPECT_EQ(r.mapping.altitude_km, 250.0);
  EXPECT_FALSE(r.check_ops);
  EXPECT_TRUE(r.exclude_out_of_scan);
  EXPECT_TRUE(r.header.extended);
  EXPECT_TRUE(r.isort);
  EXPECT_EQ(r.header.gsct, 2);
  EXPECT_TRUE(r.mapping.inertial);
  EXPECT_EQ(r.mapping.model, geo::virtual_height_model::chisham);
  EXPECT_EQ(r.start_sod, 20 * 3600.0 + 12 * 60.0);
  EXPECT_EQ(r.start_date, epoch_from_ymdhms(2021, 6, 7, 0, 0, 0.0));
  EXPECT_EQ(r.extent_s, 5400.0);
  EXPECT_EQ(o->inputs, (std::vector<std::string>{"a", "b"}));
}

TEST(MakeGridCli, DerivedSettingsFollowMakeGridC) {
  auto nb = parse_command_line({"-nb"});
  ASSERT_TRUE(nb);
  EXPECT_FALSE(nb->run.apply_bounds);
  EXPECT_EQ(nb->run.header.max, (std::array<double, 4>{}));  // zeros written when bounds are off
  auto gs = parse_command_line({"-gs"});
  EXPECT_EQ(gs->run.header.gsct, 0);
  auto ion_wins = parse_command_line({"-gs", "-ion"});
  EXPECT_EQ(ion_wins->run.header.gsct, 1);
  auto nav = parse_command_line({"-nav", "-fwgt", "-1"});
  EXPECT_FALSE(nav->run.median);
  EXPECT_EQ(nav->run.filter_mode, -1);
  // -cn selects what is read and what is written; -cn_fix overrides both (an RST quirk).
  auto cn = parse_command_line({"-cn", "b"});
  EXPECT_EQ(cn->run.scan.channel, 2);
  EXPECT_EQ(cn->run.header.channel, 2);
  auto fix = parse_command_line({"-cn_fix", "c", "-cn", "a"});
  EXPECT_EQ(fix->run.header.channel, 3);
  auto unknown = parse_command_line({"-cn", "z"});
  ASSERT_TRUE(unknown);
  ASSERT_EQ(unknown->warnings.size(), 1U);
  EXPECT_NE(unknown->warnings[0].find("Unknown Stereo channel z"), std::string::npos);
}

TEST(MakeGridCli, RstxOptions) {
  auto o = parse_command_line({"--threads", "3", "-o", "out.grid.bz2", "--flush-last", "--max-record-size=4096", "-"});
  ASSERT_TRUE(o) << o.error().what;
  EXPECT_EQ(o->run.threads, 3);
  EXPECT_EQ(o->output, "out.grid.bz2");
  EXPECT_TRUE(o->run.flush_last);
  EXPECT_EQ(o->run.reader.max_record_bytes, 4096U);
  EXPECT_TRUE(o->tables.aacgm.empty());
  EXPECT_TRUE(o->tables.tables_dir.empty());
  EXPECT_EQ(parse_command_line({"--aacgm-coeffs", "/x/aacgm_coeffs-14-"})->tables.aacgm, "/x/aacgm_coeffs-14-");
  EXPECT_EQ(parse_command_line({"--aacgm-coeffs=14"})->tables.aacgm, "14");
  EXPECT_EQ(parse_command_line({"--tables", "/t"})->tables.tables_dir, "/t");
  // Options after the input files count too, and "--" ends them.
  auto after = parse_command_line({"a.fitacf", "-xtd", "b.fitacf", "--", "-odd-name.fitacf"});
  ASSERT_TRUE(after) << after.error().what;
  EXPECT_TRUE(after->run.header.extended);
  EXPECT_EQ(after->inputs, (std::vector<std::string>{"a.fitacf", "b.fitacf", "-odd-name.fitacf"}));
  EXPECT_TRUE(parse_command_line({"--help"})->help);
  EXPECT_TRUE(parse_command_line({"-version"})->version);
  EXPECT_NE(help_text().find("-cn_fix"), std::string::npos);
}

TEST(MakeGridCli, Errors) {
  auto unknown = parse_command_line({"-frobnicate"});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().what.find("-frobnicate"), std::string::npos);
  EXPECT_EQ(unknown.error().code, errc::invalid_argument);
  for (auto const& bad : std::vector<std::vector<std::string>>{{"-tl"},
                                                                {"-tl", "x"},
                                                                {"-tl", "-5"},
                                                                {"-i", "0"},
                                                                {"-alt", "10"},
                                                                {"-st", "noon"},
                                                                {"-sd", "2021-06-07"},
                                                                {"--threads", "-1"},
                                                                {"--max-record-size", "3"},
                                                                {"-vmin", "fast"}})
    EXPECT_FALSE(parse_command_line(bad)) << bad[0];
  auto v1 = parse_command_line({"-old_aacgm"});
  ASSERT_FALSE(v1);
  EXPECT_NE(v1.error().what.find("AACGM"), std::string::npos);
  EXPECT_FALSE(parse_command_line({"-cfit"}));
}

// ---- the binary ----

std::string q(fs::path const& p) { return test::quoted(p); }
std::string tables_env() { return test::table_environment(); }

std::string make_grid() { return q(test::bin_dir() / "make_grid"); }
fs::path fitacf() { return test::shared_path("data/synth/cly_10min_float.rst-fitacf3.fitacf"); }
fs::path reference() { return test::shared_path("data/synth/cly_10min_float.rst-fitacf3.grid"); }

std::vector<dmap::record> records_of(fs::path const& p) {
  auto r = dmap::read_file(p.string());
  EXPECT_TRUE(r) << p;
  return r ? *r : std::vector<dmap::record>{};
}

TEST(MakeGridBinary, OutputFileStdinAndBzip2GiveTheSameRecords) {
  auto dir = test::scratch_dir("make_grid_io");
  auto const want = test::read_bytes(reference());
  auto r = test::run(tables_env() + make_grid() + " -o " + q(dir / "a.grid") + " " + q(fitacf()) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(test::read_bytes(dir / "a.grid"), want);
  r = test::run(tables_env() + make_grid() + " - < " + q(fitacf()) + " > " + q(dir / "b.grid"));
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(test::read_bytes(dir / "b.grid"), want);
  r = test::run("bzip2 -c " + q(fitacf()) + " > " + q(dir / "in.fitacf.bz2") + " && " + tables_env() + make_grid() +
                " -o " + q(dir / "c.grid.bz2") + " " + q(dir / "in.fitacf.bz2"));
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(test::decompressed_bytes(dir / "c.grid.bz2"), want);
  for (auto const& e : fs::directory_iterator(dir)) EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos);
}

TEST(MakeGridBinary, VerboseAndFlushLast) {
  auto dir = test::scratch_dir("make_grid_vb");
  auto r = test::run(tables_env() + make_grid() + " -vb " + q(fitacf()) + " 2>&1 > " + q(dir / "vb.grid"));
  ASSERT_EQ(r.status, 0);
  auto const written = records_of(dir / "vb.grid");
  std::size_t storing = 0;
  for (std::size_t at = r.out.find("Storing:"); at != std::string::npos; at = r.out.find("Storing:", at + 1)) ++storing;
  EXPECT_EQ(storing, written.size());
  EXPECT_NE(r.out.find("Storing:2021-6-7 20:"), std::string::npos) << r.out;
  // -vb first says which tables (here RST's variables, set by the test), then, once loaded, which
  // AACGM-v2 and IGRF files; RST's lines are unchanged around them.
  auto const tables = test::tables_path("").string();
  EXPECT_EQ(r.out.rfind("Tables: radar list: " + tables + "/radar.dat (SD_RADAR)\n", 0), 0U) << r.out;
  EXPECT_NE(r.out.find("Tables: AACGM-v2 coefficients: " + tables + "/aacgm/aacgm_coeffs-13- (AACGM_v2_DAT_PREFIX)\n"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nOpening file:" + fitacf().string() + "\nAACGM-v2 coefficients for 2021-06-07: " + tables +
                       "/aacgm/aacgm_coeffs-13-2020.asc and " + tables + "/aacgm/aacgm_coeffs-13-2025.asc\n"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("IGRF coefficients for 2021: " + tables + "/igrf/igrf2020.dat and " + tables + "/igrf/igrf2020s.dat\n"),
            std::string::npos) << r.out;
  EXPECT_LT(r.out.find("Opening file:"), r.out.find("Storing:"));
  auto quiet = test::run(tables_env() + make_grid() + " " + q(fitacf()) + " 2>&1 >/dev/null");
  EXPECT_EQ(quiet.out, "Opening file:" + fitacf().string() + "\n") << "RST prints this line without -vb too";

  r = test::run(tables_env() + make_grid() + " --flush-last " + q(fitacf()) + " > " + q(dir / "flush.grid"));
  ASSERT_EQ(r.status, 0);
  auto const flushed = records_of(dir / "flush.grid");
  ASSERT_EQ(flushed.size(), written.size() + 1);
  auto const plain = test::read_bytes(dir / "vb.grid");
  auto const with_last = test::read_bytes(dir / "flush.grid");
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), with_last.begin())) << "--flush-last only appends";
}

TEST(MakeGridBinary, MissingTablesAndFilesAreClearErrors) {
  // No variable at all: rstx's own tables, which are RST 5.0's: the reference bytes.
  auto dir = test::scratch_dir("make_grid_tables");
  auto r = test::run("env -u SD_RADAR -u SD_HDWPATH -u AACGM_v2_DAT_PREFIX -u IGRF_PATH -u RSTX_TABLES " + make_grid() +
                     " -o " + q(dir / "builtin.grid") + " " + q(fitacf()) + " 2>&1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(test::read_bytes(dir / "builtin.grid"), test::read_bytes(reference()));

  // A variable that names a missing table is an error naming it: no silent fall-back.
  for (std::string const var : {"SD_RADAR", "SD_HDWPATH", "AACGM_v2_DAT_PREFIX", "IGRF_PATH"}) {
    SCOPED_TRACE(var);
    r = test::run(tables_env() + var + "=/nonexistent/x " + make_grid() + " " + q(fitacf()) + " 2>&1 >/dev/null");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.out.find(var), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("/nonexistent/x"), std::string::npos) << r.out;
  }

  r = test::run(tables_env() + make_grid() + " /no/such/file.fitacf 2>&1 >/dev/null");
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(r.out.find("/no/such/file.fitacf"), std::string::npos) << r.out;

  r = test::run(tables_env() + make_grid() + " -frobnicate " + q(fitacf()) + " 2>&1 >/dev/null");
  EXPECT_EQ(r.status, 1);
}

TEST(MakeGridBinary, OtherCoefficientSet) {
  auto r = test::run(tables_env() + make_grid() + " --aacgm-coeffs /nonexistent/aacgm_coeffs-14- " + q(fitacf()) +
                     " 2>&1 >/dev/null");
  EXPECT_NE(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("/nonexistent/aacgm_coeffs-14-"), std::string::npos) << r.out;
  r = test::run(tables_env() + make_grid() + " --aacgm-coeffs 15 " + q(fitacf()) + " 2>&1 >/dev/null");
  EXPECT_EQ(r.status, 1) << r.out;

  // The -14- set ships with rstx: "--aacgm-coeffs 14" takes it from rstx's own tables even when
  // AACGM_v2_DAT_PREFIX (set by the test to RST's -13- set) is there.
  auto dir = test::scratch_dir("make_grid_coeffs14");
  r = test::run(tables_env() + make_grid() + " -vb --aacgm-coeffs 14 " + q(fitacf()) + " 2>&1 > " + q(dir / "14.grid"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("/share/rstx/tables/aacgm/aacgm_coeffs-14- (built-in)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("aacgm_coeffs-14-2020.asc and "), std::string::npos) << r.out;
  auto const with14 = records_of(dir / "14.grid");
  auto const with13 = records_of(reference());
  ASSERT_EQ(with14.size(), with13.size());
  // Same data, slightly shifted magnetic longitudes: the cells are not all the same.
  EXPECT_NE(test::read_bytes(dir / "14.grid"), test::read_bytes(reference()));
  // And a script that imported aacgmv2 or pydarn (which point AACGM_v2_DAT_PREFIX at their -14-
  // set) gets the same grid, with -vb saying where the coefficients came from.
  auto const prefix14 = (test::bin_dir().parent_path() / "share/rstx/tables/aacgm/aacgm_coeffs-14-").lexically_normal();
  r = test::run(tables_env() + "AACGM_v2_DAT_PREFIX=" + q(prefix14) + " " + make_grid() + " -vb " + q(fitacf()) +
                " 2>&1 > " + q(dir / "env14.grid"));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find(prefix14.string() + " (AACGM_v2_DAT_PREFIX)"), std::string::npos) << r.out;
  EXPECT_EQ(test::read_bytes(dir / "env14.grid"), test::read_bytes(dir / "14.grid"));
}

TEST(MakeGridBinary, InputOfAnotherKindIsRefused) {
  for (auto const* rel : {"data/real/test.rawacf", "data/real/test.grid", "data/real/test.map"}) {
    SCOPED_TRACE(rel);
    auto r = test::run(tables_env() + make_grid() + " " + q(test::shared_path(rel)) + " 2>&1 >/dev/null");
    EXPECT_EQ(r.status, 2) << r.out;
    EXPECT_NE(r.out.find(test::shared_path(rel).string() + ": record 0, byte 0: wrong_type: this is a"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("make_grid reads fitacf records"), std::string::npos) << r.out;
  }
}

TEST(MakeGridBinary, TruncatedInputKeepsWhatWasCompleteAndNamesTheOffset) {
  auto dir = test::scratch_dir("make_grid_truncated");
  auto bytes = test::read_bytes(fitacf());
  std::size_t const cut = bytes.size() * 3 / 4 + 123;
  bytes.resize(cut);
  test::write_bytes(dir / "cut.fitacf", bytes);
  auto r = test::run(tables_env() + make_grid() + " -o " + q(dir / "cut.grid") + " " + q(dir / "cut.fitacf") + " 2>&1");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("cut.fitacf"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("record"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("byte"), std::string::npos) << r.out;

  // What was written is a prefix of the full run's output: complete records, never garbage.
  auto const partial = records_of(dir / "cut.grid");
  auto const full = records_of(reference());
  ASSERT_GT(partial.size(), 0U);
  ASSERT_LT(partial.size(), full.size());
  for (std::size_t i = 0; i < partial.size(); ++i)
    EXPECT_EQ(*dmap::encode(partial[i]), *dmap::encode(full[i])) << "record " << i;
}

}  // namespace
}  // namespace rstx::make_grid_cli

namespace rstx::make_grid_cli {
namespace {

TEST(MakeGridBinary, YearsBeyondTheIntEpochAreHandledLikeRst) {
  // time.yr 32767 (a damaged record, or a year past 2038) puts the epoch beyond int: make_grid.c's
  // (int) casts of it are undefined behaviour in C; rstx does what RST's binary does, and the
  // sanitizer build proves nothing undefined happens on the way to the error or the output.
  auto dir = test::scratch_dir("make_grid_far_future");
  auto records = *dmap::read_file(fitacf());
  std::vector<std::byte> bytes;
  for (auto const& r : records) {
    dmap::record out;
    for (std::size_t i = 0; i < r.num_scalars(); ++i) {
      auto const s = r.scalar(i);
      if (s.name() == "time.yr") out.add_scalar<std::int16_t>("time.yr", 32767);
      else out.add_copy(s);
    }
    for (std::size_t i = 0; i < r.num_arrays(); ++i) out.add_copy(r.array(i));
    ASSERT_TRUE(out.encode_to(bytes));
  }
  test::write_bytes(dir / "far.fitacf", bytes);
  for (std::string const options : {"", "-tl 120", "-st 20:12 -tl 120", "-st 20:12 -ex 0:04"}) {
    SCOPED_TRACE(options);
    auto r = test::run(tables_env() + make_grid() + " " + options + " " + q(dir / "far.fitacf") + " 2>&1 >/dev/null");
    EXPECT_TRUE(r.status == 0 || r.status == 2) << r.status << ": " << r.out;
    if (r.status == 2) {
      EXPECT_NE(r.out.find("far.fitacf"), std::string::npos) << r.out;
    }
  }
}

}  // namespace
}  // namespace rstx::make_grid_cli
