#include "rstx/service/slurm.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <poll.h>
#include <set>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "rstx/core/file.hpp"
#include "rstx/core/thread_pool.hpp"
#include "rstx/service/job.hpp"
#include "rstx/service/ledger.hpp"
#include "rstx/service/naming.hpp"

extern char** environ;

namespace fs = std::filesystem;
using nlohmann::json;

namespace rstx::service::slurm {

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/** Single-quoted for a POSIX shell. */
std::string shell_quote(std::string const& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'') q += "'\\''";
    else q += c;
  }
  return q + "'";
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

result<json> read_json_file(fs::path const& p) {
  std::ifstream in(p);
  if (!in) return unexpected(os_failure("cannot read", errno).at(p.string()));
  try {
    return json::parse(in);
  } catch (json::exception const& e) {
    return unexpected(error(errc::bad_value, fmt::format("not valid JSON: {}", e.what())).at(p.string()));
  }
}

}  // namespace

// ---- the plan ---------------------------------------------------------------------------------

std::vector<shard> split(std::vector<planned_file> files, int n) {
  n = std::max(n, 1);
  std::sort(files.begin(), files.end(), [](auto const& a, auto const& b) { return a.path < b.path; });
  files.erase(std::unique(files.begin(), files.end(), [](auto const& a, auto const& b) { return a.path == b.path; }), files.end());
  struct item {
    std::string key;
    std::int64_t bytes = 0;
    std::vector<planned_file> files;
  };
  std::vector<item> items;
  {
    std::map<std::string, item> days;
    for (auto& f : files) {
      if (f.group.empty()) {
        items.push_back(item{f.path, f.size, {f}});
        continue;
      }
      auto& d = days[f.group];
      d.key = f.group;
      d.bytes += f.size;
      d.files.push_back(f);
    }
    for (auto& [k, d] : days) items.push_back(std::move(d));
  }
  // Fewer pieces than shards: the largest days are split into their files.
  while (static_cast<int>(items.size()) < n) {
    auto big = items.end();
    for (auto it = items.begin(); it != items.end(); ++it)
      if (it->files.size() > 1 && (big == items.end() || it->bytes > big->bytes || (it->bytes == big->bytes && it->key < big->key))) big = it;
    if (big == items.end()) break;
    auto parts = std::move(big->files);
    items.erase(big);
    for (auto& f : parts) items.push_back(item{f.path, f.size, {f}});
  }
  std::sort(items.begin(), items.end(), [](item const& a, item const& b) { return a.bytes != b.bytes ? a.bytes > b.bytes : a.key < b.key; });
  std::vector<shard> shards(static_cast<std::size_t>(std::min<std::size_t>(static_cast<std::size_t>(n), items.size())));
  for (auto& it : items) {
    auto lightest = std::min_element(shards.begin(), shards.end(), [](shard const& a, shard const& b) { return a.bytes < b.bytes; });
    lightest->bytes += it.bytes;
    for (auto& f : it.files) lightest->files.push_back(std::move(f));
  }
  for (std::size_t i = 0; i < shards.size(); ++i) {
    shards[i].index = static_cast<int>(i);
    std::sort(shards[i].files.begin(), shards[i].files.end(), [](auto const& a, auto const& b) { return a.path < b.path; });
  }
  return shards;
}

std::int64_t manifest::file_count() const {
  std::int64_t n = 0;
  for (auto const& s : shards) n += static_cast<std::int64_t>(s.files.size());
  return n;
}

fs::path manifest_path(fs::path const& state) { return state / "slurm" / "manifest.json"; }
fs::path config_path(fs::path const& state) { return state / "slurm" / "config.toml"; }
fs::path jobs_path(fs::path const& state) { return state / "slurm" / "jobs.json"; }
fs::path grids_path(fs::path const& state) { return state / "slurm" / "grids.json"; }
fs::path shard_ledger_path(fs::path const& state, int index) { return state / "shards" / fmt::format("shard-{:04d}.sqlite", index); }
fs::path task_log_path(fs::path const& state, int index) { return state / "logs" / fmt::format("task-{:04d}.log", index); }
fs::path grid_log_path(fs::path const& state) { return state / "logs" / "grid.log"; }

