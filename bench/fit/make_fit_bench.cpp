// make_fit end to end against RST's make_fit, measured in the same session: for each algorithm
// (FITACF 3.0, and FITACF 2.5 when rstx has it), RST's make_fit, rstx's make_fit on one thread
// and rstx's make_fit on all threads are run in turn (interleaved, so that a noisy machine hurts
// every program alike), --runs times after a warm-up. Prints median and minimum wall time,
// records/s, the speed-up over RST (ratio of medians) and the peak RSS of each program, and checks
// that rstx's output equals RST's with `rstx diff`.
//
//   rstx_bench_make_fit --file /tmp/synth_2h.rawacf --rst /tmp/rst-build/bin/make_fit [--runs 5]
//
// --file: the 2-hour synthetic file (python3 ../shared/tools/gen_rawacf.py --hours 2 -o FILE, or
// rstx sim -o FILE). --rst: RST 5.0's make_fit (a binary or a wrapper that sets its environment);
// without it only rstx is timed. Tables: SD_RADAR/SD_HDWPATH/SD_TDIFFPATH, default ../shared/tables.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
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

int main(int argc, char** argv) {
  std::string const file = option(argc, argv, "file", "/tmp/synth_2h.rawacf");
  std::string const rst = option(argc, argv, "rst", std::getenv("RST_MAKE_FIT") ? std::getenv("RST_MAKE_FIT") : "");
  int const runs = std::max(1, std::stoi(option(argc, argv, "runs", "5")));
  fs::path const bin = fs::canonical("/proc/self/exe").parent_path();
  std::string const make_fit = option(argc, argv, "make-fit", (bin / "make_fit").string());
  std::string const rstx_tool = (bin / "rstx").string();
  if (!fs::exists(file)) {
    fmt::print(stderr, "make_fit_bench: {} not found (--file RAWACF)\n", file);
    return 1;
  }
  fs::path const tables = fs::path(RSTX_SHARED_TABLES);
  ::setenv("SD_RADAR", (tables / "radar.dat").c_str(), 0);
  ::setenv("SD_HDWPATH", (tables / "hdw/").c_str(), 0);
  ::setenv("SD_TDIFFPATH", (tables / "tdiff/").c_str(), 0);

  auto rd = rstx::dmap::reader::open(file);
  std::int64_t records = 0;
  if (rd) {
    rstx::dmap::record r;
    while (true) {
      auto got = rd->next(r);
      if (!got || !*got) break;
      ++records;
    }
  }
  unsigned const cores = std::max(1U, std::thread::hardware_concurrency());
  fmt::print("file: {} ({} records, {:.1f} MB); {} runs each, interleaved, after a warm-up; {} cores\n", file, records,
             static_cast<double>(fs::file_size(file)) / 1e6, runs, cores);
  fs::path const out_dir = fs::temp_directory_path() / fmt::format("rstx-make-fit-bench-{}", ::getpid());
  fs::create_directories(out_dir);

  for (auto [flag, name] : {std::pair{"-fitacf3", "fitacf3"}, std::pair{"-fitacf2", "fitacf2"}}) {
    std::vector<contender> programs;
    auto out = [&](char const* suffix) { return (out_dir / (std::string(name) + suffix)).string(); };
    if (!rst.empty()) programs.push_back({"RST make_fit", {rst, flag, file}, out(".rst")});
    programs.push_back({"rstx make_fit, 1 thread", {make_fit, flag, "--threads", "1", file}, out(".t1")});
    programs.push_back({fmt::format("rstx make_fit, {} threads", cores), {make_fit, flag, "--threads", "0", file}, out(".all")});
    if (auto failed = rstx::bench::run_interleaved(programs, runs); !failed.empty()) {
      fmt::print("{} {}: failed (not available?)\n", failed, flag);
      continue;
    }
    fmt::print("\nmake_fit {}{}\n", flag, rst.empty() ? "" : " (speed-up: RST's median / this median)");
    rstx::bench::print_contenders(programs, records, "records", rst.empty() ? -1 : 0);
    if (!rst.empty()) {
      std::string const diff = fmt::format("'{}' diff -q '{}' '{}'", rstx_tool, programs[1].out_path, programs[0].out_path);
      int const same = std::system(diff.c_str());
      fmt::print("  output vs RST (rstx diff, rtol/atol 1e-5, origin.* ignored): {}\n",
                 same == 0 ? "equal" : "DIFFERENT");
    }
  }
  fs::remove_all(out_dir);
  return 0;
}
