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

timing time_command(std::vector<std::string> const& argv, int runs, std::string const& out_path,
                    std::string const& in_path) {
  std::vector<char*> args;
  for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<double> seconds;
  for (int i = 0; i <= runs; ++i) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (!in_path.empty()) posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
    auto const t0 = std::chrono::steady_clock::now();
    pid_t pid = 0;
    int const rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return {-1, -1, -1};
    int status = 0;
    rusage ru{};
    wait4(pid, &status, 0, &ru);
    double const dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return {-1, -1, -1};
    g_last_rss_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;
    if (i > 0) seconds.push_back(dt);  // run 0 warms the page cache
  }
  return summarize(std::move(seconds));
}

double last_child_peak_rss_mib() { return g_last_rss_mib; }

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
