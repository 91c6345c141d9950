#include <gtest/gtest.h>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"
#include "support/test_data.hpp"

namespace rstx::dmap {
namespace {

std::vector<record> load(std::string const& rel) {
  auto r = read_file(test::shared_path(rel).string());
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : std::vector<record>{};
}

TEST(Products, DetectsEachReferenceFile) {
  EXPECT_EQ(detect_product(load("data/real/test.rawacf")[0]), product::rawacf);
  EXPECT_EQ(detect_product(load("data/real/test.fitacf")[0]), product::fitacf);
  EXPECT_EQ(detect_product(load("data/real/test.rawacf.rst-fitacf3.fitacf")[0]), product::fitacf);
  EXPECT_EQ(detect_product(load("data/real/test.grid")[0]), product::grid);
  EXPECT_EQ(detect_product(load("data/real/test.map")[0]), product::map);
}

TEST(Products, EveryReferenceRecordValidates) {
  for (auto const& f : test::shared_dmap_files()) {
    SCOPED_TRACE(f.string());
    auto recs = read_file(f.string());
    ASSERT_TRUE(recs);
    for (auto const& r : *recs) {
      auto v = validate_record(r, strictness::lenient);
      EXPECT_TRUE(v) << v.error().message();
    }
  }
}

TEST(Products, RawacfView) {
  auto recs = load("data/real/test.rawacf");
  auto v = decode_rawacf(recs[0], strictness::strict);
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(v->prm.stid, 66);
  EXPECT_EQ(v->prm.nrang, 100);
  EXPECT_EQ(v->prm.mplgs, 22);
  EXPECT_EQ(v->prm.ifmode, -1);  // absent in this Borealis file: RST 5.0 default
  EXPECT_EQ(v->prm.ptab.size(), 7u);
  EXPECT_EQ(v->prm.ltab_rows(), 23u);
  EXPECT_EQ(v->nrang_raw(), 100u);
  EXPECT_EQ(v->snum(), 100u);
  EXPECT_EQ(v->acf_lags(), 22u);
  EXPECT_EQ(v->xcf_lags(), 22u);
  EXPECT_EQ(v->prm.year, 2021);
}

TEST(Products, RadarParmsRoundTripInRstOrder) {
  // The fitacf reference starts with exactly the 46 scalars RadarParmEncode writes.
  auto recs = load("data/real/test.rawacf.rst-fitacf3.fitacf");
  auto prm = decode_radar_parms(recs[0], strictness::strict);
  ASSERT_TRUE(prm);
  record out;
  encode_radar_parms_scalars(*prm, out);
  ASSERT_EQ(out.num_scalars(), 46u);
  for (std::size_t i = 0; i < 46; ++i) {
    EXPECT_EQ(out.scalar(i).name(), recs[0].scalar(i).name());
    EXPECT_EQ(out.scalar(i).type(), recs[0].scalar(i).type());
    EXPECT_TRUE(std::ranges::equal(out.scalar(i).bytes(), recs[0].scalar(i).bytes())) << out.scalar(i).name();
  }
}

TEST(Products, LvmaxKeepsOnlyItsLow16BitsLikeRst) {
  record r;
  r.add_scalar<std::int32_t>("lvmax", 0x12348001);
  auto p = decode_radar_parms(r, strictness::lenient);
  ASSERT_FALSE(p);  // lenient still needs stid, time, ...
  auto base = load("data/real/test.rawacf")[0];
  record copy;
  for (std::size_t i = 0; i < base.num_scalars(); ++i)
    if (base.scalar(i).name() != "lvmax") copy.add_copy(base.scalar(i));
  copy.add_scalar<std::int32_t>("lvmax", 0x12348001);
  auto q = decode_radar_parms(copy, strictness::strict);
  ASSERT_TRUE(q) << q.error().message();
  EXPECT_EQ(q->lvmax, -32767);
}

TEST(Products, StrictRejectsWhatLenientAccepts) {
  auto maps = load("data/real/test.map");  // an older map file without IMF.Vx, model.name, ...
  EXPECT_TRUE(decode_map(maps[0], strictness::lenient));
  auto strict = decode_map(maps[0], strictness::strict);
  ASSERT_FALSE(strict);
  EXPECT_EQ(strict.error().code, errc::missing_field);

  auto base = load("data/real/test.rawacf")[0];
  record old;  // a rawacf without origin.* and combf, as older radar software wrote them
  for (std::size_t i = 0; i < base.num_scalars(); ++i) {
    auto s = base.scalar(i);
    if (s.name().starts_with("origin.") || s.name() == "combf") continue;
    old.add_copy(s);
  }
  for (std::size_t i = 0; i < base.num_arrays(); ++i) old.add_copy(base.array(i));
  EXPECT_TRUE(decode_rawacf(old, strictness::lenient));
  auto e = decode_rawacf(old, strictness::strict);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().what.find("origin.code"), std::string::npos) << e.error().what;
}

TEST(Products, WrongShapesAreErrors) {
  auto base = load("data/real/test.rawacf")[0];
  record bad;
  for (std::size_t i = 0; i < base.num_scalars(); ++i) bad.add_copy(base.scalar(i));
  for (std::size_t i = 0; i < base.num_arrays(); ++i) {
    auto a = base.array(i);
    if (a.name() == "slist") {
      bad.add_array<std::int16_t>("slist", std::vector<std::int16_t>{1, 2, 3});  // 3 listed, acfd has 100
    } else {
      bad.add_copy(a);
    }
  }
  auto v = decode_rawacf(bad, strictness::lenient);
  ASSERT_FALSE(v);
  EXPECT_EQ(v.error().code, errc::wrong_type);
  EXPECT_NE(v.error().what.find("acfd"), std::string::npos);
}

TEST(Products, GridAndFitacfViews) {
  auto g = load("data/real/test.grid");
  auto gv = decode_grid(g[0], strictness::strict);
  ASSERT_TRUE(gv) << gv.error().message();
  EXPECT_EQ(gv->nstations, 1u);
  EXPECT_EQ(gv->nvectors, 31u);
  auto f = load("data/synth/cly_10min_float.rst-fitacf3.fitacf");
  for (auto const& r : f) {
    auto fv = decode_fitacf(r, strictness::strict);
    ASSERT_TRUE(fv) << fv.error().message();
    EXPECT_EQ(fv->algorithm, "fitacf3");
    EXPECT_EQ(fv->revision_major, 3);
  }
}

}  // namespace
}  // namespace rstx::dmap
