// Reading fitacf records into scans (RST FitReadRadarScan): scan-flag and fixed-length boundaries,
// the channel filter, the state carried between files, and what a beam takes from its record.
#include <gtest/gtest.h>

#include <cmath>

#include "rstx/dmap/codec.hpp"
#include "rstx/grid/scan.hpp"
#include "support/test_data.hpp"

namespace rstx::grid {
namespace {

std::vector<dmap::record> const& fitacf_records() {
  static auto const records = [] {
    auto r = dmap::decode_all(test::read_bytes(test::shared_path("data/synth/cly_10min_float.rst-fitacf3.fitacf")));
    EXPECT_TRUE(r);
    return r ? *r : std::vector<dmap::record>{};
  }();
  return records;
}

/** A record_source over records[from, to). */
record_source source_of(std::vector<dmap::record> const& records, std::size_t from = 0, std::size_t to = SIZE_MAX) {
  auto next = std::make_shared<std::size_t>(from);
  to = std::min(to, records.size());
  return [&records, next, to]() -> result<std::optional<dmap::record const*>> {
    if (*next >= to) return std::optional<dmap::record const*>{};
    return std::optional<dmap::record const*>(&records[(*next)++]);
  };
}

/** A copy of `r` with scalar `name` (a short or int) replaced by `value`. */
dmap::record with_scalar(dmap::record const& r, std::string_view name, int value) {
  dmap::record out;
  for (std::size_t i = 0; i < r.num_scalars(); ++i) {
    auto s = r.scalar(i);
    if (s.name() != name) {
      out.add_copy(s);
    } else if (s.type() == dmap::type::short_) {
      out.add_scalar<std::int16_t>(name, static_cast<std::int16_t>(value));
    } else {
      out.add_scalar<std::int32_t>(name, value);
    }
  }
  for (std::size_t i = 0; i < r.num_arrays(); ++i) out.add_copy(r.array(i));
  return out;
}

int scalar_int(dmap::record const& r, std::string_view name) {
  auto s = r.find_scalar(name);
  EXPECT_TRUE(s) << name;
  return s->type() == dmap::type::short_ ? s->as<std::int16_t>() : s->as<std::int32_t>();
}

TEST(ScanReader, ScanFlagStartsEachScan) {
  auto const& records = fitacf_records();
  ASSERT_GT(records.size(), 100U);
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < records.size(); ++i)
    if (std::abs(scalar_int(records[i], "scan")) == 1) starts.push_back(i);
  ASSERT_EQ(starts.front(), 0U);

  scan_reader reader({});
  auto next = source_of(records);
  radar_scan scan;
  std::vector<std::size_t> sizes;
  scan_reader::status st{};
  do {
    auto r = reader.read(next, scan);
    ASSERT_TRUE(r) << r.error().what;
    st = *r;
    if (st == scan_reader::status::end) break;
    sizes.push_back(scan.beams.size());
    EXPECT_EQ(scan.stid, 66);
    EXPECT_EQ(scan.st_time, scan.beams.front().time);
    EXPECT_EQ(scan.ed_time, scan.beams.back().time);
    EXPECT_EQ(std::abs(scan.beams.front().scan), 1);
    for (std::size_t b = 1; b < scan.beams.size(); ++b) EXPECT_NE(std::abs(scan.beams[b].scan), 1);
  } while (st == scan_reader::status::scan);
  EXPECT_EQ(st, scan_reader::status::last_scan);
  ASSERT_EQ(sizes.size(), starts.size());
  for (std::size_t i = 0; i < starts.size(); ++i) {
    std::size_t const end = i + 1 < starts.size() ? starts[i + 1] : records.size();
    EXPECT_EQ(sizes[i], end - starts[i]) << "scan " << i;
  }
  auto after = reader.read(next, scan);
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, scan_reader::status::end);
}

TEST(ScanReader, FixedLengthScansStartOnMultiplesOfTheLength) {
  auto const& records = fitacf_records();
  scan_reader reader({.scan_length_s = 60, .channel = 0});
  auto next = source_of(records);
  radar_scan scan;
  int scans = 0;
  std::size_t beams = 0;
  for (;;) {
    auto r = reader.read(next, scan);
    ASSERT_TRUE(r);
    if (*r == scan_reader::status::end) break;
    ++scans;
    beams += scan.beams.size();
    EXPECT_EQ(std::fmod(scan.st_time, 60.0), 0.0);
    EXPECT_LE(scan.st_time, scan.beams.front().time);
    if (*r == scan_reader::status::scan) {
      EXPECT_LT(scan.ed_time - scan.st_time, 60.0 + 8.0);
    }
    if (*r == scan_reader::status::last_scan) break;
  }
  EXPECT_EQ(beams, records.size());
  EXPECT_GE(scans, 9);
}

