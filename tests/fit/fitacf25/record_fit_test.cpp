// FITACF 2.5 per-record core (src/fit/fitacf25/record_fit.cpp) against RST 5.0's make_fit -fitacf2.
//
// Inputs are built straight from the DMAP views of the reference rawacf files, the way RST's
// fill_fit_block builds its FitBlock, so this checks the algorithm alone (the make_fit acceptance
// test checks the whole program); elevations come from the shared elevation_v2 (elevation.hpp).
// Every written float is compared bit for bit; the report lists per field how many values are not
// bit-identical.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "elevation.hpp"
#include "fitacf25/detail/record_fit.hpp"
#include "rstx/core/time.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/radar/hardware.hpp"
#include "support/test_data.hpp"

namespace rstx::fit::detail::fit25 {
namespace {

namespace fs = std::filesystem;

// ---- the FitBlock of one rawacf record ----
struct fit_input {
  record_params prm;
  std::vector<float> pwr0, acf, xcf;
  bool has_acf = false, has_xcf = false;
  int bmnum = 0;
  double tdiff_us = 0;
  record_samples samples() const {
    record_samples s;
    s.pwr0 = pwr0.data();
    if (has_acf) s.acf = acf.data();
    if (has_xcf) s.xcf = xcf.data();
    s.lag_stride = prm.mplgs;
    return s;
  }
};

// RawSetACF + fill_fit_block: ranges in slist get their samples, the others zeros.
void expand(dmap::array_ref const& a, dmap::array_ref const& slist, int nrang, int mplgs, std::vector<float>& z) {
  z.assign(static_cast<std::size_t>(2 * nrang * mplgs), 0.0F);
  auto const lags = static_cast<std::size_t>(a.dim(1));
  ASSERT_EQ(lags, static_cast<std::size_t>(mplgs));
  for (std::size_t s = 0; s < slist.count(); ++s) {
    auto const r = static_cast<std::size_t>(slist.to_int64(s));
    ASSERT_LT(r, static_cast<std::size_t>(nrang));
    for (std::size_t i = 0; i < 2 * lags; ++i) z[2 * r * lags + i] = a.at<float>(2 * lags * s + i);
  }
}

fit_input make_input(dmap::rawacf_view const& v, radar::site const& site) {
  fit_input in;
  auto const& m = v.prm;
  record_params& p = in.prm;
  p.nrang = m.nrang;
  p.mplgs = m.mplgs;
  p.mppul = m.mppul;
  p.nave = m.nave;
  p.mpinc_us = m.mpinc;
  p.smsep_us = m.smsep;
  p.txpl_us = m.txpl;
  p.lagfr_us = m.lagfr;
  p.offset_us = m.offset;
  p.channel = m.channel;
  p.xcf = m.xcf;
  p.tfreq_khz = m.tfreq;
  p.year = m.year;
  p.noise_search = m.noise_search;
  p.vdir = site.vdir;
  p.phidiff = site.phidiff;
  EXPECT_LE(m.mppul, max_pulses);
  EXPECT_LE(m.mplgs, max_lags);
  for (int i = 0; i < m.mppul && i < max_pulses; ++i) p.pulse[i] = m.ptab[static_cast<std::size_t>(i)];
  for (int i = 0; i < m.mplgs && i < max_lags; ++i) {
    p.lag[0][i] = m.ltab[static_cast<std::size_t>(2 * i)];
    p.lag[1][i] = m.ltab[static_cast<std::size_t>(2 * i + 1)];
  }
  in.bmnum = m.bmnum;
  in.tdiff_us = (m.offset == 0 || m.channel < 2) ? site.tdiff_us[0] : site.tdiff_us[1];
  EXPECT_EQ(v.nrang_raw(), static_cast<std::size_t>(m.nrang));
  in.pwr0 = v.pwr0.values<float>();
  in.pwr0.resize(static_cast<std::size_t>(m.nrang), 0.0F);
  if (v.slist && v.acfd) {
    in.has_acf = true;
    expand(*v.acfd, *v.slist, m.nrang, m.mplgs, in.acf);
  }
  if (v.slist && v.xcfd) {
    in.has_xcf = true;
    expand(*v.xcfd, *v.slist, m.nrang, m.mplgs, in.xcf);
  }
  return in;
}

// ---- comparison ----
struct report {
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> fields;  // values, not identical
  std::vector<std::string> first;
  std::uint64_t records = 0, gates = 0;

