#include <gtest/gtest.h>

#include <sys/resource.h>
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
