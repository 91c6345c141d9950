// rstx bench's history (JSON lines), its regression check, and its Prometheus textfile.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include "bench.hpp"
#include "command.hpp"
#include "report.hpp"
#include "rstx/core/file.hpp"

namespace rstx::cli {

namespace bench {

namespace fs = std::filesystem;
using nlohmann::json;

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  std::size_t const n = v.size();
  return n == 0 ? 0.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

result<history> read_history(fs::path const& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(os_failure("cannot read the history", errno).at(path.string()));
  history h;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = json::parse(line, nullptr, false);
    std::string why;
    if (j.is_discarded()) why = "not valid JSON (a torn or edited line?)";
    else if (!j.is_object()) why = "not a JSON object";
    else if (!j.contains("date") || !j["date"].is_string()) why = "no date";
    else if (!j.contains("figures") || !j["figures"].is_object()) why = "no figures";
    else if (!j.contains("host") || !j["host"].is_object() || !j["host"].contains("name")) why = "no host";
    if (!why.empty()) {
      h.warnings.push_back(fmt::format("{}: line {}: skipped: {}", path.string(), n, why));
      continue;
    }
    h.entries.push_back({n, std::move(j)});
  }
  if (in.bad()) return unexpected(os_failure("cannot read the history", errno).at(path.string()));
  return h;
}

result<void> append_history(fs::path const& path, json const& run) {
  auto const dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
  // The folder's lock serialises appenders; the file itself is replaced, so it cannot carry the lock.
  int const dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return unexpected(os_failure("cannot open the history's folder", errno).at(dir.string()));
  struct unlock {
    int fd;
    ~unlock() { ::close(fd); }
  } guard{dfd};
  while (::flock(dfd, LOCK_EX) != 0)
    if (errno != EINTR) return unexpected(os_failure("cannot lock the history's folder", errno).at(dir.string()));
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    } else if (errno != ENOENT) {
      return unexpected(os_failure("cannot read the history", errno).at(path.string()));
    }
  }
  if (!text.empty() && text.back() != '\n') text += '\n';  // a line cut short stays its own (skipped) line
  text += run.dump() + "\n";
  return write_file_atomically(path, text);
}

std::string prometheus_textfile(json const& run) {
  std::string out;
  auto number = [](json const& v) { return fmt::format("{}", v.get<double>()); };
  out += "# HELP rst_benchmark_seconds Median wall-clock seconds of one operation of the daily benchmark (rstx bench).\n";
  out += "# TYPE rst_benchmark_seconds gauge\n";
  std::map<std::string, double> memory;
  for (auto const& [name, f] : run.at("figures").items()) {
    out += fmt::format("rst_benchmark_seconds{{operation=\"{}\",threads=\"{}\"}} {}\n", f.at("operation").get<std::string>(),
                       f.at("threads").get<int>(), number(f.at("median_s")));
    auto& m = memory[f.at("program").get<std::string>()];
    m = std::max(m, f.at("peak_rss_mib").get<double>());
  }
  out += "# HELP rst_benchmark_records_per_second Records per second of one operation of the daily benchmark.\n";
  out += "# TYPE rst_benchmark_records_per_second gauge\n";
  for (auto const& [name, f] : run.at("figures").items())
    out += fmt::format("rst_benchmark_records_per_second{{operation=\"{}\",threads=\"{}\"}} {}\n",
                       f.at("operation").get<std::string>(), f.at("threads").get<int>(), number(f.at("records_per_s")));
  out += "# HELP rst_benchmark_speedup How many times faster rstx was than the named baseline in the daily benchmark.\n";
  out += "# TYPE rst_benchmark_speedup gauge\n";
  if (run.contains("speedups"))
    for (auto const& [against, v] : run["speedups"].items())
      if (v.is_number()) out += fmt::format("rst_benchmark_speedup{{against=\"{}\"}} {}\n", against, number(v));
  out += "# HELP rst_benchmark_memory_bytes Peak resident memory of a program in the daily benchmark.\n";
  out += "# TYPE rst_benchmark_memory_bytes gauge\n";
  for (auto const& [program, mib] : memory)
    out += fmt::format("rst_benchmark_memory_bytes{{program=\"{}\"}} {:.0f}\n", program, mib * 1024.0 * 1024.0);
  out += "# HELP rst_benchmark_timestamp_seconds When the daily benchmark last ran (Unix time).\n";
  out += "# TYPE rst_benchmark_timestamp_seconds gauge\n";
  std::tm tm{};
  std::istringstream date(run.at("date").get<std::string>());
  date >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  out += fmt::format("rst_benchmark_timestamp_seconds {}\n", static_cast<long long>(::timegm(&tm)));
  return out;
}

}  // namespace bench

namespace {

using nlohmann::json;
using bench::median_of;

/** One judged figure: a time or memory (lower is better) or a speed-up (higher is better). */
struct verdict {
  std::string figure;
  std::string kind;  // time, memory, speedup
  std::string unit;
  double baseline = 0.0;
  double latest = 0.0;
  double change = 0.0;   // relative, positive = worse
  double allowed = 0.0;  // relative threshold
  int previous = 0;
  bool regression = false;
};

}  // namespace

