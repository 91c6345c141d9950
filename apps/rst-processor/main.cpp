// rst-processor: the unattended processing service (run), its batch mode for archives (batch), and
// the operator's views of its ledger (status, ledger) and configuration (check-config).
// docs/service.md describes it; deploy/rst-processor.toml documents every setting.
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <glob.h>
#include <iostream>
#include <iterator>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli.hpp"  // make_grid's parser, to check --grid-options
#include "rstx/core/file.hpp"
#include "rstx/core/version.hpp"
#include "rstx/service/naming.hpp"
#include "rstx/service/config.hpp"
#include "rstx/service/job.hpp"
#include "rstx/service/ledger.hpp"
#include "rstx/service/log.hpp"
#include "rstx/service/processor.hpp"
#include "rstx/service/slurm.hpp"

namespace fs = std::filesystem;
using namespace rstx;
using namespace rstx::service;
using nlohmann::json;

namespace {

constexpr char const* program = "rst-processor";

int fail(error const& e, int status) {
  fmt::print(stderr, "{}: {}\n", program, e.message());
  return status;
}

int fail(std::string const& what, int status) {
  fmt::print(stderr, "{}: {}\n", program, what);
  return status;
}

/** make_grid's own parser decides whether the grid options are valid (no inputs needed). */
result<void> check_grid_options(std::string const& options) {
  std::istringstream is(options);
  std::vector<std::string> args;
  for (std::string w; is >> w;) args.push_back(w);
  auto parsed = make_grid_cli::parse_command_line(args);
  if (!parsed) return unexpected(parsed.error());
  if (parsed->help || parsed->version || !parsed->output.empty() || parsed->inputs != std::vector<std::string>{"-"})
    return unexpected(error(errc::invalid_argument, "only make_grid's processing flags belong here (no files, -o, --help)"));
  return {};
}

/** Settings given as flags; each one set wins over the file. */
struct flag_settings {
  std::string config_file;
  std::string inbox, out, state, archive, tables, log_file, log_level;
  std::optional<int> workers, threads_per_job, device;
  std::string fit_algorithm, grid_options, compress, after_success, backend;
  std::optional<double> rescan, settle, grid_delay, job_timeout, shutdown_timeout;
  std::optional<std::string> metrics_listen;
  bool no_grids = false;

