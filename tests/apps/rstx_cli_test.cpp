// End-to-end tests of the rstx binary: exit statuses, messages and outputs on real files.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "support/test_data.hpp"

namespace rstx {
namespace {

namespace fs = std::filesystem;

std::string rstx_bin() { return (test::bin_dir() / "rstx").string(); }
std::string q(fs::path const& p) { return test::quoted(p); }

test::run_result rstx(std::string const& args) { return test::run(rstx_bin() + " " + args + " 2>&1"); }

fs::path shared(std::string const& rel) { return test::shared_path(rel); }

/** A copy of test.rawacf cut short inside its second record. */
fs::path truncated_rawacf(fs::path const& dir) {
  auto b = test::read_bytes(shared("data/real/test.rawacf"));
  b.resize(b.size() - 1000);
  auto p = dir / "cut.rawacf";
  test::write_bytes(p, b);
  return p;
}

TEST(RstxCli, UsageErrorsExitWithOne) {
  EXPECT_EQ(rstx("").status, 1);
  EXPECT_EQ(rstx("frobnicate").status, 1);
  EXPECT_EQ(rstx("dump").status, 1);
  EXPECT_EQ(rstx("diff --rtol -1 a b").status, 1);
  auto v = rstx("--version");
  EXPECT_EQ(v.status, 0);
  EXPECT_NE(v.out.find("rstx "), std::string::npos);
}

TEST(RstxCli, DumpTextShowsEveryField) {
  auto r = rstx("dump --first 1 --count 1 " + q(shared("data/real/test.rawacf.rst-fitacf3.fitacf")));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("record 1 (byte "), std::string::npos);
  EXPECT_EQ(r.out.find("record 0 "), std::string::npos);
  EXPECT_NE(r.out.find("\tshort\t\"stid\" = 66"), std::string::npos);
  EXPECT_NE(r.out.find("\tstring\t\"algorithm\" = \"fitacf3\""), std::string::npos);
  EXPECT_NE(r.out.find("\tfloat\t\"pwr0\" [100]="), std::string::npos);
}

TEST(RstxCli, DumpJsonIsOneParsableObjectPerRecord) {
  auto r = test::run(rstx_bin() + " dump --json " + q(shared("data/real/test.rawacf.rst-fitacf3.fitacf")));
  ASSERT_EQ(r.status, 0);
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  bool saw_nan = false;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["record"], n);
    EXPECT_EQ(j["scalars"][6]["name"], "stid");
    EXPECT_EQ(j["scalars"][6]["value"], 66);
    for (auto const& a : j["arrays"])
      if (a["name"] == "elv")
        for (auto const& v : a["values"]) saw_nan = saw_nan || v == "NaN";
    ++n;
  }
  EXPECT_EQ(n, 2);
  (void)saw_nan;  // NaN elevations are spelled "NaN" when present
}

TEST(RstxCli, InfoSummarisesAndCountsDamage) {
  auto r = rstx("info " + q(shared("data/synth/cly_30min_int.rawacf.bz2")));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("type:        rawacf"), std::string::npos);
  EXPECT_NE(r.out.find("records:     480"), std::string::npos);
  EXPECT_NE(r.out.find("2021-06-07T18:00:00"), std::string::npos);
  EXPECT_NE(r.out.find("beams:       0-15"), std::string::npos);
  EXPECT_NE(r.out.find("corrupt:     none"), std::string::npos);

  auto dir = test::scratch_dir("cli_info");
  auto cut = truncated_rawacf(dir);
  auto bad = rstx("info " + q(cut));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("records:     1"), std::string::npos);
  EXPECT_NE(bad.out.find("1 damaged stretch(es)"), std::string::npos);
  EXPECT_NE(bad.out.find("cut.rawacf: record 1"), std::string::npos) << bad.out;

  auto missing = rstx("info /nonexistent/x.rawacf");
  EXPECT_EQ(missing.status, 3);
  EXPECT_NE(missing.out.find("/nonexistent/x.rawacf"), std::string::npos);
}

