// Hostile and damaged input: every case must give a clear error naming the source, record index
// and byte offset; nothing may crash, hang or allocate more than the record size limit allows.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "support/test_data.hpp"

namespace rstx::dmap {
namespace {

using bytes = std::vector<std::byte>;

struct outcome {
  std::vector<record> records;
  std::optional<error> err;
  std::vector<skipped_region> skipped;
};

outcome read_memory(bytes const& b, reader_options opt = {}) {
  outcome o;
  auto rd = reader::from_memory(b, "mem.rawacf", opt);
  if (!rd) {
    o.err = rd.error();
    return o;
  }
  record r;
  for (int guard = 0; guard < 100000; ++guard) {
    auto got = rd->next(r);
    if (!got) {
      o.err = got.error();
      break;
    }
    if (!*got) break;
    o.records.push_back(r);
  }
  o.skipped.assign(rd->skipped().begin(), rd->skipped().end());
  return o;
}

void put_i32(bytes& b, std::size_t off, std::int32_t v) { std::memcpy(b.data() + off, &v, 4); }

/** A small record with one of each kind of field, and the byte offsets of its parts. */
struct sample {
  bytes data;
  std::size_t string_value = 0;   // offset of the string scalar's first byte
  std::size_t type_byte = 0;      // offset of the int scalar's type byte
  std::size_t ndim = 0;           // offset of the array's ndim
  std::size_t dim0 = 0;           // offset of the array's first extent
};

sample make_sample() {
  record r;
  r.add_scalar<std::int16_t>("stid", 66).add_string("combf", "abc").add_scalar<std::int32_t>("x", 7);
  std::int32_t const dims[2] = {2, 3};
  std::vector<float> const v{1, 2, 3, 4, 5, 6};
  r.add_array<float>("acfd", dims, v);
  sample s;
  s.data = *encode(r);
  // header 16 | "stid\0" 5 type 1 value 2 | "combf\0" 6 type 1 "abc\0" 4 | "x\0" 2 type 1 value 4 | "acfd\0" 5 type 1 ndim 4 dims 8 data 24
  s.string_value = 16 + 8 + 7;
  s.type_byte = 16 + 8 + 11 + 2;
  s.ndim = 16 + 8 + 11 + 7 + 6;
  s.dim0 = s.ndim + 4;
  return s;
}

bytes three_records() {
  auto const one = make_sample().data;
  bytes b;
  for (int i = 0; i < 3; ++i) b.insert(b.end(), one.begin(), one.end());
  return b;
}

void expect_error(outcome const& o, errc code, std::int64_t record, std::int64_t min_off, std::int64_t max_off) {
  ASSERT_TRUE(o.err.has_value()) << "no error reported";
  EXPECT_EQ(o.err->code, code) << o.err->message();
  EXPECT_EQ(o.err->source, "mem.rawacf");
  EXPECT_EQ(o.err->record, record) << o.err->message();
  EXPECT_GE(o.err->offset, min_off) << o.err->message();
  EXPECT_LE(o.err->offset, max_off) << o.err->message();
  EXPECT_NE(o.err->message().find("mem.rawacf"), std::string::npos);
}

TEST(BadInput, EmptyInputInRecoverModeEndsCleanly) {  // found by fuzzing: memmove on an empty window
  auto o = read_memory({}, {.recover = true});
  EXPECT_FALSE(o.err);
  EXPECT_TRUE(o.records.empty());
  EXPECT_TRUE(o.skipped.empty());
}

TEST(BadInput, EmptyInputIsAnErrorWhenAsked) {
  auto o = read_memory({}, {.reject_empty = true});
  expect_error(o, errc::truncated, 0, 0, 0);
  EXPECT_TRUE(read_memory({}).records.empty());  // as a stream it is just empty
}

TEST(BadInput, TruncatedInsideHeader) {
  auto b = three_records();
  auto const rec = make_sample().data.size();
  b.resize(rec + 7);
  auto o = read_memory(b);
  EXPECT_EQ(o.records.size(), 1u);
  expect_error(o, errc::truncated, 1, static_cast<std::int64_t>(rec), static_cast<std::int64_t>(rec));
}

TEST(BadInput, TruncatedInsideRecord) {
  auto b = three_records();
  auto const rec = make_sample().data.size();
  b.resize(2 * rec + 30);
  auto o = read_memory(b);
  EXPECT_EQ(o.records.size(), 2u);
  expect_error(o, errc::truncated, 2, static_cast<std::int64_t>(2 * rec), static_cast<std::int64_t>(2 * rec));
}

TEST(BadInput, RecordSizeTooSmallNegativeTooLargeOrPastTheEnd) {
  for (std::int32_t size : {0, 15, -1, std::numeric_limits<std::int32_t>::min()}) {
    auto b = three_records();
    put_i32(b, 4, size);
    expect_error(read_memory(b), errc::bad_header, 0, 4, 4);
  }
  {
    auto b = three_records();
    put_i32(b, 4, std::numeric_limits<std::int32_t>::max());  // must not allocate 2 GB
    expect_error(read_memory(b), errc::too_large, 0, 4, 4);
  }
  {
    auto b = three_records();
    put_i32(b, 4, 100000);  // below the limit, larger than the file
    expect_error(read_memory(b), errc::truncated, 0, 0, 0);
  }
  {
    auto b = three_records();
    put_i32(b, 4, 4000);
    expect_error(read_memory(b, {.max_record_bytes = 1000}), errc::too_large, 0, 4, 4);
  }
}

TEST(BadInput, NegativeOrHugeFieldCounts) {
  for (auto [off, value] : {std::pair{8, -1}, std::pair{12, -5}, std::pair{8, 1 << 30}, std::pair{12, 1 << 30},
                            std::pair{8, std::numeric_limits<std::int32_t>::max()}}) {
    auto b = three_records();
    put_i32(b, static_cast<std::size_t>(off), value);
    expect_error(read_memory(b), errc::bad_header, 0, 8, 8);
  }
  {  // one scalar more than present: the decoder runs into the arrays and must notice
    auto b = three_records();
    put_i32(b, 8, 4);
    auto o = read_memory(b);
    ASSERT_TRUE(o.err);
    EXPECT_EQ(o.err->record, 0);
  }
}

TEST(BadInput, BadDimensionCountsAndExtents) {
  auto const s = make_sample();
  for (std::int32_t ndim : {0, -1, 1000, std::numeric_limits<std::int32_t>::max()}) {
    auto b = s.data;
    put_i32(b, s.ndim, ndim);
    expect_error(read_memory(b), errc::bad_dims, 0, static_cast<std::int64_t>(s.ndim), static_cast<std::int64_t>(s.ndim));
  }
  for (std::int32_t extent : {-1, -100000, std::numeric_limits<std::int32_t>::min()}) {
    auto b = s.data;
    put_i32(b, s.dim0, extent);
    expect_error(read_memory(b), errc::bad_dims, 0, static_cast<std::int64_t>(s.dim0), static_cast<std::int64_t>(s.dim0));
  }
  {  // huge extent: the product exceeds what the record holds (no allocation, no over-read)
    auto b = s.data;
    put_i32(b, s.dim0, 1000000);
    expect_error(read_memory(b), errc::bad_dims, 0, static_cast<std::int64_t>(s.dim0), static_cast<std::int64_t>(s.dim0));
  }
  {  // extents whose product overflows 64 bits are caught at the first step beyond the record
    record r;
    std::int32_t const dims[3] = {1, 1, 1};
    r.add_array<std::uint8_t>("big", dims, std::vector<std::uint8_t>{9});
    auto b = *encode(r);
    std::size_t const d = 16 + 4 + 1 + 4;
    put_i32(b, d, std::numeric_limits<std::int32_t>::max());
    put_i32(b, d + 4, std::numeric_limits<std::int32_t>::max());
    put_i32(b, d + 8, std::numeric_limits<std::int32_t>::max());
    auto o = read_memory(b);
    ASSERT_TRUE(o.err);
    EXPECT_EQ(o.err->code, errc::bad_dims);
  }
}

TEST(BadInput, UnknownTypeCode) {
  auto const s = make_sample();
  for (std::uint8_t code : {0, 5, 7, 11, 20, 255}) {
    auto b = s.data;
    b[s.type_byte] = std::byte{code};
    auto o = read_memory(b);
    expect_error(o, errc::bad_type, 0, static_cast<std::int64_t>(s.type_byte), static_cast<std::int64_t>(s.type_byte));
    EXPECT_NE(o.err->what.find("'x'"), std::string::npos) << o.err->what;
  }
}

TEST(BadInput, StringsWithoutTerminator) {
  // A record whose last field is a string with its NUL removed (size shrunk to match).
  record r;
  r.add_scalar<std::int16_t>("stid", 1).add_string("combf", "no end");
  auto b = *encode(r);
  b.pop_back();
  put_i32(b, 4, static_cast<std::int32_t>(b.size()));
  auto o = read_memory(b);
  expect_error(o, errc::bad_string, 0, 16, static_cast<std::int64_t>(b.size()));
  // A name without terminator: the record ends inside the name.
  record n;
  n.add_scalar<std::int16_t>("abcdef", 1);
  auto c = *encode(n);
  c.resize(16 + 6);
  put_i32(c, 4, 16 + 6);
  expect_error(read_memory(c), errc::bad_string, 0, 16, 16);
}

TEST(BadInput, ContentsDisagreeWithDeclaredSize) {
  auto const one = make_sample().data;
  {  // declared larger than the fields: trailing bytes inside the record
    auto b = one;
    b.insert(b.end(), 8, std::byte{0});
    put_i32(b, 4, static_cast<std::int32_t>(b.size()));
    expect_error(read_memory(b), errc::size_mismatch, 0, static_cast<std::int64_t>(one.size()),
                 static_cast<std::int64_t>(one.size()));
  }
  {  // declared smaller: the array runs past the end
    auto b = one;
    b.resize(one.size() - 8);
    put_i32(b, 4, static_cast<std::int32_t>(b.size()));
    auto o = read_memory(b);
    ASSERT_TRUE(o.err);
    // Seen either as extents too large for the record or as data running past its end.
    EXPECT_TRUE(o.err->code == errc::bad_dims || o.err->code == errc::size_mismatch) << o.err->message();
  }
}

TEST(BadInput, TrailingGarbageAfterTheLastRecord) {
  auto b = three_records();
  for (char c : std::string("garbage!")) b.push_back(static_cast<std::byte>(c));
  auto o = read_memory(b);
  EXPECT_EQ(o.records.size(), 3u);
  auto const end = static_cast<std::int64_t>(three_records().size());
  ASSERT_TRUE(o.err);
  EXPECT_EQ(o.err->record, 3);
  EXPECT_GE(o.err->offset, end);
}

TEST(BadInput, RecoverSkipsToTheNextValidRecord) {
  auto b = three_records();
  auto const rec = make_sample().data.size();
  put_i32(b, rec + 8, -7);  // damage the middle record
  auto strict = read_memory(b);
  EXPECT_EQ(strict.records.size(), 1u);
  ASSERT_TRUE(strict.err);

  auto o = read_memory(b, {.recover = true});
  EXPECT_FALSE(o.err) << o.err->message();
  ASSERT_EQ(o.records.size(), 2u);
  EXPECT_TRUE(bitwise_equal(o.records[0], o.records[1]));
  ASSERT_EQ(o.skipped.size(), 1u);
  EXPECT_EQ(o.skipped[0].offset, static_cast<std::int64_t>(rec));
  EXPECT_EQ(o.skipped[0].length, static_cast<std::int64_t>(rec));
  EXPECT_EQ(o.skipped[0].reason.code, errc::bad_header);
  EXPECT_EQ(o.skipped[0].next_record, 1);
}

TEST(BadInput, RecoverReportsATruncatedTail) {
  auto b = three_records();
  auto const rec = make_sample().data.size();
  b.resize(2 * rec + 40);
  auto o = read_memory(b, {.recover = true});
  EXPECT_FALSE(o.err);
  EXPECT_EQ(o.records.size(), 2u);
  ASSERT_EQ(o.skipped.size(), 1u);
  EXPECT_EQ(o.skipped[0].offset, static_cast<std::int64_t>(2 * rec));
  EXPECT_EQ(o.skipped[0].length, 40);
  EXPECT_EQ(o.skipped[0].reason.code, errc::truncated);
}

TEST(BadInput, RecoverFindsRecordsAfterJunkInserted) {
  auto const one = make_sample().data;
  bytes b = one;
  bytes junk(5000);
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::byte>((i * 131 + 7) & 0xff);
  b.insert(b.end(), junk.begin(), junk.end());
  b.insert(b.end(), one.begin(), one.end());
  auto o = read_memory(b, {.recover = true});
  EXPECT_FALSE(o.err);
  EXPECT_EQ(o.records.size(), 2u);
  ASSERT_EQ(o.skipped.size(), 1u);
  EXPECT_EQ(o.skipped[0].length, 5000);
}

TEST(BadInput, TruncationAtEveryByteOfASmallFile) {
  auto const full = test::read_bytes(test::shared_path("data/real/test.grid"));
  auto const whole = decode_all(full);
  ASSERT_TRUE(whole);
  auto const first = static_cast<std::size_t>(read_header(full).size);
  for (std::size_t cut = 1; cut < full.size(); ++cut) {
    if (cut == first) continue;  // a cut between records leaves a valid one-record file
    bytes b(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    auto o = read_memory(b);
    ASSERT_TRUE(o.err) << "cut at " << cut;
    EXPECT_EQ(o.err->code, errc::truncated) << o.err->message();
    EXPECT_EQ(o.records.size(), cut < first ? 0u : 1u);
    EXPECT_EQ(o.err->offset, cut < first ? 0 : static_cast<std::int64_t>(first));
  }
}

TEST(BadInput, SingleByteCorruptionsOfARawacfHeaderNeverCrash) {
  // RST segfaults on 28 of 300 such corruptions. Each must read cleanly or fail cleanly.
  auto const full = test::read_bytes(test::shared_path("data/real/test.rawacf"));
  int errors = 0;
  for (std::size_t pos = 0; pos < 300; ++pos) {
    for (std::uint8_t v : {std::uint8_t{0x00}, std::uint8_t{0xff}, std::uint8_t{0x7f},
                           static_cast<std::uint8_t>(static_cast<std::uint8_t>(full[pos]) ^ 0x80)}) {
      auto b = full;
      b[pos] = std::byte{v};
      auto o = read_memory(b);
      if (!o.err) continue;
      ++errors;
      EXPECT_GE(o.err->record, 0);
      EXPECT_GE(o.err->offset, 0);
      EXPECT_LE(o.err->offset, static_cast<std::int64_t>(full.size()));
      EXPECT_FALSE(o.err->what.empty());
    }
  }
  EXPECT_GT(errors, 100);  // most header corruptions are detectable
}

TEST(BadInput, CompressedStreamCutShortInRecoverModeKeepsItsLocation) {  // found by fuzzing
  auto const bz = test::read_bytes(test::shared_path("data/real/test.rawacf.bz2"));
  bytes b(bz.begin(), bz.begin() + 40000);
  auto o = read_memory(b, {.recover = true});
  ASSERT_TRUE(o.err);
  EXPECT_EQ(o.err->code, errc::truncated);
  EXPECT_EQ(o.err->source, "mem.rawacf");
  EXPECT_GE(o.err->record, 0);
  EXPECT_GE(o.err->offset, 0);
}

TEST(BadInput, CorruptCompressedStreams) {
  auto const bz = test::read_bytes(test::shared_path("data/real/test.rawacf.bz2"));
  {  // cut short
    bytes b(bz.begin(), bz.begin() + static_cast<std::ptrdiff_t>(bz.size() / 2));
    auto o = read_memory(b);
    ASSERT_TRUE(o.err);
    EXPECT_EQ(o.err->code, errc::truncated) << o.err->message();
  }
  {  // damaged block
    auto b = bz;
    for (std::size_t i = 1000; i < 1100; ++i) b[i] ^= std::byte{0x5a};
    auto o = read_memory(b);
    ASSERT_TRUE(o.err);
    EXPECT_EQ(o.err->code, errc::decompress) << o.err->message();
  }
  {  // trailing junk after the stream
    auto b = bz;
    for (char c : std::string("junk")) b.push_back(static_cast<std::byte>(c));
    auto o = read_memory(b);
    EXPECT_EQ(o.records.size(), 2u);
    ASSERT_TRUE(o.err);
    EXPECT_EQ(o.err->code, errc::decompress);
  }
}

}  // namespace
}  // namespace rstx::dmap
