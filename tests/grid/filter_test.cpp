#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <gnu/libc-version.h>
#include <limits>
#include <random>

#include "rstx/grid/filter.hpp"

namespace rstx::grid {
namespace {

struct item {
  double v;
  int id;
};

int compare_v(void const* x, void const* y) {  // RST's FilterCmpVel
  auto const* a = *static_cast<item const* const*>(x);
  auto const* b = *static_cast<item const* const*>(y);
  if (a->v < b->v) return -1;
  if (a->v > b->v) return 1;
  return 0;
}

bool glibc_qsort_is_merge_sort() {
  int major = 0, minor = 0;
  std::sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor);
  return major == 2 && minor <= 36;
}

TEST(MedianFilter, MergeSortMatchesGlibcQsortEvenWithNaN) {
  if (!glibc_qsort_is_merge_sort()) GTEST_SKIP() << "this glibc's qsort is no longer a merge sort";
  std::mt19937 rng(7);
  double const nan = std::numeric_limits<double>::quiet_NaN();
  for (int trial = 0; trial < 2000; ++trial) {
    int const n = 1 + static_cast<int>(rng() % 60);
    std::vector<item> items(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto const r = rng() % 10;
      items[static_cast<std::size_t>(i)] = {r == 0 ? nan : r < 4 ? static_cast<double>(rng() % 3) : static_cast<double>(rng() % 1000) / 7.0, i};
    }
    std::vector<item const*> expected, mine, scratch(static_cast<std::size_t>(n));
    for (auto const& it : items) expected.push_back(&it);
    mine = expected;
    std::qsort(expected.data(), expected.size(), sizeof(item const*), compare_v);
    detail::rst_merge_sort(std::span<item const*>(mine), std::span<item const*>(scratch),
                           [](item const* a, item const* b) { return a->v < b->v; });
    for (int i = 0; i < n; ++i) ASSERT_EQ(mine[static_cast<std::size_t>(i)]->id, expected[static_cast<std::size_t>(i)]->id) << "trial " << trial;
  }
}

radar_beam beam(int bm, int nrang) {
  radar_beam b;
  b.bm = bm;
  b.nrang = nrang;
  b.frang = 180;
  b.rsep = 45;
  b.sct.assign(static_cast<std::size_t>(nrang), 0);
  b.rng.assign(static_cast<std::size_t>(nrang), radar_cell{});
  return b;
}

/** Three identical scans of `beams` beams with scatter at the given gates. */
std::array<radar_scan, 3> scans_with(int beams, int nrang, std::vector<std::pair<int, int>> const& scatter, double v = 100) {
  std::array<radar_scan, 3> s;
  for (int z = 0; z < 3; ++z) {
    s[static_cast<std::size_t>(z)].st_time = 1000.0 * z;
    s[static_cast<std::size_t>(z)].ed_time = 1000.0 * z + 60;
    for (int b = 0; b < beams; ++b) s[static_cast<std::size_t>(z)].beams.push_back(beam(b, nrang));
    for (auto [b, g] : scatter) {
      auto& bb = s[static_cast<std::size_t>(z)].beams[static_cast<std::size_t>(b)];
      bb.sct[static_cast<std::size_t>(g)] = 1;
      bb.rng[static_cast<std::size_t>(g)].v = v + b + g + z;
      bb.rng[static_cast<std::size_t>(g)].p_l = 10 + g;
      bb.rng[static_cast<std::size_t>(g)].w_l = 100;
      bb.rng[static_cast<std::size_t>(g)].p_0 = 20;
      bb.rng[static_cast<std::size_t>(g)].gsct = 1;
    }
  }
  return s;
}

TEST(MedianFilter, WeightThresholdAndEdgeBeams) {
  // A sounding weighs (1 + centre cell)·(1 + middle scan). One lone gate in all three scans:
  // 2 + 4 + 2 = 8, not above the threshold of 12.
  auto lone = scans_with(5, 10, {{2, 5}});
  radar_scan out;
  median_filter(lone, 3, 2, {}, out);
  ASSERT_EQ(out.beams.size(), 5u);
  for (auto const& b : out.beams)
    for (auto s : b.sct) EXPECT_EQ(s, 0);
  // Two neighbouring gates: 8 + (1 + 2 + 1) = 12, still not above 12.
  auto pair = scans_with(5, 10, {{2, 5}, {2, 6}});
  median_filter(pair, 3, 2, {}, out);
  EXPECT_EQ(out.beams[2].sct[5], 0);
  // Three in a row: the middle one reaches 8 + 4 + 4 = 16 and passes; the ends have 12.
  auto three = scans_with(5, 10, {{2, 4}, {2, 5}, {2, 6}});
  median_filter(three, 3, 2, {}, out);
  EXPECT_EQ(out.beams[2].sct[5], 1);
  EXPECT_EQ(out.beams[2].sct[4], 0);
  EXPECT_EQ(out.beams[2].sct[6], 0);
  EXPECT_EQ(out.beams[2].rng[5].gsct, 0) << "the filter clears the ground-scatter flag";
  // On an edge beam the weight counts half as much again: the pair reaches (int)(12 * 1.5) = 18.
  auto edge = scans_with(5, 10, {{0, 5}, {0, 6}});
  median_filter(edge, 3, 2, {}, out);
  EXPECT_EQ(out.beams[0].sct[5], 1);
  EXPECT_EQ(out.beams[0].sct[6], 1);
  // Mode 1 (-fwgt 2) raises the threshold to 24.
  median_filter(edge, 3, 2, {.mode = 1}, out);
  EXPECT_EQ(out.beams[0].sct[5], 0);
}

TEST(MedianFilter, MedianIsTheUpperMiddleByVelocity) {
  auto s = scans_with(3, 5, {{1, 2}, {1, 3}, {1, 1}});
  radar_scan out;
  median_filter(s, 3, 2, {}, out);
  ASSERT_EQ(out.beams[1].sct[2], 1);
  // Window of beam 1 gate 2: velocities 100+1+g+z for g in 1..3, z in 0..2: 9 values 102..106,
  // with 104 the 5th (index 9/2 = 4) of the sorted list.
  EXPECT_DOUBLE_EQ(out.beams[1].rng[2].v, 104.0);
  EXPECT_GT(out.beams[1].rng[2].v_e, 0.0) << "v_e becomes the spread of the kept values";
}

TEST(MedianFilter, FewerValuesGiveTheSameVelocities) {
  auto s = scans_with(4, 8, {{1, 2}, {1, 3}, {1, 4}, {2, 3}, {2, 4}, {0, 3}});
  s[1].beams[2].rng[4].v = 999;  // an outlier, dropped by the 2-sigma test
  for (bool isort : {false, true}) {
    radar_scan all, three, one;
    median_filter(s, 3, 2, {.isort = isort}, all);
    median_filter(s, 3, 2, {.isort = isort, .values = filtered_values::velocity_power_width}, three);
    median_filter(s, 3, 2, {.isort = isort, .values = filtered_values::velocity}, one);
    int compared = 0;
    for (std::size_t b = 0; b < all.beams.size(); ++b)
      for (std::size_t g = 0; g < all.beams[b].sct.size(); ++g) {
        ASSERT_EQ(all.beams[b].sct[g], one.beams[b].sct[g]);
        if (all.beams[b].sct[g] == 0) continue;
        auto const &a = all.beams[b].rng[g], &t = three.beams[b].rng[g], &o = one.beams[b].rng[g];
        EXPECT_EQ(a.v, o.v);
        EXPECT_EQ(a.v_e, o.v_e);
        EXPECT_EQ(o.p_l, 0.0);
        EXPECT_EQ(a.p_l, t.p_l);
        EXPECT_EQ(a.w_l_e, t.w_l_e);
        EXPECT_EQ(t.p_0, 0.0);
        EXPECT_NE(a.p_0, 0.0);
        ++compared;
      }
    EXPECT_GT(compared, 3);
  }
}

TEST(MedianFilter, VelocityOrderWithTiesEqualsTheFullSort) {
  // The default path orders each window by rank; -isort sorts each parameter by itself with the
  // glibc-order merge sort. For the velocity both sort by velocity, so its median and spread must
  // agree bit for bit, with many ties (including -0 and +0) and several soundings of one beam.
  std::mt19937 rng(11);
  int compared = 0;
  for (int trial = 0; trial < 40; ++trial) {
    auto s = scans_with(6, 12, {});
    for (auto& scan : s) {
      auto extra = scan.beams[static_cast<std::size_t>(rng() % 6)];  // a beam sounded twice
      scan.beams.push_back(extra);
      for (auto& b : scan.beams)
        for (std::size_t g = 0; g < b.sct.size(); ++g) {
          b.sct[g] = rng() % 3 != 0;
          auto const r = rng() % 8;
          b.rng[g].v = r == 0 ? -0.0 : r == 1 ? 0.0 : static_cast<double>(static_cast<int>(rng() % 7) - 3) * 50.0;
          b.rng[g].p_l = static_cast<double>(rng() % 5);
        }
    }
    radar_scan fast, full;
    median_filter(s, 3, 2, {.values = filtered_values::velocity}, fast);
    median_filter(s, 3, 2, {.isort = true, .values = filtered_values::velocity}, full);
    ASSERT_EQ(fast.beams.size(), full.beams.size());
    for (std::size_t b = 0; b < fast.beams.size(); ++b)
      for (std::size_t g = 0; g < fast.beams[b].sct.size(); ++g) {
        ASSERT_EQ(fast.beams[b].sct[g], full.beams[b].sct[g]);
        if (fast.beams[b].sct[g] == 0) continue;
        auto const &f = fast.beams[b].rng[g], &o = full.beams[b].rng[g];
        ASSERT_EQ(std::signbit(f.v), std::signbit(o.v)) << "trial " << trial << " beam " << b << " gate " << g;
        ASSERT_EQ(f.v, o.v) << "trial " << trial << " beam " << b << " gate " << g;
        ASSERT_EQ(f.v_e, o.v_e) << "trial " << trial << " beam " << b << " gate " << g;
        ++compared;
      }
  }
  EXPECT_GT(compared, 1000);
}

TEST(MedianFilter, MaxrangeIsTheFewestGatesAndMissingBeamsStayEmpty) {
  auto s = scans_with(4, 10, {{1, 2}, {1, 3}});
  s[0].beams[3] = beam(3, 7);
  s[1].beams.erase(s[1].beams.begin() + 2);  // beam 2 missing from one scan only
  radar_scan out;
  median_filter(s, 3, 2, {}, out);
  for (auto const& b : out.beams) EXPECT_EQ(b.sct.size(), 7u);
  EXPECT_EQ(out.beams[2].bm, 2);
  s[0].beams.erase(s[0].beams.begin() + 2);
  s[2].beams.erase(s[2].beams.begin() + 2);
  median_filter(s, 3, 2, {}, out);
  EXPECT_EQ(out.beams[2].bm, -1);
}

TEST(Exclusions, BeamsRangesScatterTypeAndBounds) {
  auto scans = scans_with(4, 10, {{0, 1}, {1, 5}, {2, 8}, {3, 9}});
  auto& s = scans[0];
  int const drop[] = {3};
  exclude_beams(s, drop);
  EXPECT_EQ(s.beams.size(), 3u);
  exclude_ranges(s, {.min_gate = 2, .max_gate = 8});
  EXPECT_EQ(s.beams[0].sct[1], 0);
  EXPECT_EQ(s.beams[1].sct[5], 1);
  EXPECT_EQ(s.beams[2].sct[8], 0) << "gates from maxrng on are dropped";
  exclude_scatter_type(s, 1);  // every test cell is flagged ground scatter
  EXPECT_EQ(s.beams[1].sct[5], 0);

  auto b = scans_with(1, 3, {{0, 0}, {0, 1}, {0, 2}});
  auto& t = b[0];
  t.beams[0].rng[0].v = 20;  // |v| < 35
  t.beams[0].rng[1].v = std::numeric_limits<double>::quiet_NaN();  // NaN passes every bound, as in RST
  t.beams[0].rng[2].v = 500;
  exclude_out_of_bounds(t, {});
  EXPECT_EQ(t.beams[0].sct[0], 0);
  EXPECT_EQ(t.beams[0].sct[1], 1);
  EXPECT_EQ(t.beams[0].sct[2], 1);
}

TEST(Exclusions, SlantRangeLimitsOverrideGateLimits) {
  auto scans = scans_with(1, 20, {{0, 0}, {0, 5}, {0, 19}});
  auto& s = scans[0];
  // frang 180 km, rsep 45 km, rxrise 0: gate g is at 180 + 45 g km.
  exclude_ranges(s, {.min_gate = 10, .max_gate = 11, .min_slant_km = 300, .max_slant_km = 800});
  EXPECT_EQ(s.beams[0].sct[0], 0);
  EXPECT_EQ(s.beams[0].sct[5], 1);
  EXPECT_EQ(s.beams[0].sct[19], 0);
}

TEST(OperatingParameters, FrangOrRsepChangesStopTheFilter) {
  auto s = scans_with(3, 5, {});
  EXPECT_TRUE(operating_parameters_agree(s, 500000));
  s[2].beams[1].rsep = 15;
  EXPECT_FALSE(operating_parameters_agree(s, 500000));
  s[2].beams[1].rsep = 45;
  s[0].beams[1].freq = 12000;
  s[1].beams[1].freq = 10000;
  EXPECT_TRUE(operating_parameters_agree(s, 500000)) << "fmax is compared with kHz: never triggers";
  EXPECT_FALSE(operating_parameters_agree(s, 1000));
}

}  // namespace
}  // namespace rstx::grid