TEST(RstxCli, InfoSummarisesFitsAndGrids) {
  auto f = rstx("info " + q(shared("data/real/test.rawacf.rst-fitacf3.fitacf")));
  ASSERT_EQ(f.status, 0) << f.out;
  EXPECT_NE(f.out.find("algorithm:   fitacf3"), std::string::npos);
  // slist holds 15 ranges in record 0 of this reference (see the fitacf3 reference file)
  EXPECT_NE(f.out.find("fitted:      "), std::string::npos);
  EXPECT_NE(f.out.find("velocity:    "), std::string::npos);
  auto g = rstx("info --json " + q(shared("data/synth/cly_30min_int.rst-fitacf3.grid")));
  ASSERT_EQ(g.status, 0);
  auto j = nlohmann::json::parse(g.out);
  EXPECT_EQ(j["records"], 13);
  EXPECT_EQ(j["vectors"], 2352);
  EXPECT_EQ(j["vectors_per_record"][0], 140);
  EXPECT_EQ(j["vectors_per_record"][1], 212);
  EXPECT_GE(j["velocity_m_s"][0].get<double>(), 0.0);  // grid velocities are magnitudes
  EXPECT_FALSE(j.contains("intervals"));

  auto per = rstx("info --json --intervals " + q(shared("data/synth/cly_30min_int.rst-fitacf3.grid")));
  ASSERT_EQ(per.status, 0);
  auto ji = nlohmann::json::parse(per.out);
  ASSERT_EQ(ji["intervals"].size(), 13U);
  std::int64_t total = 0;
  for (auto const& iv : ji["intervals"]) {
    total += iv["vectors"].get<std::int64_t>();
    EXPECT_LE(iv["velocity_m_s"][1].get<double>(), j["velocity_m_s"][1].get<double>());
  }
  EXPECT_EQ(total, 2352);
  EXPECT_EQ(ji["intervals"][0]["start"], "2021-06-07T18:01:00.065Z");
  EXPECT_EQ(ji["intervals"][0]["end"], "2021-06-07T18:03:00.065Z");
  auto text = rstx("info --intervals " + q(shared("data/synth/cly_30min_int.rst-fitacf3.grid")));
  EXPECT_NE(text.out.find("    18:01:00-18:03:00    212 vectors"), std::string::npos) << text.out;
}

TEST(RstxCli, ValidatePassesGoodFilesAndNamesProblems) {
  EXPECT_EQ(rstx("validate " + q(shared("data/real/test.rawacf")) + " " + q(shared("data/real/test.grid"))).status, 0);
  auto dir = test::scratch_dir("cli_validate");
  auto cut = truncated_rawacf(dir);
  auto r = rstx("validate " + q(cut));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("FAIL"), std::string::npos);
  EXPECT_NE(r.out.find("cut.rawacf: record 1, byte "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("truncated"), std::string::npos);

  auto empty = dir / "empty.rawacf";
  test::write_bytes(empty, {});
  auto e = rstx("validate " + q(empty));
  EXPECT_EQ(e.status, 2);
  EXPECT_NE(e.out.find("no records"), std::string::npos);

  EXPECT_EQ(rstx("validate --strict " + q(shared("data/real/test.map"))).status, 2);
  EXPECT_EQ(rstx("validate --type grid " + q(shared("data/real/test.rawacf"))).status, 2);
}

