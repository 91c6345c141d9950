// The steps of `rst-processor slurm` (submit, task, grid, status, resubmit): what the CLI runs,
// without its printing and exit statuses.
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <set>

#include <fmt/format.h>

#include "rstx/core/file.hpp"
#include "rstx/service/naming.hpp"
#include "rstx/service/slurm.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace rstx::service::slurm {

// ---- submit -----------------------------------------------------------------------------------

planned_inputs plan_inputs(std::vector<fs::path> const& paths) {
  planned_inputs in;
  for (auto const& p : paths) {
    std::error_code ec;
    auto const abs = fs::absolute(p, ec).lexically_normal();
    auto const size = fs::file_size(abs, ec);
    if (ec || !fs::is_regular_file(abs)) {
      in.problems.push_back(fmt::format("{}: {}", abs.string(), ec ? ec.message() : "not a regular file"));
      continue;
    }
    auto key = parse_superdarn_name(abs.filename().string());
    in.files.push_back({abs.string(), static_cast<std::int64_t>(size), key ? key->grid_key() : std::string()});
  }
  return in;
}

manifest plan_shards(std::vector<planned_file> files, int tasks) {
  manifest m;
  m.created = static_cast<double>(std::time(nullptr));
  m.shards = split(std::move(files), tasks);
  return m;
}

result<void> prepare_state(config const& cfg) {
  if (auto r = processor::prepare_directories(cfg, false); !r) return r;
  for (auto const* d : {"slurm", "shards", "logs"}) {
    std::error_code ec;
    fs::create_directories(cfg.state / d, ec);
    if (ec) return unexpected(error(errc::io, ec.message()).at((cfg.state / d).string()));
  }
  return {};
}

result<void> save_config(config const& cfg) { return write_file_atomically(config_path(cfg.state), to_toml(cfg)); }

result<config> saved_config(fs::path const& state, grid_options_check const& check_grid) {
  auto c = load_config(config_path(state), {}, check_grid);
  if (!c) return c;
  c->state = fs::absolute(state).lexically_normal();
  return c;
}

submission_plan plan_submission(std::string program, fs::path const& state, config const& cfg, std::vector<int> shards, bool grids) {
  submission_plan p{{std::move(program), state, cfg.slurm, array_spec(shards)}, std::move(shards), grids, {}, {}};
  p.array_text = array_script(p.request);
  p.grid_text = grid_script(p.request);
  return p;
}

result<submit_outcome> submit(submission_plan const& plan) {
  auto const& state = plan.request.state;
  auto previous = read_submissions(state);
  if (!previous) return unexpected(previous.error());
  auto const n = previous->size() + 1;
  submit_outcome out;
  out.record.submitted = static_cast<double>(std::time(nullptr));
  out.record.shards = plan.shards;
  if (!plan.shards.empty()) {
    auto const script = state / "slurm" / fmt::format("submit-{}-array.sh", n);
    if (auto w = write_file_atomically(script, plan.array_text); !w) return unexpected(w.error());
    auto id = sbatch(script, {});
    if (!id) return unexpected(id.error());
    out.record.array_job = *id;
  }
  if (plan.grids) {
    auto const script = state / "slurm" / fmt::format("submit-{}-grid.sh", n);
    std::vector<std::string> extra;
    if (!out.record.array_job.empty())
      extra = {fmt::format("--dependency={}:{}", plan.request.settings.grid_dependency, out.record.array_job), "--kill-on-invalid-dep=yes"};
    if (auto w = write_file_atomically(script, plan.grid_text); !w) out.grid_error = w.error();
    else if (auto id = sbatch(script, extra); !id) out.grid_error = id.error();
    else out.record.grid_job = *id;
  }
  if (auto r = append_submission(state, out.record); !r) out.record_error = r.error();
  return out;
}

// ---- the task and the grid step -----------------------------------------------------------------

