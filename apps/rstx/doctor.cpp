// rstx doctor: is this installation able to do its work? One line per check (ok, warn, fail, with
// the reason), or --json. Exit 0 healthy, 1 degraded (a warning), 2 unhealthy (a failure).
// Without --round-trip it reads only small files and answers well under a second, so it can serve
// as a readiness probe; --config also checks a rst-processor installation.
#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <memory>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "rstx/core/version.hpp"
#include "rstx/cuda/device.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/geo/aacgm_v2.hpp"
#include "rstx/geo/igrf.hpp"
#include "rstx/radar/hardware.hpp"
#include "rstx/tables/tables.hpp"
#ifdef RSTX_HAVE_SERVICE
#include "rstx/service/config.hpp"
#include "rstx/service/ledger.hpp"
#endif

namespace rstx::cli {

namespace {

namespace fs = std::filesystem;

enum class verdict { ok, warn, fail };

struct check {
  std::string name;
  verdict v = verdict::ok;
  std::string detail;
};

struct doctor {
  std::vector<check> checks;
  void add(std::string name, verdict v, std::string detail) { checks.push_back({std::move(name), v, std::move(detail)}); }
};

/** Runs a program and returns (status, first line of its output). */
std::pair<int, std::string> run_program(std::string const& command) {
  std::FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  char buf[512] = {};
  std::string first = std::fgets(buf, sizeof buf, p) != nullptr ? std::string(buf) : "";
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
  }
  int const status = ::pclose(p);
  while (!first.empty() && (first.back() == '\n' || first.back() == '\r')) first.pop_back();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, first};
}

std::string quoted(fs::path const& p) { return "'" + p.string() + "'"; }

void check_programs(doctor& d) {
  auto const dir = own_dir();
  for (auto const* program : {"make_fit", "make_grid", "rstx", "rst-processor"}) {
    auto const path = dir / program;
    if (!fs::exists(path)) {
      d.add(fmt::format("program {}", program), std::string(program) == "rst-processor" ? verdict::warn : verdict::fail,
            fmt::format("{} is missing", path.string()));
      continue;
    }
    auto [status, line] = run_program(quoted(path) + " --version 2>&1");
    d.add(fmt::format("program {}", program), status == 0 ? verdict::ok : verdict::fail,
          status == 0 ? line : fmt::format("{} --version exited with {}", path.string(), status));
  }
}

void check_tables(doctor& d, std::string const& tables_dir) {
  tables::request want;
  want.tables_dir = tables_dir;
  want.need_geo = true;
  auto found = tables::locate(want);
  if (!found) {
    d.add("tables", verdict::fail, found.error().message());
    return;
  }
  auto radars = radar::radar_table::load(found->radar_dat.path);
  if (!radars) {
    d.add("radar list", verdict::fail, radars.error().message());
    return;
  }
  int with_hardware = 0, unreadable = 0;
  std::string first_problem;
  for (auto const& r : radars->radars()) {
    if (!fs::exists(fs::path(found->hdw_dir.path) / r.hdw_file)) continue;  // radars.dat lists planned radars too
    auto hw = radars->load_hardware(r.stid, found->hdw_dir.path);
    if (hw) {
      ++with_hardware;
    } else if (++unreadable == 1) {
      first_problem = hw.error().message();
    }
  }
  d.add("radar list", verdict::ok, fmt::format("{} ({} radars)", found->radar_dat.path, radars->radars().size()));
  d.add("hardware files", unreadable == 0 ? verdict::ok : verdict::fail,
        unreadable == 0 ? fmt::format("{} radars' hardware files read from {}", with_hardware, found->hdw_dir.path)
                        : fmt::format("{} unreadable, first: {}", unreadable, first_problem));
  // The coefficients must cover today (the data a live service sees) and load for it.
  auto const now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  int const year = tm.tm_year + 1900;
  auto aacgm = geo::aacgm_v2_model::load(found->aacgm_prefix.path, year, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0);
  d.add("AACGM-v2 coefficients", aacgm ? verdict::ok : verdict::warn,
        aacgm ? fmt::format("{} loads for {}", found->aacgm_prefix.path, year)
              : fmt::format("{} (data of {} cannot be gridded with this set)", aacgm.error().message(), year));
  auto igrf = geo::igrf_model::load(found->igrf_dir.path, year);
  d.add("IGRF coefficients", igrf ? verdict::ok : verdict::warn,
        igrf ? fmt::format("{} loads for {}", found->igrf_dir.path, year) : igrf.error().message());
}