namespace rstx::grid {
namespace {

TEST(MedianFilter, IntegerAveragesOfExtremeValuesWrapLikeRst) {
  // Operating parameters come from the file and are averaged in int sums, as in RST: sums that
  // overflow wrap around as RST's binary computes them (and are not undefined behaviour here).
  auto s = scans_with(2, 5, {{0, 2}});
  for (auto& scan : s)
    for (auto& b : scan.beams) {
      b.noise = std::numeric_limits<int>::max();
      b.freq = std::numeric_limits<int>::max() - 5;
      b.nave = std::numeric_limits<int>::min();
      b.intt_sc = std::numeric_limits<int>::max();
      b.intt_us = 999999;
      b.atten = -7;
    }
  radar_scan out;
  median_filter(s, 3, 2, {}, out);  // mode 0: integer averages over the three soundings
  auto wrapped_sum3 = [](int v) {
    return static_cast<int>(static_cast<std::uint32_t>(v) * 3U);
  };
  ASSERT_EQ(out.beams.size(), 2U);
  EXPECT_EQ(out.beams[0].noise, wrapped_sum3(std::numeric_limits<int>::max()) / 3);
  EXPECT_EQ(out.beams[0].freq, wrapped_sum3(std::numeric_limits<int>::max() - 5) / 3);
  EXPECT_EQ(out.beams[0].nave, wrapped_sum3(std::numeric_limits<int>::min()) / 3);
  EXPECT_EQ(out.beams[0].atten, -7);
}

}  // namespace
}  // namespace rstx::grid