job_environment environment() {
  job_environment env;
  if (char const* t = std::getenv("SLURM_ARRAY_TASK_ID"); t != nullptr && *t != '\0') env.array_task_id = std::atoi(t);
  if (char const* c = std::getenv("SLURM_CPUS_PER_TASK"); c != nullptr) env.cpus_per_task = std::max(0, std::atoi(c));
  if (char const* j = std::getenv("SLURM_JOB_ID"); j != nullptr) env.job_id = j;
  return env;
}

int workers(config const& cfg, job_environment const& env) { return env.cpus_per_task > 0 ? env.cpus_per_task : cfg.slurm.cpus_per_task; }

task_plan plan_task(config cfg, manifest const& m, int shard, job_environment const& env) {
  task_plan t;
  t.shard = shard;
  cfg.ledger_file = shard_ledger_path(cfg.state, shard);
  cfg.log_file = task_log_path(cfg.state, shard);
  cfg.daily_grids = false;
  cfg.defer_grids = true;
  cfg.workers = workers(cfg, env);
  cfg.metrics_listen.clear();
  for (auto const& f : m.shards.at(static_cast<std::size_t>(shard)).files) t.files.emplace_back(f.path);
  t.cfg = std::move(cfg);
  t.job = env.job_id;
  return t;
}

result<task> open_task(task_plan plan) {
  auto const& cfg = plan.cfg;
  for (auto const& d : {cfg.ledger_file.parent_path(), cfg.log_file.parent_path()}) {
    std::error_code ec;
    fs::create_directories(d, ec);
    if (ec) return unexpected(error(errc::io, ec.message()).at(d.string()));
  }
  auto log = std::make_unique<logger>();
  if (auto r = log->open(cfg.log_file, parse_log_level(cfg.log_level)); !r) return unexpected(r.error());
  auto st = open_state(cfg, false);
  if (!st) {
    log->error("failed", {{"operation", "slurm_task"}, {"shard", plan.shard}, {"error", st.error().message()}});
    return unexpected(st.error());
  }
  return task{std::move(plan), std::move(log), std::move(*st)};
}

int run_task(task& t) {
  auto& log = *t.log;
  auto& db = *t.state.db;
  log.info("slurm_task_started", {{"shard", t.plan.shard}, {"files", t.plan.files.size()}, {"workers", t.plan.cfg.workers}, {"job", t.plan.job}});
  processor proc(t.plan.cfg, db, log);
  int status = proc.batch(t.plan.files, nullptr);
  auto counts = db.counts_by_state();
  json by_state = json::object();
  std::int64_t unfinished = 0;
  if (counts)
    for (auto const& [name, n] : *counts) {
      by_state[name] = n;
      if (name == "queued" || name == "running" || name == "failed") unfinished += n;
    }
  // Quarantined inputs are an outcome, recorded in the ledger: the task succeeded when nothing is left to do.
  if (status == exit_bad_inputs && counts && unfinished == 0) status = exit_ok;
  log.info("slurm_task_finished", {{"shard", t.plan.shard}, {"status", status}, {"inputs", by_state}});
  return status;
}

result<grid_step_result> run_grid_step(config const& cfg, job_environment const& env) {
  logger log;
  if (auto r = log.open(grid_log_path(cfg.state), parse_log_level(cfg.log_level)); !r) return unexpected(r.error());
  auto lock = lock_state(cfg.state / "slurm" / "grid.lock");  // held for the process's life
  if (!lock) return unexpected(lock.error());
  return build_grids(cfg.state, cfg, log, workers(cfg, env));
}

// ---- status and resubmit ------------------------------------------------------------------------

std::vector<std::string> const& outcome_states() {
  static std::vector<std::string> const states = {"done", "duplicate", "quarantined", "failed", "running", "missing"};
  return states;
}