TEST(ScanReader, ChannelFilter) {
  auto const& original = fitacf_records();
  std::vector<dmap::record> records;
  for (std::size_t i = 0; i < original.size(); ++i)
    records.push_back(with_scalar(original[i], "channel", i % 2 == 0 ? 1 : 2));
  auto count_beams = [&](int channel) {
    scan_reader reader({.scan_length_s = 0, .channel = channel});
    auto next = source_of(records);
    radar_scan scan;
    std::size_t beams = 0;
    for (;;) {
      auto r = reader.read(next, scan);
      EXPECT_TRUE(r);
      if (!r || *r == scan_reader::status::end) break;
      for (auto const& b : scan.beams) {
        if (channel == 2) {
          EXPECT_EQ(b.channel, 2);
        }
        if (channel == 1) {
          EXPECT_NE(b.channel, 2);
        }
      }
      beams += scan.beams.size();
      if (*r == scan_reader::status::last_scan) break;
    }
    return beams;
  };
  EXPECT_EQ(count_beams(0), records.size());
  EXPECT_EQ(count_beams(1), (records.size() + 1) / 2);
  EXPECT_EQ(count_beams(2), records.size() / 2);
}

TEST(ScanReader, StateCarriesOverToTheNextFileLikeRst) {
  // After a file ends (state 2) the next read appends the next file's beams to the scan it is
  // given, instead of starting a new one: RST's multi-file behaviour.
  auto const& records = fitacf_records();
  scan_reader reader({});
  radar_scan scan;
  auto first_file = source_of(records, 0, 20);
  for (;;) {
    auto r = reader.read(first_file, scan);
    ASSERT_TRUE(r);
    if (*r == scan_reader::status::last_scan) break;
  }
  EXPECT_EQ(reader.state(), 2);
  std::size_t const held = scan.beams.size();
  double const st = scan.st_time;
  auto second_file = source_of(records, 20);
  auto r = reader.read(second_file, scan);
  ASSERT_TRUE(r);
  EXPECT_GT(scan.beams.size(), held);
  EXPECT_EQ(scan.st_time, st);
}

TEST(ScanReader, SkipToScanStartLeavesTheScanStartPending) {
  auto const& records = fitacf_records();
  scan_reader reader({});
  auto next = source_of(records, 3);
  auto found = reader.skip_to_scan_start(next);
  ASSERT_TRUE(found);
  ASSERT_TRUE(*found);
  EXPECT_EQ(reader.state(), 0);  // make_grid sets the state itself
}

TEST(BeamFromFitacf, TakesParametersAndListedRanges) {
  auto const& r = fitacf_records()[5];
  auto b = beam_from_fitacf(r);
  ASSERT_TRUE(b) << b.error().what;
  EXPECT_EQ(b->stid, 66);
  EXPECT_EQ(b->beam.bm, scalar_int(r, "bmnum"));
  EXPECT_EQ(b->beam.nrang, scalar_int(r, "nrang"));
  EXPECT_EQ(b->beam.freq, scalar_int(r, "tfreq"));
  EXPECT_EQ(b->beam.noise, static_cast<int>(r.find_scalar("noise.search")->as<float>()));
  auto const slist = r.find_array("slist")->values<std::int16_t>();
  auto const v = r.find_array("v")->values<float>();
  auto const qflg = r.find_array("qflg")->values<std::int8_t>();
  ASSERT_FALSE(slist.empty());
  std::size_t usable = 0;
  for (std::size_t s = 0; s < slist.size(); ++s) {
    auto const g = static_cast<std::size_t>(slist[s]);
    EXPECT_EQ(b->beam.rng[g].v, static_cast<double>(v[s]));
    EXPECT_EQ(b->beam.sct[g], qflg[s] == 1 ? 1 : 0);
    usable += qflg[s] == 1;
  }
  std::size_t marked = 0;
  for (auto s : b->beam.sct) marked += s;
  EXPECT_EQ(marked, usable);
  EXPECT_EQ(b->beam.rng[0].w_l_e, 0.0);  // not carried, as in RST
}

TEST(BeamFromFitacf, RejectsInconsistentRecords) {
  auto const& r = fitacf_records()[5];
  auto too_many = beam_from_fitacf(with_scalar(r, "nrang", 5000));
  ASSERT_FALSE(too_many);
  EXPECT_NE(too_many.error().what.find("nrang"), std::string::npos);

  dmap::record bad_slist;
  for (std::size_t i = 0; i < r.num_scalars(); ++i) bad_slist.add_copy(r.scalar(i));
  for (std::size_t i = 0; i < r.num_arrays(); ++i) {
    auto a = r.array(i);
    if (a.name() != "slist") {
      bad_slist.add_copy(a);
      continue;
    }
    auto values = a.values<std::int16_t>();
    values.back() = 30000;
    bad_slist.add_array<std::int16_t>("slist", values);
  }
  auto outside = beam_from_fitacf(bad_slist);
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().what.find("slist"), std::string::npos);

  dmap::record no_pwr0;
  for (std::size_t i = 0; i < r.num_scalars(); ++i) no_pwr0.add_copy(r.scalar(i));
  EXPECT_FALSE(beam_from_fitacf(no_pwr0));
}

}  // namespace
}  // namespace rstx::grid
