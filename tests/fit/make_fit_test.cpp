// The make_fit binary end to end: RST-compatible flags, -o (atomic, .bz2), standard input,
// missing tables, records that cannot be fitted or decoded, truncated input, exit statuses.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/cuda/fitacf3.hpp"
#include "support.hpp"
#include "support/test_data.hpp"

namespace fs = std::filesystem;
using namespace rstx;
using rstx::test::run;

namespace {

std::string make_fit() { return (rstx::test::bin_dir() / "make_fit").string(); }
std::string test_rawacf() { return rstx::test::shared_path("data/real/test.rawacf").string(); }
std::string test_reference() { return rstx::test::shared_path("data/real/test.rawacf.rst-fitacf3.fitacf").string(); }

/** Runs make_fit with the shared tables; stderr goes to `err` (a file path). */
rstx::test::run_result make_fit_run(std::string const& args, fs::path const& err, std::string const& env = "") {
  std::string const cmd =
      fmt::format("{}{}{} {} 2> '{}'", fit::test::table_environment(), env, make_fit(), args, err.string());
  return run(cmd);
}

std::string slurp(fs::path const& p) {
  auto const b = rstx::test::read_bytes(p);
  return {reinterpret_cast<char const*>(b.data()), b.size()};
}

std::vector<dmap::record> decode_string(std::string const& s) {
  auto r = dmap::decode_all(std::span<std::byte const>(reinterpret_cast<std::byte const*>(s.data()), s.size()));
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  return r ? std::move(*r) : std::vector<dmap::record>{};
}

/** Records equal to the RST reference (origin.* ignored), bitwise. */
void expect_reference(std::vector<dmap::record> const& ours, std::size_t first = 0, std::size_t count = 2) {
  auto ref = dmap::read_file(test_reference());
  ASSERT_TRUE(ref);
  std::vector<dmap::record> want(ref->begin() + static_cast<std::ptrdiff_t>(first),
                                 ref->begin() + static_cast<std::ptrdiff_t>(first + count));
  auto const cmp = fit::test::compare_files(ours, want);
  EXPECT_EQ(cmp.result.records_a, static_cast<std::int64_t>(count));
  EXPECT_TRUE(cmp.result.equal()) << cmp.report("make_fit");
  EXPECT_EQ(cmp.result.not_identical, 0U);
}

std::vector<std::byte> encoded(dmap::record const& r) { return *dmap::encode(r); }

/** Overwrites the first extent after the name of array `name` (its dims start 1 + 4 + 4 bytes later). */
void patch_dim(std::vector<std::byte>& bytes, std::string const& name, int which, std::int32_t value) {
  std::string const key = name + '\0';
  auto const it = std::search(bytes.begin(), bytes.end(), reinterpret_cast<std::byte const*>(key.data()),
                              reinterpret_cast<std::byte const*>(key.data()) + key.size());
  ASSERT_NE(it, bytes.end());
  auto const at = static_cast<std::size_t>(it - bytes.begin()) + key.size() + 1 + 4 + 4 * static_cast<std::size_t>(which);
  std::memcpy(bytes.data() + at, &value, 4);
}

fs::path write_records(fs::path const& dir, std::string const& name, std::vector<std::vector<std::byte>> const& recs) {
  std::vector<std::byte> all;
  for (auto const& r : recs) all.insert(all.end(), r.begin(), r.end());
  auto const p = dir / name;
  rstx::test::write_bytes(p, all);
  return p;
}

}  // namespace

TEST(make_fit, fits_like_rst_to_stdout) {
  auto const dir = rstx::test::scratch_dir("make_fit_stdout");
  auto const r = make_fit_run("-fitacf3 '" + test_rawacf() + "'", dir / "err");
  ASSERT_EQ(r.status, 0) << slurp(dir / "err");
  expect_reference(decode_string(r.out));
  EXPECT_EQ(slurp(dir / "err"), "");
}

