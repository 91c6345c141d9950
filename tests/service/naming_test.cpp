#include "rstx/service/naming.hpp"

#include <gtest/gtest.h>

#include "rstx/core/time.hpp"

using namespace rstx::service;

TEST(SuperdarnName, ParsesRadarDayTimeAndChannel) {
  auto k = parse_superdarn_name("20210607.1800.00.cly.rawacf.bz2");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->day, "20210607");
  EXPECT_EQ(k->time, "1800.00");
  EXPECT_EQ(k->radar, "cly");
  EXPECT_EQ(k->channel, "");
  EXPECT_EQ(k->grid_key(), "20210607.cly");
  EXPECT_EQ(fitacf_name(*k, false), "20210607.1800.00.cly.fitacf");
  EXPECT_EQ(fitacf_name(*k, true), "20210607.1800.00.cly.fitacf.bz2");
  EXPECT_EQ(grid_name(*k, false), "20210607.cly.grid");

  auto c = parse_superdarn_name("19991231.2359.59.han.b.rawacf");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->channel, "b");
  EXPECT_EQ(c->grid_key(), "19991231.han.b");
  EXPECT_EQ(fitacf_name(*c, false), "19991231.2359.59.han.b.fitacf");
  for (auto const* suffix : {".gz", ".zst", ".BZ2", ""}) EXPECT_TRUE(parse_superdarn_name(std::string("20210607.1800.00.cly.rawacf") + suffix));
}

TEST(SuperdarnName, RefusesOtherNames) {
  for (auto const* name : {"test.rawacf", "20210607.1800.00.cly.fitacf", "2021067.1800.00.cly.rawacf", "20211307.1800.00.cly.rawacf",
                           "20210607.2500.00.cly.rawacf", "20210607.1800.00.CLY.rawacf", "20210607.1800.00.cly.ab.rawacf",
                           "20210607.1800.cly.rawacf", "", "rawacf", "20210607.1800.00.cly.a.b.rawacf"})
    EXPECT_FALSE(parse_superdarn_name(name)) << name;
}

TEST(SuperdarnName, KeyFromContentUsesTheFirstRecordsTime) {
  double const t = rstx::epoch_from_ymdhms(2021, 6, 7, 23, 58, 4.9);
  auto k = key_from_content("sas", 0, t);
  EXPECT_EQ(k.stem(), "20210607.2358.04.sas");
  EXPECT_EQ(key_from_content("sas", 2, t).stem(), "20210607.2358.04.sas.b");
}
