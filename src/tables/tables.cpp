#include "rstx/tables/tables.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

namespace rstx::tables {

namespace {

namespace fs = std::filesystem;

/** One kind of table: its name in messages, where it lies inside a table folder, RST's variable. */
struct kind {
  char const* what;      // "the radar list (radar.dat)"
  char const* relative;  // inside a table folder
  char const* variable;  // RST's environment variable
  enum shape { file, directory, prefix } form;
  char const* must_hold = nullptr;  // directories: a file that must be inside
};

constexpr kind radar_list{"the radar list (radar.dat)", "radar.dat", "SD_RADAR", kind::file};
constexpr kind hardware{"the hardware folder (hdw.dat.* files)", "hdw", "SD_HDWPATH", kind::directory};
constexpr kind tdiff{"the tdiff calibration folder", "tdiff", "SD_TDIFFPATH", kind::directory};
constexpr kind aacgm{"the AACGM-v2 coefficients", "aacgm/aacgm_coeffs-13-", "AACGM_v2_DAT_PREFIX", kind::prefix};
constexpr kind igrf{"the IGRF coefficients", "igrf", "IGRF_PATH", kind::directory, "coef.dat"};

std::optional<std::string> environment(char const* name) {
  char const* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

/** Why `p` is not of the type wanted ("does not exist", "Too many levels of symbolic links", ...), or nothing. */
std::optional<std::string> not_a(std::string const& p, mode_t type, char const* what) {
  struct stat st{};
  if (::stat(p.c_str(), &st) != 0) return fmt::format("{}: {}", p, std::strerror(errno));
  if ((st.st_mode & S_IFMT) != type) return fmt::format("{} is not a {}", p, what);
  return std::nullopt;
}

bool is_file(std::string const& p) { return !not_a(p, S_IFREG, "file"); }

/** A path prefix names at least one file: "DIR/stem" with some "DIR/stem*" present. */
bool prefix_has_files(std::string const& prefix) {
  fs::path const p(prefix);
  std::string const dir = p.has_parent_path() ? p.parent_path().string() : ".";
  std::string const stem = p.filename().string();
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), &::closedir);
  if (!listing) return false;
  while (dirent const* e = ::readdir(listing.get()))
    if (std::string_view(e->d_name).substr(0, stem.size()) == stem && std::string_view(e->d_name).size() > stem.size())
      return true;
  return false;
}

/** Why `path` does not hold the table, or nothing when it does. */
std::optional<std::string> missing(kind const& k, std::string const& path) {
  switch (k.form) {
    case kind::file:
      return not_a(path, S_IFREG, "file");
    case kind::directory:
      if (auto why = not_a(path, S_IFDIR, "folder")) return why;
      if (k.must_hold != nullptr && !is_file(path + "/" + k.must_hold))
        return fmt::format("{} has no {}", path, k.must_hold);
      break;
    case kind::prefix:
      if (!prefix_has_files(path)) return fmt::format("no file {}YYYY.asc exists", path);
      break;
  }
  return std::nullopt;
}

std::string join(fs::path const& dir, std::string_view relative) { return (dir / relative).string(); }

/** The folder of the running program (from /proc/self/exe). */
std::optional<fs::path> program_dir() {
  std::error_code ec;
  auto const exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec || !exe.has_parent_path()) return std::nullopt;
  return exe.parent_path();
}

/** rstx's own table folders to try, in order, and whether each holds a table set. */
std::vector<std::string> builtin_candidates() {
  std::vector<std::string> out;
  if (auto dir = program_dir()) out.push_back((*dir / ".." / "share" / "rstx" / "tables").lexically_normal().string());
  // Where the program cannot see itself (no /proc, as in a bare chroot): the prefix it was
  // configured for, then the two usual ones (a Debian package installs into /usr).
#ifdef RSTX_INSTALL_TABLES_DIR
  out.emplace_back(RSTX_INSTALL_TABLES_DIR);
#endif
  for (char const* usual : {"/usr/share/rstx/tables", "/usr/local/share/rstx/tables"})
    if (std::find(out.begin(), out.end(), usual) == out.end()) out.emplace_back(usual);
  return out;
}

