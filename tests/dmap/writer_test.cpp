#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rstx::dmap
