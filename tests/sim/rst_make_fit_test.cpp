// Optional check against RST itself: simulated files must be accepted by RST 5.0's make_fit, and
// its fits must find the simulated echoes. Skipped when no RST build is available (CI has none):
// set RSTX_RST_MAKE_FIT to a make_fit binary, or build RST at /tmp/rst-build (bin/make_fit).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "sim_test_util.hpp"

namespace rstx::sim {
namespace {

using namespace test_util;
namespace fs = std::filesystem;

std::string make_fit_binary() {
  if (char const* e = std::getenv("RSTX_RST_MAKE_FIT"); e != nullptr && *e != '\0') return e;
  return "/tmp/rst-build/bin/make_fit";
}

struct fit_run {
  int status = -1;
  std::vector<dmap::record> records;
};

fit_run run_make_fit(fs::path const& rawacf, std::string const& algorithm) {
  auto const out = rawacf.string() + "." + algorithm + ".fitacf";
  std::string const env = "SD_RADAR='" + radar_dat() + "' SD_HDWPATH='" + hdw_dir() + "/' SD_TDIFFPATH='" +
                          test::tables_path("tdiff").string() + "/' ";
  fit_run r;
  r.status = test::run(env + make_fit_binary() + " -" + algorithm + " '" + rawacf.string() + "' > '" + out + "' 2>&1").status;
  if (auto recs = dmap::read_file(out)) r.records = std::move(*recs);
  return r;
}

class RstMakeFit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(make_fit_binary())) GTEST_SKIP() << "no RST make_fit at " << make_fit_binary();
  }
};

struct case_def {
  char const* what;
  sim_options opt;
};

std::vector<case_def> cases() {
  std::vector<case_def> out;
  auto base = [] {
    sim_options o;
    o.duration_s = 120.0;
    return o;
  };
  out.push_back({"normalscan floats", base()});
  {
    auto o = base();
    o.sequence = "katscan";
    o.seed = 3;
    out.push_back({"katscan", o});
  }
  {
    auto o = base();
    o.sequence = "normalscan-classic";
    o.integer_values = true;
    o.seed = 4;
    out.push_back({"classic integers", o});
  }
  {
    auto o = base();
    o.width = width_model::gaussian;
    o.xcf = false;
    o.seed = 5;
    out.push_back({"gaussian, no xcf", o});
  }
  {
    auto o = base();
    o.channel = 2;
    o.offset_us = 400;
    o.seed = 6;
    out.push_back({"stereo channel B", o});
  }
  return out;
}

TEST_F(RstMakeFit, AcceptsSimulatedFilesAndFindsTheEchoes) {
  auto const site = cly_site();
  auto const dir = test::scratch_dir("sim-rst");
  for (auto const& c : cases()) {
    auto const path = dir / (std::string("sim-") + std::to_string(c.opt.seed) + ".rawacf");
    std::vector<std::vector<gate_truth>> truth;
    {
      auto w = dmap::writer::create(path.string());
      ASSERT_TRUE(w);
      auto sum = simulate(c.opt, site, [&](dmap::record const& r, record_info const&, std::span<gate_truth const> t) {
        truth.emplace_back(t.begin(), t.end());
        return w->write(r);
      });
      ASSERT_TRUE(sum) << sum.error().message();
      ASSERT_TRUE(w->commit());
    }
    for (char const* algorithm : {"fitacf3", "fitacf2"}) {
      auto const fit = run_make_fit(path, algorithm);
      ASSERT_EQ(fit.status, 0) << c.what << ", " << algorithm;
      ASSERT_EQ(fit.records.size(), truth.size()) << c.what << ", " << algorithm;
      std::size_t fitted = 0, echoes = 0;
      std::vector<double> dv;
      for (std::size_t i = 0; i < fit.records.size(); ++i) {
        auto v = dmap::decode_fitacf(fit.records[i], dmap::strictness::lenient);
        ASSERT_TRUE(v) << v.error().message();
        for (auto const& g : truth[i]) echoes += g.kind != echo_kind::none;
        if (v->snum() == 0) continue;
        auto const vel = v->get("v");
        for (std::size_t k = 0; k < v->snum(); ++k) {
          auto const gate = static_cast<std::size_t>(v->slist->at<std::int16_t>(k));
          ++fitted;
          auto const& t = truth[i][gate];
          if (t.kind != echo_kind::none && t.snr_db > 10.0F) dv.push_back(std::fabs(vel->at<float>(k) - t.velocity_m_s));
        }
      }
      EXPECT_GT(fitted, echoes / 2) << c.what << ", " << algorithm;
      ASSERT_FALSE(dv.empty());
      std::nth_element(dv.begin(), dv.begin() + dv.size() / 2, dv.end());
      EXPECT_LT(dv[dv.size() / 2], 25.0) << c.what << ", " << algorithm << ": median |v - v_true| at SNR > 10 dB";
    }
  }
}

}  // namespace
}  // namespace rstx::sim
