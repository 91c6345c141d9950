#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "support/test_data.hpp"

namespace rstx::dmap {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> files_in(fs::path const& dir) {
  std::vector<fs::path> out;
  for (auto const& e : fs::directory_iterator(dir)) out.push_back(e.path().filename());
  return out;
}

TEST(Writer, SuffixPicksCompression) {
  EXPECT_EQ(compression_for_path("a.fitacf.bz2"), compression::bzip2);
  EXPECT_EQ(compression_for_path("a.gz"), compression::gzip);
  EXPECT_EQ(compression_for_path("a.zst"), compression::zstd);
  EXPECT_EQ(compression_for_path("a.fitacf"), compression::none);
  EXPECT_EQ(compression_for_path(".bz2"), compression::none);
}

TEST(Writer, PlainOutputIsTheExactBytes) {
  auto dir = test::scratch_dir("writer_plain");
  auto const src = test::shared_path("data/real/test.fitacf");
  auto records = *read_file(src.string());
  auto const out = (dir / "copy.fitacf").string();
  auto w = writer::create(out);
  ASSERT_TRUE(w);
  for (auto const& r : records) ASSERT_TRUE(w->write(r));
  ASSERT_TRUE(w->commit());
  EXPECT_EQ(test::read_bytes(out), test::read_bytes(src));
  EXPECT_EQ(files_in(dir), std::vector<fs::path>{"copy.fitacf"}) << "temporary file left behind";
}

TEST(Writer, Bzip2OutputDecompressesWithTheSystemTool) {
  auto dir = test::scratch_dir("writer_bz2");
  auto const src = test::shared_path("data/real/test.rawacf");
  auto records = *read_file(src.string());
  auto const out = dir / "copy.rawacf.bz2";
  auto w = writer::create(out.string(), {compression::bzip2, 9});
  ASSERT_TRUE(w);
  for (auto const& r : records) ASSERT_TRUE(w->write(r));
  ASSERT_TRUE(w->commit());
  EXPECT_EQ(test::decompressed_bytes(out), test::read_bytes(src));
}

TEST(Writer, WithoutCommitTheTargetIsUntouched) {
  auto dir = test::scratch_dir("writer_abort");
  auto const target = dir / "out.fitacf";
  test::write_bytes(target, {std::byte{1}, std::byte{2}, std::byte{3}});
  auto records = *read_file(test::shared_path("data/real/test.fitacf").string());
  {
    auto w = writer::create(target.string());
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(records[0]));
    // destroyed without commit(), as after an error part-way through
  }
  EXPECT_EQ(test::read_bytes(target), (std::vector<std::byte>{std::byte{1}, std::byte{2}, std::byte{3}}));
  EXPECT_EQ(files_in(dir), std::vector<fs::path>{"out.fitacf"});
}

TEST(Writer, UnwritableDirectoryIsAClearError) {
  auto w = writer::create("/nonexistent-dir-rstx/out.fitacf");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, errc::io);
  EXPECT_NE(w.error().message().find("/nonexistent-dir-rstx/out.fitacf"), std::string::npos);
}

TEST(Writer, DevicesAreWrittenInPlaceNotReplaced) {
  record r;
  r.add_scalar<std::int32_t>("x", 7);
  auto null_out = writer::create("/dev/null");
  ASSERT_TRUE(null_out) << null_out.error().message();
  ASSERT_TRUE(null_out->write(r));
  ASSERT_TRUE(null_out->commit());
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "/dev/null must still be a device";

  if (::stat("/dev/full", &st) != 0 || !S_ISCHR(st.st_mode)) GTEST_SKIP() << "no /dev/full";
  auto full = writer::create("/dev/full");
  ASSERT_TRUE(full);
  ASSERT_TRUE(full->write(r));
  auto c = full->commit();
  ASSERT_FALSE(c) << "a full device is an error";
  EXPECT_EQ(c.error().code, errc::io);
  EXPECT_NE(c.error().message().find("/dev/full"), std::string::npos) << c.error().message();
  ASSERT_EQ(::stat("/dev/full", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

}  // namespace
}  // namespace rstx::dmap
