#include "timing.hpp"

#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace rstx::bench {

namespace {
double g_last_rss_mib = 0.0;
}

timing summarize(std::vector<double> s) {
  if (s.empty()) return {};
  std::sort(s.begin(), s.end());
  return {s[s.size() / 2], s.front(), s.back()};
}

namespace {

/** One run of argv: wall seconds (peak RSS into g_last_rss_mib), or -1 if it cannot run or fails. */
double run_once(std::vector<std::string> const& argv, std::string const& out_path, std::string const& in_path) {
  std::vector<char*> args;
  for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  if (!in_path.empty()) posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
  auto const t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int const rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  double const dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  g_last_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
  return dt;
}

}  // namespace

timing time_command(std::vector<std::string> const& argv, int runs, std::string const& out_path,
                    std::string const& in_path) {
  std::vector<double> seconds;
  for (int i = 0; i <= runs; ++i) {
    double const dt = run_once(argv, out_path, in_path);
    if (dt < 0) return {-1, -1, -1};
    if (i > 0) seconds.push_back(dt);  // run 0 warms the page cache
  }
  return summarize(std::move(seconds));
}

double last_child_peak_rss_mib() { return g_last_rss_mib; }

std::string run_interleaved(std::vector<contender>& contenders, int runs) {
  for (int round = 0; round <= runs; ++round)
    for (auto& c : contenders) {
      double const dt = run_once(c.argv, c.out_path, {});
      if (dt < 0) return c.label;
      if (round > 0) c.seconds.push_back(dt);
      c.peak_rss_mib = std::max(c.peak_rss_mib, g_last_rss_mib);
    }
  return {};
}

void print_contenders(std::vector<contender> const& contenders, std::int64_t items, std::string const& item_unit,
                      int baseline) {
  double const base = baseline >= 0 ? contenders[static_cast<std::size_t>(baseline)].median() : -1;
  for (std::size_t i = 0; i < contenders.size(); ++i) {
    auto const& c = contenders[i];
    std::printf("  %-28s median %7.3f s  min %7.3f s  %9.0f %s/s  peak RSS %6.1f MiB", c.label.c_str(), c.median(),
                c.minimum(), static_cast<double>(items) / c.median(), item_unit.c_str(), c.peak_rss_mib);
    if (base > 0 && static_cast<int>(i) != baseline) std::printf("  %5.1fx", base / c.median());
    std::printf("\n");
  }
  std::fflush(stdout);
}

std::string option(int argc, char** argv, std::string const& name, std::string const& fallback) {
  std::string const flag = "--" + name;
  for (int i = 1; i < argc; ++i) {
    std::string const a = argv[i];
    if (a == flag && i + 1 < argc) return argv[i + 1];
    if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
  }
  return fallback;
}

}  // namespace rstx::bench