void check_cuda(doctor& d) {
  if (!cuda::compiled_with_cuda()) {
    d.add("backend", verdict::ok, "CPU only (this build has no CUDA backend)");
    return;
  }
  auto devices = cuda::devices();
  if (!devices || devices->empty()) {
    d.add("backend", verdict::ok, fmt::format("CPU only ({})", devices ? "no CUDA device" : devices.error().message()));
    return;
  }
  for (auto const& dev : *devices) {
    auto t = cuda::self_test(dev.index);
    d.add(fmt::format("CUDA device {}", dev.index), t ? verdict::ok : verdict::fail,
          fmt::format("{}, {:.1f} GiB, compute {}.{}, {} SMs: {}", dev.name, static_cast<double>(dev.memory_bytes) / (1 << 30),
                      dev.compute_major, dev.compute_minor, dev.multiprocessors, t ? "self-test passed" : t.error().message()));
  }
}

/** rstx sim (a uniform 400 m/s echo) -> make_fit -> make_grid: the fitted velocity must be the simulated one. */
void round_trip(doctor& d) {
  auto const dir = own_dir();
  char tmpl[] = "/tmp/rstx-doctor-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    d.add("round trip", verdict::fail, "cannot create a temporary folder");
    return;
  }
  fs::path const tmp = tmpl;
  auto const t0 = std::chrono::steady_clock::now();
  auto const raw = tmp / "rt.rawacf", fit = tmp / "rt.fitacf", grid = tmp / "rt.grid";
  auto sim = run_program(fmt::format("{} sim -o {} --station cly --duration 6m --scene uniform --velocity 400 --width 150 --snr 20 "
                                     "--no-fluctuations --seed 1 2>&1",
                                     quoted(dir / "rstx"), quoted(raw)));
  auto mf = sim.first == 0 ? run_program(fmt::format("{} -fitacf3 -o {} {} 2>&1", quoted(dir / "make_fit"), quoted(fit), quoted(raw)))
                           : sim;
  auto mg = mf.first == 0 ? run_program(fmt::format("{} -xtd -o {} {} 2>&1", quoted(dir / "make_grid"), quoted(grid), quoted(fit)))
                          : mf;
  std::string problem;
  if (sim.first != 0) problem = "rstx sim: " + sim.second;
  else if (mf.first != 0) problem = "make_fit: " + mf.second;
  else if (mg.first != 0) problem = "make_grid: " + mg.second;
  std::vector<double> velocities;
  std::int64_t fit_records = 0, grid_records = 0;
  if (problem.empty()) {
    auto in = dmap::reader::open(fit.string());
    dmap::record r;
    while (in && in->next(r).value_or(false)) {
      ++fit_records;
      if (auto v = r.find_array_last("v", dmap::type::float_))
        for (std::size_t i = 0; i < v->count(); ++i) velocities.push_back(v->to_double(i));
    }
    auto g = dmap::reader::open(grid.string());
    while (g && g->next(r).value_or(false)) ++grid_records;
  }
  std::error_code ec;
  fs::remove_all(tmp, ec);
  double const seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!problem.empty()) {
    d.add("round trip", verdict::fail, problem);
    return;
  }
  std::sort(velocities.begin(), velocities.end());
  double const median = velocities.empty() ? NAN : velocities[velocities.size() / 2];
  bool const good = fit_records > 0 && grid_records > 0 && std::abs(median - 400.0) < 20.0;
  d.add("round trip", good ? verdict::ok : verdict::fail,
        fmt::format("sim -> make_fit -> make_grid: {} fitacf and {} grid records, median fitted velocity {:.1f} m/s for a simulated "
                    "400 m/s ({:.2f} s)",
                    fit_records, grid_records, median, seconds));
}

#ifdef RSTX_HAVE_SERVICE
/** GET http://HOST:PORT/readyz with a plain socket (status code, body). */
std::pair<int, std::string> http_get(std::string const& address, std::string const& path) {
  auto const colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
  auto host = address.substr(0, colon);
  if (host == "localhost" || host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (::inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1) return {-1, "not an IPv4 address"};
  int const fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return {-1, "not answering (is the service running?)"};
  }
  auto const request = fmt::format("GET {} HTTP/1.0\r\nHost: {}\r\n\r\n", path, address);
  [[maybe_unused]] auto w = ::write(fd, request.data(), request.size());
  std::string reply;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) reply.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  int status = -1;
  std::sscanf(reply.c_str(), "HTTP/%*s %d", &status);
  auto const body = reply.find("\r\n\r\n");
  return {status, body == std::string::npos ? "" : reply.substr(body + 4)};
}

