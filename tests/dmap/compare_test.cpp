#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "rstx/dmap/compare.hpp"

namespace rstx::dmap {
namespace {

record with_floats(std::vector<float> v, std::string origin = "a") {
  record r;
  r.add_string("origin.time", origin).add_scalar<std::int16_t>("stid", 66).add_array<float>("v", v);
  return r;
}

compare_result cmp(record const& a, record const& b, compare_options o = {}) {
  compare_result r;
  compare_records(a, b, 0, o, r);
  r.records_a = r.records_b = 1;
  return r;
}

TEST(Compare, IgnoresOriginByDefault) {
  auto r = cmp(with_floats({1, 2}, "x"), with_floats({1, 2}, "y"));
  EXPECT_TRUE(r.equal());
  EXPECT_EQ(r.not_identical, 0u);
  compare_options all;
  all.ignore.clear();
  EXPECT_FALSE(cmp(with_floats({1, 2}, "x"), with_floats({1, 2}, "y"), all).equal());
}

TEST(Compare, ToleranceAndBitIdentity) {
  float const nan = std::numeric_limits<float>::quiet_NaN();
  float const inf = std::numeric_limits<float>::infinity();
  auto r = cmp(with_floats({1.0F, nan, inf, 100.0F}), with_floats({1.0F, nan, inf, 100.0005F}));
  EXPECT_TRUE(r.equal());
  EXPECT_EQ(r.not_identical, 1u);  // NaN vs NaN with the same bits counts as identical
  ASSERT_EQ(r.largest.size(), 1u);
  EXPECT_EQ(r.largest[0].field, "v");
  EXPECT_EQ(r.largest[0].index, 3u);

  EXPECT_FALSE(cmp(with_floats({1.0F}), with_floats({1.1F})).equal());
  EXPECT_FALSE(cmp(with_floats({nan}), with_floats({1.0F})).equal());
  EXPECT_FALSE(cmp(with_floats({inf}), with_floats({-inf})).equal());
  EXPECT_TRUE(cmp(with_floats({1e-6F}), with_floats({2e-6F})).equal());  // atol
}

TEST(Compare, IntegersShapesAndMissingFieldsMustMatchExactly) {
  record a = with_floats({1, 2});
  record b;
  b.add_string("origin.time", "a").add_scalar<std::int16_t>("stid", 65).add_array<float>("v", std::vector<float>{1, 2});
  auto r = cmp(a, b);
  EXPECT_FALSE(r.equal());
  ASSERT_EQ(r.mismatches.size(), 1u);
  EXPECT_EQ(r.mismatches[0].field, "stid");

  auto shape = cmp(with_floats({1, 2}), with_floats({1, 2, 3}));
  EXPECT_FALSE(shape.equal());
  record extra = with_floats({1, 2});
  extra.add_scalar<float>("tdiff", 0.0F);
  auto missing = cmp(with_floats({1, 2}), extra);
  EXPECT_FALSE(missing.equal());
  EXPECT_NE(missing.mismatches[0].what.find("only in the second"), std::string::npos);
}

TEST(Compare, IgnorePatterns) {
  EXPECT_TRUE(is_ignored("origin.time", {"origin.*"}));
  EXPECT_TRUE(is_ignored("tdiff", {"tdiff"}));
  EXPECT_FALSE(is_ignored("tdiffx", {"tdiff"}));
  EXPECT_FALSE(is_ignored("originx", {"origin.*"}));
}

}  // namespace
}  // namespace rstx::dmap