json to_json(manifest const& m) {
  json j = {{"version", m.version}, {"created", m.created}, {"files", m.file_count()}, {"shards", json::array()}};
  for (auto const& s : m.shards) {
    json files = json::array();
    for (auto const& f : s.files) files.push_back({{"path", f.path}, {"size", f.size}, {"group", f.group}});
    j["shards"].push_back({{"index", s.index}, {"bytes", s.bytes}, {"files", std::move(files)}});
  }
  return j;
}

result<manifest> manifest_from_json(json const& j) {
  try {
    manifest m;
    m.version = j.at("version").get<int>();
    if (m.version != 1) return unexpected(error(errc::bad_value, fmt::format("manifest version {} is not known to this rst-processor", m.version)));
    m.created = j.at("created").get<double>();
    for (auto const& s : j.at("shards")) {
      shard sh;
      sh.index = s.at("index").get<int>();
      sh.bytes = s.at("bytes").get<std::int64_t>();
      for (auto const& f : s.at("files")) sh.files.push_back({f.at("path").get<std::string>(), f.at("size").get<std::int64_t>(), f.at("group").get<std::string>()});
      if (sh.index != static_cast<int>(m.shards.size())) return unexpected(error(errc::bad_value, fmt::format("shard {} is out of order", sh.index)));
      m.shards.push_back(std::move(sh));
    }
    return m;
  } catch (json::exception const& e) {
    return unexpected(error(errc::bad_value, fmt::format("not a shard plan: {}", e.what())));
  }
}

result<void> write_manifest(fs::path const& state, manifest const& m) {
  auto const p = manifest_path(state);
  std::error_code ec;
  if (fs::exists(p, ec))
    return unexpected(error(errc::io, "a shard plan exists already in this state folder (use `slurm resubmit`, or a new state folder)").at(p.string()));
  fs::create_directories(p.parent_path(), ec);
  if (ec) return unexpected(error(errc::io, fmt::format("cannot create the folder: {}", ec.message())).at(p.parent_path().string()));
  return write_file_atomically(p, to_json(m).dump(1) + "\n");
}

result<manifest> read_manifest(fs::path const& state) {
  auto const p = manifest_path(state);
  if (!fs::exists(p)) return unexpected(error(errc::not_found, "no shard plan here (was `rst-processor slurm submit` run with this state folder?)").at(p.string()));
  auto j = read_json_file(p);
  if (!j) return unexpected(j.error());
  auto m = manifest_from_json(*j);
  if (!m) return unexpected(std::move(m.error()).at(p.string()));
  return m;
}

// ---- batch scripts and sbatch ---------------------------------------------------------------

namespace {

std::string script_header(script_request const& r, std::string const& job_name, std::string const& time, std::string const& output) {
  auto const& s = r.settings;
  std::string t = "#!/bin/bash\n";
  t += fmt::format("#SBATCH --job-name={}\n", job_name);
  t += "#SBATCH --ntasks=1\n";
  t += fmt::format("#SBATCH --cpus-per-task={}\n", s.cpus_per_task);
  if (!s.partition.empty()) t += fmt::format("#SBATCH --partition={}\n", s.partition);
  if (!s.account.empty()) t += fmt::format("#SBATCH --account={}\n", s.account);
  if (!time.empty()) t += fmt::format("#SBATCH --time={}\n", time);
  t += fmt::format("#SBATCH --output={}\n", output);
  t += "#SBATCH --open-mode=append\n";
  for (auto const& o : s.sbatch_options) t += fmt::format("#SBATCH {}\n", o);
  return t;
}

std::string script_body(script_request const& r, std::string const& command) {
  std::string t;
  if (!r.settings.setup.empty()) t += r.settings.setup + (r.settings.setup.back() == '\n' ? "" : "\n");
  t += command + "\n";
  return t;
}

}  // namespace

std::string array_script(script_request const& r) {
  std::string t = script_header(r, r.name + "-fit", r.settings.time, (r.state / "logs" / "slurm-%A_%a.out").string());
  t.insert(t.find("#SBATCH --ntasks"), fmt::format("#SBATCH --array={}\n", r.array));
  t += fmt::format("# One shard of {} per task: fitacf files, its own ledger and log.\n", manifest_path(r.state).string());
  t += script_body(r, fmt::format("exec {} slurm task --state {} --shard \"$SLURM_ARRAY_TASK_ID\"", shell_quote(r.program), shell_quote(r.state.string())));
  return t;
}