  [[nodiscard]] result<config> resolve() const {
    config c;
    if (!config_file.empty()) {
      auto loaded = load_config(config_file, c, check_grid_options);
      if (!loaded) return unexpected(loaded.error());
      c = *loaded;
    }
    auto abs = [](std::string const& p) { return fs::absolute(p).lexically_normal(); };
    // The operations guide's variables: over the file, under the flags.
    if (char const* f = std::getenv("RST_LOG_FILE"); f != nullptr && *f != '\0') c.log_file = abs(f);
    if (char const* l = std::getenv("RST_LOG_LEVEL"); l != nullptr && *l != '\0') {
      std::string level = l;
      std::transform(level.begin(), level.end(), level.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (level == "warning") level = "warn";
      if (level != "debug" && level != "info" && level != "warn" && level != "error")
        return unexpected(error(errc::invalid_argument, fmt::format("RST_LOG_LEVEL={}: use DEBUG, INFO, WARN or ERROR", l)));
      c.log_level = level;
    }
    if (!inbox.empty()) c.inbox = abs(inbox);
    if (!out.empty()) c.out = abs(out);
    if (!state.empty()) c.state = abs(state);
    if (!archive.empty()) c.archive = abs(archive);
    if (!tables.empty()) c.tables = abs(tables);
    if (!log_file.empty()) c.log_file = abs(log_file);
    if (!log_level.empty()) c.log_level = log_level;
    if (workers) c.workers = *workers;
    if (threads_per_job) c.threads_per_job = *threads_per_job;
    if (!backend.empty()) c.backend = backend;
    if (device) c.device = *device;
    if (!fit_algorithm.empty()) {
      auto a = parse_algorithm(fit_algorithm);
      if (!a) return unexpected(error(errc::invalid_argument, fmt::format("--fit-algorithm {}: use fitacf3 or fitacf2", fit_algorithm)));
      c.algorithm = *a;
    }
    if (!grid_options.empty()) c.grid_options = grid_options;
    if (!compress.empty()) {
      if (compress == "none") c.compress = product_compression::none;
      else if (compress == "bz2") c.compress = product_compression::bz2;
      else return unexpected(error(errc::invalid_argument, fmt::format("--compress {}: use none or bz2", compress)));
    }
    if (!after_success.empty()) {
      if (after_success == "archive") c.after_success = input_disposal::archive;
      else if (after_success == "keep") c.after_success = input_disposal::keep;
      else if (after_success == "delete") c.after_success = input_disposal::remove;
      else return unexpected(error(errc::invalid_argument, fmt::format("--after-success {}: use archive, keep or delete", after_success)));
    }
    if (rescan) c.rescan_seconds = *rescan;
    if (settle) c.settle_seconds = *settle;
    if (grid_delay) c.grid_delay_seconds = *grid_delay;
    if (job_timeout) c.job_timeout_seconds = *job_timeout;
    if (shutdown_timeout) c.shutdown_timeout_seconds = *shutdown_timeout;
    if (no_grids) c.daily_grids = false;
    if (metrics_listen) c.metrics_listen = *metrics_listen;
    return c;
  }
};

void add_common_flags(CLI::App* cmd, flag_settings& f, bool watch) {
  cmd->add_option("--config", f.config_file, "TOML settings file (deploy/rst-processor.toml documents every key)");
  if (watch) cmd->add_option("--inbox", f.inbox, "folder watched for rawacf files");
  cmd->add_option("--out", f.out, "folder of the products (fitacf, daily grids)");
  cmd->add_option("--state", f.state, "folder of the ledger, quarantine and (by default) archive");
  cmd->add_option("--fit-algorithm", f.fit_algorithm, "fitacf3 (default) or fitacf2");
  cmd->add_option("--backend", f.backend, "where FITACF 3.0 runs: cpu (default), cuda or auto (docs/cuda.md)")
      ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
  cmd->add_option("--device", f.device, "CUDA device for --backend cuda or auto (default 0)")->check(CLI::Range(0, 1023));
  cmd->add_option("--grid-options", f.grid_options, "make_grid's flags for the daily grids (default \"-xtd\")");
  cmd->add_option("--compress", f.compress, "products: none (default) or bz2");
  cmd->add_option("--tables", f.tables, "rstx tables folder (default: rstx's own)");
  cmd->add_flag("--no-grids", f.no_grids, "fitacf only, no daily grids");
  cmd->add_option("--threads-per-job", f.threads_per_job, "fitting threads inside one file's job (default 1)")->check(CLI::Range(1, 1024));
  cmd->add_option("--job-timeout", f.job_timeout, "seconds one file may take before it is stopped and retried")->check(CLI::Range(1.0, 7 * 86400.0));
  cmd->add_option("--shutdown-timeout", f.shutdown_timeout, "seconds running work may take to finish at SIGTERM")->check(CLI::Range(0.0, 86400.0));
  cmd->add_option("--log-file", f.log_file, "JSON log lines to this file (default: standard error)");
  cmd->add_option("--log-level", f.log_level, "debug, info (default), warn or error");
}

void block_service_signals() {
  sigset_t s;
  sigemptyset(&s);
  for (int sig : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&s, sig);
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGXFSZ, SIG_IGN);  // a file-size limit gives EFBIG (retried like a full disk), not a killed job
}

int run_service(flag_settings const& flags, bool once, std::optional<double> rescan_override) {
  auto cfg = flags.resolve();
  if (!cfg) return fail(cfg.error(), 1);
  if (rescan_override) cfg->rescan_seconds = *rescan_override;
  if (auto v = validate(*cfg, true, check_grid_options); !v) return fail(v.error(), 1);
  logger log;
  if (auto r = log.open(cfg->log_file, parse_log_level(cfg->log_level)); !r) return fail(r.error(), 1);
  auto state = open_state(*cfg, true);
  if (!state) return fail(state.error(), 3);
  block_service_signals();
  processor::reload_function reload;
  if (!flags.config_file.empty())
    reload = [flags, rescan_override]() -> result<config> {
      auto c = flags.resolve();
      if (!c) return c;
      if (rescan_override) c->rescan_seconds = *rescan_override;
      if (auto v = validate(*c, true, check_grid_options); !v) return unexpected(v.error());
      return c;
    };
  processor p(*cfg, *state->db, log);
  return p.watch(once, reload);
}

std::vector<fs::path> expand_inputs(std::vector<std::string> const& args, std::string const& list_file, std::vector<std::string>& problems) {
  std::vector<std::string> patterns = args;
  if (!list_file.empty()) {
    std::ifstream in(list_file);
    if (!in) problems.push_back(fmt::format("{}: cannot read the list", list_file));
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && line[0] != '#') patterns.push_back(line);
  }
  std::vector<fs::path> files;
  for (auto const& p : patterns) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && !temporary_input_name(it->path().filename().string())) found.push_back(it->path());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
      continue;
    }
    if (p.find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      if (::glob(p.c_str(), 0, nullptr, &g) == 0)
        for (std::size_t i = 0; i < g.gl_pathc; ++i) files.emplace_back(g.gl_pathv[i]);
      else
        problems.push_back(fmt::format("{}: matches no file", p));
      globfree(&g);
      continue;
    }
    files.emplace_back(p);
  }
  return files;
}