TEST(make_fit, rst4_version_flag_stdin_and_compressed_input) {
  auto const dir = rstx::test::scratch_dir("make_fit_forms");
  auto const bz2 = rstx::test::shared_path("data/real/test.rawacf.bz2").string();
  for (std::string const& args : {"-fitacf-version 3.0 '" + test_rawacf() + "'", "-fitacf3 < '" + test_rawacf() + "'",
                                 "-fitacf3 - < '" + bz2 + "'", "-fitacf3 '" + bz2 + "'",
                                 "-vb -fitacf3 --threads 1 '" + test_rawacf() + "'"}) {
    SCOPED_TRACE(args);
    auto const r = make_fit_run(args, dir / "err");
    ASSERT_EQ(r.status, 0) << slurp(dir / "err");
    expect_reference(decode_string(r.out));
  }
  // The -vb run: which tables (here RST's variables, set by the test; the tdiff folder only with
  // -tdiff_method), the hardware line, then RST's line per record.
  auto const shared_tables = rstx::test::tables_path("").string();
  auto err = slurp(dir / "err");
  // The backend line: the GPU where one is usable, else the CPU and why.
  ASSERT_EQ(err.rfind("Backend: ", 0), 0u) << err;
  err.erase(0, err.find('\n') + 1);
  EXPECT_EQ(err,
            fmt::format("Tables: radar list: {0}/radar.dat (SD_RADAR)\n"
                        "Tables: hardware folder: {0}/hdw/ (SD_HDWPATH)\n"
                        "Hardware: {0}/hdw/hdw.dat.cly (radar 66, Clyde River), line valid from 2020-01-13 00:00:00\n"
                        "2021-6-7 18:1:0 beam=6\n2021-6-7 18:1:3 beam=5\n",
                        shared_tables));
}

TEST(make_fit, options_after_the_input_file) {
  auto const dir = rstx::test::scratch_dir("make_fit_options_after");
  auto const out = dir / "out.fitacf";
  auto const r = make_fit_run("-fitacf3 '" + test_rawacf() + "' -o '" + out.string() + "' --threads 1", dir / "err");
  ASSERT_EQ(r.status, 0) << slurp(dir / "err");
  EXPECT_EQ(r.out, "");
  expect_reference(*dmap::read_file(out.string()));
}

TEST(make_fit, input_of_another_kind_is_refused) {
  // RST fits a fitacf (or grid) file into empty records and exits 0; rstx says what it found.
  auto const dir = rstx::test::scratch_dir("make_fit_wrong_kind");
  for (auto const* rel : {"data/real/test.rawacf.rst-fitacf3.fitacf", "data/real/test.grid", "data/real/test.map"}) {
    SCOPED_TRACE(rel);
    auto const r = make_fit_run("-fitacf3 '" + rstx::test::shared_path(rel).string() + "'", dir / "err");
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    auto const err = slurp(dir / "err");
    EXPECT_NE(err.find("record 0, byte 0: wrong_type: this is a"), std::string::npos) << err;
    EXPECT_NE(err.find("make_fit reads rawacf records"), std::string::npos) << err;
  }
}

TEST(make_fit, output_file_is_atomic_and_may_be_compressed) {
  auto const dir = rstx::test::scratch_dir("make_fit_output");
  auto const plain = dir / "out.fitacf";
  auto r = make_fit_run("-fitacf3 -o '" + plain.string() + "' '" + test_rawacf() + "'", dir / "err");
  ASSERT_EQ(r.status, 0) << slurp(dir / "err");
  EXPECT_EQ(r.out, "");
  auto const recs = dmap::read_file(plain.string());
  ASSERT_TRUE(recs);
  expect_reference(*recs);

  auto const packed = dir / "out.fitacf.bz2";
  r = make_fit_run("-fitacf3 -o '" + packed.string() + "' '" + test_rawacf() + "'", dir / "err");
  ASSERT_EQ(r.status, 0) << slurp(dir / "err");
  EXPECT_EQ(slurp(packed).substr(0, 3), "BZh");
  auto const unpacked = dmap::read_file(packed.string());
  ASSERT_TRUE(unpacked);
  expect_reference(*unpacked);

  // A run that fails before writing leaves an existing output untouched and no temporary file.
  r = make_fit_run("-fitacf3 -o '" + plain.string() + "' '" + (dir / "missing.rawacf").string() + "'", dir / "err");
  EXPECT_EQ(r.status, 3);
  EXPECT_NE(slurp(dir / "err").find("missing.rawacf"), std::string::npos);
  auto const still = dmap::read_file(plain.string());
  ASSERT_TRUE(still);
  EXPECT_EQ(still->size(), 2U);
  std::size_t files = 0;
  for ([[maybe_unused]] auto const& e : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 3U);  // out.fitacf, out.fitacf.bz2, err
}