std::optional<std::string> first_builtin_dir() {
  for (auto const& dir : builtin_candidates())
    if (is_file(join(dir, "radar.dat"))) return dir;
  return std::nullopt;
}

/** How one table is asked for: where it lies inside a table folder, and whether RST's variable
 *  may name it (not for a set chosen by name, such as "--aacgm-coeffs 14"). */
struct lookup {
  std::string relative;
  bool consult_variable = true;
  std::optional<location> explicit_choice;  // an option naming the table itself
};

/** Resolves one table: the first place that names it decides, and it must hold the table. */
result<location> find(kind const& k, request const& req, lookup const& how) {
  std::optional<location> chosen = how.explicit_choice;
  if (!chosen && !req.tables_dir.empty()) chosen = location{join(req.tables_dir, how.relative), "--tables"};
  if (!chosen && how.consult_variable) {
    if (auto v = environment(k.variable)) chosen = location{*v, k.variable};
  }
  if (!chosen) {
    if (auto v = environment("RSTX_TABLES")) chosen = location{join(*v, how.relative), "RSTX_TABLES"};
  }
  if (!chosen) {
    auto const dir = first_builtin_dir();
    if (!dir)
      return fail(errc::not_found,
                  fmt::format("{} was not found: no --tables, {} is not set, RSTX_TABLES is not set, and rstx's own "
                              "tables are not in {}",
                              k.what, k.variable, fmt::join(builtin_candidates(), " or ")));
    chosen = location{join(*dir, how.relative), "built-in"};
  }
  if (auto why = missing(k, chosen->path))
    return fail(errc::not_found, fmt::format("{} was not found where {} says: {}", k.what, chosen->origin, *why));
  return *chosen;
}

result<location> find(kind const& k, request const& req) { return find(k, req, lookup{k.relative, true, std::nullopt}); }

}  // namespace

std::optional<std::string> builtin_dir() { return first_builtin_dir(); }

result<table_set> locate(request const& req) {
  bool const aacgm_path = req.aacgm.find('/') != std::string::npos;  // else empty or the name of a set
  if (!req.aacgm.empty() && !aacgm_path && req.aacgm != "13" && req.aacgm != "14")
    return fail(errc::invalid_argument,
                fmt::format("AACGM-v2 coefficients '{}': expected 13, 14 or a path prefix such as DIR/aacgm_coeffs-14-", req.aacgm));
  table_set t;
  auto take = [](result<location> found, location& into) -> result<void> {
    if (!found) return unexpected(std::move(found.error()));
    into = std::move(*found);
    return {};
  };
  if (req.need_radar) {
    if (auto r = take(find(radar_list, req), t.radar_dat); !r) return unexpected(std::move(r.error()));
    if (auto r = take(find(hardware, req), t.hdw_dir); !r) return unexpected(std::move(r.error()));
  }
  if (req.need_tdiff) {
    if (auto r = take(find(tdiff, req), t.tdiff_dir); !r) return unexpected(std::move(r.error()));
  }
  if (req.need_geo) {
    lookup coefficients{aacgm.relative, true, std::nullopt};
    if (aacgm_path) coefficients.explicit_choice = location{req.aacgm, "--aacgm-coeffs"};
    else if (!req.aacgm.empty()) coefficients = {fmt::format("aacgm/aacgm_coeffs-{}-", req.aacgm), false, std::nullopt};
    if (auto r = take(find(aacgm, req, coefficients), t.aacgm_prefix); !r) return unexpected(std::move(r.error()));
    if (auto r = take(find(igrf, req), t.igrf_dir); !r) return unexpected(std::move(r.error()));
  }
  return t;
}

std::vector<std::string> table_set::describe() const {
  std::vector<std::string> lines;
  auto add = [&](char const* name, location const& l) {
    if (!l.path.empty()) lines.push_back(fmt::format("{}: {} ({})", name, l.path, l.origin));
  };
  add("radar list", radar_dat);
  add("hardware folder", hdw_dir);
  add("tdiff folder", tdiff_dir);
  add("AACGM-v2 coefficients", aacgm_prefix);
  add("IGRF coefficients", igrf_dir);
  return lines;
}

}  // namespace rstx::tables
