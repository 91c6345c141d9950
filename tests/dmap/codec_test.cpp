#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "support/test_data.hpp"

namespace rstx::dmap {
namespace {

TEST(Codec, RoundTripsEveryReferenceFileByteForByte) {
  auto const files = test::shared_dmap_files();
  ASSERT_GE(files.size(), 15u);
  for (auto const& f : files) {
    SCOPED_TRACE(f.string());
    auto const plain = f.extension() == ".bz2" ? test::decompressed_bytes(f) : test::read_bytes(f);
    ASSERT_FALSE(plain.empty());
    auto recs = decode_all(plain);
    ASSERT_TRUE(recs) << recs.error().message();
    EXPECT_GT(recs->size(), 0u);
    auto again = encode_all(*recs);
    ASSERT_TRUE(again);
    EXPECT_TRUE(*again == plain) << "re-encoded bytes differ";
  }
}

TEST(Codec, BuiltRecordDecodesToTheSameFields) {
  record r;
  r.add_scalar<std::int8_t>("c", -5)
      .add_scalar<std::int16_t>("s", -300)
      .add_scalar<std::int32_t>("i", 123456)
      .add_scalar<float>("f", 1.5F)
      .add_scalar<double>("d", -2.25)
      .add_string("str", "hello")
      .add_string("empty", "")
      .add_scalar<std::int64_t>("l", std::numeric_limits<std::int64_t>::min())
      .add_scalar<std::uint8_t>("uc", 250)
      .add_scalar<std::uint16_t>("us", 65000)
      .add_scalar<std::uint32_t>("ui", 4000000000U)
      .add_scalar<std::uint64_t>("ul", std::numeric_limits<std::uint64_t>::max());
  std::vector<float> const fv{1.0F, std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity(),
                              -0.0F, 2.0F, 3.0F};
  std::int32_t const dims[3] = {1, 2, 3};
  r.add_array<float>("arr3", dims, fv);
  r.add_array<std::int16_t>("slist", std::vector<std::int16_t>{3, 5, 7});
  std::vector<std::string> const names{"a", "", "ccc"};
  std::int32_t const sdims[1] = {3};
  r.add_string_array("names", sdims, names);
  std::int32_t const zero[2] = {0, 1000000};
  r.add_array<double>("none", zero, std::span<double const>());

  auto bytes = encode(r);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), r.encoded_size());
  auto back = decode(*bytes);
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_TRUE(bitwise_equal(r, *back));
  EXPECT_EQ(back->find_scalar("s")->as<std::int16_t>(), -300);
  EXPECT_EQ(back->find_scalar("str")->as_string(), "hello");
  EXPECT_EQ(back->find_scalar("empty")->as_string(), "");
  EXPECT_EQ(back->find_scalar("ul")->as<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  auto a = back->find_array("arr3");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->ndim(), 3u);
  EXPECT_EQ(a->dims(), (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_TRUE(std::isnan(a->at<float>(1)));
  EXPECT_TRUE(std::signbit(a->at<float>(3)));
  auto s = back->find_array("names");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->strings(), (std::vector<std::string_view>{"a", "", "ccc"}));
  EXPECT_EQ(back->find_array("none")->count(), 0u);
}

TEST(Codec, LookupRulesFollowRst) {
  record r;
  r.add_scalar<std::int16_t>("stid", 1).add_scalar<std::int32_t>("stid", 2).add_scalar<std::int16_t>("stid", 3);
  EXPECT_EQ(r.find_scalar("stid")->as<std::int16_t>(), 1);                           // first match
  EXPECT_EQ(r.find_scalar_last("stid", type::short_)->as<std::int16_t>(), 3);        // last of the type
  EXPECT_EQ(r.find_scalar_last("stid", type::int_)->as<std::int32_t>(), 2);
  EXPECT_FALSE(r.find_scalar_last("stid", type::float_));
}

TEST(Codec, KeepsAnUnusualRecordCode) {
  record r;
  r.add_scalar<std::int16_t>("x", 1);
  auto bytes = *encode(r);
  bytes[0] = std::byte{0x42};  // RST never checks the code; neither does the decoder
  auto back = decode(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->code() & 0xff, 0x42);
  EXPECT_EQ(*encode(*back), bytes);
}

}  // namespace
}  // namespace rstx::dmap
