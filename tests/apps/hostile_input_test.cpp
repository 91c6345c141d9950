// Hostile and damaged files against the programs, each run as a process whose peak memory is
// measured (wait4's ru_maxrss): memory stays bounded whatever the file holds, nothing crashes, and
// errors name the file. Each case is one that an earlier build failed (issue 14): its peak memory
// or run time grew with the damage. Run time is guarded by the test's timeout, not timed here.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "support/test_data.hpp"

namespace rstx {
namespace {

namespace fs = std::filesystem;
using bytes = std::vector<std::byte>;

/** The programs' promise for every file below (they use 6-10 MB on good files). */
constexpr long memory_ceiling_kb = 64 * 1024;

struct measured {
  int status = -1;       // exit status, or 128 + signal
  long peak_rss_kb = 0;  // the process's own peak resident memory
  std::string out;       // its standard output (the first MB)
  std::string err;       // its standard error (the first MB)
};

std::string head_of(fs::path const& p) {
  std::ifstream in(p, std::ios::binary);
  std::string text(std::size_t{1} << 20, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

/**
 * Runs a program (no shell) with RST's table variables set, under GNU time, which reports the
 * program's own peak memory. (wait4 in this process cannot: a forked child's peak starts from the
 * test process's resident memory at the fork, and exec keeps it.)
 */
measured run_measured(std::vector<std::string> const& argv) {
  auto const dir = test::scratch_dir("hostile_output");
  auto const out = dir / "stdout";
  auto const err_path = dir / "stderr";
  auto const metrics = dir / "metrics";
  pid_t const child = ::fork();
  if (child == 0) {
    int const o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int const e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0) ::_exit(126);
    ::dup2(o, 1);
    ::dup2(e, 2);
    auto table = [](char const* rel) { return test::tables_path(rel).string(); };
    ::setenv("SD_RADAR", table("radar.dat").c_str(), 1);
    ::setenv("SD_HDWPATH", table("hdw/").c_str(), 1);
    ::setenv("SD_TDIFFPATH", table("tdiff/").c_str(), 1);
    ::setenv("AACGM_v2_DAT_PREFIX", table("aacgm/aacgm_coeffs-13-").c_str(), 1);
    ::setenv("IGRF_PATH", table("igrf/").c_str(), 1);
    std::vector<std::string> full = {"/usr/bin/time", "-f", "%M %x", "-o", metrics.string()};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (auto const& a : full) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  measured m;
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child) return m;
  m.out = head_of(out);
  m.err = head_of(err_path);
  // "Command terminated by signal N" (when it was), then "PEAK_KB EXIT_STATUS".
  std::istringstream report(head_of(metrics));
  std::string line;
  while (std::getline(report, line)) {
    if (line.rfind("Command terminated by signal ", 0) == 0) {
      m.status = 128 + std::stoi(line.substr(29));
      continue;
    }
    std::istringstream fields(line);
    int exit_status = -1;
    if (fields >> m.peak_rss_kb >> exit_status && m.status < 128) m.status = exit_status;
  }
  return m;
}

std::string bin(char const* program) { return (test::bin_dir() / program).string(); }

/** A shell command running `program` under an address-space limit, stderr captured. */
[[maybe_unused]] std::string fmt_command(int limit_mb, char const* program, int threads, std::string const& args, std::string const& file) {
  return test::table_environment() + "sh -c 'ulimit -v " + std::to_string(limit_mb * 1024) + "; exec \"$0\" \"$@\"' " +
         bin(program) + " --threads " + std::to_string(threads) + " " + args + " " + test::quoted(file) +
         " 2>&1 >/dev/null";
}

/**
 * Writes what `make` returns zstd-compressed (what a hostile sender would do: a few KB that expand
 * a lot). The bytes are made and freed here: a forked child's peak memory starts from the test
 * process's resident memory at the fork, so the test must be small when it runs a program.
 */
template <class Make>
fs::path write_zst(fs::path const& dir, std::string const& name, Make make) {
  auto const raw = dir / (name + ".plain");
  test::write_bytes(raw, make());
  auto const zst = dir / (name + ".zst");
  EXPECT_EQ(test::run("zstd -q -19 -c " + test::quoted(raw) + " > " + test::quoted(zst)).status, 0);
  fs::remove(raw);
  return zst;
}

void append(bytes& to, bytes const& more) { to.insert(to.end(), more.begin(), more.end()); }

bytes repeated(bytes const& unit, int times) {
  bytes out;
  out.reserve(unit.size() * static_cast<std::size_t>(times));
  for (int i = 0; i < times; ++i) append(out, unit);
  return out;
}

/** Under AddressSanitizer the programs' memory is mostly the sanitizer's own (shadow memory and a
 *  quarantine of freed blocks), so there the files only prove that nothing crashes or misbehaves. */
#if defined(__SANITIZE_ADDRESS__)
constexpr bool memory_is_measurable = false;
#else
constexpr bool memory_is_measurable = true;
#endif

/** Prints the measurement, so that the log shows the margin under the ceiling. */
void expect_bounded(measured const& m, std::string const& what) {
  std::cout << "[ measured ] " << what << ": exit " << m.status << ", peak " << m.peak_rss_kb / 1024 << " MiB\n";
  EXPECT_LT(m.status, 128) << what << " crashed:\n" << m.err.substr(0, 2000);
  if (memory_is_measurable) {
    EXPECT_LT(m.peak_rss_kb, memory_ceiling_kb) << what << " peak memory";
  }
}

// 1. Recover mode on compressed input: 100 damaged bytes after each of 1000 good records of 100 kB
//    (zeros: 100 MB that compress to a few kB). The reader used to grow its window by a MiB at every
//    damaged record and move all of it each time.
TEST(HostileInput, DamageBetweenRecordsOfACompressedFile) {
  auto const file = write_zst(test::scratch_dir("hostile_damage_between"), "damaged.rawacf", [] {
    dmap::record r;
    r.add_scalar<std::int16_t>("stid", 66).add_array<float>("data", std::vector<float>(25000, 0.0F));
    auto unit = *encode(r);
    unit.insert(unit.end(), 100, std::byte{0xA5});
    return repeated(unit, 1000);
  }).string();
  auto info = run_measured({bin("rstx"), "info", file});
  expect_bounded(info, "rstx info");
  EXPECT_NE(info.out.find("records:     1000"), std::string::npos) << info.out.substr(0, 2000);
  EXPECT_NE(info.out.find("1000 damaged stretch"), std::string::npos) << info.out.substr(0, 2000);
  expect_bounded(run_measured({bin("rstx"), "validate", file}), "rstx validate");
  expect_bounded(run_measured({bin("make_fit"), "-fitacf3", file}), "make_fit");
}

// 2. Resynchronisation on crafted candidates: 100 000 sync patterns, each declaring a 7 MiB record
//    whose first field already shows it is not one, followed by enough bytes to make each
//    declared size available. Every candidate used to be read ahead and copied whole (hours).
TEST(HostileInput, ManyLargeCandidatesWithBadFields) {
  auto const file = write_zst(test::scratch_dir("hostile_candidates"), "candidates.rawacf", [] {
    std::int32_t const unit[4] = {0x00010001, 7 << 20, 1, 0};
    bytes unit_bytes(sizeof unit);
    std::memcpy(unit_bytes.data(), unit, sizeof unit);
    auto plain = repeated(unit_bytes, 100000);
    plain.resize(plain.size() + (std::size_t{8} << 20), std::byte{0});
    return plain;
  }).string();
  EXPECT_LT(fs::file_size(file), 64U * 1024);
  auto info = run_measured({bin("rstx"), "info", file});
  expect_bounded(info, "rstx info");
  EXPECT_NE(info.out.find("records:     0"), std::string::npos) << info.out.substr(0, 2000);
  expect_bounded(run_measured({bin("rstx"), "validate", file}), "rstx validate");
  expect_bounded(run_measured({bin("make_fit"), "-fitacf3", file}), "make_fit");
}

dmap::record with_scalar(dmap::record const& r, std::string_view name, std::int16_t value) {
  dmap::record out;
  for (std::size_t i = 0; i < r.num_scalars(); ++i) {
    auto const s = r.scalar(i);
    if (s.name() == name) out.add_scalar<std::int16_t>(name, value);
    else out.add_copy(s);
  }
  for (std::size_t i = 0; i < r.num_arrays(); ++i) out.add_copy(r.array(i));
  return out;
}

// 3. make_grid's filter tables are indexed by beam number: ten records with bmnum 32767 used to
//    take 2 GB. Now the first one ends the run with an error naming it.
TEST(HostileInput, HugeBeamNumberInAFitacfFile) {
  auto dir = test::scratch_dir("hostile_bmnum");
  auto records = *dmap::read_file(test::shared_path("data/synth/cly_10min_float.rst-fitacf3.fitacf").string());
  ASSERT_GT(records.size(), 60U);
  for (std::size_t k = 50; k < 60; ++k) records[k] = with_scalar(records[k], "bmnum", 32767);
  auto const file = dir / "bmnum.fitacf";
  {
    auto w = dmap::writer::create(file.string());
    for (auto const& r : records) ASSERT_TRUE(w->write(r));
    ASSERT_TRUE(w->commit());
  }
  auto const out = dir / "out.grid";
  auto grid = run_measured({bin("make_grid"), "-xtd", "-o", out.string(), file.string()});
  expect_bounded(grid, "make_grid");
  EXPECT_EQ(grid.status, 2) << grid.err;
  EXPECT_NE(grid.err.find(file.string() + ": record 50, byte "), std::string::npos) << grid.err;
  EXPECT_NE(grid.err.find("bmnum is 32767"), std::string::npos) << grid.err;
  EXPECT_TRUE(fs::exists(out)) << "the intervals before the bad record are kept";
}

/** A record of n one-byte scalars with empty names: 3 bytes each, the densest a record gets. */
dmap::record tiny_fields(std::size_t n) {
  dmap::record r;
  for (std::size_t i = 0; i < n; ++i) r.add_scalar<std::int8_t>("", 0);
  return r;
}

// 4. Memory amplification in make_fit: records of tiny fields cost 16 times their size in field
//    bookkeeping, and make_fit kept 2 x 64 of them in flight (858 MB from three 16 MB records).
TEST(HostileInput, RecordsOfTinyFields) {
  auto dir = test::scratch_dir("hostile_tiny_fields");
  // 180 kB each, 2.9 MB of field entries once decoded.
  auto const many = write_zst(dir, "many.rawacf", [] { return repeated(*encode(tiny_fields(60000)), 300); }).string();
  auto fit = run_measured({bin("make_fit"), "-fitacf3", many});
  expect_bounded(fit, "make_fit, 300 records of 60000 fields");
  EXPECT_NE(fit.err.find("record skipped"), std::string::npos) << fit.err.substr(0, 500);
  expect_bounded(run_measured({bin("rstx"), "info", many}), "rstx info");
  expect_bounded(run_measured({bin("rstx"), "validate", many}), "rstx validate");
  expect_bounded(run_measured({bin("make_grid"), many}), "make_grid");

  // Three 16 MB records: above the record size limit, so skipped without being held at all.
  auto const huge = write_zst(dir, "huge.rawacf", [] { return repeated(*encode(tiny_fields(5'500'000)), 3); }).string();
  auto fit_huge = run_measured({bin("make_fit"), "-fitacf3", huge});
  expect_bounded(fit_huge, "make_fit, three 16 MB records");
  EXPECT_NE(fit_huge.err.find("above the limit"), std::string::npos) << fit_huge.err.substr(0, 500);
  expect_bounded(run_measured({bin("rstx"), "info", huge}), "rstx info");
}

// 5. The list of skipped stretches: 300 000 one-byte stretches between empty records used to be
//    kept whole (about 330 bytes each).
TEST(HostileInput, HundredsOfThousandsOfDamagedStretches) {
  auto const file = write_zst(test::scratch_dir("hostile_stretches"), "stretches.rawacf", [] {
    auto unit = *encode(dmap::record{});
    unit.push_back(std::byte{0xFF});
    return repeated(unit, 300000);
  }).string();
  auto info = run_measured({bin("rstx"), "info", file});
  expect_bounded(info, "rstx info");
  auto validate = run_measured({bin("rstx"), "validate", file});
  expect_bounded(validate, "rstx validate");
  EXPECT_EQ(validate.status, 2);
  auto fit = run_measured({bin("make_fit"), "-fitacf3", file});
  expect_bounded(fit, "make_fit");
  auto const json = run_measured({bin("rstx"), "info", "--json", file});
  EXPECT_NE(json.out.find("\"corrupt_regions\":300000"), std::string::npos) << json.out.substr(0, 500);
}


// 12. Running out of memory, or of room for thread stacks, is an error naming the file with exit
//     status 4, never an abort: address-space limits swept across the point where the programs
//     stop fitting in them.
TEST(HostileInput, MemoryLimitsEndInAnErrorNotAnAbort) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer reserves more address space than any limit here";
#else
  auto const rawacf = test::shared_path("data/synth/cly_10min_float.rawacf.bz2").string();
  auto const fitacf = test::shared_path("data/synth/cly_10min_float.rst-fitacf3.fitacf").string();
  int out_of_memory = 0;
  for (int limit_mb = 12; limit_mb <= 44; limit_mb += 2) {
    for (int threads : {1, 2, 3}) {
      for (auto const& [program, args, file] :
           {std::tuple{"make_fit", std::string("-fitacf3"), rawacf}, std::tuple{"make_grid", std::string("-xtd"), fitacf}}) {
        auto const r = test::run(fmt_command(limit_mb, program, threads, args, file));
        SCOPED_TRACE(std::string(program) + " under " + std::to_string(limit_mb) + " MB, " + std::to_string(threads) +
                     " threads: " + r.out.substr(r.out.size() > 300 ? r.out.size() - 300 : 0));
        // The one abort left is glibc's own: it ends the process when it cannot allocate the note
        // that registers a thread_local's destructor (a worker's first use of its workspace).
        if (r.status == 134 && r.out.find("failed to register TLS destructor") != std::string::npos) continue;
        EXPECT_TRUE(r.status == 0 || r.status == 4) << "exit status " << r.status;
        if (r.status == 4) {
          bool const names_cause = r.out.find("out of memory") != std::string::npos ||
                                   r.out.find("cannot start") != std::string::npos;
          EXPECT_TRUE(names_cause);
          if (r.out.find("out of memory") != std::string::npos) {
            ++out_of_memory;
            EXPECT_NE(r.out.find(file), std::string::npos) << "the file is named";
          }
        }
      }
    }
  }
  EXPECT_GT(out_of_memory, 0) << "no limit made an allocation fail: the sweep tests nothing";
#endif
}

// 12. A table path that cannot be examined (a symbolic link loop) is an error or, for the optional
//     tdiff calibration file, the same as no file; it used to end in std::terminate.
TEST(HostileInput, TablePathsThatCannotBeExamined) {
  auto dir = test::scratch_dir("hostile_table_paths");
  fs::create_symlink("loop-b", dir / "loop-a");
  fs::create_symlink("loop-a", dir / "loop-b");
  auto const loop = (dir / "loop-a").string();
  auto const fitacf = test::shared_path("data/synth/cly_10min_float.rst-fitacf3.fitacf").string();
  auto grid = test::run(test::table_environment() + "SD_RADAR=" + test::quoted(loop + "/radar.dat") + " " +
                        bin("make_grid") + " " + test::quoted(fitacf) + " 2>&1 >/dev/null");
  EXPECT_EQ(grid.status, 2) << grid.out;
  EXPECT_NE(grid.out.find("SD_RADAR"), std::string::npos) << grid.out;
  EXPECT_NE(grid.out.find("symbolic links"), std::string::npos) << grid.out;

  auto const rawacf = test::shared_path("data/real/test.rawacf").string();
  auto fit = test::run(test::table_environment() + "SD_TDIFFPATH=" + test::quoted(loop) + " " + bin("make_fit") +
                       " -fitacf3 -tdiff_method 1 " + test::quoted(rawacf) + " 2>&1 >/dev/null");
  EXPECT_EQ(fit.status, 2) << fit.out;
  EXPECT_NE(fit.out.find("SD_TDIFFPATH"), std::string::npos) << fit.out;
  EXPECT_NE(fit.out.find("symbolic links"), std::string::npos) << fit.out;
  // A calibration folder without the radar's file is an empty table, as in RST.
  auto const empty = test::scratch_dir("hostile_table_paths_tdiff");
  fit = test::run(test::table_environment() + "SD_TDIFFPATH=" + test::quoted(empty) + " " + bin("make_fit") +
                  " -fitacf3 -tdiff_method 1 " + test::quoted(rawacf) + " 2>&1 >/dev/null");
  EXPECT_EQ(fit.status, 0) << fit.out;
}

}  // namespace
}  // namespace rstx