namespace {

template <class Counts>
auto count_of(Counts& c, std::string const& state) -> decltype(&c.done) {
  if (state == "done") return &c.done;
  if (state == "duplicate") return &c.duplicate;
  if (state == "quarantined") return &c.quarantined;
  if (state == "failed") return &c.failed;
  if (state == "running") return &c.running;
  if (state == "missing") return &c.missing;
  return nullptr;
}

json counts_json(state_counts const& c) {
  json j = json::object();
  for (auto const& s : outcome_states()) j[s] = c.of(s);
  j["files"] = c.files;
  j["bytes"] = c.bytes;
  return j;
}

/** What the status is made of, read in this order (the first error wins). */
struct gathered {
  manifest m;
  merged_view v;
  json grids;
  std::vector<submission> subs;
};

result<gathered> gather(fs::path const& state) {
  gathered g;
  auto m = read_manifest(state);
  if (!m) return unexpected(m.error());
  g.m = std::move(*m);
  auto v = merge(state, g.m);
  if (!v) return unexpected(v.error());
  g.v = std::move(*v);
  auto grids = read_grids(state);
  if (!grids) return unexpected(grids.error());
  g.grids = std::move(*grids);
  auto subs = read_submissions(state);
  if (!subs) return unexpected(subs.error());
  g.subs = std::move(*subs);
  return g;
}

std::vector<std::string> job_ids(std::vector<submission> const& subs) {
  std::vector<std::string> ids;
  for (auto const& s : subs) {
    if (!s.array_job.empty()) ids.push_back(s.array_job);
    if (!s.grid_job.empty()) ids.push_back(s.grid_job);
  }
  return ids;
}

result<status_report> status_of(fs::path const& state, gathered const& g) {
  return summarize(state, g.m, g.v, g.grids, g.subs, scheduler_states(job_ids(g.subs)));
}

}  // namespace

void state_counts::add(file_outcome const& f) {
  if (auto* n = count_of(*this, f.state)) ++*n;
  ++files;
  bytes += f.file.size;
}

std::int64_t state_counts::of(std::string const& state) const {
  auto const* n = count_of(*this, state);
  return n != nullptr ? *n : 0;
}

status_report summarize(fs::path const& state, manifest const& m, merged_view const& v, json const& grids, std::vector<submission> const& subs,
                        result<std::map<std::string, std::string>> const& scheduler) {
  status_report r;
  r.state_dir = state;
  r.shards = m.shards.size();
  r.problems = v.problems;
  r.per_shard.resize(m.shards.size());
  double first = 0, last = 0;
  for (auto const& f : v.files) {
    auto key = parse_superdarn_name(fs::path(f.file.path).filename().string());
    std::string const radar = key ? key->radar + (key->channel.empty() ? "" : "." + key->channel) : "unknown";
    std::string const day = key ? key->day : "unknown";
    for (state_counts* bucket : {&r.inputs, &r.per_radar[radar], &r.per_day[day], &r.per_shard[static_cast<std::size_t>(f.shard)]}) bucket->add(f);
    if (f.state == "done") {
      r.throughput.bytes_done += f.file.size;
      r.throughput.busy_seconds += f.seconds;
      if (first == 0 || f.finished < first) first = f.finished;
      last = std::max(last, f.finished);
    }
    if (unfinished(f)) r.unfinished.push_back({f.file.path, f.shard, f.state, f.error});
    if (f.state == "quarantined") r.quarantined.push_back({f.file.path, f.shard, "", f.error});
  }
  r.grids = {{"done", 0}, {"failed", 0}};
  for (auto const& [k, e] : grids.items()) ++r.grids[e.value("state", "failed")];
  auto& t = r.throughput;
  double const busy = t.busy_seconds, span = last - first;
  auto const done = static_cast<double>(r.inputs.done);
  t.mb_per_core_hour = busy > 0 ? static_cast<double>(t.bytes_done) / 1e6 / (busy / 3600) : 0.0;
  t.files_per_core_hour = busy > 0 ? done / (busy / 3600) : 0.0;
  t.files_per_hour = span > 0 ? done / span * 3600 : 0.0;
  t.first_finished = first;
  t.last_finished = last;
  r.submissions = subs;
  if (scheduler) r.scheduler = *scheduler;
  else r.scheduler_error = scheduler.error().message();
  if (scheduler)
    for (auto const& [id, st] : *scheduler) r.active = r.active || active_state(st);
  r.complete = r.unfinished.empty() && r.grids["failed"] == 0;
  return r;
}