TEST(RstxCli, DiffReportsEqualityAndDifferences) {
  auto const ref = shared("data/real/test.rawacf.rst-fitacf3.fitacf");
  auto same = rstx("diff " + q(ref) + " " + q(ref));
  EXPECT_EQ(same.status, 0);
  EXPECT_NE(same.out.find("RESULT: equal (bit-identical)"), std::string::npos);

  auto dir = test::scratch_dir("cli_diff");
  auto recs = *dmap::read_file(ref.string());
  auto nudge = [&](double factor, std::string const& name) {
    std::vector<dmap::record> out;
    for (auto const& r : recs) {
      dmap::record m;
      for (std::size_t i = 0; i < r.num_scalars(); ++i) {
        auto s = r.scalar(i);
        if (s.name() == "origin.time") m.add_string("origin.time", "Thu Jan  1 00:00:00 1970");
        else m.add_copy(s);
      }
      for (std::size_t i = 0; i < r.num_arrays(); ++i) {
        auto a = r.array(i);
        if (a.name() != "v") {
          m.add_copy(a);
          continue;
        }
        auto v = a.values<float>();
        v[0] = static_cast<float>(v[0] * factor);
        m.add_array<float>("v", v);
      }
      out.push_back(std::move(m));
    }
    auto path = dir / name;
    auto w = dmap::writer::create(path.string());
    for (auto const& r : out) EXPECT_TRUE(w->write(r));
    EXPECT_TRUE(w->commit());
    return path;
  };
  auto tiny = nudge(1.0 + 1e-7, "tiny.fitacf");
  auto r1 = rstx("diff " + q(tiny) + " " + q(ref));
  EXPECT_EQ(r1.status, 0) << r1.out;
  EXPECT_NE(r1.out.find("RESULT: equal within tolerance"), std::string::npos);
  EXPECT_NE(r1.out.find("floats not bit-identical:   2"), std::string::npos) << r1.out;

  auto big = nudge(1.01, "big.fitacf");
  auto r2 = rstx("diff " + q(big) + " " + q(ref));
  EXPECT_EQ(r2.status, 5);
  EXPECT_NE(r2.out.find("beyond tolerance"), std::string::npos);
  EXPECT_EQ(rstx("diff --rtol 0.1 " + q(big) + " " + q(ref)).status, 0);
  EXPECT_EQ(rstx("diff --no-default-ignore " + q(tiny) + " " + q(tiny)).status, 0);

  auto other = rstx("diff " + q(shared("data/real/test.rawacf.rst-fitacf25.fitacf")) + " " + q(ref));
  EXPECT_EQ(other.status, 5);
  auto j = test::run(rstx_bin() + " diff --json " + q(tiny) + " " + q(ref));
  auto parsed = nlohmann::json::parse(j.out);
  EXPECT_EQ(parsed["not_identical"], 2);
  EXPECT_EQ(parsed["equal"], true);
}

TEST(RstxCli, ConvertRoundTripsAndSalvages) {
  auto dir = test::scratch_dir("cli_convert");
  auto const src = shared("data/real/test.rawacf");
  auto bz = dir / "x.rawacf.bz2";
  auto back = dir / "x.rawacf";
  ASSERT_EQ(rstx("convert " + q(src) + " " + q(bz)).status, 0);
  ASSERT_EQ(rstx("convert " + q(bz) + " " + q(back)).status, 0);
  EXPECT_EQ(test::read_bytes(back), test::read_bytes(src));
  EXPECT_EQ(test::decompressed_bytes(bz), test::read_bytes(src));

  // A damaged middle: without --recover nothing is written; with it the valid records are kept.
  auto b = test::read_bytes(src);
  auto first = static_cast<std::size_t>(dmap::read_header(b).size);
  auto twice = b;
  twice.insert(twice.end(), b.begin(), b.end());
  std::int32_t bad = -3;
  std::memcpy(twice.data() + first + 8, &bad, 4);
  auto damaged = dir / "damaged.rawacf";
  test::write_bytes(damaged, twice);
  auto out = dir / "salvaged.rawacf";
  test::write_bytes(out, {std::byte{7}});
  auto fail = rstx("convert " + q(damaged) + " " + q(out));
  EXPECT_EQ(fail.status, 2);
  EXPECT_NE(fail.out.find("damaged.rawacf: record 1, byte "), std::string::npos) << fail.out;
  EXPECT_EQ(test::read_bytes(out), std::vector<std::byte>{std::byte{7}}) << "existing output was touched";
  auto ok = rstx("convert --recover " + q(damaged) + " " + q(out));
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_NE(ok.out.find("skipped"), std::string::npos);
  auto salvaged = dmap::read_file(out.string());
  ASSERT_TRUE(salvaged);
  EXPECT_EQ(salvaged->size(), 3u);
}

TEST(RstxCli, RecordSizeLimitIsConfigurable) {
  auto const raw = q(shared("data/real/test.rawacf"));
  auto r = rstx("validate --max-record-size 10K " + raw);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("too_large"), std::string::npos) << r.out;
  EXPECT_EQ(rstx("validate --max-record-size 1M " + raw).status, 0);
  EXPECT_EQ(rstx("dump --max-record-size 10K " + raw).status, 2);
}

TEST(RstxCli, ReadsStandardInput) {
  auto r = test::run("cat " + q(shared("data/real/test.rawacf.bz2")) + " | " + rstx_bin() + " info -");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("records:     2"), std::string::npos);
}

}  // namespace
}  // namespace rstx