TEST(make_fit, tables_are_found_without_any_setting_and_can_be_pointed_elsewhere) {
  auto const dir = rstx::test::scratch_dir("make_fit_tables");
  // No variable at all: rstx's own tables, beside the program.
  auto r = run(fmt::format("env -u SD_RADAR -u SD_HDWPATH -u SD_TDIFFPATH -u RSTX_TABLES {} -vb -fitacf3 '{}' 2> '{}'",
                           make_fit(), test_rawacf(), (dir / "err").string()));
  ASSERT_EQ(r.status, 0) << slurp(dir / "err");
  expect_reference(decode_string(r.out));
  auto const builtin = (rstx::test::bin_dir().parent_path() / "share" / "rstx" / "tables").lexically_normal().string();
  EXPECT_NE(slurp(dir / "err").find("Tables: radar list: " + builtin + "/radar.dat (built-in)"), std::string::npos)
      << slurp(dir / "err");

  // A variable that names a missing folder is an error naming the table, the variable and the path:
  // there is no silent fall-back to another copy.
  for (std::string const var : {"SD_RADAR", "SD_HDWPATH", "SD_TDIFFPATH"}) {
    SCOPED_TRACE(var);
    r = run(fmt::format("{}={} {} -fitacf3 -tdiff_method 1 '{}' 2> '{}'", var, "/nonexistent/", make_fit(),
                        test_rawacf(), (dir / "err").string()));
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    auto const err = slurp(dir / "err");
    EXPECT_NE(err.find(var), std::string::npos) << err;
    EXPECT_NE(err.find("/nonexistent/"), std::string::npos) << err;
  }
  r = run(fmt::format("{} --tables /nonexistent -fitacf3 '{}' 2> '{}'", make_fit(), test_rawacf(), (dir / "err").string()));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(slurp(dir / "err").find("--tables"), std::string::npos) << slurp(dir / "err");

  // A folder given with --tables (or RSTX_TABLES) is used: one whose hardware file for Clyde River
  // is missing makes the run fail on exactly that file.
  auto const copy = dir / "copy";
  fs::copy(builtin, copy, fs::copy_options::recursive);
  fs::remove(copy / "hdw" / "hdw.dat.cly");
  r = run(fmt::format("env -u SD_RADAR -u SD_HDWPATH -u SD_TDIFFPATH {} --tables '{}' -fitacf3 '{}' 2> '{}'", make_fit(),
                      copy.string(), test_rawacf(), (dir / "err").string()));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(slurp(dir / "err").find((copy / "hdw" / "hdw.dat.cly").string()), std::string::npos) << slurp(dir / "err");
  r = run(fmt::format("env -u SD_RADAR -u SD_HDWPATH -u SD_TDIFFPATH RSTX_TABLES='{}' {} -fitacf3 '{}' 2> '{}'",
                      copy.string(), make_fit(), test_rawacf(), (dir / "err").string()));
  EXPECT_NE(slurp(dir / "err").find((copy / "hdw" / "hdw.dat.cly").string()), std::string::npos) << slurp(dir / "err");
  // RST's own variable, as an existing RST setup has it, wins over rstx's copy.
  r = run(fmt::format("env -u SD_RADAR -u SD_TDIFFPATH SD_HDWPATH='{}' {} -fitacf3 '{}' 2> '{}'",
                      (copy / "hdw").string(), make_fit(), test_rawacf(), (dir / "err").string()));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(slurp(dir / "err").find((copy / "hdw" / "hdw.dat.cly").string()), std::string::npos) << slurp(dir / "err");
}