  void value(std::string const& name, double mine, float ref, std::int64_t rec, std::int64_t rng) {
    auto& f = fields[name];
    ++f.first;
    float const m = static_cast<float>(mine);
    bool const same = std::bit_cast<std::uint32_t>(m) == std::bit_cast<std::uint32_t>(ref) ||
                      (std::isnan(m) && std::isnan(ref));
    if (!same) {
      ++f.second;
      if (first.size() < 20) {
        std::ostringstream os;
        os.precision(9);
        os << "record " << rec << " range " << rng << " " << name << ": rstx " << m << " rst " << ref;
        first.push_back(os.str());
      }
    }
  }
  void exact(std::string const& name, std::int64_t mine, std::int64_t ref, std::int64_t rec, std::int64_t rng) {
    auto& f = fields[name];
    ++f.first;
    if (mine != ref) {
      ++f.second;
      if (first.size() < 20) {
        std::ostringstream os;
        os << "record " << rec << " range " << rng << " " << name << ": rstx " << mine << " rst " << ref;
        first.push_back(os.str());
      }
    }
  }
  [[nodiscard]] std::uint64_t total_bad() const {
    std::uint64_t n = 0;
    for (auto const& [k, v] : fields) n += v.second;
    return n;
  }
  void print(std::string const& title) const {
    std::cout << "[fitacf25] " << title << ": " << records << " records, " << gates << " fitted gates\n";
    for (auto const& [k, v] : fields) {
      std::cout << "    " << k << ": " << v.first << " values, " << v.second << " not bit-identical\n";
    }
    for (auto const& s : first) std::cout << "    first: " << s << "\n";
  }
};

// make_fit options of a reference case that matter here: -tdiff overrides the hardware tdiff.
struct case_options {
  bool has_tdiff = false;
  double tdiff_us = 0.0;
};

void compare_file(std::string const& rawacf, std::string const& reference, report& rep,
                  case_options const& opt = {}) {
  auto raws = dmap::read_file(rawacf);
  ASSERT_TRUE(raws) << raws.error().message();
  auto refs = dmap::read_file(reference);
  ASSERT_TRUE(refs) << refs.error().message();
  ASSERT_EQ(raws->size(), refs->size());
  ASSERT_FALSE(raws->empty());

  auto table = radar::radar_table::load(test::tables_path("radar.dat").string());
  ASSERT_TRUE(table) << table.error().message();
  auto first = dmap::decode_rawacf(raws->front(), dmap::strictness::lenient);
  ASSERT_TRUE(first) << first.error().message();
  auto radar = table->load_hardware(first->prm.stid, test::tables_path("hdw").string() + "/");
  ASSERT_TRUE(radar) << radar.error().message();
  auto const& t = first->prm;
  auto site = radar->site_at(epoch_from_ymdhms(t.year, t.month, t.day, t.hour, t.minute, t.second));
  ASSERT_TRUE(site) << site.error().message();
  elevation_geometry geo{site->interferometer_m[0], site->interferometer_m[1], site->interferometer_m[2],
                         site->maxbeam, site->bmoff_deg, site->bmsep_deg};

  record_scratch scratch;
  record_result res;
  for (std::size_t i = 0; i < raws->size(); ++i) {
    auto const rec = static_cast<std::int64_t>(i);
    auto raw = dmap::decode_rawacf((*raws)[i], dmap::strictness::lenient);
    ASSERT_TRUE(raw) << raw.error().message();
    auto ref = dmap::decode_fitacf((*refs)[i], dmap::strictness::lenient);
    ASSERT_TRUE(ref) << ref.error().message();
    fit_input in = make_input(*raw, *site);
    if (opt.has_tdiff) in.tdiff_us = opt.tdiff_us;
    auto ok = fit_record(in.prm, in.samples(), true, scratch, res);
    ASSERT_TRUE(ok) << ok.error().message();
    ++rep.records;

    rep.value("noise.sky", res.noise_sky, ref->noise_sky, rec, -1);
    rep.value("noise.lag0", 0.0, ref->noise_lag0, rec, -1);
    rep.value("noise.vel", 0.0, ref->noise_vel, rec, -1);
    ASSERT_EQ(ref->pwr0.count(), res.pwr0_db.size());
    for (std::size_t r = 0; r < res.pwr0_db.size(); ++r) {
      rep.value("pwr0", res.pwr0_db[r], ref->pwr0.at<float>(r), rec, static_cast<std::int64_t>(r));
    }

    std::vector<std::size_t> slist;
    for (std::size_t r = 0; r < res.acf.size(); ++r) {
      if (res.acf[r].qflg == qflg_ok) slist.push_back(r);
    }
    std::vector<std::size_t> ref_slist;
    if (ref->slist) {
      for (std::size_t s = 0; s < ref->slist->count(); ++s) {
        ref_slist.push_back(static_cast<std::size_t>(ref->slist->to_int64(s)));
      }
    }
    rep.exact("slist.size", static_cast<std::int64_t>(slist.size()), static_cast<std::int64_t>(ref_slist.size()),
              rec, -1);
    if (slist != ref_slist) {
      ADD_FAILURE() << reference << " record " << rec << ": slist differs";
      continue;
    }
    rep.gates += slist.size();

    auto fget = [&](char const* name) {
      auto a = ref->get(name);
      EXPECT_TRUE(a.has_value()) << name;
      return a;
    };
    bool const xcf = raw->prm.xcf != 0;
    for (std::size_t s = 0; s < slist.size(); ++s) {
      auto const r = slist[s];
      auto const rng = static_cast<std::int64_t>(r);
      range_fit const& a = res.acf[r];
      rep.exact("nlag", a.nump, fget("nlag")->to_int64(s), rec, rng);
      rep.exact("qflg", a.qflg, fget("qflg")->to_int64(s), rec, rng);
      rep.exact("gflg", a.gsct, fget("gflg")->to_int64(s), rec, rng);
      struct named {
        char const* name;
        double value;
      };
      for (named const& f : {named{"p_l", a.p_l}, {"p_l_e", a.p_l_err}, {"p_s", a.p_s}, {"p_s_e", a.p_s_err},
                             {"v", a.v}, {"v_e", a.v_err}, {"w_l", a.w_l}, {"w_l_e", a.w_l_err}, {"w_s", a.w_s},
                             {"w_s_e", a.w_s_err}, {"sd_l", a.sdev_l}, {"sd_s", a.sdev_s},
                             {"sd_phi", a.sdev_phi}}) {
        rep.value(f.name, f.value, fget(f.name)->at<float>(s), rec, rng);
      }
      if (!xcf) continue;
      range_fit const& x = res.xcf[r];
      double elv = 0, elv_low = 0, elv_high = 0;
      if (res.elevation_wanted[r] != 0) {
        double const sgn = (geo.y_m > 0.0) ? 1.0 : -1.0;
        auto e = [&](double psi) { return elevation_v2(geo, raw->prm.bmnum, raw->prm.tfreq, in.tdiff_us, psi); };
        elv = e(x.phi0);
        elv_low = e(x.phi0 + sgn * x.phi0_err);
        elv_high = e(x.phi0 - sgn * x.phi0_err);
      }
      rep.exact("x_qflg", x.qflg, fget("x_qflg")->to_int64(s), rec, rng);
      rep.exact("x_gflg", x.gsct, fget("x_gflg")->to_int64(s), rec, rng);
      for (named const& f : {named{"x_p_l", x.p_l}, {"x_p_l_e", x.p_l_err}, {"x_p_s", x.p_s},
                             {"x_p_s_e", x.p_s_err}, {"x_v", x.v}, {"x_v_e", x.v_err}, {"x_w_l", x.w_l},
                             {"x_w_l_e", x.w_l_err}, {"x_w_s", x.w_s}, {"x_w_s_e", x.w_s_err}, {"phi0", x.phi0},
                             {"phi0_e", x.phi0_err}, {"elv", elv}, {"elv_low", elv_low}, {"elv_high", elv_high},
                             {"x_sd_l", x.sdev_l}, {"x_sd_s", x.sdev_s}, {"x_sd_phi", x.sdev_phi}}) {
        rep.value(f.name, f.value, fget(f.name)->at<float>(s), rec, rng);
      }
    }
  }
}

void check_file(std::string const& rawacf, std::string const& reference, case_options const& opt = {}) {
  report rep;
  compare_file(rawacf, reference, rep, opt);
  rep.print(fs::path(reference).filename().string());
  EXPECT_EQ(rep.total_bad(), 0U) << reference;
}

TEST(Fitacf25Record, RealBorealisBitIdentical) {
  check_file(test::shared_path("data/real/test.rawacf").string(),
             test::shared_path("data/real/test.rawacf.rst-fitacf25.fitacf").string());
}

TEST(Fitacf25Record, SyntheticFloatBitIdentical) {
  check_file(test::shared_path("data/synth/cly_10min_float.rawacf.bz2").string(),
             test::shared_path("data/synth/cly_10min_float.rst-fitacf25.fitacf").string());
}

TEST(Fitacf25Record, SyntheticIntegerBitIdentical) {
  check_file(test::shared_path("data/synth/cly_30min_int.rawacf.bz2").string(),
             test::shared_path("data/synth/cly_30min_int.rst-fitacf25.fitacf").string());
}

// Extra references made with RST 5.0 (tests/data/fit/fitacf25/cases.txt, one case a line:
// `rawacf reference [make_fit options]`, paths relative to that folder), plus any listed in the
// file named by $RSTX_FIT25_CASES (absolute paths) for ad-hoc checks.
std::vector<std::vector<std::string>> read_cases(fs::path const& list, fs::path const& base) {
  std::vector<std::vector<std::string>> out;
  std::ifstream in(list);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::vector<std::string> words;
    for (std::string w; ls >> w;) words.push_back(w);
    if (words.size() < 2) continue;
    for (int i = 0; i < 2; ++i) words[static_cast<std::size_t>(i)] = (base / words[static_cast<std::size_t>(i)]).string();
    out.push_back(words);
  }
  return out;
}

TEST(Fitacf25Record, ExtraReferencesBitIdentical) {
  fs::path const dir = fs::path(RSTX_SOURCE_DIR) / "tests/data/fit/fitacf25";
  auto cases = read_cases(dir / "cases.txt", dir);
  if (char const* extra = std::getenv("RSTX_FIT25_CASES"); extra != nullptr && *extra != '\0') {
    auto more = read_cases(extra, "/");
    cases.insert(cases.end(), more.begin(), more.end());
  }
  if (cases.empty()) GTEST_SKIP() << "no extra references";
  for (auto const& c : cases) {
    SCOPED_TRACE(c[1]);
    case_options opt;
    bool skip = false;
    for (std::size_t i = 2; i < c.size(); ++i) {
      if (c[i] == "-tdiff" && i + 1 < c.size()) {
        opt.has_tdiff = true;
        opt.tdiff_us = std::stod(c[++i]);
      } else if (c[i] == "-fitacf2") {
      } else {
        skip = true;  // e.g. -old_elev: covered by the make_fit acceptance test
      }
    }
    if (skip) continue;
    check_file(c[0], c[1], opt);
  }
}

// smsep 0 (deviations.txt): make_fit in rstx leaves the record out, but the core handles it as RST
// does (txpl in place of smsep), bit for bit.
TEST(Fitacf25Record, ZeroSmsepUsesTxplLikeRst) {
  fs::path const dir = fs::path(RSTX_SOURCE_DIR) / "tests/data/fit/fitacf25";
  check_file((dir / "borealis_smsep0.rawacf").string(), (dir / "borealis_smsep0.rst-fitacf25.fitacf").string());
}

// Stale XCF ranges (deviations.txt): RST lists, in a record with xcf = 0 and nave <= 1, the ranges
// whose XCF fit succeeded in the record before (FitData.xrng is neither reset nor reallocated),
// with zero values. rstx fits every record on its own: nothing is listed.
TEST(Fitacf25Record, StaleXcfRangesOfThePreviousRecordAreNotRepeated) {
  fs::path const dir = fs::path(RSTX_SOURCE_DIR) / "tests/data/fit/fitacf25";
  auto raws = dmap::read_file((dir / "borealis_stale_xcf.rawacf").string());
  auto refs = dmap::read_file((dir / "borealis_stale_xcf.rst-fitacf25.fitacf").string());
  ASSERT_TRUE(raws && refs);
  ASSERT_EQ(raws->size(), 2U);
  ASSERT_EQ(refs->size(), 2U);
  auto ref0 = dmap::decode_fitacf((*refs)[0], dmap::strictness::lenient);
  auto ref1 = dmap::decode_fitacf((*refs)[1], dmap::strictness::lenient);
  ASSERT_TRUE(ref0 && ref1);
  // RST: record 1 lists exactly the ranges of record 0 whose XCF fit succeeded, all zero.
  std::vector<std::int64_t> xfitted;
  auto x_qflg = ref0->get("x_qflg");
  ASSERT_TRUE(x_qflg.has_value());
  for (std::size_t s = 0; s < ref0->snum(); ++s) {
    if (x_qflg->to_int64(s) == 1) xfitted.push_back(ref0->slist->to_int64(s));
  }
  ASSERT_FALSE(xfitted.empty());
  ASSERT_EQ(ref1->snum(), xfitted.size());
  for (std::size_t s = 0; s < ref1->snum(); ++s) {
    EXPECT_EQ(ref1->slist->to_int64(s), xfitted[s]);
    EXPECT_EQ(ref1->get("qflg")->to_int64(s), 0);
    EXPECT_EQ(ref1->get("p_l")->at<float>(s), 0.0F);
  }
  // rstx: record 1 (nave 1) fits nothing.
  auto raw1 = dmap::decode_rawacf((*raws)[1], dmap::strictness::lenient);
  ASSERT_TRUE(raw1);
  radar::site site;
  site.interferometer_m = {0.0, 100.0, 0.0};
  fit_input in = make_input(*raw1, site);
  record_scratch scratch;
  record_result res;
  ASSERT_TRUE(fit_record(in.prm, in.samples(), true, scratch, res));
  for (auto const& a : res.acf) EXPECT_NE(a.qflg, qflg_ok);
  for (auto const& x : res.xcf) EXPECT_NE(x.qflg, qflg_ok);
}

// ---- unit checks of the traps ----
TEST(Fitacf25Record, TruncationToIntFollowsX86) {
  EXPECT_EQ(x86_double_to_int(2.9), 2);
  EXPECT_EQ(x86_double_to_int(-2.9), -2);
  EXPECT_EQ(x86_double_to_int(-0.5), 0);
  EXPECT_EQ(x86_double_to_int(2147483647.0), 2147483647);
  EXPECT_EQ(x86_double_to_int(-2147483648.0), INT32_MIN);
  EXPECT_EQ(x86_double_to_int(-2147483648.9), INT32_MIN);
  EXPECT_EQ(x86_double_to_int(2147483648.0), INT32_MIN);  // out of range: "integer indefinite"
  EXPECT_EQ(x86_double_to_int(1.3e10F), INT32_MIN);
  EXPECT_EQ(x86_double_to_int(-1.3e10F), INT32_MIN);
  EXPECT_EQ(x86_double_to_int(std::nan("")), INT32_MIN);
  EXPECT_EQ(x86_double_to_int(HUGE_VAL), INT32_MIN);
}

record_params tauscan_like() {
  // 13-pulse tauscan-like sequence with 17 lags (make_sim tauscan), stereo channel 1.
  record_params p;
  p.nrang = 75;
  p.mplgs = 17;
  p.mppul = 13;
  p.nave = 20;
  p.mpinc_us = 2400;
  p.smsep_us = 300;
  p.txpl_us = 300;
  p.lagfr_us = 1200;
  p.tfreq_khz = 10500;
  p.year = 2020;
  int const pulses[13] = {0, 15, 16, 23, 27, 29, 32, 47, 50, 52, 56, 63, 64};
  for (int i = 0; i < 13; ++i) p.pulse[i] = pulses[i];
  for (int i = 0; i < 17; ++i) {
    p.lag[0][i] = 0;
    p.lag[1][i] = i;
  }
  return p;
}

TEST(Fitacf25Record, Row13OfSeventeenLagsFollowsTheOption) {
  record_params p = tauscan_like();
  bad_samples b;
  ASSERT_TRUE(find_bad_samples(p, b));
  std::vector<std::int32_t> pwr0(75, 100);
  // flag on: row 13 always bad; off: only before 1993.
  EXPECT_TRUE(is_set(range_bad_lags(p, b, pwr0.data(), 40, true), 13));
  EXPECT_FALSE(is_set(range_bad_lags(p, b, pwr0.data(), 40, false), 13));
  p.mplgs = 18;
  EXPECT_FALSE(is_set(range_bad_lags(p, b, pwr0.data(), 40, true), 13));
}

TEST(Fitacf25Record, TransmitterSweepEqualsRstsPerRangeScan) {
  record_params p = tauscan_like();
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE(variant);
    if (variant == 1) p.offset_us = 400, p.channel = 1;   // stereo A
    if (variant == 2) p.offset_us = 400, p.channel = 2;   // stereo B
    if (variant == 3) {                                   // rows whose second pulse comes first
      p.lag[0][3] = 16, p.lag[1][3] = 0;
      p.lag[0][9] = 52, p.lag[1][9] = 47;
    }
    bad_samples b;
    ASSERT_TRUE(find_bad_samples(p, b));
    std::vector<std::uint64_t> sweep(static_cast<std::size_t>(p.nrang));
    tx_bad_rows(p, b, sweep.data());
    for (int r = 0; r < p.nrang; ++r) EXPECT_EQ(sweep[static_cast<std::size_t>(r)], tx_bad_rows_exact(p, b, r)) << r;
  }
}

