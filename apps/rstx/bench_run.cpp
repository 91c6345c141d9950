// rstx bench: the daily benchmark. A fixed workload that needs nothing but rstx (a deterministic
// rawacf made by `rstx sim`, and its .bz2), each program run as the user runs it (a separate
// process, output to a file), round-robin so that a noisy machine hurts every figure alike, with
// wall time (median, min, max of N runs) and peak resident memory (wait4) of each.
// `--rst-bin DIR` times RST's make_fit and make_grid on the same files in the same rounds.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <sched.h>
#include <spawn.h>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench.hpp"
#include "command.hpp"
#include "rstx/core/file.hpp"
#include "rstx/core/version.hpp"
#include "rstx/cuda/device.hpp"
#include "rstx/dmap/reader.hpp"

extern char** environ;

namespace rstx::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using bench::median_of;

volatile std::sig_atomic_t interrupted = 0;
extern "C" void note_interrupt(int) { interrupted = 1; }

/** One program invocation of a figure; a figure may chain several (rawacf.bz2 → fitacf → grid). */
struct step {
  std::vector<std::string> argv;
  fs::path in = "/dev/null";
  fs::path out = "/dev/null";
};

struct sample {
  double seconds = 0.0;
  double peak_rss_mib = 0.0;
};

/** Everything printed on stderr by a failed step, trimmed to a few lines for the message. */
std::string tail_of(fs::path const& log) {
  std::ifstream in(log);
  std::string line, text;
  int lines = 0;
  while (std::getline(in, line) && lines < 4) {
    if (line.empty()) continue;
    text += (lines++ ? " | " : "") + line;
  }
  return text.empty() ? "no message" : text;
}

/**
 * Linux carries the spawning process's resident high-water mark through exec into the child's
 * ru_maxrss, so every figure has this process's size as a floor. Resetting our own high-water mark
 * to the current resident size before each spawn keeps that floor as low as it can be; its value
 * (resident_mib) is recorded with the run.
 */
void reset_own_peak_rss() noexcept {
  int const fd = ::open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  [[maybe_unused]] auto n = ::write(fd, "5", 1);
  ::close(fd);
}

/** This process's current resident size, MiB (0 when /proc is not there). */
double own_resident_mib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      double kib = 0.0;
      in >> kib;
      return kib / 1024.0;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0.0;
}

/**
 * Runs the steps one after the other, each as its own process; returns their summed wall time and
 * the largest peak resident set (of a step or of any process it waited for, as wait4 reports it).
 * A step that runs past `timeout` is killed.
 */
result<sample> run_steps(std::vector<step> const& steps, fs::path const& err_log, std::chrono::seconds timeout) {
  sample total;
  for (auto const& s : steps) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, s.in.c_str(), O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, s.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<char*> argv;
    for (auto const& a : s.argv) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    reset_own_peak_rss();
    auto const t0 = std::chrono::steady_clock::now();
    int const rc = ::posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return unexpected(os_failure(fmt::format("cannot start {}", s.argv[0]), rc));

    // A watchdog that kills a hung program; it leaves as soon as the program ends.
    std::mutex m;
    std::condition_variable cv;
    bool finished = false;
    bool killed = false;
    std::thread watchdog([&] {
      std::unique_lock lock(m);
      if (!cv.wait_for(lock, timeout, [&] { return finished; })) {
        killed = true;
        ::kill(pid, SIGKILL);
      }
    });
    int status = 0;
    struct rusage ru{};
    pid_t w = 0;
    do {
      w = ::wait4(pid, &status, 0, &ru);
    } while (w < 0 && errno == EINTR);
    auto const t1 = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(m);
      finished = true;
    }
    cv.notify_one();
    watchdog.join();
    if (w < 0) return unexpected(os_failure(fmt::format("cannot wait for {}", s.argv[0]), errno));
    if (killed)
      return unexpected(error(errc::internal, fmt::format("{} ran past {} s and was stopped", s.argv[0], timeout.count())));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::string how = WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                          : fmt::format("signal {}", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
      return unexpected(error(errc::internal, fmt::format("{} failed ({}): {}", s.argv[0], how, tail_of(err_log))));
    }
    total.seconds += std::chrono::duration<double>(t1 - t0).count();
    total.peak_rss_mib = std::max(total.peak_rss_mib, static_cast<double>(ru.ru_maxrss) / 1024.0);
  }
  return total;
}