TEST(make_fit, usage_errors) {
  auto const dir = rstx::test::scratch_dir("make_fit_usage");
  struct expectation {
    std::string args, words;
  };
  for (auto const& [args, words] :
       {expectation{"'" + test_rawacf() + "'", "Please specify a fitting algorithm"},
        expectation{"-fitacf3 -fitacf-version 2.5 x", "only one fitting algorithm"},
        expectation{"-fitacf3 -bogus x", "Option not recognized: -bogus"},
        expectation{"-fitacf3 --device -1 x", "--device -1"},
        expectation{"-fitacf3 -lmfit2 x", "make_lmfit2"}}) {
    SCOPED_TRACE(args);
    auto const r = make_fit_run(args, dir / "err");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(slurp(dir / "err").find(words), std::string::npos) << slurp(dir / "err");
  }
  auto r = make_fit_run("--help", dir / "err");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("-fitacf3"), std::string::npos);
  r = make_fit_run("--version", dir / "err");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("rstx"), std::string::npos);
}

TEST(make_fit, backends_cuda_cpu_and_auto) {
  // cuda without a usable GPU: exit 4 and why, nothing written; auto: the CPU and one line saying
  // why; FITACF 2.5 has no kernels. With a GPU, cuda runs (its numbers: fitacf3_cuda tests).
  auto const dir = rstx::test::scratch_dir("make_fit_backends");
  auto const out = dir / "out.fitacf";
  bool const gpu = static_cast<bool>(cuda::open_fitacf3());
  auto r = make_fit_run("-fitacf3 --backend cuda '" + test_rawacf() + "' -o '" + out.string() + "'", dir / "err");
  if (gpu) {
    EXPECT_EQ(r.status, 0) << slurp(dir / "err");
  } else {
    EXPECT_EQ(r.status, 4);
    EXPECT_NE(slurp(dir / "err").find("make_fit: --backend cuda: "), std::string::npos) << slurp(dir / "err");
    EXPECT_NE(slurp(dir / "err").find("use --backend cpu or auto"), std::string::npos);
    EXPECT_FALSE(fs::exists(out));
    r = make_fit_run("-fitacf3 --backend cuda --device 7 '" + test_rawacf() + "'", dir / "err");
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.out, "");
  }
  r = make_fit_run("-fitacf3 --backend auto '" + test_rawacf() + "'", dir / "err");
  ASSERT_EQ(r.status, 0) << slurp(dir / "err");
  if (!gpu) {
    expect_reference(decode_string(r.out));
    EXPECT_EQ(slurp(dir / "err").rfind("make_fit: fitting on the CPU: ", 0), 0u) << slurp(dir / "err");
    auto const err = slurp(dir / "err");
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;  // one line
  }
  r = make_fit_run("-fitacf3 --backend cpu '" + test_rawacf() + "'", dir / "err");
  ASSERT_EQ(r.status, 0);
  expect_reference(decode_string(r.out));
  EXPECT_EQ(slurp(dir / "err"), "");
  r = make_fit_run("-fitacf2 --backend cuda '" + test_rawacf() + "'", dir / "err");
  EXPECT_EQ(r.status, 4);
  EXPECT_NE(slurp(dir / "err").find("FITACF 2.5 has no CUDA kernels"), std::string::npos) << slurp(dir / "err");
}

TEST(make_fit, truncated_input_writes_complete_records_then_fails) {
  auto const dir = rstx::test::scratch_dir("make_fit_truncated");
  auto const& recs = fit::test::borealis_records();
  auto second = encoded(recs[1]);
  second.resize(second.size() / 2);
  auto const input = write_records(dir, "cut.rawacf", {encoded(recs[0]), second});
  auto const r = make_fit_run("-fitacf3 '" + input.string() + "'", dir / "err");
  EXPECT_EQ(r.status, 2);
  expect_reference(decode_string(r.out), 0, 1);
  auto const err = slurp(dir / "err");
  EXPECT_NE(err.find("record 1"), std::string::npos) << err;
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
}