std::string grid_script(script_request const& r) {
  std::string t = script_header(r, r.name + "-grid", r.settings.grid_time, (r.state / "logs" / "slurm-grid-%j.out").string());
  t += "# The daily grids, from the fitacf files of every shard (after the array job).\n";
  t += script_body(r, fmt::format("exec {} slurm grid --state {}", shell_quote(r.program), shell_quote(r.state.string())));
  return t;
}

result<command_output> run_command(std::vector<std::string> const& argv) {
  if (argv.empty()) return unexpected(error(errc::invalid_argument, "no command"));
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return unexpected(os_failure("cannot create a pipe", errno));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int const e = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return unexpected(os_failure("cannot create a pipe", e));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  std::vector<char*> args;
  for (auto const& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int const rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return unexpected(os_failure("cannot run", rc).at(argv[0]));
  }
  command_output res;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&res.out, &res.err};
  int open_fds = 2;
  char buf[4096];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      auto const n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  res.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return res;
}

result<std::string> sbatch(fs::path const& script, std::vector<std::string> const& extra) {
  std::vector<std::string> argv = {"sbatch", "--parsable"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(script.string());
  auto r = run_command(argv);
  if (!r) return unexpected(r.error());
  if (r->status != 0)
    return unexpected(error(errc::io, fmt::format("sbatch failed (status {}): {}", r->status, trim(r->err.empty() ? r->out : r->err))).at(script.string()));
  auto id = trim(r->out);
  if (auto semi = id.find(';'); semi != std::string::npos) id = id.substr(0, semi);  // "ID;cluster"
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    return unexpected(error(errc::io, fmt::format("sbatch printed no job id: \"{}\"", trim(r->out))).at(script.string()));
  return id;
}

result<std::vector<submission>> read_submissions(fs::path const& state) {
  std::vector<submission> out;
  auto const p = jobs_path(state);
  if (!fs::exists(p)) return out;
  auto j = read_json_file(p);
  if (!j) return unexpected(j.error());
  try {
    for (auto const& s : *j)
      out.push_back({s.at("submitted").get<double>(), s.at("array_job").get<std::string>(), s.at("grid_job").get<std::string>(),
                     s.at("shards").get<std::vector<int>>()});
  } catch (json::exception const& e) {
    return unexpected(error(errc::bad_value, fmt::format("not a list of submissions: {}", e.what())).at(p.string()));
  }
  return out;
}

result<void> append_submission(fs::path const& state, submission const& s) {
  auto all = read_submissions(state);
  if (!all) return unexpected(all.error());
  all->push_back(s);
  json j = json::array();
  for (auto const& x : *all) j.push_back({{"submitted", x.submitted}, {"array_job", x.array_job}, {"grid_job", x.grid_job}, {"shards", x.shards}});
  return write_file_atomically(jobs_path(state), j.dump(1) + "\n");
}

std::string array_spec(std::vector<int> const& shards) {
  std::vector<int> s = shards;
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t j = i;
    while (j + 1 < s.size() && s[j + 1] == s[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += j == i ? std::to_string(s[i]) : fmt::format("{}-{}", s[i], s[j]);
    i = j + 1;
  }
  return out;
}

result<std::map<std::string, std::string>> scheduler_states(std::vector<std::string> const& jobs) {
  std::map<std::string, std::string> states;
  if (jobs.empty()) return states;
  std::string list;
  for (auto const& j : jobs) list += (list.empty() ? "" : ",") + j;
  auto const sacct = run_command({"sacct", "-n", "-P", "-X", "-o", "JobID,State", "-j", list});
  if (sacct && sacct->status == 0) {
    std::istringstream in(sacct->out);
    for (std::string line; std::getline(in, line);) {
      auto const bar = line.find('|');
      if (bar == std::string::npos) continue;
      auto st = trim(line.substr(bar + 1));
      if (auto sp = st.find(' '); sp != std::string::npos) st = st.substr(0, sp);  // "CANCELLED by 0"
      states[trim(line.substr(0, bar))] = st;
    }
    return states;
  }
  bool ran = false;
  for (auto const& id : jobs) {
    auto const sc = run_command({"scontrol", "-o", "show", "job", id});
    if (!sc) continue;
    ran = true;
    if (sc->status != 0) continue;  // no longer known (MinJobAge)
    std::istringstream in(sc->out);
    for (std::string line; std::getline(in, line);) {
      std::map<std::string, std::string> f;
      std::istringstream words(line);
      for (std::string w; words >> w;)
        if (auto eq = w.find('='); eq != std::string::npos) f.emplace(w.substr(0, eq), w.substr(eq + 1));
      if (!f.contains("JobState")) continue;
      auto const key = f.contains("ArrayTaskId") && f.contains("ArrayJobId") ? f["ArrayJobId"] + "_" + f["ArrayTaskId"] : f["JobId"];
      states[key] = f["JobState"];
    }
  }
  if (!ran) return unexpected(error(errc::not_found, "neither sacct nor scontrol could be run"));
  return states;
}

bool active_state(std::string const& s) {
  static std::set<std::string> const active = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "STAGE_OUT", "SIGNALING", "REQUEUE_HOLD", "REQUEUE_FED"};
  return active.contains(s);
}

// ---- merged view ------------------------------------------------------------------------------

bool unfinished(file_outcome const& f) { return f.state == "missing" || f.state == "running" || f.state == "failed"; }

result<merged_view> merge(fs::path const& state, manifest const& m) {
  merged_view v;
  for (auto const& s : m.shards) {
    std::map<std::string, input_row> latest;
    auto const lp = shard_ledger_path(state, s.index);
    if (fs::exists(lp)) {
      auto db = ledger::open(lp, false);
      if (!db) {
        v.problems.push_back(db.error().message());
      } else if (auto rows = db->list(std::nullopt); !rows) {
        v.problems.push_back(rows.error().message());
      } else {
        for (auto& r : *rows) {
          auto it = latest.find(r.path);
          if (it == latest.end() || r.id > it->second.id) latest[r.path] = std::move(r);
        }
      }
    }
    for (auto const& f : s.files) {
      file_outcome o;
      o.file = f;
      o.shard = s.index;
      o.grid_key = f.group;
      if (auto it = latest.find(f.path); it != latest.end()) {
        auto const& r = it->second;
        switch (r.state) {
          case input_state::done: o.state = "done"; break;
          case input_state::duplicate: o.state = "duplicate"; break;
          case input_state::quarantined: o.state = "quarantined"; break;
          case input_state::failed: o.state = "failed"; break;
          case input_state::running: o.state = "running"; break;
          case input_state::queued: o.state = "missing"; break;
        }
        o.output = r.output;
        o.output_sha256 = r.output_sha256;
        if (r.state == input_state::done && !r.grid_key.empty()) o.grid_key = r.grid_key;
        o.error = r.error;
        o.seconds = r.hash_seconds + r.process_seconds;
        o.finished = r.finished;
      }
      v.files.push_back(std::move(o));
    }
  }
  return v;
}

// ---- the grid job -----------------------------------------------------------------------------

result<json> read_grids(fs::path const& state) {
  auto const p = grids_path(state);
  if (!fs::exists(p)) return json::object();
  return read_json_file(p);
}

grid_step_result build_grids(fs::path const& state, config const& cfg, logger& log, int workers) {
  grid_step_result res;
  auto m = read_manifest(state);
  if (!m) {
    log.error("failed", {{"operation", "slurm_grid"}, {"error", m.error().message()}});
    res.exit_status = 3;
    return res;
  }
  auto v = merge(state, *m);
  if (!v || !v->problems.empty()) {
    for (auto const& p : v ? v->problems : std::vector<std::string>{v.error().message()}) log.error("failed", {{"operation", "slurm_grid"}, {"error", p}});
    res.exit_status = 3;
    return res;
  }
  auto recorded = read_grids(state);
  if (!recorded) {
    log.error("failed", {{"operation", "slurm_grid"}, {"error", recorded.error().message()}});
    res.exit_status = 3;
    return res;
  }
  // The days still being processed wait; the others are built from their done fitacf files.
  std::set<std::string> waiting_days;
  std::map<std::string, std::map<std::string, std::string>> inputs;  // day -> output -> sha256
  int unnamed_pending = 0;
  for (auto const& f : v->files) {
    if (unfinished(f)) {
      if (f.file.group.empty()) ++unnamed_pending;
      else waiting_days.insert(f.file.group);
    } else if (f.state == "done" && !f.grid_key.empty() && !f.output.empty()) {
      inputs[f.grid_key][f.output] = f.output_sha256;
    }
  }
  if (unnamed_pending > 0)
    log.warn("grids_incomplete", {{"operation", "slurm_grid"}, {"files", unnamed_pending},
                                  {"reason", "files without a SuperDARN name are not processed yet: their days are known only once fitted"}});
  struct todo {
    std::string key;
    std::vector<std::string> files, shas;
    fs::path output;
  };
  std::vector<todo> work;
  for (auto const& [key, outs] : inputs) {
    if (waiting_days.contains(key)) continue;
    todo t{key, {}, {}, cfg.out / grid_name(key, cfg.compress == product_compression::bz2)};
    for (auto const& [o, sha] : outs) {
      t.files.push_back(o);
      t.shas.push_back(sha);
    }
    auto const& output = t.output;
    auto const it = recorded->find(key);
    std::error_code ec;
    if (it != recorded->end() && it->value("state", "") == "done" && it->value("inputs", json::array()) == json(t.files) &&
        it->value("inputs_sha256", json::array()) == json(t.shas) && it->value("output", "") == output.string() &&
        fs::file_size(output, ec) == it->value("output_size", std::uint64_t{0}) && !ec) {
      ++res.kept;
      continue;
    }
    work.push_back(std::move(t));
  }
  res.waiting = static_cast<int>(waiting_days.size());
  std::mutex mutex;
  auto record = [&](std::string const& key, json entry) {
    std::lock_guard lock(mutex);
    (*recorded)[key] = std::move(entry);
    if (auto w = write_file_atomically(grids_path(state), recorded->dump(1) + "\n"); !w)
      log.error("failed", {{"operation", "slurm_grid"}, {"error", w.error().message()}});
  };
  auto build = [&](std::int64_t begin, std::int64_t end) {
    for (auto i = begin; i < end; ++i) {
      auto const& t = work[static_cast<std::size_t>(i)];
      auto const& output = t.output;
      json const request = {{"op", "grid"}, {"inputs", t.files}, {"output", output.string()}, {"grid_options", cfg.grid_options},
                            {"tables", cfg.tables.string()}, {"threads", cfg.threads_per_job}};
      json result;
      std::optional<job_failure> failure;
      for (int attempt = 1;; ++attempt) {
        result = run_job_in_child(request, cfg.job_timeout_seconds);
        failure = job_failed(result);
        if (!failure || failure->kind == failure_kind::permanent || attempt >= cfg.max_attempts) break;
        double const delay = cfg.retry_delay_seconds(attempt);
        log.warn("retrying", {{"operation", "make_grid"}, {"file", output.string()}, {"grid", t.key}, {"error", failure->reason.message()},
                              {"attempts", attempt}});
        std::this_thread::sleep_for(std::chrono::duration<double>(delay));
      }
      json entry = {{"inputs", t.files}, {"inputs_sha256", t.shas}, {"output", output.string()}, {"finished", wall_now()}};
      if (failure) {
        entry["state"] = "failed";
        entry["error"] = failure->reason.message();
        log.error("failed", {{"operation", "make_grid"}, {"file", output.string()}, {"grid", t.key}, {"error", failure->reason.message()}});
        {
          std::lock_guard lock(mutex);
          ++res.failed;
        }
      } else {
        entry["state"] = "done";
        entry["output_size"] = result.value("output_size", std::int64_t{0});
        entry["output_sha256"] = result.value("output_sha256", "");
        entry["records"] = result.value("records_out", std::int64_t{0});
        entry["seconds"] = result.value("seconds", 0.0);
        log.info("completed", {{"operation", "make_grid"}, {"file", output.string()}, {"grid", t.key}, {"inputs", t.files.size()},
                               {"records", entry["records"]}, {"bytes", entry["output_size"]},
                               {"duration_ms", std::lround(entry["seconds"].get<double>() * 1000)}});
        std::lock_guard lock(mutex);
        ++res.built;
      }
      record(t.key, std::move(entry));
    }
  };
  thread_pool pool(std::max(1, std::min<int>(workers, static_cast<int>(work.size()))));
  pool.parallel_for(static_cast<std::int64_t>(work.size()), 1, build);
  log.info("slurm_grids", {{"built", res.built}, {"kept", res.kept}, {"failed", res.failed}, {"waiting_days", res.waiting},
                           {"unnamed_pending", unnamed_pending}});
  res.exit_status = res.failed > 0 ? 2 : (res.waiting > 0 || unnamed_pending > 0) ? 3 : 0;
  return res;
}

}  // namespace rstx::service::slurm