result<status_report> status(fs::path const& state) {
  auto g = gather(state);
  if (!g) return unexpected(g.error());
  return status_of(state, *g);
}

json to_json(status_report const& r) {
  json j = {{"state_dir", r.state_dir.string()}, {"shards", r.shards}, {"inputs", counts_json(r.inputs)}, {"per_radar", json::object()},
            {"per_day", json::object()}, {"per_shard", json::array()}, {"problems", r.problems}};
  for (auto const& [k, c] : r.per_radar) j["per_radar"][k] = counts_json(c);
  for (auto const& [k, c] : r.per_day) j["per_day"][k] = counts_json(c);
  for (std::size_t i = 0; i < r.per_shard.size(); ++i) {
    j["per_shard"].push_back(counts_json(r.per_shard[i]));
    j["per_shard"].back()["index"] = i;
  }
  j["unfinished"] = json::array();
  for (auto const& f : r.unfinished) j["unfinished"].push_back({{"path", f.path}, {"shard", f.shard}, {"state", f.state}, {"error", f.error}});
  j["quarantined"] = json::array();
  for (auto const& f : r.quarantined) j["quarantined"].push_back({{"path", f.path}, {"shard", f.shard}, {"error", f.error}});
  j["grids"] = r.grids;
  auto const& t = r.throughput;
  j["throughput"] = {{"bytes_done", t.bytes_done},
                     {"busy_seconds", t.busy_seconds},
                     {"mb_per_core_hour", t.mb_per_core_hour},
                     {"files_per_core_hour", t.files_per_core_hour},
                     {"files_per_hour", t.files_per_hour},
                     {"first_finished", t.first_finished},
                     {"last_finished", t.last_finished}};
  j["submissions"] = json::array();
  for (auto const& s : r.submissions)
    j["submissions"].push_back({{"submitted", s.submitted}, {"array_job", s.array_job}, {"grid_job", s.grid_job}, {"shards", s.shards}});
  if (r.scheduler) j["scheduler"] = *r.scheduler;
  else j["scheduler_error"] = r.scheduler_error;
  j["active"] = r.active;
  j["complete"] = r.complete;
  return j;
}

resubmission plan_resubmission(status_report const& r, merged_view const& v, json const& grids, bool daily_grids) {
  resubmission p;
  if (r.scheduler)
    for (auto const& [id, st] : *r.scheduler)
      if (active_state(st)) p.active_jobs.emplace_back(id, st);
  std::set<int> shards;
  for (auto const& f : r.unfinished) shards.insert(f.shard);
  p.shards.assign(shards.begin(), shards.end());
  p.unfinished_files = r.unfinished.size();
  auto const failed = r.grids.find("failed");
  p.grids = daily_grids && (!shards.empty() || (failed != r.grids.end() && failed->second > 0) || [&] {
              // every day with done files has its grid
              for (auto const& f : v.files)
                if (f.state == "done" && !f.grid_key.empty() && (!grids.contains(f.grid_key) || grids.at(f.grid_key).value("state", "") != "done")) return true;
              return false;
            }());
  return p;
}

result<resubmission> plan_resubmission(fs::path const& state, bool daily_grids) {
  auto g = gather(state);
  if (!g) return unexpected(g.error());
  auto r = status_of(state, *g);
  if (!r) return unexpected(r.error());
  return plan_resubmission(*r, g->v, g->grids, daily_grids);
}

}  // namespace rstx::service::slurm