TEST(Fitacf25Record, StereoBadSamplesAreSortedAndUnique) {
  record_params p = tauscan_like();
  p.offset_us = 400;
  for (int ch : {1, 2}) {
    p.channel = ch;
    bad_samples b;
    ASSERT_TRUE(find_bad_samples(p, b));
    ASSERT_GT(b.n, 0);
    for (int i = 1; i < b.n; ++i) EXPECT_LT(b.smp[i - 1], b.smp[i]);
  }
}

TEST(Fitacf25Record, MissingSmsepUsesTxplAndBothMissingIsAnError) {
  record_params p = tauscan_like();
  p.smsep_us = 0;
  bad_samples b;
  ASSERT_TRUE(find_bad_samples(p, b));
  EXPECT_EQ(b.smsep_us, 300);
  p.txpl_us = 0;
  auto r = find_bad_samples(p, b);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::bad_value);
}

TEST(Fitacf25Record, OneAverageFitsNothing) {
  record_params p = tauscan_like();
  p.nave = 1;
  std::vector<float> pwr0(75, 1000.0F);
  record_samples s;
  s.pwr0 = pwr0.data();
  record_scratch scratch;
  record_result res;
  ASSERT_TRUE(fit_record(p, s, true, scratch, res));
  EXPECT_EQ(res.noise_sky, 0.0);
  for (double v : res.pwr0_db) EXPECT_EQ(v, 0.0);
  for (auto const& a : res.acf) EXPECT_EQ(a.qflg, 0);
}

