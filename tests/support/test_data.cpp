#include "support/test_data.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sys/wait.h>
#include <unistd.h>

namespace rstx::test {

namespace fs = std::filesystem;

fs::path shared_dir() {
  if (char const* env = std::getenv("RSTX_SHARED"); env != nullptr && *env != '\0') return env;
  return fs::weakly_canonical(RSTX_SHARED_DIR);
}

fs::path shared_path(std::string const& relative) { return shared_dir() / relative; }

fs::path tables_path(std::string const& relative) {
  fs::path const dir = fs::path(RSTX_SOURCE_DIR) / "tables";
  return relative.empty() ? dir : dir / relative;
}

std::vector<fs::path> shared_dmap_files() {
  std::vector<fs::path> out;
  for (auto const& e : fs::recursive_directory_iterator(shared_dir() / "data")) {
    if (!e.is_regular_file()) continue;
    auto const name = e.path().filename().string();
    if (name == "README.md") continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

fs::path bin_dir() {
  if (char const* env = std::getenv("RSTX_BIN_DIR"); env != nullptr && *env != '\0') return env;
  return RSTX_BIN_DIR;
}

namespace {
/** The per-process scratch root, removed when the test program exits. */
struct scratch_root {
  fs::path path = fs::temp_directory_path() / ("rstx-test-" + std::to_string(::getpid()));
  scratch_root() = default;
  scratch_root(scratch_root const&) = delete;
  scratch_root& operator=(scratch_root const&) = delete;
  ~scratch_root() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};
fs::path const& scratch_base() {
  static scratch_root root;
  return root.path;
}
}  // namespace

fs::path scratch_dir(std::string const& name) {
  fs::path const dir = scratch_base() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::byte> read_bytes(fs::path const& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  std::transform(chars.begin(), chars.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
  return out;
}

void write_bytes(fs::path const& p, std::vector<std::byte> const& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<char const*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string quoted(std::filesystem::path const& p) {
  std::string s = p.string();
  s.insert(s.begin(), '\'');
  s.push_back('\'');
  return s;
}

std::string table_environment() {
  auto t = [](char const* rel) { return quoted(tables_path(rel)); };
  std::string env;
  for (auto const& [variable, path] : {std::pair{"SD_RADAR", "radar.dat"}, std::pair{"SD_HDWPATH", "hdw/"},
                                        std::pair{"SD_TDIFFPATH", "tdiff/"},
                                        std::pair{"AACGM_v2_DAT_PREFIX", "aacgm/aacgm_coeffs-13-"},
                                        std::pair{"IGRF_PATH", "igrf/"}}) {
    env += variable;
    env += '=';
    env += t(path);
    env += ' ';
  }
  return env;
}

run_result run(std::string const& command) {
  run_result r;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 65536> buf{};
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int const status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::vector<std::byte> decompressed_bytes(fs::path const& p) {
  auto const r = run("bzip2 -dc '" + p.string() + "'");
  std::vector<std::byte> out(r.out.size());
  std::transform(r.out.begin(), r.out.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
  return out;
}

}  // namespace rstx::test
