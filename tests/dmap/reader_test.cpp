#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstring>
#include <thread>
#include <unistd.h>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "support/test_data.hpp"

namespace rstx::dmap {
namespace {

std::vector<record> read_all(reader& rd) {
  std::vector<record> out;
  record r;
  for (;;) {
    auto got = rd.next(r);
    EXPECT_TRUE(got) << got.error().message();
    if (!got || !*got) break;
    out.push_back(r);
  }
  return out;
}

TEST(Reader, ReadsPlainAndBzip2FilesAlike) {
  auto const plain = test::shared_path("data/real/test.rawacf");
  auto const bz2 = test::shared_path("data/real/test.rawacf.bz2");
  auto a = reader::open(plain.string());
  auto b = reader::open(bz2.string());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->input_compression(), compression::none);
  EXPECT_EQ(b->input_compression(), compression::bzip2);
  auto ra = read_all(*a);
  auto rb = read_all(*b);
  ASSERT_EQ(ra.size(), 2u);
  ASSERT_EQ(rb.size(), 2u);
  for (std::size_t i = 0; i < ra.size(); ++i) EXPECT_TRUE(bitwise_equal(ra[i], rb[i]));
}

TEST(Reader, MatchesWholeFileDecodeOnEverySharedFile) {
  for (auto const& f : test::shared_dmap_files()) {
    SCOPED_TRACE(f.string());
    auto const plain = f.extension() == ".bz2" ? test::decompressed_bytes(f) : test::read_bytes(f);
    auto whole = decode_all(plain);
    ASSERT_TRUE(whole);
    auto rd = reader::open(f.string());
    ASSERT_TRUE(rd);
    auto streamed = read_all(*rd);
    ASSERT_EQ(streamed.size(), whole->size());
    for (std::size_t i = 0; i < streamed.size(); ++i) EXPECT_TRUE(bitwise_equal(streamed[i], (*whole)[i]));
    EXPECT_EQ(rd->offset(), static_cast<std::int64_t>(plain.size()));
  }
}

TEST(Reader, DetectsCompressionByContentNotName) {
  auto dir = test::scratch_dir("reader_detect");
  auto const src = test::shared_path("data/real/test.rawacf");
  auto records = *read_file(src.string());
  for (auto c : {compression::none, compression::bzip2, compression::gzip, compression::zstd}) {
    auto const path = (dir / ("misleading." + std::string(to_string(c)) + ".txt")).string();
    {
      auto w = writer::create(path, {c, 6});
      ASSERT_TRUE(w);
      for (auto const& r : records) ASSERT_TRUE(w->write(r));
      ASSERT_TRUE(w->commit());
    }
    auto rd = reader::open(path);
    ASSERT_TRUE(rd);
    EXPECT_EQ(rd->input_compression(), c);
    auto back = read_all(*rd);
    ASSERT_EQ(back.size(), records.size()) << to_string(c);
    for (std::size_t i = 0; i < back.size(); ++i) EXPECT_TRUE(bitwise_equal(back[i], records[i]));
  }
}

TEST(Reader, ReadsConcatenatedBzip2Streams) {
  auto dir = test::scratch_dir("reader_multistream");
  auto const bz2 = test::shared_path("data/real/test.rawacf.bz2");
  auto const cat = dir / "twice.rawacf.bz2";
  ASSERT_EQ(test::run("cat '" + bz2.string() + "' '" + bz2.string() + "' > '" + cat.string() + "'").status, 0);
  auto rd = reader::open(cat.string());
  ASSERT_TRUE(rd);
  EXPECT_EQ(read_all(*rd).size(), 4u);
}

/** A zstd skippable frame: magic 0x184D2A5N, payload size, payload (the zstd format, RFC 8878 §3.1.2). */
std::vector<std::byte> skippable_frame(unsigned nibble, std::size_t payload) {
  std::vector<std::byte> f(8 + payload, std::byte{0xAB});
  std::uint32_t const magic = 0x184D2A50u | (nibble & 0xfu);
  auto const size = static_cast<std::uint32_t>(payload);
  std::memcpy(f.data(), &magic, 4);
  std::memcpy(f.data() + 4, &size, 4);
  return f;
}

TEST(Reader, ZstdSkippableFramesAreSkippedWhereverTheyAre) {
  auto dir = test::scratch_dir("reader_zstd_skippable");
  auto const src = test::shared_path("data/real/test.rawacf");
  auto const records = *read_file(src.string());
  auto const frame_path = dir / "frame.zst";
  ASSERT_EQ(test::run("zstd -q -c " + test::quoted(src) + " > " + test::quoted(frame_path)).status, 0);
  auto const frame = test::read_bytes(frame_path);
  auto cat = [](std::initializer_list<std::vector<std::byte>> parts) {
    std::vector<std::byte> out;
    for (auto const& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  struct layout {
    char const* what;
    std::vector<std::byte> bytes;
    std::size_t copies;
  };
  std::vector<layout> const layouts = {
      {"leading (pzstd)", cat({skippable_frame(0, 4), frame}), 1},
      {"between frames", cat({frame, skippable_frame(7, 100), frame}), 2},
      {"trailing (seekable format)", cat({frame, skippable_frame(0xE, 37)}), 1},
      {"empty payload, twice", cat({skippable_frame(1, 0), skippable_frame(2, 0), frame}), 1},
  };
  for (auto const& l : layouts) {
    SCOPED_TRACE(l.what);
    auto rd = reader::from_memory(l.bytes, "skippable.zst");
    ASSERT_TRUE(rd);
    EXPECT_EQ(rd->input_compression(), compression::zstd);
    auto const back = read_all(*rd);
    ASSERT_EQ(back.size(), l.copies * records.size());
    for (std::size_t i = 0; i < back.size(); ++i) EXPECT_TRUE(bitwise_equal(back[i], records[i % records.size()]));
  }
}

TEST(Reader, ReadsWhatPzstdWrites) {
  auto dir = test::scratch_dir("reader_pzstd");
  auto const src = test::shared_path("data/real/test.rawacf");
  auto const out = dir / "test.rawacf.zst";
  ASSERT_EQ(test::run("pzstd -q -p 2 -c " + test::quoted(src) + " > " + test::quoted(out)).status, 0);
  auto const bytes = test::read_bytes(out);
  ASSERT_GE(bytes.size(), 4U);
  EXPECT_EQ(static_cast<unsigned>(bytes[0]) & 0xf0U, 0x50U) << "pzstd output should start with a skippable frame";
  auto rd = reader::open(out.string());
  ASSERT_TRUE(rd);
  EXPECT_EQ(read_all(*rd).size(), read_file(src.string())->size());
}

TEST(Reader, ReadsFromAPipe) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto bytes = test::read_bytes(test::shared_path("data/real/test.rawacf.bz2"));
  std::thread feeder([&] {
    std::size_t off = 0;
    while (off < bytes.size()) {  // small writes exercise partial reads
      std::size_t const n = std::min<std::size_t>(1000, bytes.size() - off);
      ssize_t const k = ::write(fds[1], bytes.data() + off, n);
      if (k <= 0) break;
      off += static_cast<std::size_t>(k);
    }
    ::close(fds[1]);
  });
  auto rd = reader::from_fd(fds[0], "<pipe>");
  ASSERT_TRUE(rd);
  EXPECT_EQ(read_all(*rd).size(), 2u);
  feeder.join();
  ::close(fds[0]);
}

long max_rss_kb() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

TEST(Reader, MemoryStaysBoundedOnALongStream) {
  // 256 MB of records through a pipe: the reader must not hold more than a window and a record.
  auto records = *read_file(test::shared_path("data/real/test.rawacf").string());
  std::vector<std::byte> chunk = *encode_all(records);
  std::size_t const total = std::size_t{256} << 20;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  long const before = max_rss_kb();
  std::thread feeder([&] {
    for (std::size_t sent = 0; sent < total; sent += chunk.size()) {
      std::size_t off = 0;
      while (off < chunk.size()) {
        ssize_t const k = ::write(fds[1], chunk.data() + off, chunk.size() - off);
        if (k <= 0) return;
        off += static_cast<std::size_t>(k);
      }
    }
    ::close(fds[1]);
  });
  auto rd = reader::from_fd(fds[0], "<pipe>");
  ASSERT_TRUE(rd);
  record r;
  std::int64_t n = 0;
  for (;;) {
    auto got = rd->next(r);
    ASSERT_TRUE(got);
    if (!*got) break;
    ++n;
  }
  feeder.join();
  ::close(fds[0]);
  EXPECT_GT(n, 3000);
  EXPECT_LT(max_rss_kb() - before, 64 * 1024) << "reader memory grew with the input size";
}

}  // namespace
}  // namespace rstx::dmap
