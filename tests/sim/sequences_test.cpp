// Pulse and lag tables of the built-in sequences.
#include <gtest/gtest.h>

#include <set>

#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/sim/simulate.hpp"
#include "support/test_data.hpp"

namespace rstx::sim {
namespace {

std::vector<int> lag_numbers(pulse_sequence const& s) {
  std::vector<int> out;
  for (int k = 0; k < s.mplgs(); ++k) out.push_back(s.lag_number(k));
  return out;
}

/** Every lag row uses pulses of the table, first pulse before second, and no lag appears twice. */
void check_consistent(pulse_sequence const& s) {
  std::set<int> pulses(s.ptab.begin(), s.ptab.end());
  std::set<int> seen;
  for (int k = 0; k <= s.mplgs(); ++k) {
    EXPECT_TRUE(pulses.count(s.ltab[2 * k])) << s.name << " row " << k;
    EXPECT_TRUE(pulses.count(s.ltab[2 * k + 1])) << s.name << " row " << k;
    EXPECT_LE(s.ltab[2 * k], s.ltab[2 * k + 1]) << s.name << " row " << k;
    if (k < s.mplgs()) {
      EXPECT_TRUE(seen.insert(s.lag_number(k)).second) << s.name << " lag repeated at row " << k;
    }
  }
  // The extra row is the alternate lag 0 (last pulse with itself), which FITACF ignores.
  EXPECT_EQ(s.ltab[2 * s.mplgs()], s.ptab.back());
  EXPECT_EQ(s.ltab[2 * s.mplgs() + 1], s.ptab.back());
  // Every pair of pulses that forms a listed lag is the only pair with that separation.
  for (int lag : seen) {
    int pairs = 0;
    for (auto a : s.ptab)
      for (auto b : s.ptab) pairs += (b - a == lag && lag > 0) ? 1 : 0;
    if (lag > 0) {
      EXPECT_EQ(pairs, 1) << s.name << " lag " << lag;
    }
  }
}

TEST(Sequences, NormalscanIsTheBorealisTable) {
  auto s = sequence_by_name("normalscan");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ptab, (std::vector<std::int16_t>{0, 9, 12, 20, 22, 26, 27}));
  EXPECT_EQ(s->mpinc_us, 2400);
  EXPECT_EQ(s->mplgs(), 22);
  EXPECT_EQ(lag_numbers(*s), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 20, 22, 26, 27}));
  check_consistent(*s);
  // Row for row the table of the real Borealis file.
  auto recs = dmap::read_file(test::shared_path("data/real/test.rawacf").string());
  ASSERT_TRUE(recs);
  auto raw = dmap::decode_rawacf(recs->front(), dmap::strictness::lenient);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->prm.ptab, s->ptab);
  EXPECT_EQ(raw->prm.ltab, s->ltab);
  EXPECT_EQ(raw->prm.mpinc, s->mpinc_us);
  EXPECT_EQ(raw->prm.mplgs, s->mplgs());
  auto alias = sequence_by_name("7pulse");
  ASSERT_TRUE(alias);
  EXPECT_EQ(alias->ltab, s->ltab);
}

TEST(Sequences, ClassicNormalscanHas18Lags) {
  auto s = sequence_by_name("normalscan-classic");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ptab, (std::vector<std::int16_t>{0, 9, 12, 20, 22, 26, 27}));
  EXPECT_EQ(s->mpinc_us, 2400);
  EXPECT_EQ(lag_numbers(*s), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18}));
  check_consistent(*s);
  ASSERT_TRUE(sequence_by_name("oldscan"));
}

TEST(Sequences, KatscanIsTheEightPulseSequence) {
  auto s = sequence_by_name("katscan");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->ptab, (std::vector<std::int16_t>{0, 14, 22, 24, 27, 31, 42, 43}));
  EXPECT_EQ(s->mpinc_us, 1500);
  EXPECT_EQ(s->mplgs(), 23);
  EXPECT_EQ(lag_numbers(*s),
            (std::vector<int>{0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 24}));
  check_consistent(*s);
  ASSERT_TRUE(sequence_by_name("8pulse"));
}

TEST(Sequences, UnknownNameIsAnError) {
  auto s = sequence_by_name("tauscan");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, errc::invalid_argument);
  EXPECT_NE(s.error().what.find("katscan"), std::string::npos);
}

}  // namespace
}  // namespace rstx::sim