/** A figure of the benchmark: what it runs and what it measured. */
struct figure {
  std::string name;            // key in the JSON, e.g. make_fit_fitacf3_2t
  std::string operation;       // Prometheus label: fitacf3, fitacf25, make_grid, end_to_end_bz2
  std::string implementation;  // rstx or rst
  std::string program;         // whose memory this is: make_fit, make_grid, end_to_end
  int threads = 1;
  std::vector<step> steps;
  bool optional = false;  // the CUDA figure: a failure is recorded, not fatal
  std::vector<double> seconds;
  double peak_rss_mib = 0.0;
  std::string failure;
};

/** Cores this process may run on (the affinity mask, so a container's or cgroup's cpuset counts). */
int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto const colon = line.find(':');
      if (colon != std::string::npos) {
        auto v = line.substr(colon + 1);
        v.erase(0, v.find_first_not_of(" \t"));
        return v;
      }
    }
  }
  return "unknown";
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

/** The NVIDIA driver's version line (/proc/driver/nvidia/version), or empty. */
std::string gpu_driver() {
  std::ifstream in("/proc/driver/nvidia/version");
  std::string line;
  std::getline(in, line);
  auto const at = line.find("Kernel Module");
  if (at == std::string::npos) return line;
  auto v = line.substr(at + 13);
  v.erase(0, v.find_first_not_of(" \t"));
  return v.substr(0, v.find_first_of(" \t"));
}

