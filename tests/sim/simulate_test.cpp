// The rawacf simulator: valid records in RST's layout, determinism, timing and scan structure,
// the physics (lag-0 statistics, Doppler slope, decay, interferometer phase), integer output,
// option errors and bounded memory.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <numeric>

#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "sim_test_util.hpp"

namespace rstx::sim {
namespace {

using namespace test_util;

// ---------------------------------------------------------------- validity and layout

/** The scalar names of RST's RawEncode, in order (dmap.md §2 and §3.1). */
std::vector<std::string> const rawacf_scalar_order = {
    "radar.revision.major", "radar.revision.minor", "origin.code", "origin.time", "origin.command", "cp", "stid",
    "time.yr", "time.mo", "time.dy", "time.hr", "time.mt", "time.sc", "time.us", "txpow", "nave", "atten", "lagfr",
    "smsep", "ercod", "stat.agc", "stat.lopwr", "noise.search", "noise.mean", "channel", "bmnum", "bmazm", "scan",
    "offset", "rxrise", "intt.sc", "intt.us", "txpl", "mpinc", "mppul", "mplgs", "mplgexs", "ifmode", "nrang", "frang",
    "rsep", "xcf", "tfreq", "mxpwr", "lvmax", "combf", "rawacf.revision.major", "rawacf.revision.minor", "thr"};

void expect_valid(dmap::record const& r, sim_options const& o, pulse_sequence const& seq) {
  auto v = dmap::decode_rawacf(r, dmap::strictness::strict);
  ASSERT_TRUE(v) << v.error().message();
  auto kind = dmap::validate_record(r, dmap::strictness::strict);
  ASSERT_TRUE(kind) << kind.error().message();
  EXPECT_EQ(*kind, dmap::product::rawacf);
  ASSERT_EQ(r.num_scalars(), rawacf_scalar_order.size());
  for (std::size_t i = 0; i < r.num_scalars(); ++i) EXPECT_EQ(r.scalar(i).name(), rawacf_scalar_order[i]);
  std::vector<std::string> arrays;
  for (std::size_t i = 0; i < r.num_arrays(); ++i) arrays.emplace_back(r.array(i).name());
  std::vector<std::string> want = {"ptab", "ltab", "slist", "pwr0", "acfd"};
  if (o.xcf) want.emplace_back("xcfd");
  EXPECT_EQ(arrays, want);
  EXPECT_EQ(v->prm.nrang, o.nrang);
  EXPECT_EQ(v->nrang_raw(), static_cast<std::size_t>(o.nrang));
  EXPECT_EQ(v->snum(), static_cast<std::size_t>(o.nrang));
  EXPECT_EQ(v->acf_lags(), static_cast<std::size_t>(seq.mplgs()));
  EXPECT_EQ(v->prm.mplgs, seq.mplgs());
  EXPECT_EQ(v->prm.ltab_rows(), static_cast<std::size_t>(seq.mplgs() + 1));
  EXPECT_EQ(v->prm.ptab, seq.ptab);
  EXPECT_EQ(v->prm.xcf, o.xcf ? 1 : 0);
  EXPECT_EQ(v->xcfd.has_value(), o.xcf);
  EXPECT_GT(v->prm.nave, 0);
  EXPECT_EQ(v->prm.mpinc % v->prm.smsep, 0);
  for (std::size_t g = 0; g < v->nrang_raw(); ++g) {
    float const p = v->pwr0.at<float>(g);
    EXPECT_GT(p, 0.0F) << "gate " << g;
    EXPECT_TRUE(std::isfinite(p));
    EXPECT_EQ(p, static_cast<float>(lag_value(*v->acfd, g, 0).real())) << "pwr0 is the lag-0 ACF power";
    EXPECT_EQ(lag_value(*v->acfd, g, 0).imag(), 0.0) << "lag 0 is real";
  }
}

TEST(Simulate, RecordsAreStrictlyValidRawacfForEverySequence) {
  auto const site = cly_site();
  for (char const* name : {"normalscan", "normalscan-classic", "katscan"}) {
    for (bool xcf : {true, false}) {
      for (bool integer : {false, true}) {
        auto o = small_options();
        o.duration_s = 10.0;
        o.sequence = name;
        o.xcf = xcf;
        o.integer_values = integer;
        auto seq = sequence_by_name(name);
        ASSERT_TRUE(seq);
        auto recs = run_records(o, site);
        ASSERT_FALSE(recs.empty());
        for (auto const& r : recs) expect_valid(r, o, *seq);
      }
    }
  }
}

TEST(Simulate, ParameterBlockDescribesTheRadar) {
  auto const site = cly_site();
  auto o = small_options();
  auto recs = run_records(o, site);
  ASSERT_EQ(recs.size(), 16u);
  for (std::size_t i = 0; i < recs.size(); ++i) {
    auto v = dmap::decode_rawacf(recs[i], dmap::strictness::strict);
    ASSERT_TRUE(v);
    auto const& p = v->prm;
    EXPECT_EQ(p.stid, 66);
    EXPECT_EQ(p.bmnum, static_cast<int>(i));
    EXPECT_FLOAT_EQ(p.bmazm, static_cast<float>(site.boresight_deg + site.bmoff_deg + site.bmsep_deg * (i - 7.5)));
    EXPECT_EQ(p.tfreq, 10700);
    EXPECT_EQ(p.frang, 180);
    EXPECT_EQ(p.rsep, 45);
    EXPECT_EQ(p.lagfr, 1200);
    EXPECT_EQ(p.smsep, 300);
    EXPECT_EQ(p.txpl, 300);
    EXPECT_EQ(p.mpinc, 2400);
    EXPECT_EQ(p.nave, 31);  // 3 s of 96 ms sequences
    EXPECT_EQ(p.intt_sc, 3);
    EXPECT_EQ(p.intt_us, 0);
    EXPECT_EQ(p.cp, 150);
    EXPECT_EQ(p.origin_time, "Mon Jun  7 18:00:00 2021");
    EXPECT_GT(p.noise_search, 0.0F);
  }
}

// ---------------------------------------------------------------- determinism

TEST(Simulate, SameSeedGivesIdenticalBytesAndAnotherSeedDoesNot) {
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 120.0;
  auto const a = run_bytes(o, site);
  auto const b = run_bytes(o, site);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  o.seed = 2;
  auto const c = run_bytes(o, site);
  EXPECT_EQ(a.size(), c.size());
  EXPECT_NE(a, c);
}

TEST(Simulate, RecordsCanBeMadeInAnyOrder) {
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 120.0;
  auto seq = run_records(o, site);
  auto gen = generator::create(o, site);
  ASSERT_TRUE(gen);
  dmap::record r;
  for (std::int64_t i = gen->total_records() - 1; i >= 0; i -= 5) {
    gen->make_record(i, r);
    EXPECT_TRUE(dmap::bitwise_equal(r, seq[static_cast<std::size_t>(i)])) << "record " << i;
  }
}

/** FNV-1a 64 of a byte stream. */
std::uint64_t fnv1a(std::vector<std::byte> const& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (auto b : bytes) h = (h ^ static_cast<std::uint64_t>(b)) * 0x100000001b3ULL;
  return h;
}

TEST(Simulate, OutputIsPinned) {
  // The bytes of a small file, pinned: they must be the same on every platform and compiler. A
  // deliberate change of the model changes this value; update it then (and say so in docs/sim.md).
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 8.0;
  auto const bytes = run_bytes(o, site);
  EXPECT_EQ(bytes.size(), 110193u);
  EXPECT_EQ(fnv1a(bytes), 0x251b5c3e3374e4f0ULL) << std::hex << fnv1a(bytes);
}

// ---------------------------------------------------------------- time and scan structure

TEST(Simulate, TwoHoursAreThe1920RecordBenchmark) {
  auto const site = cly_site();
  sim_options o;  // the defaults
  auto gen = generator::create(o, site);
  ASSERT_TRUE(gen);
  EXPECT_EQ(gen->total_records(), 1920);
  EXPECT_EQ(gen->total_scans(), 120);
  auto const last = gen->info(1919);
  EXPECT_EQ(last.scan, 119);
  EXPECT_EQ(last.bmnum, 15);
  EXPECT_DOUBLE_EQ(last.epoch, o.start_epoch + 119 * 60.0 + 15 * 3.75);
}

TEST(Simulate, TimesScanFlagsAndBeamOrder) {
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 90.0;  // one full scan and the beams of the second that start before 90 s
  o.beams = {15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  std::vector<record_info> infos;
  auto recs = run_records(o, site, nullptr, &infos);
  ASSERT_EQ(recs.size(), 16u + 8u);  // 60 + 7 * 3.75 = 86.25 < 90 <= 60 + 8 * 3.75
  for (std::size_t i = 0; i < recs.size(); ++i) {
    auto v = dmap::decode_rawacf(recs[i], dmap::strictness::strict);
    ASSERT_TRUE(v);
    std::size_t const pos = i % 16;
    EXPECT_EQ(v->prm.bmnum, 15 - static_cast<int>(pos));
    EXPECT_EQ(v->prm.scan, pos == 0 ? 1 : 0) << "record " << i;
    double const want = o.start_epoch + static_cast<double>(i / 16) * 60.0 + static_cast<double>(pos) * 3.75;
    EXPECT_DOUBLE_EQ(v->prm.epoch(), want) << "record " << i;
    EXPECT_DOUBLE_EQ(infos[i].epoch, want);
    EXPECT_EQ(infos[i].index, static_cast<std::int64_t>(i));
  }
}

TEST(Simulate, DwellAndIntegrationTimeOptions) {
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 7.0;
  o.beams = {3, 5};
  o.scan_s = 7.0;
  o.beam_dwell_s = 3.5;
  o.intt_s = 2.0;
  auto recs = run_records(o, site);
  ASSERT_EQ(recs.size(), 2u);
  auto v = dmap::decode_rawacf(recs[1], dmap::strictness::strict);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->prm.bmnum, 5);
  EXPECT_EQ(v->prm.intt_sc, 2);
  EXPECT_EQ(v->prm.nave, 20);  // 2 s / 96 ms
  EXPECT_DOUBLE_EQ(v->prm.epoch(), o.start_epoch + 3.5);
}

TEST(Simulate, ZeroDurationGivesNoRecords) {
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 0.0;
  auto gen = generator::create(o, site);
  ASSERT_TRUE(gen);
  EXPECT_EQ(gen->total_records(), 0);
  EXPECT_TRUE(run_records(o, site).empty());
}

// ---------------------------------------------------------------- physics

/** A uniform echo with no fluctuations and no self-clutter: the expected values themselves. */
sim_options exact_uniform(double snr_db, double vel, double width, double elevation_deg) {
  auto o = small_options();
  o.duration_s = 60.0;
  o.scene.kind = scene_kind::uniform;
  o.scene.uniform = {snr_db, vel, width, elevation_deg, 1.0, 10};
  o.fluctuations = false;
  o.self_clutter = false;
  return o;
}

TEST(Physics, NoiseFreeAcfIsTheModel) {
  auto const site = cly_site();
  for (auto model : {width_model::lorentzian, width_model::gaussian}) {
    auto o = exact_uniform(20.0, 350.0, 180.0, 20.0);
    o.width = model;
    o.beams = {4};
    auto seq = sequence_by_name(o.sequence);
    auto recs = run_records(o, site);
    ASSERT_EQ(recs.size(), 1u);
    auto v = dmap::decode_rawacf(recs[0], dmap::strictness::strict);
    ASSERT_TRUE(v);
    double const noise = v->prm.noise_search;
    double const lambda = speed_of_light_m_s / (v->prm.tfreq * 1e3);
    double const power = noise * std::pow(10.0, 2.0);
    for (std::size_t g = 0; g < 100; ++g) {
      bool const echo = g >= 10;
      EXPECT_NEAR(lag_value(*v->acfd, g, 0).real(), noise + (echo ? power : 0.0), 1e-6 * power);
      for (int k = 1; k < seq->mplgs(); ++k) {
        double const tau = seq->lag_number(k) * 2400e-6;
        double const rho = model == width_model::lorentzian
                               ? std::exp(-2 * pi * 180.0 * tau / lambda)
                               : std::exp(-(pi * 180.0 * tau) * (pi * 180.0 * tau) / (lambda * lambda * std::log(2.0)));
        std::complex<double> const want = echo ? power * rho * std::polar(1.0, 4 * pi * 350.0 * tau / lambda) : 0.0;
        auto const got = lag_value(*v->acfd, g, static_cast<std::size_t>(k));
        EXPECT_NEAR(got.real(), want.real(), 2e-6 * power) << "gate " << g << " lag row " << k;
        EXPECT_NEAR(got.imag(), want.imag(), 2e-6 * power) << "gate " << g << " lag row " << k;
      }
    }
  }
}

TEST(Physics, FitacfEstimatorsRecoverVelocityAndWidthFromNoiseFreeAcfs) {
  // Apply FITACF's formulas (fitacf3.md §14.3) to least-squares fits of the simulated ACF:
  // v = slope * c / (4 pi f) * vdir, w_l = |b| c / (4 pi f) * 2, w_s = sqrt|b| c / (4 pi f) * 4 sqrt(ln 2).
  auto const site = cly_site();
  for (auto model : {width_model::lorentzian, width_model::gaussian}) {
    auto o = exact_uniform(25.0, -420.0, 140.0, 20.0);
    o.width = model;
    o.beams = {9};
    auto seq = sequence_by_name(o.sequence);
    auto recs = run_records(o, site);
    auto v = dmap::decode_rawacf(recs.at(0), dmap::strictness::strict);
    ASSERT_TRUE(v);
    double const f = v->prm.tfreq * 1e3;
    double const k = speed_of_light_m_s / (4 * pi * f);
    double sxx = 0, sxy = 0, s1 = 0, sx = 0, sy = 0, sxx_l = 0, sxy_l = 0;
    std::size_t const gate = 50;
    for (int row = 1; row < seq->mplgs(); ++row) {
      double const t = seq->lag_number(row) * 2400e-6;
      auto const z = lag_value(*v->acfd, gate, static_cast<std::size_t>(row));
      if (seq->lag_number(row) <= 4) {  // phase still inside (-pi, pi]: no unwrapping needed
        sxx += t * t;
        sxy += t * std::arg(z);
      }
      double const x = model == width_model::lorentzian ? t : t * t;
      s1 += 1;
      sx += x;
      sy += std::log(std::abs(z));
      sxx_l += x * x;
      sxy_l += x * std::log(std::abs(z));
    }
    double const slope = sxy / sxx;
    double const b = (s1 * sxy_l - sx * sy) / (s1 * sxx_l - sx * sx);
    EXPECT_NEAR(slope * k * site.vdir, -420.0, 0.01);
    double const w = model == width_model::lorentzian ? std::fabs(b) * k * 2.0
                                                      : std::sqrt(std::fabs(b)) * k * 4.0 * std::sqrt(std::log(2.0));
    EXPECT_NEAR(w, 140.0, 0.01);
  }
}

TEST(Physics, LagZeroXcfPhaseGivesBackTheElevation) {
  auto const base = cly_site();
  // cly as it is, and variants: interferometer behind the main array with phidiff -1, Z and X offsets,
  // a cable delay, and a stereo channel B with its own tdiff.
  struct variant {
    char const* what;
    double y_m, z_m, x_m, phidiff, tdiff_a_us, tdiff_b_us;
    int channel, offset_us;
  };
  for (auto const& c : {variant{"cly", 100.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0, 0},
                        variant{"behind, phidiff -1", -100.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0, 0},
                        variant{"x, z, tdiff", 100.0, -3.0, 1.5, 1.0, 0.35, 0.0, 0, 0},
                        variant{"stereo B", 100.0, 0.0, 0.0, 1.0, 0.1, -0.25, 2, 400}}) {
    auto site = base;
    site.interferometer_m = {c.x_m, c.y_m, c.z_m};
    site.phidiff = c.phidiff;
    site.tdiff_us = {c.tdiff_a_us, c.tdiff_b_us};
    double const tdiff_used = (c.offset_us == 0 || c.channel < 2) ? c.tdiff_a_us : c.tdiff_b_us;
    for (double el : {3.0, 12.0, 25.0, 38.0}) {
      auto o = exact_uniform(20.0, 200.0, 100.0, el);
      o.channel = c.channel;
      o.offset_us = c.offset_us;
      o.beams = {0, 7, 15};
      o.scan_s = 12.0;
      o.duration_s = 12.0;
      std::vector<std::vector<gate_truth>> truth;
      auto recs = run_records(o, site, &truth);
      ASSERT_EQ(recs.size(), 3u);
      for (std::size_t i = 0; i < recs.size(); ++i) {
        auto v = dmap::decode_rawacf(recs[i], dmap::strictness::strict);
        ASSERT_TRUE(v);
        std::size_t const gate = 60;
        double const phi0 = std::arg(lag_value(*v->xcfd, gate, 0)) * site.phidiff;  // FITACF's phi0
        EXPECT_NEAR(phi0, truth[i][gate].xcf_phase_rad, 1e-5) << c.what;
        double const psi = interferometer_phase_rad(site, v->prm.bmnum, v->prm.tfreq, el, tdiff_used);
        EXPECT_NEAR(std::remainder(phi0 - psi, 2 * pi), 0.0, 1e-5) << c.what;
        double const got = elevation_v2(site, v->prm.bmnum, v->prm.tfreq, tdiff_used, phi0);
        EXPECT_NEAR(got, el, 1e-3) << c.what << ", beam " << v->prm.bmnum << ", elevation " << el;
        EXPECT_NEAR(truth[i][gate].elevation_deg, el, 1e-4);
      }
    }
  }
}

TEST(Physics, ElevationSurvivesTheFluctuationsAtHighSnr) {
  auto const site = cly_site();
  auto o = small_options();
  o.scene.kind = scene_kind::uniform;
  o.scene.uniform = {30.0, 300.0, 100.0, 22.0, 0.95, 40};
  o.self_clutter = false;
  o.nave = 70;
  std::vector<std::vector<gate_truth>> truth;
  auto recs = run_records(o, site, &truth);
  double worst = 0.0;
  for (auto const& r : recs) {
    auto v = dmap::decode_rawacf(r, dmap::strictness::strict);
    ASSERT_TRUE(v);
    for (std::size_t g = 40; g < 100; ++g) {
      double const e = elevation_v2(site, v->prm.bmnum, v->prm.tfreq, 0.0, std::arg(lag_value(*v->xcfd, g, 0)));
      worst = std::max(worst, std::fabs(e - 22.0));
    }
  }
  EXPECT_LT(worst, 3.0);
}

TEST(Physics, NoiseStatisticsMatchTheLagProductVariance) {
  // Noise only: lag 0 has mean N and variance N^2/nave; other lags mean 0 and N^2/(2 nave) per part.
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 600.0;
  o.scene.kind = scene_kind::noise_only;
  o.noise = 500.0;
  auto recs = run_records(o, site);
  double s0 = 0, s00 = 0, sr = 0, srr = 0, si = 0, sii = 0;
  double n0 = 0, n1 = 0;
  int nave = 0;
  for (auto const& r : recs) {
    auto v = dmap::decode_rawacf(r, dmap::strictness::strict);
    ASSERT_TRUE(v);
    nave = v->prm.nave;
    EXPECT_EQ(v->prm.noise_search, 500.0F);
    for (std::size_t g = 0; g < 100; ++g) {
      double const p = lag_value(*v->acfd, g, 0).real();
      s0 += p;
      s00 += p * p;
      ++n0;
      for (std::size_t k = 1; k < 22; ++k) {
        auto const z = lag_value(*v->acfd, g, k);
        sr += z.real();
        srr += z.real() * z.real();
        si += z.imag();
        sii += z.imag() * z.imag();
        ++n1;
      }
    }
  }
  double const mean0 = s0 / n0, var0 = s00 / n0 - mean0 * mean0;
  EXPECT_NEAR(mean0, 500.0, 500.0 * 0.005);
  EXPECT_NEAR(var0, 500.0 * 500.0 / nave, 0.03 * 500.0 * 500.0 / nave);
  EXPECT_NEAR(sr / n1, 0.0, 0.5);
  EXPECT_NEAR(si / n1, 0.0, 0.5);
  EXPECT_NEAR(srr / n1, 500.0 * 500.0 / (2.0 * nave), 0.02 * 500.0 * 500.0 / (2.0 * nave));
  EXPECT_NEAR(sii / n1, 500.0 * 500.0 / (2.0 * nave), 0.02 * 500.0 * 500.0 / (2.0 * nave));
}

TEST(Physics, MeanAcfHasThePowerDopplerSlopeAndDecay) {
  // With fluctuations: averaged over many gates the ACF converges to the model, lag 0 to P + N.
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 240.0;
  o.scene.kind = scene_kind::uniform;
  o.scene.uniform = {15.0, 250.0, 120.0, 20.0, 1.0, 34};
  o.self_clutter = false;
  auto seq = sequence_by_name(o.sequence);
  auto recs = run_records(o, site);
  std::vector<std::complex<double>> mean(static_cast<std::size_t>(seq->mplgs()));
  double count = 0, noise = 0;
  for (auto const& r : recs) {
    auto v = dmap::decode_rawacf(r, dmap::strictness::strict);
    ASSERT_TRUE(v);
    noise += v->prm.noise_search;
    for (std::size_t g = 34; g < 100; ++g) {
      for (std::size_t k = 0; k < mean.size(); ++k) mean[k] += lag_value(*v->acfd, g, k);
      ++count;
    }
  }
  for (auto& m : mean) m /= count;
  noise /= static_cast<double>(recs.size());
  double const power = noise * std::pow(10.0, 1.5);
  double const lambda = speed_of_light_m_s / 10700e3;
  EXPECT_NEAR(mean[0].real(), power + noise, 0.005 * (power + noise));
  for (int k = 1; k < seq->mplgs(); ++k) {
    double const tau = seq->lag_number(k) * 2400e-6;
    std::complex<double> const want = power * std::exp(-2 * pi * 120.0 * tau / lambda) *
                                      std::polar(1.0, 4 * pi * 250.0 * tau / lambda);
    auto const got = mean[static_cast<std::size_t>(k)];
    EXPECT_NEAR(std::abs(got - want), 0.0, 0.01 * power) << "lag row " << k;
  }
  // Phase slope at the first lags: 4 pi v / lambda.
  double const slope = std::arg(mean[1] * std::conj(mean[0])) / 2400e-6;  // lag row 1 is lag 1
  EXPECT_NEAR(slope, 4 * pi * 250.0 / lambda, 0.01 * 4 * pi * 250.0 / lambda);
}

TEST(Physics, SelfClutterAddsTheVarianceOfEchoesSeenThroughOtherPulses) {
  // One echo, at gate 50. The sample of gate g taken after pulse j also holds the echo of gate
  // g + 8 (ptab[j] - ptab[q]) sent by pulse q (8 = mpinc / smsep). Lag row 1 pairs pulses 26 and
  // 27, so gate 42 sees gate 50 through pulse 26 in its pulse-27 sample: its lag-1 variance is
  // N (N + P) instead of N^2. Gate 41 sees nothing. Lag 0 (pulse 0) only sees farther gates
  // through earlier pulses, so the gates before the echo keep lag-0 power N.
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 300.0;
  o.scene.kind = scene_kind::uniform;
  o.scene.uniform = {20.0, 0.0, 100.0, 20.0, 1.0, 50};
  o.nrang = 51;
  auto recs = run_records(o, site);
  double var41 = 0, var42 = 0, lag0 = 0, n = 0;
  for (auto const& r : recs) {
    auto v = dmap::decode_rawacf(r, dmap::strictness::strict);
    ASSERT_TRUE(v);
    var41 += std::norm(lag_value(*v->acfd, 41, 1));
    var42 += std::norm(lag_value(*v->acfd, 42, 1));
    for (std::size_t g = 0; g < 50; ++g) lag0 += lag_value(*v->acfd, g, 0).real() / 50.0;
    ++n;
  }
  double const noise = o.noise, power = 100.0 * o.noise;
  double const nave = 31.0;
  EXPECT_NEAR(var41 / n, noise * noise / nave, 0.25 * noise * noise / nave);
  EXPECT_NEAR(var42 / n, noise * (noise + power) / nave, 0.25 * noise * (noise + power) / nave);
  EXPECT_NEAR(lag0 / n, noise, 0.01 * noise);
  // Without self-clutter gate 42 is like gate 41.
  o.self_clutter = false;
  var42 = 0;
  for (auto const& r : run_records(o, site)) {
    auto v = dmap::decode_rawacf(r, dmap::strictness::strict);
    var42 += std::norm(lag_value(*v->acfd, 42, 1));
  }
  EXPECT_NEAR(var42 / n, noise * noise / nave, 0.25 * noise * noise / nave);
}

TEST(Physics, IntegerModeWritesIntegers) {
  auto const site = cly_site();
  auto o = small_options();
  o.duration_s = 20.0;
  o.integer_values = true;
  auto recs = run_records(o, site);
  ASSERT_FALSE(recs.empty());
  for (auto const& r : recs) {
    auto v = dmap::decode_rawacf(r, dmap::strictness::strict);
    ASSERT_TRUE(v);
    for (auto const* a : {&v->pwr0, &*v->acfd, &*v->xcfd})
      for (std::size_t i = 0; i < a->count(); ++i) {
        float const x = a->at<float>(i);
        ASSERT_EQ(x, std::round(x)) << a->name() << "[" << i << "]";
      }
    for (std::size_t g = 0; g < v->nrang_raw(); ++g) EXPECT_GE(v->pwr0.at<float>(g), 1.0F);
  }
}

TEST(Physics, IonosphereSceneHasItsEchoKinds) {
  auto const site = cly_site();
  sim_options o;
  o.duration_s = 300.0;
  std::vector<std::vector<gate_truth>> truth;
  auto recs = run_records(o, site, &truth);
  std::array<int, 6> counts{};
  for (auto const& t : truth)
    for (auto const& g : t) ++counts[static_cast<std::size_t>(g.kind)];
  double const gates = static_cast<double>(truth.size() * 100);
  EXPECT_GT(counts[static_cast<std::size_t>(echo_kind::f_region)] / gates, 0.15);
  EXPECT_GT(counts[static_cast<std::size_t>(echo_kind::ground)], 0);
  EXPECT_GT(counts[static_cast<std::size_t>(echo_kind::e_region)], 0);
  EXPECT_GT(counts[static_cast<std::size_t>(echo_kind::sporadic)], 0);
  EXPECT_GT(counts[static_cast<std::size_t>(echo_kind::none)] / gates, 0.4);
  for (auto const& t : truth)
    for (auto const& g : t) {
      if (g.kind == echo_kind::none) continue;
      EXPECT_GE(g.elevation_deg, 2.99F);
      EXPECT_LE(g.elevation_deg, 60.01F);
      EXPECT_GT(g.width_m_s, 0.0F);
      EXPECT_GE(g.coherence, 0.8F);
    }
}

// ---------------------------------------------------------------- files, errors, memory

TEST(Simulate, WritesPlainAndCompressedFiles) {
  auto const site = cly_site();
  auto o = small_options();
  auto const dir = test::scratch_dir("sim-files");
  for (std::string name : {"a.rawacf", "a.rawacf.bz2"}) {
    auto const path = (dir / name).string();
    auto w = dmap::writer::create(path, {.comp = dmap::compression_for_path(path)});
    ASSERT_TRUE(w);
    auto sum = simulate(o, site, *w);
    ASSERT_TRUE(sum) << sum.error().message();
    ASSERT_TRUE(w->commit());
    EXPECT_EQ(sum->records, 16);
    EXPECT_EQ(sum->scans, 1);
    EXPECT_DOUBLE_EQ(sum->first_epoch, o.start_epoch);
    EXPECT_DOUBLE_EQ(sum->last_epoch, o.start_epoch + 15 * 3.75);
    auto back = dmap::read_file(path);
    ASSERT_TRUE(back) << back.error().message();
    ASSERT_EQ(back->size(), 16u);
    std::uint64_t bytes = 0;
    for (auto const& r : *back) {
      bytes += r.encoded_size();
      EXPECT_TRUE(dmap::decode_rawacf(r, dmap::strictness::strict));
    }
    EXPECT_EQ(bytes, sum->bytes);
  }
}

TEST(Simulate, BadOptionsAreErrors) {
  auto const site = cly_site();
  auto check = [&](auto change, std::string_view words) {
    auto o = small_options();
    change(o);
    auto g = generator::create(o, site);
    ASSERT_FALSE(g) << words;
    EXPECT_EQ(g.error().code, errc::invalid_argument) << g.error().message();
    EXPECT_NE(g.error().what.find(words), std::string::npos) << g.error().what;
  };
  check([](sim_options& o) { o.sequence = "nonesuch"; }, "nonesuch");
  check([](sim_options& o) { o.beams = {0, 16}; }, "beam 16");
  check([](sim_options& o) { o.stid = 65; }, "station");
  check([](sim_options& o) { o.nrang = 0; }, "nrang");
  check([](sim_options& o) { o.rsep_km = 30; o.sequence = "katscan"; }, "multiple");
  check([](sim_options& o) { o.beam_dwell_s = 4.0; }, "do not fit");
  check([](sim_options& o) { o.intt_s = 3.9; }, "integration time");
  check([](sim_options& o) { o.noise = 0.0; }, "noise");
  check([](sim_options& o) { o.tfreq_khz = 50000; }, "tfreq");
  check([](sim_options& o) { o.channel = 3; }, "channel");
  check([](sim_options& o) { o.scene.kind = scene_kind::uniform; o.scene.uniform.coherence = 1.5; }, "coherence");
  check([](sim_options& o) { o.duration_s = -1.0; }, "duration");
}

TEST(Simulate, SiteComesFromTheTables) {
  auto s = load_site(66, sim_options{}.start_epoch, radar_dat(), hdw_dir());
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->stid, 66);
  EXPECT_DOUBLE_EQ(s->bmsep_deg, 3.5);
  EXPECT_EQ(s->maxbeam, 16);
  EXPECT_DOUBLE_EQ(s->interferometer_m[1], 100.0);
  auto missing = load_site(66, sim_options{}.start_epoch, radar_dat(), "/nonexistent-hdw-dir");
  ASSERT_FALSE(missing);
  auto unknown = load_site(4242, sim_options{}.start_epoch, radar_dat(), hdw_dir());
  ASSERT_FALSE(unknown);
}

long max_rss_kb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(Simulate, LongRunsStreamInBoundedMemory) {
  // 3 hours, about 106 MB of records, through a callback that keeps nothing: the peak memory may
  // not grow by more than a few records' worth (each is 36 kB).
  auto const site = cly_site();
  sim_options o;
  o.duration_s = 3 * 3600.0;
  long const before = max_rss_kb();
  std::uint64_t bytes = 0;
  auto sum = simulate(o, site, [&](dmap::record const& r, record_info const&, std::span<gate_truth const>) -> result<void> {
    bytes += r.encoded_size();
    return {};
  });
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum->records, 2880);
  EXPECT_GT(bytes, 100u << 20);
  EXPECT_LT(max_rss_kb() - before, 32 * 1024) << "kB of peak memory growth";
}

}  // namespace
}  // namespace rstx::sim