TEST(make_fit, undecodable_record_is_reported_and_skipped) {
  // acfd's lag extent patched to 1e6 in the bytes: RST reads far past the record and crashes.
  auto const dir = rstx::test::scratch_dir("make_fit_corrupt");
  auto const& recs = fit::test::borealis_records();
  auto bad = encoded(recs[1]);
  patch_dim(bad, "acfd", 1, 1000000);
  auto const input = write_records(dir, "bad.rawacf", {encoded(recs[0]), bad, encoded(recs[1])});
  auto r = make_fit_run("-fitacf3 '" + input.string() + "'", dir / "err");
  EXPECT_EQ(r.status, 0) << slurp(dir / "err");
  auto const out = decode_string(r.out);
  ASSERT_EQ(out.size(), 2U);
  expect_reference(out);  // records 0 and 2 of the input are test.rawacf's two records
  auto const err = slurp(dir / "err");
  EXPECT_NE(err.find("record 1"), std::string::npos) << err;
  EXPECT_NE(err.find("skipped"), std::string::npos) << err;

  r = make_fit_run("--strict -fitacf3 '" + input.string() + "'", dir / "err");
  EXPECT_EQ(r.status, 2);
  expect_reference(decode_string(r.out), 0, 1);
}

TEST(make_fit, unfittable_records_are_reported_and_skipped) {
  auto const dir = rstx::test::scratch_dir("make_fit_unfittable");
  auto const& recs = fit::test::borealis_records();
  auto huge = fit::test::with_scalar<std::int16_t>(recs[0], "nrang", 30000);
  auto far = recs[0].find_array("slist")->values<std::int16_t>();
  far[4] = 5000;
  auto slist5000 = fit::test::with_array<std::int16_t>(recs[0], "slist", {100}, far);
  auto no_pulses = fit::test::with_array<std::int16_t>(recs[0], "ptab", {0}, {});
  no_pulses = fit::test::with_scalar<std::int16_t>(no_pulses, "mppul", 0);
  auto const input = write_records(
      dir, "mixed.rawacf",
      {encoded(huge), encoded(recs[0]), encoded(slist5000), encoded(no_pulses), encoded(recs[1])});
  auto r = make_fit_run("-fitacf3 '" + input.string() + "'", dir / "err");
  EXPECT_EQ(r.status, 0);
  expect_reference(decode_string(r.out));
  auto const err = slurp(dir / "err");
  for (auto const* words : {"record 0, byte 0: bad_value: nrang 30000", "record 2", "slist[4] = 5000", "record 3",
                            "mppul is 0", "3 of 5 input records"})
    EXPECT_NE(err.find(words), std::string::npos) << words << "\n" << err;

  r = make_fit_run("--strict -fitacf3 '" + input.string() + "'", dir / "err");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(slurp(dir / "err").find("nrang 30000"), std::string::npos);
}

TEST(make_fit, empty_input_gives_empty_output) {
  auto const dir = rstx::test::scratch_dir("make_fit_empty");
  auto const r = make_fit_run("-fitacf3 < /dev/null", dir / "err");
  EXPECT_EQ(r.status, 0) << slurp(dir / "err");
  EXPECT_EQ(r.out, "");
}

TEST(make_fit, same_bytes_for_any_thread_count) {
  auto const dir = rstx::test::scratch_dir("make_fit_threads");
  auto const input = rstx::test::shared_path("data/synth/cly_10min_float.rawacf.bz2").string();
  auto const one = make_fit_run("-fitacf3 --threads 1 '" + input + "'", dir / "err");
  auto const two = make_fit_run("-fitacf3 --threads 2 '" + input + "'", dir / "err");
  auto const four = make_fit_run("-fitacf3 --threads 4 '" + input + "'", dir / "err");
  ASSERT_EQ(one.status, 0);
  auto const a = decode_string(one.out);
  for (auto const* other : {&two, &four}) {
    ASSERT_EQ(other->status, 0);
    auto const b = decode_string(other->out);
    auto const cmp = fit::test::compare_files(b, a);
    EXPECT_EQ(cmp.result.records_a, 160);
    EXPECT_EQ(cmp.result.not_identical, 0U);
    EXPECT_EQ(cmp.result.exact_mismatches, 0U);
  }
}