void check_service(doctor& d, std::string const& file) {
  auto c = service::load_config(file);
  if (!c) {
    d.add("settings", verdict::fail, c.error().message());
    return;
  }
  d.add("settings", verdict::ok, file);
  for (auto const& [name, dir] : {std::pair{"inbox", c->inbox}, std::pair{"products", c->out}, std::pair{"state", c->state}}) {
    if (dir.empty()) {
      d.add(fmt::format("folder {}", name), verdict::fail, "not set");
      continue;
    }
    bool const writable = ::access(dir.c_str(), W_OK | X_OK) == 0;
    struct statvfs st{};
    double free = -1;
    if (::statvfs(dir.c_str(), &st) == 0 && st.f_blocks > 0) free = static_cast<double>(st.f_bavail) / static_cast<double>(st.f_blocks);
    verdict v = !writable ? verdict::fail : free >= 0 && free < 0.02 ? verdict::fail : free >= 0 && free < 0.10 ? verdict::warn : verdict::ok;
    d.add(fmt::format("folder {}", name), v,
          !writable ? fmt::format("{}: not writable ({})", dir.string(), std::strerror(errno))
                    : fmt::format("{}: writable, {:.0f} % free", dir.string(), free * 100));
  }
  auto ledger_path = c->ledger_path();
  if (!fs::exists(ledger_path)) {
    d.add("ledger", verdict::warn, fmt::format("{} does not exist yet (the service has not run)", ledger_path.string()));
  } else if (auto db = service::ledger::open(ledger_path, false); !db) {
    d.add("ledger", verdict::fail, db.error().message());
  } else {
    auto qc = db->quick_check();
    d.add("ledger", qc && *qc == "ok" ? verdict::ok : verdict::fail,
          qc ? fmt::format("{}: integrity {}", ledger_path.string(), *qc) : qc.error().message());
  }
  if (c->metrics_listen.empty()) {
    d.add("service", verdict::warn, "metrics.listen is empty: /readyz cannot be asked");
    return;
  }
  auto [status, body] = http_get(c->metrics_listen, "/readyz");
  d.add("service", status == 200 ? verdict::ok : verdict::warn,
        status == 200 ? fmt::format("http://{}/readyz: ready", c->metrics_listen)
                      : fmt::format("http://{}/readyz: {}", c->metrics_listen, status < 0 ? body : fmt::format("status {}", status)));
}
#endif

}  // namespace

void add_doctor(CLI::App& app, int& exit_status) {
  struct options {
    bool json = false;
    bool round_trip = false;
    std::string config;
    std::string tables;
  };
  auto opt = std::make_shared<options>();
  auto* cmd = app.add_subcommand("doctor", "check this installation: programs, tables, backend, optionally a round trip and a rst-processor setup");
  cmd->add_flag("--json", opt->json, "one JSON object");
  cmd->add_flag("--round-trip", opt->round_trip, "also simulate, fit and grid a few minutes of data and check the result (about a second)");
  cmd->add_option("--config", opt->config, "rst-processor settings: folders, disk space, ledger integrity, the running service's /readyz");
  cmd->add_option("--tables", opt->tables, "tables folder to check (default: the one the programs use)");
  cmd->callback([opt, &exit_status] {
    doctor d;
    check_programs(d);
    check_tables(d, opt->tables);
    check_cuda(d);
    if (opt->round_trip) round_trip(d);
    if (!opt->config.empty()) {
#ifdef RSTX_HAVE_SERVICE
      check_service(d, opt->config);
#else
      d.add("settings", verdict::fail, "this rstx build has no rst-processor");
#endif
    }
    verdict worst = verdict::ok;
    for (auto const& c : d.checks) worst = std::max(worst, c.v);
    static constexpr char const* names[] = {"ok", "warn", "fail"};
    if (opt->json) {
      nlohmann::json j = {{"status", worst == verdict::ok ? "healthy" : worst == verdict::warn ? "degraded" : "unhealthy"},
                          {"version", version_string},
                          {"checks", nlohmann::json::array()}};
      for (auto const& c : d.checks) j["checks"].push_back({{"name", c.name}, {"result", names[static_cast<int>(c.v)]}, {"detail", c.detail}});
      fmt::print("{}\n", j.dump(2));
    } else {
      for (auto const& c : d.checks) fmt::print("{:<5} {:<22} {}\n", names[static_cast<int>(c.v)], c.name, c.detail);
      fmt::print("{}\n", worst == verdict::ok ? "healthy" : worst == verdict::warn ? "degraded" : "unhealthy");
    }
    exit_status = static_cast<int>(worst);
  });
}

}  // namespace rstx::cli