std::tm utc(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return tm;
}
std::string iso_date_utc(std::time_t t) {
  auto const tm = utc(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}
std::string yyyymmdd_utc(std::time_t t) {
  auto const tm = utc(t);
  return fmt::format("{:04}{:02}{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

/** "0.1.0+97d8d52-dirty" → ("0.1.0", "97d8d52-dirty"). */
std::pair<std::string, std::string> version_and_revision() {
  std::string v = version_string;
  auto const plus = v.find('+');
  if (plus == std::string::npos) return {v, ""};
  return {v.substr(0, plus), v.substr(plus + 1)};
}

struct bench_options {
  int runs = 5;
  bool quick = false;
  std::string duration = "2h";
  std::string station = "cly";
  unsigned seed = 1;
  int threads = 0;  // 0 = all usable cores
  std::string output;
  std::string output_dir;
  std::string history;
  std::string textfile;
  std::string rst_bin;
  std::string work_dir;
  int timeout_s = 600;
  bool keep = false;
};

/** Removes the benchmark's own scratch folder however the run ends. */
struct scratch {
  fs::path dir;
  bool remove = true;
  ~scratch() {
    std::error_code ec;
    if (remove && !dir.empty()) fs::remove_all(dir, ec);
  }
};

result<std::int64_t> count_records(fs::path const& file) {
  auto rd = dmap::reader::open(file.string());
  if (!rd) return unexpected(rd.error());
  dmap::record r;
  for (;;) {
    auto more = rd->next(r);
    if (!more) return unexpected(more.error());
    if (!*more) break;
  }
  return rd->records_read();
}

int fail(std::string const& what) {
  fmt::print(stderr, "rstx bench: {}\n", what);
  return io_error;
}

int run_benchmark(bench_options const& o) {
  auto const started_wall = std::time(nullptr);
  auto const started = std::chrono::steady_clock::now();
  auto const bin = own_dir();
  auto const self = bin / "rstx";
  auto const make_fit = bin / "make_fit";
  auto const make_grid = bin / "make_grid";
  for (auto const& p : {make_fit, make_grid})
    if (::access(p.c_str(), X_OK) != 0)
      return fail(fmt::format("{}: not found beside rstx (the benchmark times the installed programs)", p.string()));
  fs::path rst_make_fit, rst_make_grid;
  if (!o.rst_bin.empty()) {
    rst_make_fit = fs::path(o.rst_bin) / "make_fit";
    rst_make_grid = fs::path(o.rst_bin) / "make_grid";
    for (auto const& p : {rst_make_fit, rst_make_grid})
      if (::access(p.c_str(), X_OK) != 0) {
        fmt::print(stderr, "rstx bench: --rst-bin {}: no executable {} there\n", o.rst_bin, p.filename().string());
        return usage;
      }
  }

  // Where the results go is checked first, so that a typo costs seconds, not a whole run.
  auto writable_folder = [](fs::path const& folder) {
    return ::access(folder.empty() ? "." : folder.c_str(), W_OK | X_OK) == 0;
  };
  for (auto const& [flag, value] : {std::pair{"--output", o.output}, {"--history", o.history}, {"--prometheus-textfile", o.textfile}})
    if (!value.empty() && !writable_folder(fs::path(value).parent_path()))
      return fail(fmt::format("{} {}: cannot write into {}: {}", flag, value, fs::path(value).parent_path().string(), std::strerror(errno)));
  if (!o.output_dir.empty() && !writable_folder(o.output_dir))
    return fail(fmt::format("--output-dir {}: cannot write into it: {}", o.output_dir, std::strerror(errno)));

  scratch work;
  if (!o.work_dir.empty()) {
    work.dir = o.work_dir;
    work.remove = false;
    std::error_code ec;
    fs::create_directories(work.dir, ec);
    if (ec) return fail(fmt::format("{}: cannot create: {}", work.dir.string(), ec.message()));
  } else {
    auto tmpl = (fs::temp_directory_path() / "rstx-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return fail(fmt::format("{}: cannot create: {}", tmpl, std::strerror(errno)));
    work.dir = tmpl;
    work.remove = !o.keep;
  }
  auto const timeout = std::chrono::seconds(o.timeout_s);
  auto const err_log = work.dir / "stderr.log";
  int const cores = o.threads > 0 ? o.threads : usable_cores();

  // The workload: deterministic for a given station, duration and seed.
  std::string const tag = fmt::format("{}_{}_s{}", o.station, o.duration, o.seed);
  auto const raw = work.dir / fmt::format("bench_{}.rawacf", tag);
  auto const raw_bz2 = work.dir / fmt::format("bench_{}.rawacf.bz2", tag);
  auto const fitacf = work.dir / "bench.fitacf";
  auto const grid_in = work.dir / fmt::format("bench_{}.fitacf", tag);
  fmt::print(stderr, "rstx bench: making the workload in {} ({} of {} from rstx sim, seed {})\n", work.dir.string(),
             o.duration, o.station, o.seed);
  if (!fs::exists(raw)) {
    auto made = run_steps({{{self.string(), "sim", "-o", raw.string(), "--station", o.station, "--duration", o.duration,
                             "--seed", std::to_string(o.seed)}}},
                          err_log, timeout);
    if (!made) return fail(fmt::format("making the workload: {}", made.error().message()));
  }
  if (!fs::exists(raw_bz2)) {
    auto made = run_steps({{{self.string(), "convert", raw.string(), raw_bz2.string()}}}, err_log, timeout);
    if (!made) return fail(fmt::format("compressing the workload: {}", made.error().message()));
  }
  auto records = count_records(raw);
  if (!records) return fail(records.error().message());
  {
    auto made = run_steps({{{make_fit.string(), "-fitacf3", raw.string(), "-o", grid_in.string()}}}, err_log, timeout);
    if (!made) return fail(fmt::format("fitting the workload: {}", made.error().message()));
  }

  std::vector<figure> figs;
  auto add = [&](std::string name, std::string op, std::string impl, std::string program, int threads,
                 std::vector<step> steps, bool optional = false) {
    figure f;
    f.name = std::move(name);
    f.operation = std::move(op);
    f.implementation = std::move(impl);
    f.program = std::move(program);
    f.threads = threads;
    f.steps = std::move(steps);
    f.optional = optional;
    figs.push_back(std::move(f));
  };
  auto const fit_out = work.dir / "out.fitacf";
  auto const grid_out = work.dir / "out.grid";
  auto const fit_args = [&](std::vector<std::string> extra) {
    std::vector<std::string> a{make_fit.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    a.insert(a.end(), {raw.string(), "-o", fit_out.string()});
    return a;
  };
  add("make_fit_fitacf3_1t", "fitacf3", "rstx", "make_fit", 1, {{fit_args({"-fitacf3", "--threads", "1"})}});
  add(fmt::format("make_fit_fitacf3_{}t", cores), "fitacf3", "rstx", "make_fit", cores,
      {{fit_args({"-fitacf3", "--threads", std::to_string(cores)})}});
  add(fmt::format("make_fit_fitacf25_{}t", cores), "fitacf25", "rstx", "make_fit", cores,
      {{fit_args({"-fitacf2", "--threads", std::to_string(cores)})}});
  add(fmt::format("make_grid_{}t", cores), "make_grid", "rstx", "make_grid", cores,
      {{{make_grid.string(), "-xtd", "--threads", std::to_string(cores), grid_in.string(), "-o", grid_out.string()}}});
  add(fmt::format("end_to_end_bz2_{}t", cores), "end_to_end_bz2", "rstx", "end_to_end", cores,
      {{{make_fit.string(), "-fitacf3", "--threads", std::to_string(cores), raw_bz2.string(), "-o", fit_out.string()}},
       {{make_grid.string(), "-xtd", "--threads", std::to_string(cores), fit_out.string(), "-o", grid_out.string()}}});

  // The CUDA backend, timed only where the same probe as make_fit's finds a device.
  std::string cuda_reason;
  json gpus = nullptr;
  if (!cuda::compiled_with_cuda()) {
    cuda_reason = "this rstx build has no CUDA backend";
  } else if (auto devices = cuda::devices(); !devices) {
    cuda_reason = fmt::format("no usable CUDA device: {}", devices.error().message());
  } else if (devices->empty()) {
    cuda_reason = "no CUDA device";
  } else {
    gpus = json::array();
    for (auto const& d : *devices)
      gpus.push_back({{"index", d.index},
                      {"name", d.name},
                      {"compute_capability", fmt::format("{}.{}", d.compute_major, d.compute_minor)},
                      {"memory_mib", static_cast<double>(d.memory_bytes) / (1024.0 * 1024.0)}});
    add("make_fit_fitacf3_cuda", "fitacf3_cuda", "rstx", "make_fit", cores,
        {{fit_args({"-fitacf3", "--backend", "cuda"})}}, true);
  }

  if (!o.rst_bin.empty()) {
    auto const rst_fit_out = work.dir / "rst.fitacf";
    auto const rst_grid_out = work.dir / "rst.grid";
    add("rst_make_fit_fitacf3_1t", "rst_fitacf3", "rst", "rst_make_fit", 1,
        {{{rst_make_fit.string(), "-fitacf3", raw.string()}, "/dev/null", rst_fit_out}});
    add("rst_make_grid_1t", "rst_make_grid", "rst", "rst_make_grid", 1,
        {{{rst_make_grid.string(), "-xtd", grid_in.string()}, "/dev/null", rst_grid_out}});
    // RST's way with a compressed file: bzip2 -dc | make_fit, then make_grid.
    add("rst_end_to_end_bz2_1t", "rst_end_to_end_bz2", "rst", "rst_end_to_end", 1,
        {{{"/bin/sh", "-c", "bzip2 -dc \"$1\" | \"$2\" -fitacf3", "sh", raw_bz2.string(), rst_make_fit.string()},
          "/dev/null",
          rst_fit_out},
         {{rst_make_grid.string(), "-xtd", rst_fit_out.string()}, "/dev/null", rst_grid_out}});
  }

  struct sigaction act{}, old_int{}, old_term{};
  act.sa_handler = note_interrupt;
  sigemptyset(&act.sa_mask);
  ::sigaction(SIGINT, &act, &old_int);
  ::sigaction(SIGTERM, &act, &old_term);
  struct restore_signals {
    struct sigaction i, t;
    ~restore_signals() {
      ::sigaction(SIGINT, &i, nullptr);
      ::sigaction(SIGTERM, &t, nullptr);
    }
  } restore{old_int, old_term};

  double const spawner_mib = own_resident_mib();
  // Round 0 warms caches and is not counted; then every figure once per round.
  for (int round = 0; round <= o.runs; ++round) {
    if (round == 0) fmt::print(stderr, "rstx bench: warm-up round\n");
    else fmt::print(stderr, "rstx bench: round {} of {}\n", round, o.runs);
    for (auto& f : figs) {
      if (!f.failure.empty()) continue;
      auto s = run_steps(f.steps, err_log, timeout);
      if (interrupted) {
        fmt::print(stderr, "rstx bench: interrupted; nothing written\n");
        return 130;
      }
      if (!s) {
        if (!f.optional) return fail(fmt::format("{}: {}", f.name, s.error().message()));
        f.failure = s.error().message();
        continue;
      }
      if (round > 0) f.seconds.push_back(s->seconds);
      f.peak_rss_mib = std::max(f.peak_rss_mib, s->peak_rss_mib);
    }
  }

  auto find = [&](std::string const& name) -> figure const* {
    for (auto const& f : figs)
      if (f.name == name && f.failure.empty() && !f.seconds.empty()) return &f;
    return nullptr;
  };
  json figures = json::object();
  double memory_mib = 0.0;
  for (auto const& f : figs) {
    if (!f.failure.empty()) continue;
    double const med = median_of(f.seconds);
    figures[f.name] = {{"operation", f.operation},
                       {"implementation", f.implementation},
                       {"program", f.program},
                       {"threads", f.threads},
                       {"median_s", med},
                       {"min_s", *std::min_element(f.seconds.begin(), f.seconds.end())},
                       {"max_s", *std::max_element(f.seconds.begin(), f.seconds.end())},
                       {"runs_s", f.seconds},
                       {"peak_rss_mib", f.peak_rss_mib},
                       {"records_per_s", med > 0 ? static_cast<double>(*records) / med : 0.0}};
    if (f.implementation == "rstx") memory_mib = std::max(memory_mib, f.peak_rss_mib);
  }
  auto ratio = [&](std::string const& slow, std::string const& fast) -> json {
    auto const* a = find(slow);
    auto const* b = find(fast);
    if (a == nullptr || b == nullptr) return nullptr;
    return median_of(a->seconds) / median_of(b->seconds);
  };
  std::string const all = fmt::format("{}t", cores);
  json cuda_speedup = nullptr;
  if (auto const* c = find("make_fit_fitacf3_cuda"); c != nullptr) {
    cuda_speedup = ratio("make_fit_fitacf3_" + all, "make_fit_fitacf3_cuda");
  } else if (cuda_reason.empty()) {
    for (auto const& f : figs)
      if (f.name == "make_fit_fitacf3_cuda") cuda_reason = "make_fit --backend cuda failed: " + f.failure;
  }
  json speedups = json::object();
  speedups["cuda_against_cpu"] = cuda_speedup;
  if (!o.rst_bin.empty()) {
    speedups["rst_make_fit"] = ratio("rst_make_fit_fitacf3_1t", "make_fit_fitacf3_1t");
    speedups["rst_make_fit_all_cores"] = ratio("rst_make_fit_fitacf3_1t", "make_fit_fitacf3_" + all);
    speedups["rst_make_grid"] = ratio("rst_make_grid_1t", "make_grid_" + all);
    speedups["rst_end_to_end_bz2"] = ratio("rst_end_to_end_bz2_1t", "end_to_end_bz2_" + all);
  }

  auto [version, revision] = version_and_revision();
  std::error_code ec;
  json run = {
      {"schema", bench::schema},
      {"date", iso_date_utc(started_wall)},
      {"fitacf_time", figures["make_fit_fitacf3_" + all]["median_s"]},
      {"grid_time", figures["make_grid_" + all]["median_s"]},
      {"cuda_speedup", cuda_speedup},
      {"memory_usage", memory_mib},
      {"rstx_version", version},
      {"rstx_revision", revision},
      {"host", {{"name", host_name()}, {"cpu_model", cpu_model()}, {"cores", usable_cores()}, {"gpus", gpus},
                {"gpu_driver", gpus.is_null() ? json(nullptr) : json(gpu_driver())}}},
      {"workload", {{"id", fmt::format("sim-{}-{}-seed{}", o.station, o.duration, o.seed)},
                    {"station", o.station},
                    {"duration", o.duration},
                    {"seed", o.seed},
                    {"records", *records},
                    {"rawacf_bytes", static_cast<std::int64_t>(fs::file_size(raw, ec))},
                    {"rawacf_bz2_bytes", static_cast<std::int64_t>(fs::file_size(raw_bz2, ec))},
                    {"runs", o.runs},
                    {"spawner_resident_mib", spawner_mib},
                    {"threads", cores}}},
      {"figures", figures},
      {"speedups", speedups},
      {"rst_bin", o.rst_bin.empty() ? json(nullptr) : json(fs::absolute(o.rst_bin).string())},
      {"elapsed_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}};
  if (cuda_speedup.is_null()) run["cuda_speedup_reason"] = cuda_reason;

  // The report on the terminal: one line per figure, then the ratios.
  fmt::print("rstx bench {} on {} ({}, {} cores), {} runs of {} ({} records)\n", version_string,
             run["host"]["name"].get<std::string>(), run["host"]["cpu_model"].get<std::string>(), cores, o.runs,
             run["workload"]["id"].get<std::string>(), *records);
  for (auto const& [name, f] : figures.items())
    fmt::print("  {:<28} {:>9.3f} s  (min {:.3f}, max {:.3f})  {:>8.0f} records/s  peak {:>7.1f} MiB\n", name,
               f["median_s"].get<double>(), f["min_s"].get<double>(), f["max_s"].get<double>(),
               f["records_per_s"].get<double>(), f["peak_rss_mib"].get<double>());
  for (auto const& [name, v] : speedups.items())
    fmt::print("  speed-up {:<24} {}\n", name, v.is_null() ? "null (" + cuda_reason + ")" : fmt::format("{:.2f}x", v.get<double>()));

  std::vector<fs::path> outputs;
  if (!o.output.empty()) outputs.emplace_back(o.output);
  if (!o.output_dir.empty()) outputs.push_back(fs::path(o.output_dir) / fmt::format("benchmark_{}.json", yyyymmdd_utc(started_wall)));
  for (auto const& p : outputs) {
    if (auto w = write_file_atomically(p, run.dump(2) + "\n"); !w) return fail(w.error().message());
    fmt::print(stderr, "rstx bench: wrote {}\n", p.string());
  }
  if (!o.history.empty()) {
    if (auto w = bench::append_history(o.history, run); !w) return fail(w.error().message());
    fmt::print(stderr, "rstx bench: appended to {}\n", o.history);
  }
  if (!o.textfile.empty()) {
    if (auto w = write_file_atomically(o.textfile, bench::prometheus_textfile(run)); !w) return fail(w.error().message());
    fmt::print(stderr, "rstx bench: wrote {}\n", o.textfile);
  }
  return ok;
}

}  // namespace

int run_bench_trends(std::string const& history, std::string const& output, std::string const& title);
int run_bench_check(std::string const& history, double floor, double sigmas, int min_runs, int window, bool json_out);

void add_bench(CLI::App& app, int& exit_status) {
  auto o = std::make_shared<bench_options>();
  auto* cmd = app.add_subcommand(
      "bench", "the daily benchmark: make_fit, make_grid and .bz2 end to end on a fixed simulated workload; "
               "JSON, history, Prometheus textfile (see docs/bench.md)");
  cmd->require_subcommand(0, 1);
  cmd->add_option("--runs", o->runs, "timed runs of each figure (after one warm-up round); the figure is their median")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_flag("--quick", o->quick, "a small workload (10 minutes of data) and one run: a smoke test, not a measurement");
  cmd->add_option("--duration", o->duration, "length of the simulated rawacf")->capture_default_str();
  cmd->add_option("--station", o->station, "radar of the simulated rawacf")->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed of the simulated rawacf")->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads for the all-cores figures (default: every core this process may use)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--output", o->output, "write the run as JSON to this file (atomically)");
  cmd->add_option("--output-dir", o->output_dir, "write the run as DIR/benchmark_YYYYMMDD.json (UTC date)");
  cmd->add_option("--history", o->history, "append the run as one line to this JSON-lines history (atomically)");
  cmd->add_option("--prometheus-textfile", o->textfile,
                  "write the figures for node_exporter's textfile collector (rst_benchmark_*), atomically");
  cmd->add_option("--rst-bin", o->rst_bin, "folder with RST's make_fit and make_grid: time them on the same files too");
  cmd->add_option("--work-dir", o->work_dir, "where the workload is made and kept (default: a temporary folder, removed)");
  cmd->add_option("--timeout", o->timeout_s, "seconds after which one program run is stopped and the benchmark fails")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  cmd->callback([o, cmd, &exit_status] {
    if (!cmd->get_subcommands().empty()) return;
    bench_options opt = *o;
    if (opt.quick) {
      if (cmd->count("--duration") == 0) opt.duration = "10m";
      if (cmd->count("--runs") == 0) opt.runs = 1;
    }
    exit_status = run_benchmark(opt);
  });

  struct trends_options {
    std::string history, output = "trends.png", title;
  };
  auto t = std::make_shared<trends_options>();
  auto* trends = cmd->add_subcommand("trends", "draw a history's figures over time as a PNG (needs Python 3 with matplotlib)");
  trends->add_option("history", t->history, "JSON-lines history written by rstx bench --history")->required();
  trends->add_option("-o,--output", t->output, "the picture")->capture_default_str();
  trends->add_option("--title", t->title, "title above the panels");
  trends->callback([t, &exit_status] { exit_status = run_bench_trends(t->history, t->output, t->title); });

  struct check_options {
    std::string history;
    double floor = 0.10;
    double sigmas = 4.0;
    int min_runs = 5;
    int window = 30;
    bool json = false;
  };
  auto c = std::make_shared<check_options>();
  auto* check = cmd->add_subcommand(
      "check", "compare the latest run with the previous runs on the same host; exit 5 naming each figure that got worse");
  check->add_option("history", c->history, "JSON-lines history written by rstx bench --history")->required();
  check->add_option("--floor", c->floor, "smallest change (fraction) ever called a regression")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  check->add_option("--sigmas", c->sigmas, "a regression is worse than the baseline by this many robust standard deviations of the past runs")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  check->add_option("--min-runs", c->min_runs, "previous runs needed before anything is judged")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  check->add_option("--window", c->window, "compare with at most this many previous runs (the most recent)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  check->add_flag("--json", c->json, "the verdicts as one JSON object");
  check->callback([c, &exit_status] {
    exit_status = run_bench_check(c->history, c->floor, c->sigmas, c->min_runs, c->window, c->json);
  });
}

}  // namespace rstx::cli