TEST(make_fit, skipped_records_are_reported_alike_for_any_thread_count) {
  // Damaged bytes after record 3 make a skipped stretch (stream index 4), so the unfittable input
  // record 9 is stream record 10. Chunks (8 records on one thread, 64 on more) must not change that.
  auto const dir = rstx::test::scratch_dir("make_fit_skip_labels");
  auto const recs = *dmap::read_file(rstx::test::shared_path("data/synth/cly_10min_float.rawacf.bz2").string());
  std::vector<std::vector<std::byte>> parts;
  for (std::size_t k = 0; k < 20; ++k) {
    parts.push_back(encoded(k == 9 ? fit::test::with_scalar<std::int16_t>(recs[k], "smsep", 0) : recs[k]));
    if (k == 3) parts.push_back(std::vector<std::byte>(40, std::byte{0x5A}));
  }
  auto const input = write_records(dir, "damaged.rawacf", parts);
  std::string first_err;
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(threads);
    auto const r = make_fit_run(fmt::format("-fitacf3 --threads {} '{}'", threads, input.string()), dir / "err");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(decode_string(r.out).size(), 19U);
    auto const err = slurp(dir / "err");
    EXPECT_NE(err.find("record 4, byte "), std::string::npos) << err;
    EXPECT_NE(err.find("record 10, byte "), std::string::npos) << err;
    EXPECT_NE(err.find("smsep is 0"), std::string::npos) << err;
    if (threads == 1) first_err = err;
    else EXPECT_EQ(err, first_err);
  }
}

namespace {
/** True once process `pid` has a descriptor open on something inside `dir`. */
bool has_file_open_in(pid_t pid, fs::path const& dir) {
  std::error_code ec;
  for (auto const& fd : fs::directory_iterator(fmt::format("/proc/{}/fd", pid), ec)) {
    auto const target = fs::read_symlink(fd.path(), ec);
    if (!ec && target.string().rfind(dir.string() + "/", 0) == 0 && target.filename() != "input.fifo") return true;
  }
  return false;
}
}  // namespace

TEST(make_fit, interrupted_run_leaves_no_file_behind) {
  // make_fit is killed with SIGTERM (and SIGINT) while its output is open: neither the output nor
  // a temporary file may remain in the output directory.
  auto const dir = rstx::test::scratch_dir("make_fit_sigterm");
  auto const input = rstx::test::read_bytes(rstx::test::shared_path("data/real/test.rawacf"));
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig);
    auto const fifo = dir / "input.fifo";
    fs::remove(fifo);
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto const cmd = fmt::format("{}exec {} -fitacf3 -o '{}' '{}'", fit::test::table_environment(), make_fit(),
                                 (dir / "out.fitacf").string(), fifo.string());
    pid_t const child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int const feed = ::open(fifo.c_str(), O_WRONLY);  // waits for make_fit to open its end
    ASSERT_GE(feed, 0);
    ASSERT_EQ(::write(feed, input.data(), 5000), 5000);  // part of a record: make_fit waits for more
    bool opened = false;
    for (int i = 0; i < 500 && !opened; ++i) {
      opened = has_file_open_in(child, dir);
      if (!opened) ::usleep(10000);
    }
    EXPECT_TRUE(opened) << "make_fit never opened its output";
    ::kill(child, sig);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ::close(feed);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << "status " << status;
    std::vector<std::string> left;
    for (auto const& e : fs::directory_iterator(dir))
      if (e.path() != fifo) left.push_back(e.path().filename().string());
    EXPECT_TRUE(left.empty()) << "left behind: " << (left.empty() ? "" : left.front());
  }
}