std::string human_bytes(double b) {
  char const* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  return fmt::format("{:.1f} {}", b, units[u]);
}

std::string clock_text(double s) {
  if (!(s >= 0) || s > 1e7) return "--:--";
  auto const t = static_cast<long>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02d}:{:02d}", t / 3600, (t / 60) % 60, t % 60) : fmt::format("{:02d}:{:02d}", t / 60, t % 60);
}

int run_batch(flag_settings const& flags, std::optional<int> jobs, std::vector<std::string> const& args, std::string const& list_file, bool no_progress) {
  auto cfg = flags.resolve();
  if (!cfg) return fail(cfg.error(), 1);
  if (jobs) cfg->workers = *jobs;
  if (auto v = validate(*cfg, false, check_grid_options); !v) return fail(v.error(), 1);
  std::vector<std::string> problems;
  auto files = expand_inputs(args, list_file, problems);
  for (auto const& p : problems) fmt::print(stderr, "{}: {}\n", program, p);
  if (files.empty()) return fail("no input files (give files, folders or globs, or --from-list FILE)", problems.empty() ? 1 : 2);
  logger log;
  if (cfg->log_file.empty()) cfg->log_level = cfg->log_level == "debug" ? "debug" : "warn";  // the progress bar speaks on a terminal
  if (auto r = log.open(cfg->log_file, parse_log_level(cfg->log_level)); !r) return fail(r.error(), 1);
  auto state = open_state(*cfg, false);
  if (!state) return fail(state.error(), 3);
  auto& db = state->db;
  block_service_signals();
  bool const tty = ::isatty(STDERR_FILENO) != 0 && !no_progress;
  double last_line = -1e9;
  auto progress = [&](batch_progress const& p) {
    double const rate = p.elapsed_seconds > 0 ? static_cast<double>(p.bytes_finished) / p.elapsed_seconds : 0;
    double const eta = rate > 0 ? static_cast<double>(p.bytes_total - p.bytes_finished) / rate : -1;
    auto const line = fmt::format("{}/{} files, {} of {}, {}/s, elapsed {}, ETA {}", p.finished, p.total, human_bytes(static_cast<double>(p.bytes_finished)),
                                  human_bytes(static_cast<double>(p.bytes_total)), human_bytes(rate), clock_text(p.elapsed_seconds), clock_text(eta));
    if (tty) {
      int const width = 30;
      int const filled = p.total > 0 ? static_cast<int>(width * p.finished / p.total) : width;
      fmt::print(stderr, "\r[{}{}] {}\033[K", std::string(static_cast<std::size_t>(filled), '#'), std::string(static_cast<std::size_t>(width - filled), '.'), line);
    } else if (!no_progress && (p.elapsed_seconds - last_line >= 10 || p.finished == p.total)) {
      if (p.finished == p.total && last_line == -2e9) return;
      fmt::print(stderr, "{}: {}\n", program, line);
      last_line = p.finished == p.total ? -2e9 : p.elapsed_seconds;
    }
  };
  processor proc(*cfg, *db, log);
  int status = proc.batch(files, progress);
  if (tty) fmt::print(stderr, "\n");
  auto summary = db->summary(0);
  auto bad = proc.bad_inputs();
  for (auto const& p : problems) bad.push_back(p);
  if (!bad.empty() && status == exit_ok) status = exit_bad_inputs;
  fmt::print(stderr, "{}: {} input files; ledger:", program, files.size());
  if (summary)
    for (auto const& [name, n] : summary->inputs_by_state) fmt::print(stderr, " {} {}", n, name);
  fmt::print(stderr, "\n");
  if (!bad.empty()) {
    fmt::print(stderr, "{}: {} inputs could not be processed:\n", program, bad.size());
    for (auto const& b : bad) fmt::print(stderr, "  {}\n", b);
  }
  return status;
}

result<fs::path> state_from(std::string const& state, std::string const& config_file) {
  if (!state.empty()) return fs::path(state);
  if (!config_file.empty()) {
    auto c = load_config(config_file, {}, check_grid_options);
    if (!c) return unexpected(c.error());
    if (c->state.empty()) return unexpected(error(errc::invalid_argument, "paths.state is not set").at(config_file));
    return c->state;
  }
  return unexpected(error(errc::invalid_argument, "give --state DIR or --config FILE"));
}

