#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "rstx/grid/detail/median_windows.hpp"

namespace rstx::grid::detail {
namespace {

/** FilterRadarScan's step for one window and one parameter, written plainly: 2σ cut over the
 *  window in collection order, stable sort of the kept cells by velocity, upper-middle element,
 *  spread summed in sorted order. */
void one_window(std::vector<gate_entry const*> const& cells, int k, double& median, double& spread) {
  double mean = 0;
  for (auto const* c : cells) mean += c->value[k];
  mean = mean / static_cast<double>(cells.size());
  double var = 0;
  for (auto const* c : cells) var += (c->value[k] - mean) * (c->value[k] - mean);
  var = var / static_cast<double>(cells.size());
  double const sigma = var > 0 ? std::sqrt(var) : 0.0;
  std::vector<gate_entry const*> kept;
  for (auto const* c : cells)
    if (!(std::fabs(c->value[k] - mean) > 2 * sigma)) kept.push_back(c);
  std::stable_sort(kept.begin(), kept.end(), [](gate_entry const* a, gate_entry const* b) { return a->value[0] < b->value[0]; });
  median = kept[kept.size() / 2]->value[k];
  mean = 0;
  for (auto const* c : kept) mean += c->value[k];
  mean = mean / static_cast<double>(kept.size());
  var = 0;
  for (auto const* c : kept) var += (c->value[k] - mean) * (c->value[k] - mean);
  var = var / static_cast<double>(kept.size());
  spread = var > 0 ? std::sqrt(var) : 0.0;
}

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

/** Values with ties, signed zeros, infinities and (outside the velocity) NaN. */
double awkward_value(std::mt19937& rng, bool velocity) {
  switch (rng() % 16) {
    case 0: return 0.0;
    case 1: return -0.0;
    case 2: return static_cast<double>(rng() % 3) * 100.0;  // ties
    case 3: return velocity ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
    case 4: return std::numeric_limits<double>::infinity();
    default: return static_cast<double>(static_cast<float>(std::normal_distribution<double>(0.0, 300.0)(rng)));
  }
}

struct batch {
  std::vector<gate_entry> entries;
  std::vector<window_entries> windows;
};

/** Windows as the filter builds them: up to three runs of entries each; runs overlap between windows. */
batch random_batch(std::mt19937& rng, int count, bool awkward) {
  batch b;
  b.entries.resize(400);
  for (auto& e : b.entries)
    for (int k = 0; k < 4; ++k)
      e.value[k] = awkward ? awkward_value(rng, k == 0)
                           : static_cast<double>(static_cast<float>(std::normal_distribution<double>(k * 10.0, 50.0)(rng)));
  for (int i = 0; i < count; ++i) {
    window_entries w;
    w.ranges = 1 + rng() % 3;
    for (std::uint32_t r = 0; r < w.ranges; ++r) {
      std::uint32_t const begin = rng() % 380;
      std::uint32_t const length = rng() % 4 == 0 ? rng() % 20 : rng() % 10;  // some runs empty
      w.range[r] = {begin, begin + length};
      w.size += length;
    }
    if (w.size == 0) {  // a window holds at least one sounding
      w.range[0].end = w.range[0].begin + 1;
      w.size = 1;
    }
    b.windows.push_back(w);
  }
  return b;
}

void expect_every_build_matches_one_window_code(batch const& b, int values) {
  std::vector<window_medians> expected(b.windows.size());
  for (std::size_t i = 0; i < b.windows.size(); ++i) {
    std::vector<gate_entry const*> cells;
    auto const& w = b.windows[i];
    for (std::uint32_t r = 0; r < w.ranges; ++r)
      for (auto e = w.range[r].begin; e < w.range[r].end; ++e) cells.push_back(&b.entries[e]);
    for (int k = 0; k < values; ++k) one_window(cells, k, expected[i].median[k], expected[i].spread[k]);
  }
  int builds = 0;
  for (auto path : {median_code_path::best, median_code_path::baseline, median_code_path::sse42,
                    median_code_path::avx2, median_code_path::avx512}) {
    if (!median_code_path_available(path)) continue;
    ++builds;
    std::vector<window_medians> got(b.windows.size());
    medians_by_velocity(b.windows, b.entries.data(), values, got.data(), path);
    for (std::size_t i = 0; i < b.windows.size(); ++i)
      for (int k = 0; k < values; ++k) {
        ASSERT_TRUE(same_bits(got[i].median[k], expected[i].median[k]))
            << "build " << static_cast<int>(path) << " window " << i << " parameter " << k << ": "
            << got[i].median[k] << " vs " << expected[i].median[k];
        ASSERT_TRUE(same_bits(got[i].spread[k], expected[i].spread[k]))
            << "build " << static_cast<int>(path) << " window " << i << " parameter " << k << ": "
            << got[i].spread[k] << " vs " << expected[i].spread[k];
      }
  }
  EXPECT_GE(builds, 2);  // best and baseline at least
}

TEST(MedianWindows, EveryBuildGivesTheOneWindowBits) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 60; ++trial)
    for (int values : {1, 3, 4}) {
      auto const b = random_batch(rng, 1 + static_cast<int>(rng() % 40), false);
      expect_every_build_matches_one_window_code(b, values);
    }
}

TEST(MedianWindows, TiesSignedZerosInfinitiesAndNaNOutsideTheVelocity) {
  std::mt19937 rng(12);
  for (int trial = 0; trial < 60; ++trial) {
    auto const b = random_batch(rng, 1 + static_cast<int>(rng() % 40), true);
    expect_every_build_matches_one_window_code(b, 4);
  }
}

TEST(MedianWindows, LargeWindowsAndOneSoundingWindows) {
  std::mt19937 rng(13);
  batch b = random_batch(rng, 0, false);
  b.windows.push_back({{{{0, 1}}}, 1, 1});
  b.windows.push_back({{{{0, 150}, {100, 250}, {200, 400}}}, 3, 500});  // runs overlap here (not in the filter)
  b.windows.push_back({{{{5, 6}, {7, 7}, {9, 10}}}, 3, 2});
  expect_every_build_matches_one_window_code(b, 4);
}

}  // namespace
}  // namespace rstx::grid::detail