// Random records, parameters and samples (valid and not: nave <= 0, smsep 0, negative or huge
// values, NaN, infinities, lag tables out of order): every record either fits or returns an error,
// never crashes, hangs or reads out of bounds (run under ASan/UBSan with RSTX_SANITIZE=ON).
TEST(Fitacf25Record, RandomRecordsNeverCrash) {
  std::mt19937_64 rng(20250525);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  auto value = [&]() -> float {
    switch (pick(0, 9)) {
      case 0: return std::numeric_limits<float>::quiet_NaN();
      case 1: return pick(0, 1) ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
      case 2: return 3e12F * static_cast<float>(pick(-1, 1));
      case 3: return 0.0F;
      default: return std::uniform_real_distribution<float>(-50.0F, 2000.0F)(rng);
    }
  };
  record_scratch scratch;
  record_result res;
  int fitted_records = 0, errors = 0;
  for (int n = 0; n < 3000; ++n) {
    record_params p;
    p.nrang = pick(0, 120);
    p.mplgs = pick(1, max_lags);
    p.mppul = pick(0, max_pulses);
    p.nave = pick(-2, 80);
    p.mpinc_us = pick(0, 1) ? pick(-100, 5000) : 1500;
    p.smsep_us = pick(0, 4) ? pick(1, 600) : pick(-10, 0);
    p.txpl_us = pick(-10, 600);
    p.lagfr_us = pick(-2000, 5000);
    p.offset_us = pick(0, 2) ? 0 : pick(-800, 800);
    p.channel = pick(0, 2);
    p.xcf = pick(0, 1);
    p.tfreq_khz = pick(-1000, 20000);
    p.year = pick(1985, 2030);
    p.noise_search = value();
    p.vdir = pick(0, 1) ? 1.0 : -1.0;
    p.phidiff = static_cast<double>(pick(-1, 1));
    for (int i = 0; i < p.mppul; ++i) p.pulse[i] = pick(-5, 70);
    for (int i = 0; i < p.mplgs; ++i) {
      p.lag[0][i] = pick(-5, 70);
      p.lag[1][i] = pick(0, 3) ? p.lag[0][i] + pick(0, 30) : pick(-5, 70);
    }
    auto const nrang = static_cast<std::size_t>(p.nrang);
    std::vector<float> pwr0(nrang), acf(2 * nrang * static_cast<std::size_t>(p.mplgs)), xcf(acf.size());
    for (auto& v : pwr0) v = value();
    for (auto& v : acf) v = value();
    for (auto& v : xcf) v = value();
    record_samples s;
    s.pwr0 = pwr0.data();
    s.acf = acf.data();
    s.xcf = pick(0, 3) ? xcf.data() : nullptr;
    s.lag_stride = p.mplgs;
    auto r = fit_record(p, s, pick(0, 1) == 1, scratch, res);
    if (!r) {
      ++errors;
      continue;
    }
    ASSERT_EQ(res.acf.size(), nrang);
    for (auto const& a : res.acf) fitted_records += (a.qflg == qflg_ok) ? 1 : 0;
  }
  std::cout << "[fitacf25] random records: " << errors << " errors, " << fitted_records << " ranges fitted\n";
  EXPECT_GT(fitted_records, 0);
}

TEST(Fitacf25Record, TooManyLagsIsUnsupported) {
  record_params p = tauscan_like();
  p.mplgs = max_lags + 1;
  std::vector<float> pwr0(75, 1000.0F);
  record_samples s;
  s.pwr0 = pwr0.data();
  record_scratch scratch;
  record_result res;
  auto r = fit_record(p, s, true, scratch, res);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unsupported);
}

}  // namespace
}  // namespace rstx::fit::detail::fit25