std::string time_text(double epoch) {
  if (epoch <= 0) return "-";
  auto const t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

json row_json(input_row const& r) {
  return json{{"id", r.id}, {"path", r.path}, {"size", r.size}, {"mtime_ns", r.mtime_ns}, {"sha256", r.sha256},
              {"state", to_string(r.state)}, {"attempts", r.attempts}, {"algorithm", r.algorithm}, {"options", r.options},
              {"grid", r.grid_key}, {"output", r.output}, {"output_size", r.output_size}, {"output_sha256", r.output_sha256},
              {"records_in", r.records_in}, {"records_out", r.records_out}, {"records_skipped", r.records_skipped},
              {"hash_seconds", r.hash_seconds}, {"process_seconds", r.process_seconds}, {"error", r.error},
              {"error_record", r.error_record}, {"error_offset", r.error_offset}, {"moved_to", r.moved_to},
              {"discovered", r.discovered}, {"started", r.started}, {"finished", r.finished}};
}

int show_status(fs::path const& state, bool as_json) {
  auto db = ledger::open(state / "ledger.sqlite", false);
  if (!db) return fail(db.error(), 3);
  auto s = db->summary(5);
  if (!s) return fail(s.error(), 3);
  double const span = s->last_finished - s->first_finished;
  std::int64_t done = 0;
  for (auto const& [st, n] : s->inputs_by_state)
    if (st == "done") done = n;
  if (as_json) {
    json j;
    j["state_dir"] = state.string();
    j["inputs"] = json::object();
    for (auto const& [st, n] : s->inputs_by_state) j["inputs"][st] = n;
    j["grids"] = json::object();
    for (auto const& [st, n] : s->grids_by_state) j["grids"][st] = n;
    j["bytes_done"] = s->bytes_done;
    j["busy_seconds"] = s->busy_seconds;
    j["mb_per_busy_second"] = s->busy_seconds > 0 ? static_cast<double>(s->bytes_done) / 1e6 / s->busy_seconds : 0;
    j["files_per_hour"] = span > 0 ? static_cast<double>(done) / span * 3600 : 0;
    j["last_done"] = json::array();
    for (auto const& r : s->last_done) j["last_done"].push_back(row_json(r));
    j["last_failed"] = json::array();
    for (auto const& r : s->last_failed) j["last_failed"].push_back(row_json(r));
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("state folder: {}\n", state.string());
  fmt::print("inputs:");
  if (s->inputs_by_state.empty()) fmt::print(" none yet");
  for (auto const& [st, n] : s->inputs_by_state) fmt::print("  {} {}", st, n);
  fmt::print("\ndaily grids:");
  if (s->grids_by_state.empty()) fmt::print(" none yet");
  for (auto const& [st, n] : s->grids_by_state) fmt::print("  {} {}", st, n);
  fmt::print("\nthroughput: {} processed, {:.1f} MB/s per busy worker", human_bytes(static_cast<double>(s->bytes_done)),
             s->busy_seconds > 0 ? static_cast<double>(s->bytes_done) / 1e6 / s->busy_seconds : 0.0);
  if (span > 0) fmt::print(", {:.0f} files/hour from {} to {}", static_cast<double>(done) / span * 3600, time_text(s->first_finished), time_text(s->last_finished));
  fmt::print("\nlast done:\n");
  for (auto const& r : s->last_done) fmt::print("  {}  {} -> {} ({} records, {:.2f} s)\n", time_text(r.finished), r.path, r.output, r.records_out, r.process_seconds);
  if (s->last_done.empty()) fmt::print("  -\n");
  fmt::print("last failed or quarantined:\n");
  for (auto const& r : s->last_failed) fmt::print("  {}  {} [{}] {}\n", time_text(r.finished), r.path, to_string(r.state), r.error);
  if (s->last_failed.empty()) fmt::print("  -\n");
  return 0;
}

int show_ledger(fs::path const& state, std::string const& only, bool as_json, bool grids) {
  auto db = ledger::open(state / "ledger.sqlite", false);
  if (!db) return fail(db.error(), 3);
  if (grids) {
    auto rows = db->list_grids();
    if (!rows) return fail(rows.error(), 3);
    if (as_json) {
      json out = json::array();
      for (auto const& g : *rows)
        out.push_back({{"grid", g.key}, {"state", to_string(g.state)}, {"requested", g.requested}, {"built", g.built}, {"output", g.output},
                       {"output_size", g.output_size}, {"output_sha256", g.output_sha256}, {"inputs", g.inputs}, {"records", g.records},
                       {"seconds", g.seconds}, {"finished", g.finished}, {"attempts", g.attempts}, {"error", g.error}});
      fmt::print("{}\n", out.dump(2));
    } else {
      for (auto const& g : *rows) fmt::print("{}\t{}\t{} inputs\t{} records\t{}\t{}\n", g.key, to_string(g.state), g.inputs, g.records, g.output, g.error);
    }
    return 0;
  }
  std::optional<input_state> filter;
  if (!only.empty()) {
    filter = parse_input_state(only);
    if (!filter) return fail(fmt::format("--only {}: use queued, running, done, failed, quarantined or duplicate", only), 1);
  }
  auto rows = db->list(filter);
  if (!rows) return fail(rows.error(), 3);
  if (as_json) {
    json out = json::array();
    for (auto const& r : *rows) out.push_back(row_json(r));
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  for (auto const& r : *rows)
    fmt::print("{}\t{}\t{}\t{}\t{}\t{}\n", r.id, to_string(r.state), r.path, r.output.empty() ? "-" : r.output, r.records_out, r.error.empty() ? "-" : r.error);
  return 0;
}

// ---- rst-processor slurm ----------------------------------------------------------------------

/** The [slurm] settings given as flags (each one set wins over the file). */
struct slurm_flags {
  std::optional<int> tasks, cpus_per_task;
  std::optional<std::string> partition, account, time, grid_time, dependency;
  bool dry_run = false;

  result<void> apply(slurm_settings& s) const {
    if (tasks) s.tasks = *tasks;
    if (cpus_per_task) s.cpus_per_task = *cpus_per_task;
    if (partition) s.partition = *partition;
    if (account) s.account = *account;
    if (time) s.time = *time;
    if (grid_time) s.grid_time = *grid_time;
    if (dependency) {
      if (*dependency != "afterany" && *dependency != "afterok")
        return unexpected(error(errc::invalid_argument, fmt::format("--grid-dependency {}: use afterany or afterok", *dependency)));
      s.grid_dependency = *dependency;
    }
    return {};
  }
};

void add_slurm_flags(CLI::App* cmd, slurm_flags& f) {
  cmd->add_option("--partition", f.partition, "sbatch --partition (default: [slurm] partition, else the cluster's)");
  cmd->add_option("--account", f.account, "sbatch --account");
  cmd->add_option("--cpus-per-task", f.cpus_per_task, "files processed at once in each task; sbatch --cpus-per-task (default 1)")->check(CLI::Range(1, 1024));
  cmd->add_option("--time", f.time, "sbatch --time of each array task");
  cmd->add_option("--grid-time", f.grid_time, "sbatch --time of the grid job");
  cmd->add_option("--grid-dependency", f.dependency, "afterany (default: grids of the complete days) or afterok");
  cmd->add_flag("--dry-run", f.dry_run, "print the batch scripts, submit nothing");
}

std::string self_program() {
  std::error_code ec;
  auto p = fs::canonical("/proc/self/exe", ec);
  return ec ? std::string(program) : p.string();
}

/** Prints the scripts of one submission (dry run) or submits it and prints its job ids. */
int submit_jobs(slurm::submission_plan const& plan, bool dry_run) {
  auto const& dependency = plan.request.settings.grid_dependency;
  if (dry_run) {
    if (!plan.shards.empty()) fmt::print("# ---- array job: {} task(s), shards {}\n{}", plan.shards.size(), plan.request.array, plan.array_text);
    if (plan.grids) fmt::print("# ---- grid job: sbatch --dependency={}:<array job> --kill-on-invalid-dep=yes\n{}", dependency, plan.grid_text);
    return 0;
  }
  auto s = slurm::submit(plan);
  if (!s) return fail(s.error(), 3);
  auto const& rec = s->record;
  if (!rec.array_job.empty()) fmt::print("array job {} ({} task(s), shards {})\n", rec.array_job, plan.shards.size(), plan.request.array);
  if (s->grid_error) (void)fail(*s->grid_error, 3);
  else if (!rec.grid_job.empty())
    fmt::print("grid job {}{}\n", rec.grid_job, rec.array_job.empty() ? "" : fmt::format(" (after {} of {})", dependency, rec.array_job));
  if (s->record_error) return fail(*s->record_error, 3);
  return s->grid_error ? 3 : 0;
}

int run_slurm_submit(flag_settings const& flags, slurm_flags const& sflags, std::vector<std::string> const& args, std::string const& list_file) {
  auto cfg = flags.resolve();
  if (!cfg) return fail(cfg.error(), 1);
  if (auto r = sflags.apply(cfg->slurm); !r) return fail(r.error(), 1);
  if (auto v = validate(*cfg, false, check_grid_options); !v) return fail(v.error(), 1);
  std::vector<std::string> problems;
  auto inputs = slurm::plan_inputs(expand_inputs(args, list_file, problems));
  problems.insert(problems.end(), inputs.problems.begin(), inputs.problems.end());
  for (auto const& p : problems) fmt::print(stderr, "{}: {}\n", program, p);
  if (!problems.empty()) return fail("nothing submitted: fix the inputs above first", 2);
  if (inputs.files.empty()) return fail("no input files (give files, folders or globs, or --from-list FILE)", 1);
  auto const m = slurm::plan_shards(std::move(inputs.files), cfg->slurm.tasks);
  for (auto const& s : m.shards) fmt::print(stderr, "{}: shard {}: {} files, {}\n", program, s.index, s.files.size(), human_bytes(static_cast<double>(s.bytes)));
  std::vector<int> all;
  for (auto const& s : m.shards) all.push_back(s.index);
  auto const plan = slurm::plan_submission(self_program(), cfg->state, *cfg, all, cfg->daily_grids);
  if (sflags.dry_run) return submit_jobs(plan, true);
  if (auto r = slurm::prepare_state(*cfg); !r) return fail(r.error(), 3);
  if (auto r = slurm::write_manifest(cfg->state, m); !r) return fail(r.error(), 1);
  if (auto r = slurm::save_config(*cfg); !r) return fail(r.error(), 3);
  int const status = submit_jobs(plan, false);
  if (status != 0) fmt::print(stderr, "{}: the plan is saved; `rst-processor slurm resubmit --state {}` submits what is not done\n", program, cfg->state.string());
  return status;
}

int run_slurm_task(fs::path const& state, std::optional<int> shard_flag) {
  auto const env = slurm::environment();
  auto cfg = slurm::saved_config(state, check_grid_options);
  if (!cfg) return fail(cfg.error(), 1);
  int const shard = shard_flag ? *shard_flag : env.array_task_id.value_or(-1);
  if (shard < 0) return fail("give --shard N (or run as a Slurm array task)", 1);
  auto m = slurm::read_manifest(cfg->state);
  if (!m) return fail(m.error(), 1);
  if (shard >= static_cast<int>(m->shards.size())) return fail(fmt::format("shard {}: the plan has {} shards", shard, m->shards.size()), 1);
  auto task = slurm::open_task(slurm::plan_task(std::move(*cfg), *m, shard, env));
  if (!task) return fail(task.error(), 3);
  block_service_signals();
  return slurm::run_task(*task);
}

int run_slurm_grid(fs::path const& state) {
  auto cfg = slurm::saved_config(state, check_grid_options);
  if (!cfg) return fail(cfg.error(), 1);
  auto const r = slurm::run_grid_step(*cfg, slurm::environment());
  if (!r) return fail(r.error(), 3);
  fmt::print(stderr, "{}: daily grids: {} built, {} unchanged, {} failed, {} days waiting for their files\n", program, r->built, r->kept, r->failed, r->waiting);
  return r->exit_status;
}

int show_slurm_status(fs::path const& state, bool as_json) {
  auto r = slurm::status(state);
  if (!r) return fail(r.error(), 3);
  if (as_json) {
    fmt::print("{}\n", slurm::to_json(*r).dump(2));
    return 0;
  }
  auto counts = [](slurm::state_counts const& b) {
    std::string s;
    for (auto const& k : slurm::outcome_states())
      if (b.of(k) > 0 || k == "done") s += fmt::format("  {} {}", k, b.of(k));
    return s;
  };
  auto grids = [&](char const* k) { return r->grids.contains(k) ? r->grids.at(k) : 0; };
  fmt::print("state folder: {}\n", state.string());
  fmt::print("inputs ({} files, {} shards):{}\n", r->inputs.files, r->shards, counts(r->inputs));
  fmt::print("daily grids:  done {}  failed {}\n", grids("done"), grids("failed"));
  auto const& t = r->throughput;
  fmt::print("throughput: {} processed, {:.0f} MB and {:.0f} files per core-hour", human_bytes(static_cast<double>(t.bytes_done)), t.mb_per_core_hour,
             t.files_per_core_hour);
  if (t.files_per_hour > 0) fmt::print(", {:.0f} files/hour from {} to {}", t.files_per_hour, time_text(t.first_finished), time_text(t.last_finished));
  fmt::print("\nper radar:\n");
  for (auto const& [k, b] : r->per_radar) fmt::print("  {:8}{}\n", k, counts(b));
  fmt::print("per day:\n");
  for (auto const& [k, b] : r->per_day) fmt::print("  {:10}{}\n", k, counts(b));
  fmt::print("per shard:\n");
  for (std::size_t i = 0; i < r->per_shard.size(); ++i) fmt::print("  {:4}{}\n", i, counts(r->per_shard[i]));
  fmt::print("jobs:");
  if (r->scheduler)
    for (auto const& [id, st] : *r->scheduler) fmt::print("  {} {}", id, st);
  else
    fmt::print("  ({})", r->scheduler_error);
  fmt::print("\n");
  if (!r->unfinished.empty()) {
    fmt::print("not done ({}):\n", r->unfinished.size());
    for (auto const& f : r->unfinished) fmt::print("  [{}] {} {}\n", f.state, f.path, f.error);
  }
  if (!r->quarantined.empty()) {
    fmt::print("quarantined ({}):\n", r->quarantined.size());
    for (auto const& f : r->quarantined) fmt::print("  {} {}\n", f.path, f.error);
  }
  for (auto const& p : r->problems) fmt::print("problem: {}\n", p);
  return 0;
}

int run_slurm_resubmit(fs::path const& state_arg, slurm_flags const& sflags) {
  auto const state = fs::absolute(state_arg).lexically_normal();
  auto cfg = slurm::saved_config(state, check_grid_options);
  if (!cfg) return fail(cfg.error(), 1);
  if (auto r = sflags.apply(cfg->slurm); !r) return fail(r.error(), 1);
  auto p = slurm::plan_resubmission(state, cfg->daily_grids);
  if (!p) return fail(p.error(), 3);
  if (!p->active_jobs.empty()) {
    std::string which;
    for (auto const& [id, st] : p->active_jobs) which += fmt::format(" {} {}", id, st);
    return fail(fmt::format("jobs of this state folder are still queued or running:{}; wait for them or scancel them first", which), 1);
  }
  if (p->nothing()) {
    fmt::print("nothing to resubmit: every file is done or quarantined and every daily grid is built\n");
    return 0;
  }
  fmt::print(stderr, "{}: {} files not done, in {} shard(s)\n", program, p->unfinished_files, p->shards.size());
  return submit_jobs(slurm::plan_submission(self_program(), state, *cfg, p->shards, p->grids), sflags.dry_run);
}

int run_job_from_stdin() {
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  json request;
  try {
    request = json::parse(text);
  } catch (json::exception const& e) {
    fmt::print("{}\n", json{{"ok", false}, {"kind", "transient"}, {"code", "internal"}, {"what", fmt::format("bad job request: {}", e.what())}}.dump());
    return 4;
  }
  fmt::print("{}\n", run_job(request).dump());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "_job") return run_job_from_stdin();
  if (std::string(argv[0]).find('/') != std::string::npos) {
    std::error_code ec;
    auto self = fs::canonical(argv[0], ec);
    if (!ec) set_job_executable(self.string());
  }
  CLI::App app{"rst-processor: turns every rawacf file that arrives into fitacf files and daily grids (docs/service.md)", program};
  app.require_subcommand(1);
  app.set_version_flag("--version", fmt::format("rst-processor (rstx {})", version_string));

  flag_settings run_flags;
  bool once = false;
  std::optional<double> rescan;
  auto* run = app.add_subcommand("run", "run the service in the foreground (systemd runs it this way)");
  add_common_flags(run, run_flags, true);
  run->add_option("--workers", run_flags.workers, "files processed at once (default: one per core)")->check(CLI::Range(1, 1024));
  run->add_option("--archive", run_flags.archive, "folder of processed inputs (default <state>/archive)");
  run->add_option("--after-success", run_flags.after_success, "what happens to a processed input: archive (default), keep or delete");
  run->add_option("--rescan", rescan, "seconds between full inbox rescans (default 60)")->check(CLI::Range(0.05, 86400.0));
  run->add_option("--settle", run_flags.settle, "seconds a file must be unchanged (and closed) to count as complete (default 2)")->check(CLI::Range(0.0, 3600.0));
  run->add_option("--grid-delay", run_flags.grid_delay, "seconds after a day's latest fitacf before its grid is rebuilt (default 30)")->check(CLI::Range(0.0, 86400.0));
  run->add_option("--metrics-listen", run_flags.metrics_listen, "HOST:PORT of /metrics, /healthz and /readyz (default 127.0.0.1:9101; \"\": none; port 0: any free port, logged)");
  run->add_flag("--once", once, "process what is in the inbox, wait for it, exit (status 0 all done, 2 bad inputs, 3 I/O, 4 internal)");

  flag_settings batch_flags;
  std::optional<int> jobs;
  std::vector<std::string> batch_inputs;
  std::string from_list;
  bool no_progress = false;
  auto* batch = app.add_subcommand("batch", "process existing files (archives) through the same pipeline and ledger; resumable");
  add_common_flags(batch, batch_flags, false);
  batch->add_option("--jobs,-j", jobs, "files processed at once (default: one per core)")->check(CLI::Range(1, 1024));
  batch->add_option("--from-list", from_list, "file with one path or glob per line");
  batch->add_flag("--no-progress", no_progress, "no progress bar or progress lines");
  batch->add_option("inputs", batch_inputs, "rawacf files, folders (searched recursively) or globs");

  std::string status_state, status_config;
  bool status_json = false;
  auto* status = app.add_subcommand("status", "summary of the ledger: counts per state, throughput, latest successes and failures");
  status->add_option("--state", status_state, "state folder");
  status->add_option("--config", status_config, "settings file (its paths.state)");
  status->add_flag("--json", status_json, "as JSON");

  std::string ledger_state, ledger_config, only;
  bool ledger_json = false, ledger_grids = false;
  auto* ledger_cmd = app.add_subcommand("ledger", "list the ledger's rows");
  ledger_cmd->add_option("--state", ledger_state, "state folder");
  ledger_cmd->add_option("--config", ledger_config, "settings file (its paths.state)");
  ledger_cmd->add_option("--only", only, "queued, running, done, failed, quarantined or duplicate");
  ledger_cmd->add_flag("--grids", ledger_grids, "the daily grids instead of the inputs");
  ledger_cmd->add_flag("--json", ledger_json, "as JSON");

  std::string check_file;
  bool print_config = false;
  auto* check = app.add_subcommand("check-config", "check a settings file; exit 1 naming the key and line of the first error");
  check->add_option("file", check_file, "TOML settings file")->required();
  check->add_flag("--print", print_config, "print the resulting settings, defaults included");

  // rst-processor slurm: the batch mode on a Slurm cluster (docs/slurm.md).
  auto* slurm_cmd = app.add_subcommand("slurm", "process an archive on a Slurm cluster: sharded job array, then the daily grids (docs/slurm.md)");
  slurm_cmd->require_subcommand(1);
  flag_settings submit_flags;
  slurm_flags submit_sflags;
  std::vector<std::string> submit_inputs;
  std::string submit_list;
  auto* submit = slurm_cmd->add_subcommand("submit", "plan the shards once and submit them with sbatch (a job array and a dependent grid job)");
  add_common_flags(submit, submit_flags, false);
  add_slurm_flags(submit, submit_sflags);
  submit->add_option("--tasks", submit_sflags.tasks, "shards, one array task each (default 4)")->check(CLI::Range(1, 100000));
  submit->add_option("--from-list", submit_list, "file with one path or glob per line");
  submit->add_option("inputs", submit_inputs, "rawacf files, folders (searched recursively) or globs");

  std::string sstatus_state;
  bool sstatus_json = false;
  auto* sstatus = slurm_cmd->add_subcommand("status", "the shard ledgers merged: done, failed, quarantined, missing per radar, day and shard; Slurm's job states");
  sstatus->add_option("--state", sstatus_state, "state folder of the submission")->required();
  sstatus->add_flag("--json", sstatus_json, "as JSON");

  std::string resubmit_state;
  slurm_flags resubmit_sflags;
  auto* resubmit = slurm_cmd->add_subcommand("resubmit", "submit only the shards with files not done (and the grid job); finished work is never redone");
  resubmit->add_option("--state", resubmit_state, "state folder of the submission")->required();
  add_slurm_flags(resubmit, resubmit_sflags);

  std::string task_state;
  std::optional<int> task_shard;
  auto* task = slurm_cmd->add_subcommand("task", "(inside a job) process one shard with its own ledger and log");
  task->add_option("--state", task_state, "state folder of the submission")->required();
  task->add_option("--shard", task_shard, "shard number (default: $SLURM_ARRAY_TASK_ID)")->check(CLI::NonNegativeNumber);

  std::string grid_state;
  auto* grid_cmd = slurm_cmd->add_subcommand("grid", "(inside a job) build the daily grids from every shard's fitacf files");
  grid_cmd->add_option("--state", grid_state, "state folder of the submission")->required();

  try {
    app.parse(argc, argv);
  } catch (CLI::ParseError const& e) {
    return app.exit(e);
  }

  if (*run) return run_service(run_flags, once, rescan);
  if (*batch) return run_batch(batch_flags, jobs, batch_inputs, from_list, no_progress);
  if (*status) {
    auto st = state_from(status_state, status_config);
    if (!st) return fail(st.error(), 1);
    return show_status(*st, status_json);
  }
  if (*ledger_cmd) {
    auto st = state_from(ledger_state, ledger_config);
    if (!st) return fail(st.error(), 1);
    return show_ledger(*st, only, ledger_json, ledger_grids);
  }
  if (*slurm_cmd) {
    if (*submit) return run_slurm_submit(submit_flags, submit_sflags, submit_inputs, submit_list);
    if (*sstatus) return show_slurm_status(fs::absolute(sstatus_state).lexically_normal(), sstatus_json);
    if (*resubmit) return run_slurm_resubmit(resubmit_state, resubmit_sflags);
    if (*task) return run_slurm_task(fs::absolute(task_state).lexically_normal(), task_shard);
    if (*grid_cmd) return run_slurm_grid(fs::absolute(grid_state).lexically_normal());
  }
  if (*check) {
    auto c = load_config(check_file, {}, check_grid_options);
    if (!c) return fail(c.error(), 1);
    if (auto v = validate(*c, true, check_grid_options); !v) return fail(std::move(v.error()).at(check_file), 1);
    if (print_config) fmt::print("{}", to_toml(*c));
    else fmt::print("{}: OK\n", check_file);
    return 0;
  }
  return 1;
}
