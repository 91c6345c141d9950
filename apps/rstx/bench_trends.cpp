// rstx bench trends: hands the history to bench_trends.py (built into rstx as text, so nothing has
// to be found on disk) run by a Python 3 that has matplotlib.
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <spawn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "bench_trends_py.hpp"
#include "command.hpp"

extern char** environ;

namespace rstx::cli {

namespace {

/**
 * The Python to use: $RSTX_PYTHON; else the project's own venv when rstx runs from the build tree
 * it was built in (where `make test` installed matplotlib); else python3 on PATH.
 */
std::string python_interpreter() {
  if (char const* p = std::getenv("RSTX_PYTHON"); p != nullptr && *p != '\0') return p;
#ifdef RSTX_SOURCE_VENV_PYTHON
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::filesystem::path const build_bin = RSTX_BUILD_BIN_DIR;
  if (!ec && self.parent_path() == build_bin && ::access(RSTX_SOURCE_VENV_PYTHON, X_OK) == 0) return RSTX_SOURCE_VENV_PYTHON;
#endif
  return "python3";
}

}  // namespace

int run_bench_trends(std::string const& history, std::string const& output, std::string const& title) {
  std::string const python = python_interpreter();
  std::vector<std::string> args{python, "-c", std::string(bench_trends_py), history, output};
  if (!title.empty()) args.insert(args.end(), {"--title", title});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (int const rc = ::posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ); rc != 0) {
    fmt::print(stderr, "rstx bench trends: cannot start {}: {} (set RSTX_PYTHON to a Python 3 with matplotlib)\n", python,
               std::strerror(rc));
    return io_error;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return io_error;
  if (!WIFEXITED(status)) return internal;
  // The script's own statuses follow rstx's: 2 bad history, 3 I/O or no matplotlib.
  return WEXITSTATUS(status);
}

}  // namespace rstx::cli
