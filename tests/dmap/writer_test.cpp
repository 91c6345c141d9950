#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

#include <fmt/format.h>

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


record small_record(std::int32_t x) {
  record r;
  r.add_scalar<std::int32_t>("x", x);
  return r;
}

std::vector<std::byte> encoded(record const& r) { return *encode(r); }

TEST(Writer, ASymbolicLinkIsFollowedAndStaysALink) {
  auto dir = test::scratch_dir("writer_symlink");
  fs::create_directories(dir / "real");
  auto const target = dir / "real" / "out.fitacf";
  test::write_bytes(target, {std::byte{1}, std::byte{2}});
  ASSERT_EQ(::chmod(target.c_str(), 0640), 0);
  fs::create_symlink("real/out.fitacf", dir / "link.fitacf");         // relative
  fs::create_symlink(dir / "link.fitacf", dir / "link-to-link.fitacf");  // a chain
  for (auto const* name : {"link.fitacf", "link-to-link.fitacf"}) {
    SCOPED_TRACE(name);
    for (bool anonymous : {true, false}) {
      auto w = writer::create((dir / name).string(), {.anonymous_temporary = anonymous});
      ASSERT_TRUE(w) << w.error().message();
      ASSERT_TRUE(w->write(small_record(anonymous ? 1 : 2)));
      ASSERT_TRUE(w->commit());
      EXPECT_TRUE(fs::is_symlink(dir / name)) << "the link was replaced";
      EXPECT_EQ(test::read_bytes(target), encoded(small_record(anonymous ? 1 : 2)));
      struct stat st {};
      ASSERT_EQ(::stat(target.c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 07777, 0640U) << "the mode of the replaced file";
      EXPECT_EQ(files_in(dir / "real"), std::vector<fs::path>{"out.fitacf"});
    }
  }
}

TEST(Writer, ADanglingLinkCreatesItsTarget) {
  auto dir = test::scratch_dir("writer_dangling");
  fs::create_symlink("new.grid", dir / "link.grid");
  auto w = writer::create((dir / "link.grid").string());
  ASSERT_TRUE(w) << w.error().message();
  ASSERT_TRUE(w->write(small_record(3)));
  ASSERT_TRUE(w->commit());
  EXPECT_TRUE(fs::is_symlink(dir / "link.grid"));
  EXPECT_EQ(test::read_bytes(dir / "new.grid"), encoded(small_record(3)));
}

TEST(Writer, ALinkLoopIsAClearError) {
  auto dir = test::scratch_dir("writer_loop");
  fs::create_symlink("b", dir / "a");
  fs::create_symlink("a", dir / "b");
  auto w = writer::create((dir / "a").string());
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code, errc::io);
  EXPECT_NE(w.error().message().find((dir / "a").string()), std::string::npos) << w.error().message();
}

TEST(Writer, ReplacedFileKeepsItsModeAndOwner) {
  auto dir = test::scratch_dir("writer_mode");
  auto const target = dir / "out.fitacf";
  test::write_bytes(target, {std::byte{9}});
  ASSERT_EQ(::chmod(target.c_str(), 0604), 0);
  // A group other than the process's own, where the process may set it (as root).
  gid_t const other_group = ::getegid() == 0 ? 1 : ::getegid();
  (void)::chown(target.c_str(), ::geteuid(), other_group);
  struct stat before {};
  ASSERT_EQ(::stat(target.c_str(), &before), 0);
  for (bool anonymous : {true, false}) {
    auto w = writer::create(target.string(), {.anonymous_temporary = anonymous});
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(small_record(4)));
    ASSERT_TRUE(w->commit());
    struct stat after {};
    ASSERT_EQ(::stat(target.c_str(), &after), 0);
    // (While the old file exists the new one cannot have its inode; later, a freed one may be reused.)
    if (anonymous) {
      EXPECT_NE(after.st_ino, before.st_ino) << "replaced, not rewritten in place";
    }
    EXPECT_EQ(after.st_mode & 07777, 0604U);
    EXPECT_EQ(after.st_uid, before.st_uid);
    EXPECT_EQ(after.st_gid, before.st_gid);
  }
}

TEST(Writer, OwnDescriptorsNamedAsPathsAreWrittenInPlace) {
  // A link to /proc/self/fd/N (what /dev/stdout is) must reach the descriptor, not replace the
  // link or the file the descriptor is open on.
  auto dir = test::scratch_dir("writer_fd_path");
  auto const file = dir / "captured";
  int const fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "head", 4), 4);
  auto const link = dir / "stdout-like";
  fs::create_symlink(fmt::format("/proc/self/fd/{}", fd), link);
  for (auto const& name : {link.string(), fmt::format("/dev/fd/{}", fd)}) {
    SCOPED_TRACE(name);
    auto w = writer::create(name);
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_TRUE(w->write(small_record(5)));
    ASSERT_TRUE(w->commit());
  }
  ::close(fd);
  EXPECT_TRUE(fs::is_symlink(link));
  auto const bytes = test::read_bytes(file);
  auto const rec = encoded(small_record(5));
  ASSERT_EQ(bytes.size(), 4 + 2 * rec.size()) << "written after what the descriptor had, twice";
  EXPECT_TRUE(std::equal(rec.begin(), rec.end(), bytes.begin() + 4));
  auto names = files_in(dir);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<fs::path>{"captured", "stdout-like"}));
}

TEST(Writer, AnUnnamedTemporaryFileLeavesNoNameBehind) {
  auto dir = test::scratch_dir("writer_anonymous");
  auto w = writer::create((dir / "out.grid").string());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write(small_record(6)));
  EXPECT_TRUE(files_in(dir).empty()) << "a name exists before commit (no O_TMPFILE here?)";
  ASSERT_TRUE(w->commit());
  EXPECT_EQ(files_in(dir), std::vector<fs::path>{"out.grid"});
}

TEST(Writer, NamedTemporaryFilesAreRemovedOnASignal) {
  auto dir = test::scratch_dir("writer_signal");
  pid_t const child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child writes without committing, then dies of SIGTERM the way the programs do: their
    // handler removes the temporary files and re-raises the signal.
    auto w = writer::create((dir / "out.fitacf").string(), {.anonymous_temporary = false});
    if (!w || !w->write(small_record(7)) || files_in(dir).size() != 1) ::_exit(3);
    remove_uncommitted_temporaries();
    ::signal(SIGTERM, SIG_DFL);
    ::raise(SIGTERM);
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exit status " << WEXITSTATUS(status);
  EXPECT_TRUE(files_in(dir).empty());
}

}  // namespace
}  // namespace rstx::dmap
