// make_grid -xtd end to end against RST's make_grid, measured in the same session: RST's
// make_grid, rstx's make_grid on one thread and on all threads, run in turn (interleaved) --runs
// times after a warm-up. Prints median and minimum wall time, fitacf records/s, the speed-up over
// RST (ratio of medians) and peak RSS, and checks that rstx's grid file is byte-identical to RST's.
//
//   rstx_bench_make_grid --file synth_2h.fitacf --rst /path/to/rst/make_grid [--runs 5]
//
// --file: a fitacf file (scripts/bench.sh fits the 2-hour synthetic rawacf with make_fit).
// --rst: RST 5.0's make_grid (a binary or a wrapper that sets its environment); without it only
// rstx is timed. Tables: SD_RADAR, SD_HDWPATH, AACGM_v2_DAT_PREFIX, IGRF_PATH; by default those in
// ../shared/tables.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "rstx/dmap/reader.hpp"
#include "timing.hpp"

namespace fs = std::filesystem;
using rstx::bench::contender;
using rstx::bench::option;

namespace {

std::string slurp(std::string const& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  std::string const file = option(argc, argv, "file", "build/bench-data/synth_2h.fitacf");
  std::string const rst = option(argc, argv, "rst", std::getenv("RST_MAKE_GRID") ? std::getenv("RST_MAKE_GRID") : "");
  int const runs = std::max(1, std::stoi(option(argc, argv, "runs", "5")));
  fs::path const bin = fs::canonical("/proc/self/exe").parent_path();
  std::string const make_grid = option(argc, argv, "make-grid", (bin / "make_grid").string());
  if (!fs::exists(file)) {
    fmt::print(stderr, "make_grid_bench: {} not found (--file FITACF)\n", file);
    return 1;
  }
  fs::path const tables = fs::path(RSTX_SHARED_TABLES);
  ::setenv("SD_RADAR", (tables / "radar.dat").c_str(), 0);
  ::setenv("SD_HDWPATH", (tables / "hdw/").c_str(), 0);
  ::setenv("AACGM_v2_DAT_PREFIX", (tables / "aacgm/aacgm_coeffs-13-").c_str(), 0);
  ::setenv("IGRF_PATH", (tables / "igrf/").c_str(), 0);

  std::int64_t records = 0;
  if (auto rd = rstx::dmap::reader::open(file)) {
    rstx::dmap::record r;
    for (;;) {
      auto got = rd->next(r);
      if (!got || !*got) break;
      ++records;
    }
  }
  unsigned const cores = std::max(1U, std::thread::hardware_concurrency());
  fmt::print("file: {} ({} fitacf records, {:.1f} MB); make_grid -xtd; {} runs each, interleaved, after a warm-up; "
             "{} cores\n",
             file, records, static_cast<double>(fs::file_size(file)) / 1e6, runs, cores);
  fs::path const out_dir = fs::temp_directory_path() / fmt::format("rstx-make-grid-bench-{}", ::getpid());
  fs::create_directories(out_dir);
  auto out = [&](char const* name) { return (out_dir / name).string(); };

  std::vector<contender> programs;
  if (!rst.empty()) programs.push_back({"RST make_grid", {rst, "-xtd", file}, out("rst.grid")});
  programs.push_back({"rstx make_grid, 1 thread", {make_grid, "-xtd", "--threads", "1", file}, out("t1.grid")});
  programs.push_back({fmt::format("rstx make_grid, {} threads", cores), {make_grid, "-xtd", "--threads", "0", file},
                      out("all.grid")});
  int status = 0;
  if (auto failed = rstx::bench::run_interleaved(programs, runs); !failed.empty()) {
    fmt::print("{}: failed (not available?)\n", failed);
    status = 1;
  } else {
    fmt::print("\nmake_grid -xtd{}\n", rst.empty() ? "" : " (speed-up: RST's median / this median)");
    rstx::bench::print_contenders(programs, records, "records", rst.empty() ? -1 : 0);
    if (!rst.empty()) {
      bool const same = slurp(programs[0].out_path) == slurp(programs[1].out_path) &&
                        slurp(programs[0].out_path) == slurp(programs[2].out_path);
      fmt::print("  output vs RST: {}\n", same ? "byte-identical" : "DIFFERENT");
      if (!same) status = 1;
    }
  }
  fs::remove_all(out_dir);
  return status;
}