int run_bench_check(std::string const& path, double floor, double sigmas, int min_runs, int window, bool json_out) {
  auto h = bench::read_history(path);
  if (!h) {
    report("rstx bench check", h.error());
    return io_error;
  }
  for (auto const& w : h->warnings) fmt::print(stderr, "rstx bench check: warning: {}\n", w);
  if (h->entries.empty()) {
    fmt::print(stderr, "rstx bench check: {}: no runs in the history\n", path);
    return bad_input;
  }
  auto const& latest = h->entries.back().run;
  auto const host = latest["host"]["name"];
  auto const workload = latest.contains("workload") ? latest["workload"].value("id", "") : std::string();
  std::vector<json const*> previous;
  for (auto it = h->entries.rbegin() + 1; it != h->entries.rend() && static_cast<int>(previous.size()) < window; ++it) {
    auto const& r = it->run;
    std::string const wl = r.contains("workload") ? r["workload"].value("id", "") : std::string();
    if (r["host"]["name"] == host && wl == workload) previous.push_back(&r);
  }
  json report_json = {{"latest", latest["date"]}, {"host", host}, {"workload", workload},
                      {"previous_runs", previous.size()}, {"figures", json::array()}};
  if (static_cast<int>(previous.size()) < min_runs) {
    std::string const msg = fmt::format("{} previous run(s) of {} on {} in {}; {} needed before anything is judged",
                                        previous.size(), workload, host.get<std::string>(), path, min_runs);
    if (json_out) {
      report_json["result"] = "not enough history";
      report_json["detail"] = msg;
      fmt::print("{}\n", report_json.dump(2));
    } else {
      fmt::print("rstx bench check: {}\n", msg);
    }
    return ok;
  }

  // For each figure: the baseline is the median of the previous runs, the noise their robust
  // standard deviation (1.4826 × median absolute deviation), relative to the baseline. A change is
  // a regression when it is worse by more than max(floor, sigmas × noise).
  std::vector<verdict> verdicts;
  auto judge = [&](std::string const& name, std::string const& kind, std::string const& unit, double now,
                   std::vector<double> past, bool higher_is_better) {
    if (past.empty() || !(now > 0.0)) return;
    double const base = median_of(past);
    if (!(base > 0.0)) return;
    std::vector<double> dev;
    for (double v : past) dev.push_back(std::fabs(v - base));
    double const noise = 1.4826 * median_of(dev) / base;
    verdict v;
    v.figure = name;
    v.kind = kind;
    v.unit = unit;
    v.baseline = base;
    v.latest = now;
    v.change = higher_is_better ? (base - now) / base : (now - base) / base;
    v.allowed = std::max(floor, sigmas * noise);
    v.previous = static_cast<int>(past.size());
    v.regression = v.change > v.allowed;
    verdicts.push_back(v);
  };
  // Times are judged on the fastest of each day's runs: interference from other work only ever
  // adds time, so the minimum is the steadiest estimate of what the program costs (on the recorded
  // histories its noise is half the median's). The medians are what the history keeps and plots.
  auto fastest = [](json const& f) -> std::optional<double> {
    for (char const* key : {"min_s", "median_s"})
      if (f.contains(key) && f[key].is_number()) return f[key].get<double>();
    return std::nullopt;
  };
  for (auto const& [name, f] : latest["figures"].items()) {
    std::vector<double> times, memory;
    for (auto const* r : previous) {
      auto const& figs = (*r)["figures"];
      if (!figs.contains(name)) continue;
      auto const& p = figs[name];
      if (auto t = fastest(p)) times.push_back(*t);
      if (p.contains("peak_rss_mib") && p["peak_rss_mib"].is_number()) memory.push_back(p["peak_rss_mib"].get<double>());
    }
    if (auto t = fastest(f)) judge(name, "time", "s", *t, times, false);
    if (f.contains("peak_rss_mib") && f["peak_rss_mib"].is_number())
      judge(name, "memory", "MiB", f["peak_rss_mib"].get<double>(), memory, false);
  }
  if (latest.contains("speedups") && latest["speedups"].is_object())
    for (auto const& [name, v] : latest["speedups"].items()) {
      if (!v.is_number()) continue;
      std::vector<double> past;
      for (auto const* r : previous)
        if (r->contains("speedups") && (*r)["speedups"].contains(name) && (*r)["speedups"][name].is_number())
          past.push_back((*r)["speedups"][name].get<double>());
      judge("speedup " + name, "speedup", "x", v.get<double>(), past, true);
    }

  int regressions = 0;
  for (auto const& v : verdicts) regressions += v.regression ? 1 : 0;
  if (json_out) {
    for (auto const& v : verdicts)
      report_json["figures"].push_back({{"figure", v.figure}, {"kind", v.kind}, {"baseline", v.baseline}, {"latest", v.latest},
                                        {"change", v.change}, {"allowed", v.allowed}, {"previous_runs", v.previous},
                                        {"regression", v.regression}});
    report_json["result"] = regressions ? "regression" : "ok";
    fmt::print("{}\n", report_json.dump(2));
  } else {
    fmt::print("rstx bench check: run of {} on {} against the median of {} previous run(s) of {}\n",
               latest["date"].get<std::string>(), host.get<std::string>(), previous.size(), workload);
    for (auto const& v : verdicts)
      fmt::print("  {:<30} {:<7} {:>10.4g} {:<3} -> {:>10.4g} {:<3} {:>+7.1f} % worse (allowed {:.1f} %)  {}\n", v.figure,
                 v.kind, v.baseline, v.unit, v.latest, v.unit, 100.0 * v.change, 100.0 * v.allowed,
                 v.regression ? "REGRESSION" : "ok");
    for (auto const& v : verdicts)
      if (v.regression)
        fmt::print(stderr, "rstx bench check: regression: {} ({}) {:.4g} {} -> {:.4g} {}, {:.1f} % worse, more than the {:.1f} % its past runs allow\n",
                   v.figure, v.kind, v.baseline, v.unit, v.latest, v.unit, 100.0 * v.change, 100.0 * v.allowed);
    fmt::print("{}\n", regressions ? fmt::format("{} regression(s)", regressions) : "no regression");
  }
  return regressions ? differ : ok;
}

}  // namespace rstx::cli
