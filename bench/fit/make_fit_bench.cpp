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
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "rstx/dmap/reader.hpp"

extern char** environ;
namespace fs = std::filesystem;

namespace {

struct sample {
  double seconds = -1;
  double peak_rss_mib = 0;
};

/** Runs argv with stdout to out_path; wall time and peak RSS, or seconds < 0 on failure. */
sample run_once(std::vector<std::string> const& argv, std::string const& out_path) {
  std::vector<char*> args;
  for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  auto const t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int const rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return {};
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  double const dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {};
  return {dt, static_cast<double>(ru.ru_maxrss) / 1024.0};
}

struct program {
  std::string label;
  std::vector<std::string> argv;
  std::string out;
  std::vector<double> seconds;
  double peak_rss_mib = 0;

  [[nodiscard]] double median() const {
    auto s = seconds;
    std::sort(s.begin(), s.end());
    return s.empty() ? -1 : s[s.size() / 2];
  }
  [[nodiscard]] double minimum() const { return seconds.empty() ? -1 : *std::min_element(seconds.begin(), seconds.end()); }
};

std::string option(int argc, char** argv, std::string const& name, std::string const& fallback) {
  std::string const flag = "--" + name;
  for (int i = 1; i < argc; ++i) {
    std::string const a = argv[i];
    if (a == flag && i + 1 < argc) return argv[i + 1];
    if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
  }
  return fallback;
}

}  // namespace

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
    std::vector<program> programs;
    if (!rst.empty()) programs.push_back({"RST make_fit", {rst, flag, file}, (out_dir / (std::string(name) + ".rst")).string(), {}, 0});
    programs.push_back({"rstx make_fit, 1 thread", {make_fit, flag, "--threads", "1", file},
                        (out_dir / (std::string(name) + ".t1")).string(), {}, 0});
    programs.push_back({fmt::format("rstx make_fit, {} threads", cores), {make_fit, flag, "--threads", "0", file},
                        (out_dir / (std::string(name) + ".all")).string(), {}, 0});
    bool ok = true;
    for (int i = 0; i <= runs && ok; ++i) {
      for (auto& p : programs) {
        auto const s = run_once(p.argv, p.out);
        if (s.seconds < 0) {
          fmt::print("{} {}: failed (not available?)\n", p.label, flag);
          ok = false;
          break;
        }
        if (i > 0) p.seconds.push_back(s.seconds);  // run 0 warms the page cache
        p.peak_rss_mib = std::max(p.peak_rss_mib, s.peak_rss_mib);
      }
    }
    if (!ok) continue;
    double const base = rst.empty() ? -1 : programs.front().median();
    fmt::print("\nmake_fit {}\n", flag);
    for (auto const& p : programs) {
      fmt::print("  {:<26} median {:7.3f} s  min {:7.3f} s  {:>8.0f} records/s  peak RSS {:6.1f} MiB", p.label,
                 p.median(), p.minimum(), static_cast<double>(records) / p.median(), p.peak_rss_mib);
      if (base > 0 && &p != &programs.front()) fmt::print("  {:5.1f}x RST", base / p.median());
      fmt::print("\n");
    }
    if (!rst.empty()) {
      std::string const diff = fmt::format("'{}' diff -q '{}' '{}'", rstx_tool, programs[1].out, programs[0].out);
      int const same = std::system(diff.c_str());
      fmt::print("  output vs RST (rstx diff, rtol/atol 1e-5, origin.* ignored): {}\n",
                 same == 0 ? "equal" : "DIFFERENT");
    }
  }
  fs::remove_all(out_dir);
  return 0;
}
