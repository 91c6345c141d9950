#include "rstx/service/processor.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <optional>
#include <poll.h>
#include <set>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "rstx/core/file.hpp"
#include "rstx/core/version.hpp"
#include "rstx/cuda/device.hpp"
#include "rstx/dmap/types.hpp"
#include "rstx/radar/hardware.hpp"
#include "rstx/tables/tables.hpp"
#include "rstx/service/job.hpp"
#include "rstx/service/naming.hpp"
#include "rstx/service/notify.hpp"

namespace rstx::service {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string iso_time(double epoch) {
  auto const secs = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec);
}

std::int64_t mtime_ns_of(struct stat const& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

/** Names that transfer tools use for files still arriving (rsync's .name.XXXXXX, *.part, *.tmp). */
}  // namespace

bool temporary_input_name(std::string const& name) {
  auto ends = [&](std::string_view s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
  return name.empty() || name[0] == '.' || ends(".tmp") || ends(".part") || ends(".partial") || ends("~");
}

namespace {

bool named_like_input(std::string const& name) {
  return parse_superdarn_name(name).has_value() || name.find("rawacf") != std::string::npos;
}

/** `dir/name`, or `dir/name.N` for the first N that is free. */
fs::path free_name(fs::path const& dir, std::string const& name) {
  auto p = dir / name;
  for (int n = 1; fs::exists(fs::symlink_status(p)); ++n) p = dir / fmt::format("{}.{}", name, n);
  return p;
}

/** Moves a file into `dir` under a free name (copying across filesystems); returns where it went. */
result<fs::path> move_into(fs::path const& file, fs::path const& dir) {
  auto const target = free_name(dir, file.filename().string());
  if (::rename(file.c_str(), target.c_str()) == 0) {
    fsync_directory(dir);
    fsync_directory(file.parent_path());
    return target;
  }
  if (errno != EXDEV) return unexpected(os_failure(fmt::format("cannot move it to {}", dir.string()), errno).at(file.string()));
  std::error_code ec;
  auto const temp = dir / ("." + target.filename().string() + ".moving");
  fs::copy_file(file, temp, fs::copy_options::overwrite_existing, ec);
  if (!ec) {
    int const fd = ::open(temp.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    fs::rename(temp, target, ec);
  }
  if (ec) {
    fs::remove(temp, ec);
    return unexpected(error(errc::io, fmt::format("cannot copy it to {}: {}", dir.string(), ec.message())).at(file.string()));
  }
  fsync_directory(dir);
  fs::remove(file, ec);
  return target;
}

}  // namespace

bool open_for_writing(fs::path const& path) {
  int const fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
  int const fd2 = fd >= 0 ? fd : ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd2 < 0) return false;
  bool busy = false;
  if (::fcntl(fd2, F_SETLEASE, F_RDLCK) == 0) {
    ::fcntl(fd2, F_SETLEASE, F_UNLCK);
  } else {
    busy = errno == EAGAIN;  // a writer holds it; other errors (NFS, not the owner): unknown
  }
  ::close(fd2);
  return busy;
}

bool looks_like_dmap(fs::path const& path) {
  int const fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char b[8] = {};
  ssize_t const n = ::read(fd, b, sizeof b);
  ::close(fd);
  if (n < 4) return false;
  if (b[0] == 'B' && b[1] == 'Z' && b[2] == 'h') return true;
  if (b[0] == 0x1f && b[1] == 0x8b) return true;
  if (b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd) return true;
  std::int32_t code = 0;
  std::memcpy(&code, b, 4);
  return code == dmap::record_code;
}

struct work_item {
  enum class kind { fit, grid } what = kind::fit;
  input_row input;
  grid_row grid;
};

struct processor::impl {
  config cfg;
  ledger& db;
  logger& log;
  service_counters counters;

  bool batch_mode = false;
  bool once = false;

  std::mutex mutex;  // guards everything below and cfg
  std::condition_variable work_ready;
  std::deque<work_item> queue;
  std::vector<std::int64_t> busy_inputs;  // queued or running ids
  std::set<std::string> busy_grids;
  int running = 0;
  int target_workers = 0;
  bool stopping = false;
  std::vector<std::thread> workers;
  std::atomic<bool> abort_jobs{false};
  int wake_fd = -1;  // eventfd: a worker finished
  double started_at = wall_now();

  // Progress, for the systemd watchdog (and /healthz): the main loop's last turn, and since when
  // each worker has been on its current item (0: idle).
  std::atomic<double> loop_beat{0};
  std::deque<std::atomic<double>> worker_busy_since;  // one per worker thread; a deque never moves them
  systemd_notifier notifier;
  double last_watchdog_ping = 0, last_status_update = 0, last_withheld_log = 0;
  // Fault injection for the watchdog test (docs/service.md): a worker sleeps this long on each item.
  double stall_worker_seconds = [] {
    char const* v = std::getenv("RSTX_FAULT_STALL_WORKER_SECONDS");
    return v != nullptr ? std::atof(v) : 0.0;
  }();
  bool internal_failure = false;

  // Batch accounting.
  std::set<std::int64_t> batch_ids;
  batch_progress progress;
  std::vector<std::string> bad_inputs;

  impl(config c, ledger& d, logger& l) : cfg(std::move(c)), db(d), log(l) {
    wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }
  ~impl() {
    http.stop();  // first: its handlers use the members below
    stop_workers();
    if (wake_fd >= 0) ::close(wake_fd);
  }

  config settings() {
    std::lock_guard lock(mutex);
    return cfg;
  }

  void wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  void ledger_failed(error const& e) {
    log.error("ledger_error", {{"error", e.message()}});
    std::lock_guard lock(mutex);
    internal_failure = true;
  }

  // ---- workers ----------------------------------------------------------------------------
  void start_workers(int n) {
    std::lock_guard lock(mutex);
    target_workers = n;
    while (static_cast<int>(workers.size()) < n) {
      int const index = static_cast<int>(workers.size());
      if (static_cast<int>(worker_busy_since.size()) <= index) worker_busy_since.emplace_back(0.0);
      workers.emplace_back([this, index] { worker_loop(index); });
    }
    work_ready.notify_all();
  }

  void stop_workers() {
    {
      std::lock_guard lock(mutex);
      stopping = true;
    }
    work_ready.notify_all();
    for (auto& t : workers)
      if (t.joinable()) t.join();
    workers.clear();
  }

  void worker_loop(int index) {
    for (;;) {
      work_item item;
      {
        std::unique_lock lock(mutex);
        work_ready.wait(lock, [&] { return stopping || (index < target_workers && !queue.empty()); });
        if (stopping) return;
        item = std::move(queue.front());
        queue.pop_front();
        ++running;
        counters.queue_depth = static_cast<std::int64_t>(queue.size());
        counters.in_progress = running;
        worker_busy_since[static_cast<std::size_t>(index)] = wall_now();
      }
      if (stall_worker_seconds > 0) std::this_thread::sleep_for(std::chrono::duration<double>(stall_worker_seconds));
      if (item.what == work_item::kind::fit) {
        process_input(item.input);
      } else {
        build_grid(item.grid);
      }
      {
        std::lock_guard lock(mutex);
        worker_busy_since[static_cast<std::size_t>(index)] = 0.0;
        --running;
        counters.in_progress = running;
        if (item.what == work_item::kind::fit) {
          std::erase(busy_inputs, item.input.id);
        } else {
          busy_grids.erase(item.grid.key);
        }
      }
      wake();
    }
  }

  // ---- one input --------------------------------------------------------------------------
  void finish_batch_item(input_row const& row, bool bad) {
    std::lock_guard lock(mutex);
    if (!batch_ids.contains(row.id)) return;
    ++progress.finished;
    progress.bytes_finished += row.size;
    if (bad) bad_inputs.push_back(fmt::format("{}: {}", row.path, row.error));
  }

  /** Moves (or deletes, or leaves) a finished input as configured; returns where it is now. */
  std::string dispose_input(input_row const& row, config const& c) {
    if (batch_mode || c.after_success == input_disposal::keep) return {};
    fs::path const file = row.path;
    if (c.after_success == input_disposal::remove) {
      if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
        log.warn("input_not_deleted", {{"file", row.path}, {"error", std::strerror(errno)}});
        return {};
      }
      fsync_directory(file.parent_path());
      return "(deleted)";
    }
    auto moved = move_into(file, c.archive_dir());
    if (!moved) {
      log.warn("input_not_archived", {{"file", row.path}, {"error", moved.error().message()}});
      return {};
    }
    return moved->string();
  }

  /** What NAME.reason.json beside a quarantined input says (`code`: the error code, when known). */
  static json reason_json(input_row const& row, std::string const& code, double when) {
    return {{"file", row.path},       {"error", row.error},   {"code", code},          {"record", row.error_record},
            {"byte_offset", row.error_offset}, {"time", iso_time(when)}, {"sha256", row.sha256}, {"size", row.size},
            {"ledger_id", row.id},    {"attempts", row.attempts}};
  }

  void quarantine(input_row row, config const& c, json const& failure_json) {
    auto const now = wall_now();
    fs::path const file = row.path;
    json const reason = reason_json(row, failure_json.value("code", ""), now);
    fs::path target;
    if (batch_mode) {
      target = file;  // batch runs leave inputs where they are; the reason goes to the quarantine folder
      row.moved_to = "";
    } else {
      target = free_name(c.quarantine_dir(), file.filename().string());
      row.moved_to = target.string();
    }
    row.finished = now;
    if (auto r = db.mark_quarantined(row); !r) return ledger_failed(r.error());
    auto const reason_path = (batch_mode ? c.quarantine_dir() / file.filename() : target).string() + ".reason.json";
    if (auto w = write_file_atomically(reason_path, reason.dump(2) + "\n"); !w)
      log.warn("reason_not_written", {{"file", reason_path}, {"error", w.error().message()}});
    if (!batch_mode && ::rename(file.c_str(), target.c_str()) == 0) {
      fsync_directory(target.parent_path());
      fsync_directory(file.parent_path());
    } else if (!batch_mode) {
      auto moved = move_into(file, c.quarantine_dir());
      if (!moved) log.warn("input_not_quarantined", {{"file", row.path}, {"error", moved.error().message()}});
    }
    ++counters.fit_quarantined;
    log.warn("quarantined", {{"operation", "make_fit"}, {"file", row.path}, {"error", row.error}, {"record", row.error_record},
                             {"byte_offset", row.error_offset}, {"bytes", row.size}, {"moved_to", row.moved_to}});
    finish_batch_item(row, true);
  }

  void transient_failure(input_row row, config const& c, job_failure const& f) {
    auto const now = wall_now();
    row.error = f.reason.message();
    row.error_record = f.reason.record;
    row.error_offset = f.reason.offset;
    row.finished = now;
    ++row.attempts;
    bool const give_up = row.attempts >= c.max_attempts && !(f.disk_full && !batch_mode);
    if (give_up) {
      if (auto r = db.mark_failed(row); !r) return ledger_failed(r.error());
      ++counters.fit_failed;
      log.error("failed", {{"operation", "make_fit"}, {"file", row.path}, {"error", row.error}, {"attempts", row.attempts}});
      finish_batch_item(row, true);
      return;
    }
    row.next_attempt = now + c.retry_delay_seconds(row.attempts);
    if (auto r = db.mark_retry(row); !r) return ledger_failed(r.error());
    ++counters.fit_retried;
    log.warn("retrying", {{"operation", "make_fit"}, {"file", row.path}, {"error", row.error}, {"disk_full", f.disk_full},
                          {"attempts", row.attempts}, {"retry_in_seconds", row.next_attempt - now}});
  }

  void process_input(input_row row) {
    auto const c = settings();
    auto const now = wall_now();
    if (auto r = db.mark_running(row.id, now); !r) return ledger_failed(r.error());
    row.started = now;
    struct stat st{};
    if (::stat(row.path.c_str(), &st) != 0) {
      int const e = errno;
      if (e == ENOENT) {
        row.error = "the file disappeared before it was processed";
        row.finished = now;
        if (auto r = db.mark_failed(row); !r) return ledger_failed(r.error());
        log.warn("input_vanished", {{"file", row.path}});
        finish_batch_item(row, true);
        return;
      }
      return transient_failure(row, c, job_failure{failure_kind::transient, os_failure("cannot stat", e).at(row.path), false});
    }
    if (st.st_size != row.size || mtime_ns_of(st) != row.mtime_ns) {
      // Written again since it was found: wait until it settles, as a new version.
      if (auto r = db.requeue_changed(row.id, st.st_size, mtime_ns_of(st), now + c.settle_seconds); !r) return ledger_failed(r.error());
      log.info("input_changed", {{"file", row.path}});
      return;
    }
    auto const t_hash = std::chrono::steady_clock::now();
    auto sha = sha256_file(row.path);
    if (!sha) return transient_failure(row, c, job_failure{failure_kind::transient, sha.error(), false});
    row.sha256 = *sha;
    row.hash_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_hash).count();
    row.algorithm = c.algorithm == fit::fit_algorithm::fitacf3 ? "fitacf3" : "fitacf2";
    row.options = fmt::format("compress={}", to_string(c.compress));
    auto other = db.claim_content(row);
    if (!other) return ledger_failed(other.error());
    if (*other) {
      if ((*other)->state == input_state::running) {  // the same bytes are being processed now: wait for them
        row.next_attempt = wall_now() + 1;
        if (auto r = db.mark_retry(row); !r) ledger_failed(r.error());
        return;
      }
      row.error = fmt::format("same content as {} (ledger row {}), already processed into {}", (*other)->path, (*other)->id, (*other)->output);
      row.output = (*other)->output;
      row.finished = wall_now();
      if (auto r = db.mark_duplicate(row); !r) return ledger_failed(r.error());
      row.moved_to = dispose_input(row, c);
      if (!row.moved_to.empty()) (void)db.set_moved(row.id, row.moved_to);
      ++counters.fit_duplicate;
      log.info("duplicate", {{"operation", "make_fit"}, {"file", row.path}, {"same_as", (*other)->path}, {"sha256", row.sha256}});
      finish_batch_item(row, false);
      return;
    }

    json request = {{"op", "fit"},
                    {"input", row.path},
                    {"out_dir", c.out.string()},
                    {"compress", to_string(c.compress)},
                    {"algorithm", row.algorithm},
                    {"tables", c.tables.string()},
                    {"threads", c.threads_per_job},
                    {"backend", c.backend},
                    {"device", c.device}};
    if (auto key = parse_superdarn_name(fs::path(row.path).filename().string()))
      request["name_key"] = {{"day", key->day}, {"time", key->time}, {"radar", key->radar}, {"channel", key->channel}};
    log.debug("processing", {{"operation", "make_fit"}, {"file", row.path}, {"id", row.id}});
    auto const result = run_job_in_child(request, c.job_timeout_seconds, &abort_jobs);
    if (abort_jobs.load()) {  // shutting down: the file stays queued for the next start
      (void)db.requeue(row.id);
      log.info("input_abandoned", {{"file", row.path}});
      return;
    }
    if (auto f = job_failed(result)) {
      if (f->kind == failure_kind::transient) return transient_failure(row, c, *f);
      row.error = f->reason.message();
      row.error_record = f->reason.record;
      row.error_offset = f->reason.offset;
      return quarantine(row, c, result);
    }
    row.output = result.value("output", "");
    row.output_size = result.value("output_size", std::int64_t{0});
    row.output_sha256 = result.value("output_sha256", "");
    row.grid_key = c.daily_grids || c.defer_grids ? result.value("grid_key", "") : "";
    row.records_in = result.value("records_in", std::int64_t{0});
    row.records_out = result.value("records_out", std::int64_t{0});
    row.records_skipped = result.value("records_skipped", std::int64_t{0});
    row.process_seconds = result.value("seconds", 0.0);
    row.error = row.records_skipped > 0 ? fmt::format("{} damaged records left out", row.records_skipped) : "";
    row.finished = wall_now();
    if (auto r = db.mark_done(row, c.daily_grids ? std::optional<double>(row.finished + c.grid_delay_seconds) : std::nullopt); !r)
      return ledger_failed(r.error());
    // The products are durable and the ledger says so; only now does the input leave the inbox.
    row.moved_to = dispose_input(row, c);
    if (!row.moved_to.empty())
      if (auto r = db.set_moved(row.id, row.moved_to); !r) return ledger_failed(r.error());
    ++counters.fit_done;
    counters.records_fitted += row.records_out;
    counters.bytes_read += row.size;
    counters.bytes_written += row.output_size;
    counters.last_fit_success = row.finished;
    counters.fit_seconds.observe(row.hash_seconds + row.process_seconds);
    log.info("completed", {{"operation", "make_fit"}, {"file", row.path}, {"output", row.output}, {"records", row.records_out},
                           {"records_skipped", row.records_skipped}, {"bytes", row.size},
                           {"duration_ms", std::lround((row.hash_seconds + row.process_seconds) * 1000)},
                           {"hash_ms", std::lround(row.hash_seconds * 1000)}, {"moved_to", row.moved_to}});
    finish_batch_item(row, false);
  }

  // ---- one grid ---------------------------------------------------------------------------
  void build_grid(grid_row g) {
    auto const c = settings();
    auto inputs = db.grid_inputs(g.key);
    if (!inputs) return ledger_failed(inputs.error());
    std::vector<std::string> present;
    for (auto const& f : *inputs)
      if (fs::exists(f)) present.push_back(f);
    auto const output = (c.out / grid_name(g.key, c.compress == product_compression::bz2)).string();
    json request = {{"op", "grid"},
                    {"inputs", present},
                    {"output", output},
                    {"grid_options", c.grid_options},
                    {"tables", c.tables.string()},
                    {"threads", c.threads_per_job}};
    auto const result = present.empty() ? json{{"ok", false}, {"kind", "permanent"}, {"code", "not_found"},
                                               {"what", "none of the day's fitacf files exists"}}
                                        : run_job_in_child(request, c.job_timeout_seconds, &abort_jobs);
    auto const now = wall_now();
    g.finished = now;
    if (abort_jobs.load()) {
      g.state = grid_state::pending;
      (void)db.mark_grid_failed(g);
      return;
    }
    if (auto f = job_failed(result)) {
      ++g.attempts;
      g.error = f->reason.message();
      bool const retry = f->kind == failure_kind::transient && (g.attempts < c.max_attempts || (f->disk_full && !batch_mode));
      g.state = retry ? grid_state::pending : grid_state::failed;
      g.due = now + c.retry_delay_seconds(g.attempts);
      if (auto r = db.mark_grid_failed(g); !r) return ledger_failed(r.error());
      if (!retry) ++counters.grid_failed;
      log.write(retry ? log_level::warn : log_level::error, retry ? "retrying" : "failed",
                {{"operation", "make_grid"}, {"file", (c.out / grid_name(g.key, c.compress == product_compression::bz2)).string()},
                 {"grid", g.key}, {"error", g.error}, {"attempts", g.attempts}});
      return;
    }
    g.output = result.value("output", "");
    g.output_size = result.value("output_size", std::int64_t{0});
    g.output_sha256 = result.value("output_sha256", "");
    g.inputs = static_cast<std::int64_t>(present.size());
    g.records = result.value("records_out", std::int64_t{0});
    g.seconds = result.value("seconds", 0.0);
    g.built = g.requested;
    if (auto r = db.mark_grid_done(g); !r) return ledger_failed(r.error());
    ++counters.grid_done;
    counters.records_gridded += g.records;
    counters.bytes_written += g.output_size;
    counters.last_grid_success = now;
    counters.grid_seconds.observe(g.seconds);
    log.info("completed", {{"operation", "make_grid"}, {"file", g.output}, {"grid", g.key}, {"inputs", g.inputs}, {"records", g.records},
                           {"bytes", g.output_size}, {"duration_ms", std::lround(g.seconds * 1000)}});
  }

  // ---- scheduling -------------------------------------------------------------------------
  /** Fills the in-memory queue from the ledger; returns false when the ledger failed. */
  bool dispatch() {
    auto const now = wall_now();
    std::vector<std::int64_t> busy;
    int room = 0;
    bool grids_ignore_due = false;
    {
      std::lock_guard lock(mutex);
      if (stopping) return true;
      busy = busy_inputs;
      room = cfg.effective_queue_size() - static_cast<int>(queue.size());
      grids_ignore_due = once || batch_mode;
    }
    if (room > 0) {
      auto rows = db.next_queued(now, room, busy);
      if (!rows) {
        ledger_failed(rows.error());
        return false;
      }
      std::lock_guard lock(mutex);
      for (auto& r : *rows) {
        busy_inputs.push_back(r.id);
        queue.push_back(work_item{work_item::kind::fit, std::move(r), {}});
      }
      room -= static_cast<int>(rows->size());
    }
    if (room > 0 && settings().daily_grids) {
      auto grids = db.due_grids(now, grids_ignore_due);
      if (!grids) {
        ledger_failed(grids.error());
        return false;
      }
      for (auto& g : *grids) {
        {
          std::lock_guard lock(mutex);
          if (busy_grids.contains(g.key)) continue;
        }
        auto pending = db.grid_inputs_pending(g.key);
        if (!pending) {
          ledger_failed(pending.error());
          return false;
        }
        if (*pending) continue;  // more files of that day are on their way: build once they are done
        // --once and batch: a file's day is known for sure only once it is fitted, so the grids
        // wait until every input is.
        if (grids_ignore_due) {
          auto queued = db.count(input_state::queued);
          auto running_rows = db.count(input_state::running);
          if (!queued || !running_rows) return false;
          if (*queued > 0 || *running_rows > 0) continue;
        }
        if (auto r = db.mark_grid_running(g.key); !r) {
          ledger_failed(r.error());
          return false;
        }
        std::lock_guard lock(mutex);
        busy_grids.insert(g.key);
        queue.push_back(work_item{work_item::kind::grid, {}, g});
        if (--room <= 0) break;
      }
    }
    {
      std::lock_guard lock(mutex);
      counters.queue_depth = static_cast<std::int64_t>(queue.size());
    }
    work_ready.notify_all();
    return true;
  }

  bool idle() {
    std::lock_guard lock(mutex);
    return queue.empty() && running == 0;
  }

  /** Seconds until the next queued retry or grid becomes due (capped), for the poll timeout. Work
   *  already due but waiting (no free worker, a grid whose day is still being fitted) is woken by a
   *  worker finishing, not by the timer, so a saturated service does not spin. */
  double next_timer(double cap) {
    auto const now = wall_now();
    double wait = cap;
    if (auto d = db.next_due(now); d && *d) wait = std::min(wait, **d);
    if (auto g = db.next_grid_due(now); g && *g) wait = std::min(wait, std::max(0.0, **g - now));
    return std::max(wait, 0.01);
  }

  /** Whether nothing is left to do now (for --once and batch): no work queued or running, no
   *  queued row due now and no grid that could be built. */
  bool nothing_left() {
    if (!idle()) return false;
    auto const now = wall_now();
    auto due = db.next_queued(now, 1, {});
    if (!due || !due->empty()) return !due ? true : false;
    if (!settings().daily_grids) return true;
    auto grids = db.due_grids(now, true);
    if (!grids) return true;
    for (auto const& g : *grids) {
      auto pending = db.grid_inputs_pending(g.key);
      if (pending && !*pending) return false;
    }
    return true;
  }

  /** Waits for running work up to the shutdown timeout, then abandons it (rows stay queued). */
  void drain(double timeout_s) {
    {
      std::lock_guard lock(mutex);
      for (auto& item : queue)  // not started: inputs are still `queued` in the ledger, grids go back to pending
        if (item.what == work_item::kind::grid) {
          item.grid.state = grid_state::pending;
          (void)db.mark_grid_failed(item.grid);
        }
      queue.clear();
    }
    auto const deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (!idle() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (!idle()) {
      log.warn("shutdown_abandoning", {{"timeout_seconds", timeout_s}});
      abort_jobs = true;
    }
    stop_workers();
  }

  // ---- health -------------------------------------------------------------------------------
  /** Empty while the main loop turns and no worker is stuck; else what is wrong. A worker is stuck
   *  when one item has held it longer than the job timeout plus a grace (the timeout again, at most
   *  a minute): the job itself is killed at its timeout, so only a hung thread gets there. */
  std::string stuck(double now) {
    auto const c = settings();
    double const loop_age = now - loop_beat.load();
    if (loop_beat.load() > 0 && loop_age > std::max(60.0, 2 * c.rescan_seconds))
      return fmt::format("the main loop has not turned for {:.0f} s", loop_age);
    std::lock_guard lock(mutex);
    for (std::size_t w = 0; w < worker_busy_since.size(); ++w) {
      double const since = worker_busy_since[w].load();
      if (since > 0 && now - since > c.job_timeout_seconds + std::min(60.0, c.job_timeout_seconds))
        return fmt::format("worker {} has been on one file for {:.0f} s (job timeout {:.0f} s)", w, now - since, c.job_timeout_seconds);
    }
    return {};
  }

  /** The one line `systemctl status` shows. */
  std::string status_line() {
    auto queued = db.count(input_state::queued);
    return fmt::format("{} waiting, {} in progress; since start {} done, {} quarantined, {} failed, {} daily grids",
                       queued ? *queued : -1, counters.in_progress.load(), counters.fit_done.load(),
                       counters.fit_quarantined.load(), counters.fit_failed.load(), counters.grid_done.load());
  }

  /** One turn of the main loop: the watchdog is fed only while everything makes progress. */
  void beat() {
    double const now = wall_now();
    loop_beat = now;
    if (!notifier.enabled()) return;
    if (auto period = notifier.watchdog_seconds(); period && now - last_watchdog_ping >= *period / 4) {
      auto const problem = stuck(now);
      if (problem.empty()) {
        notifier.watchdog();
        last_watchdog_ping = now;
      } else if (now - last_withheld_log >= 30) {
        // No ping: systemd restarts the service once a whole period passes without one.
        log.error("watchdog_withheld", {{"problem", problem}});
        last_withheld_log = now;
      }
    }
    if (now - last_status_update >= 1) {
      notifier.status(status_line());
      last_status_update = now;
    }
  }

  // ---- HTTP: /metrics, /healthz, /readyz ----------------------------------------------------
  http_server http;
  std::mutex scrape_mutex;  // guards the caches below (the server has several threads)
  double ledger_counts_at = -1e9;
  std::vector<std::pair<std::string, std::int64_t>> ledger_counts;
  double tables_checked_at = -1e9;
  std::string tables_problem;
  bool cuda_usable = [] {
    auto d = cuda::devices();
    return d && !d->empty() && cuda::self_test(d->front().index).has_value();
  }();

  http_reply metrics_page() {
    metrics_snapshot snap;
    snap.operations.push_back({"make_fit", counters.fit_done.load(), counters.fit_failed.load(), counters.fit_quarantined.load(),
                               counters.records_fitted.load(), counters.last_fit_success.load(), &counters.fit_seconds});
    snap.operations.push_back({"make_grid", counters.grid_done.load(), counters.grid_failed.load(), 0,
                               counters.records_gridded.load(), counters.last_grid_success.load(), &counters.grid_seconds});
    snap.bytes_read = counters.bytes_read.load();
    snap.bytes_written = counters.bytes_written.load();
    snap.queue_depth = counters.queue_depth.load();
    snap.in_progress = counters.in_progress.load();
    {
      // The ledger is asked at most once a second, however often or by how many it is scraped.
      std::lock_guard lock(scrape_mutex);
      double const now = wall_now();
      if (now - ledger_counts_at >= 1) {
        if (auto c = db.counts_by_state()) ledger_counts = *c;
        ledger_counts_at = now;
      }
      snap.ledger_files = ledger_counts;
    }
    snap.cuda_available = cuda_usable;
    std::string const version = version_string;
    auto const plus = version.find('+');
    snap.version = version.substr(0, plus);
    snap.revision = plus == std::string::npos ? "" : version.substr(plus + 1);
    snap.backend = "cpu";
    return {200, "text/plain; version=0.0.4; charset=utf-8", render_metrics(snap)};
  }

  http_reply healthz() {
    auto const problem = stuck(wall_now());
    if (problem.empty()) return {200, "text/plain; charset=utf-8", "ok\n"};
    return {503, "text/plain; charset=utf-8", problem + "\n"};
  }

  http_reply readyz() {
    auto const c = settings();
    json checks = json::array();
    bool ready = true;
    auto check = [&](std::string const& name, std::string const& problem) {
      checks.push_back({{"name", name}, {"ok", problem.empty()}, {"detail", problem.empty() ? "ok" : problem}});
      ready = ready && problem.empty();
    };
    auto const w = db.check_writable();
    check("ledger", w ? "" : w.error().message());
    std::string dirs;
    for (auto const& d : {c.inbox, c.out, c.state, c.quarantine_dir()})
      if (::access(d.c_str(), W_OK | X_OK) != 0) dirs += fmt::format("{}{}: {}", dirs.empty() ? "" : "; ", d.string(), std::strerror(errno));
    check("directories", dirs);
    {
      std::lock_guard lock(scrape_mutex);
      double const now = wall_now();
      if (now - tables_checked_at >= 30) {  // loading radar.dat every probe would be wasteful
        tables::request want;
        want.tables_dir = c.tables.string();
        auto found = tables::locate(want);
        tables_problem = !found ? found.error().message() : "";
        if (found)
          if (auto radars = radar::radar_table::load(found->radar_dat.path); !radars) tables_problem = radars.error().message();
        tables_checked_at = now;
      }
      check("tables", tables_problem);
    }
    check("backend", "");  // the CPU backend needs nothing more; the CUDA backend will check its device here
    json body = {{"ready", ready}, {"checks", checks}};
    return {ready ? 200 : 503, "application/json", body.dump(2) + "\n"};
  }

  static std::string html_escape(std::string const& in) {
    std::string out;
    for (char ch : in) {
      switch (ch) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default: out += ch;
      }
    }
    return out;
  }

  /** The operator's page: server-rendered, no external assets, refreshing itself every 10 s. */
  http_reply status_page() {
    auto const c = settings();
    auto summary = db.summary(10);
    std::string const when = iso_time(wall_now());
    std::string h;
    h += "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"10\">";
    h += "<title>rst-processor</title><style>body{font-family:sans-serif;margin:1.5em;color:#222}"
         "table{border-collapse:collapse;margin-bottom:1.2em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
         "th{background:#f0f0f0}.bad{color:#a00}.num{text-align:right}</style></head><body>";
    h += fmt::format("<h1>rst-processor</h1><p id=\"version\">rstx {} &middot; backend <span id=\"backend\">cpu</span> &middot; "
                     "CUDA {} &middot; page made {}</p>",
                     html_escape(version_string), cuda_usable ? "available" : "not available", when);
    h += "<h2>Now</h2><table id=\"now\">";
    std::int64_t queued = 0;
    if (auto q = db.count(input_state::queued)) queued = *q;
    h += fmt::format("<tr><th>waiting</th><td class=\"num\" id=\"waiting\">{}</td></tr>", queued);
    h += fmt::format("<tr><th>in progress</th><td class=\"num\" id=\"in-progress\">{}</td></tr>", counters.in_progress.load());
    h += fmt::format("<tr><th>workers</th><td class=\"num\">{}</td></tr>", c.effective_workers());
    auto const problem = stuck(wall_now());
    h += fmt::format("<tr><th>health</th><td id=\"health\"{}>{}</td></tr>", problem.empty() ? "" : " class=\"bad\"",
                     problem.empty() ? "ok" : html_escape(problem));
    h += "</table><h2>Ledger</h2><table id=\"ledger\"><tr><th>state</th><th>files</th></tr>";
    if (summary)
      for (auto const& [state, n] : summary->inputs_by_state)
        h += fmt::format("<tr><td>{}</td><td class=\"num\" id=\"state-{}\">{}</td></tr>", state, state, n);
    h += "</table><h2>Since start</h2><table id=\"rates\">";
    double const up = std::max(1.0, wall_now() - started_at);
    h += fmt::format("<tr><th>files done</th><td class=\"num\" id=\"done-since-start\">{}</td><td>{:.1f} per hour</td></tr>",
                     counters.fit_done.load(), static_cast<double>(counters.fit_done.load()) / up * 3600);
    h += fmt::format("<tr><th>quarantined</th><td class=\"num\">{}</td><td></td></tr><tr><th>failed</th><td class=\"num\">{}</td><td></td></tr>",
                     counters.fit_quarantined.load(), counters.fit_failed.load());
    h += fmt::format("<tr><th>daily grids built</th><td class=\"num\">{}</td><td></td></tr>", counters.grid_done.load());
    h += fmt::format("<tr><th>read</th><td class=\"num\">{:.1f} MB</td><td>{:.2f} MB/s</td></tr>",
                     static_cast<double>(counters.bytes_read.load()) / 1e6, static_cast<double>(counters.bytes_read.load()) / 1e6 / up);
    h += "</table><h2>Disk</h2><table id=\"disk\"><tr><th>folder</th><th>free</th></tr>";
    for (auto const& [name, dir] : {std::pair{"inbox", c.inbox}, std::pair{"products", c.out}, std::pair{"state", c.state}}) {
      std::error_code ec;
      auto const space = fs::space(dir, ec);
      h += ec ? fmt::format("<tr><td>{} ({})</td><td class=\"bad\">{}</td></tr>", name, html_escape(dir.string()), html_escape(ec.message()))
              : fmt::format("<tr><td>{} ({})</td><td class=\"num\">{:.1f} GB of {:.1f} GB ({:.0f} %)</td></tr>", name, html_escape(dir.string()),
                            static_cast<double>(space.available) / 1e9, static_cast<double>(space.capacity) / 1e9,
                            space.capacity > 0 ? 100.0 * static_cast<double>(space.available) / static_cast<double>(space.capacity) : 0.0);
    }
    h += "</table><h2>Last successes</h2><table id=\"last-done\"><tr><th>finished (UTC)</th><th>file</th><th>product</th><th>records</th><th>seconds</th></tr>";
    if (summary)
      for (auto const& r : summary->last_done)
        h += fmt::format("<tr><td>{}</td><td class=\"file\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2f}</td></tr>",
                         iso_time(r.finished), html_escape(fs::path(r.path).filename().string()),
                         html_escape(fs::path(r.output).filename().string()), r.records_out, r.process_seconds + r.hash_seconds);
    h += "</table><h2>Last failures</h2><table id=\"last-failed\"><tr><th>finished (UTC)</th><th>file</th><th>state</th><th>reason</th></tr>";
    if (summary)
      for (auto const& r : summary->last_failed)
        h += fmt::format("<tr><td>{}</td><td class=\"file\">{}</td><td>{}</td><td class=\"reason\">{}</td></tr>", iso_time(r.finished),
                         html_escape(fs::path(r.path).filename().string()), to_string(r.state), html_escape(r.error));
    h += "</table><p>Machine-readable: <a href=\"/metrics\">/metrics</a>, <a href=\"/healthz\">/healthz</a>, <a href=\"/readyz\">/readyz</a>.</p></body></html>\n";
    return {200, "text/html; charset=utf-8", h};
  }

  /** Starts the HTTP endpoints when configured; returns the bound address (empty: none). */
  result<std::string> serve_http(config const& c) {
    if (c.metrics_listen.empty()) return std::string();
    http.on("/", [this] { return status_page(); });
    http.on("/metrics", [this] { return metrics_page(); });
    http.on("/healthz", [this] { return healthz(); });
    http.on("/readyz", [this] { return readyz(); });
    return http.start(c.metrics_listen);
  }

  // ---- the inbox --------------------------------------------------------------------------
  struct candidate {
    std::int64_t size = -1, mtime_ns = -1;
  };
  std::map<std::string, candidate> candidates;  // files seen but not yet complete
  std::set<std::string> reported;               // "left alone" files, logged once

  /** Looks at one inbox entry: queues it when complete, remembers it when still arriving. */
  void examine(fs::path const& path, std::vector<ledger::new_file>& to_queue, config const& c) {
    auto const name = path.filename().string();
    if (temporary_input_name(name)) return;
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) {
      candidates.erase(path.string());
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      candidates.erase(path.string());
      if (reported.insert(path.string()).second)
        log.warn("inbox_entry_ignored", {{"file", path.string()}, {"reason", S_ISDIR(st.st_mode) ? "a directory, not a file" : "not a regular file"}});
      return;
    }
    auto const mtime = mtime_ns_of(st);
    auto known = db.find_file(path.string(), st.st_size, mtime);
    if (!known) return ledger_failed(known.error());
    if (*known) {
      candidates.erase(path.string());
      bool being_processed = false;
      {
        std::lock_guard lock(mutex);
        being_processed = std::find(busy_inputs.begin(), busy_inputs.end(), (*known)->id) != busy_inputs.end();
      }
      // A worker that just marked it done moves it itself; only a move cut off by a crash is finished here.
      if (!being_processed) finish_interrupted_move(**known, c);
      return;
    }
    // Complete when no writer has it open and it has not changed for settle_seconds.
    double const age = wall_now() - static_cast<double>(mtime) / 1e9;
    if (age < c.settle_seconds || open_for_writing(path)) {
      candidates[path.string()] = candidate{st.st_size, mtime};
      return;
    }
    candidates.erase(path.string());
    if (!named_like_input(name) && !looks_like_dmap(path)) {
      if (reported.insert(path.string()).second)
        log.info("inbox_entry_ignored", {{"file", path.string()}, {"reason", "neither named nor formatted like a rawacf file; left alone"}});
      return;
    }
    auto key = parse_superdarn_name(name);
    to_queue.push_back({path.string(), st.st_size, mtime, key ? key->grid_key() : std::string()});
  }

  /** A crash between the ledger's `done`/`quarantined` and the move leaves the input behind: finish it. */
  void finish_interrupted_move(input_row const& row, config const& c) {
    if (batch_mode || !fs::exists(row.path)) return;
    if (row.state == input_state::done || row.state == input_state::duplicate) {
      if (c.after_success == input_disposal::keep) return;
      auto const where = dispose_input(row, c);
      if (!where.empty()) {
        (void)db.set_moved(row.id, where);
        log.info("input_move_finished", {{"file", row.path}, {"moved_to", where}});
      }
    } else if (row.state == input_state::quarantined) {
      auto moved = move_into(row.path, c.quarantine_dir());
      if (moved) {
        auto const reason = moved->string() + ".reason.json";
        if (!fs::exists(reason)) {
          (void)write_file_atomically(reason, reason_json(row, "", row.finished).dump(2) + "\n");
        }
        (void)db.set_moved(row.id, moved->string());
      }
    }
  }

  void queue_found(std::vector<ledger::new_file>& files) {
    if (files.empty()) return;
    if (auto r = db.add_queued(files, wall_now()); !r) return ledger_failed(r.error());
    for (auto const& f : files) log.info("found", {{"file", f.path}, {"bytes", f.size}});
    files.clear();
  }

  void rescan(config const& c) {
    std::vector<ledger::new_file> found;
    DIR* d = ::opendir(c.inbox.c_str());
    if (d == nullptr) {
      log.error("inbox_unreadable", {{"path", c.inbox.string()}, {"error", std::strerror(errno)}});
      return;
    }
    std::set<std::string> present;
    while (auto* e = ::readdir(d)) {
      std::string const name = e->d_name;
      if (name == "." || name == "..") continue;
      auto const p = c.inbox / name;
      present.insert(p.string());
      examine(p, found, c);
      if (found.size() >= 1000) queue_found(found);
    }
    ::closedir(d);
    queue_found(found);
    log.debug("inbox_rescanned", {{"entries", present.size()}, {"arriving", candidates.size()}});
    std::erase_if(reported, [&](std::string const& p) { return !present.contains(p); });
    std::erase_if(candidates, [&](auto const& kv) { return !present.contains(kv.first); });
  }

  void recheck_candidates(config const& c) {
    std::vector<ledger::new_file> found;
    std::vector<std::string> paths;
    for (auto const& kv : candidates) paths.push_back(kv.first);
    for (auto const& p : paths) examine(p, found, c);
    queue_found(found);
  }

  // ---- the main loops ---------------------------------------------------------------------
  int exit_code_for_run() {
    {
      std::lock_guard lock(mutex);
      if (internal_failure) return exit_internal;
    }
    auto failed = db.count(input_state::failed);
    auto queued = db.count(input_state::queued);
    if (!failed || !queued) return exit_internal;
    if (*failed > 0 || *queued > 0) return exit_io;
    std::lock_guard lock(mutex);
    if (!bad_inputs.empty() || counters.fit_quarantined > 0) return exit_bad_inputs;
    return exit_ok;
  }

  int watch(bool run_once, reload_function const& reload) {
    once = run_once;
    auto c = settings();
    if (auto r = db.recover(); r && *r > 0) log.info("ledger_recovered", {{"requeued", *r}});
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGHUP, SIGTERM, SIGINT}) sigaddset(&signals, s);
    int const sfd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    int const ifd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    int watch_id = -1;
    auto add_watch = [&] {
      if (ifd >= 0 && watch_id < 0) {
        watch_id = ::inotify_add_watch(ifd, c.inbox.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
        if (watch_id < 0) log.warn("inotify_unavailable", {{"path", c.inbox.string()}, {"error", std::strerror(errno)}, {"fallback", "rescans"}});
      }
    };
    add_watch();
    auto listening = serve_http(c);
    if (!listening) {
      log.error("metrics_unavailable", {{"error", listening.error().message()}});
      if (ifd >= 0) ::close(ifd);
      if (sfd >= 0) ::close(sfd);
      return exit_io;
    }
    start_workers(c.effective_workers());
    log.info("started", {{"inbox", c.inbox.string()}, {"out", c.out.string()}, {"state", c.state.string()},
                                 {"workers", c.effective_workers()}, {"once", once}, {"pid", ::getpid()},
                                 {"metrics", *listening}});
    auto last_rescan = std::chrono::steady_clock::now() - std::chrono::hours(1);
    int status = exit_ok;
    bool announced_ready = false;
    std::vector<char> events(64 * 1024);
    for (;;) {
      c = settings();
      auto const since_rescan = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_rescan).count();
      if (since_rescan >= c.rescan_seconds) {
        add_watch();
        rescan(c);
        last_rescan = std::chrono::steady_clock::now();
      } else if (!candidates.empty()) {
        recheck_candidates(c);
      }
      if (!dispatch()) {
        status = exit_internal;
        break;
      }
      if (!announced_ready) {  // folders, ledger and the first rescan done: systemd may call it started
        notifier.ready(status_line());
        announced_ready = true;
      }
      beat();
      if (once && candidates.empty() && nothing_left()) break;
      {
        std::lock_guard lock(mutex);
        if (internal_failure) {
          status = exit_internal;
          break;
        }
      }
      double timeout = c.rescan_seconds - std::chrono::duration<double>(std::chrono::steady_clock::now() - last_rescan).count();
      if (!candidates.empty()) timeout = std::min(timeout, std::max(0.05, std::min(0.25, c.settle_seconds / 4)));
      timeout = next_timer(std::max(timeout, 0.01));
      if (auto period = notifier.watchdog_seconds()) timeout = std::min(timeout, *period / 4);
      pollfd fds[3] = {{sfd, POLLIN, 0}, {ifd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
      int const rc = ::poll(fds, 3, static_cast<int>(timeout * 1000) + 1);
      if (rc < 0 && errno != EINTR) break;
      if (fds[2].revents & POLLIN) {
        std::uint64_t n = 0;
        [[maybe_unused]] auto r = ::read(wake_fd, &n, sizeof n);
      }
      if (fds[1].revents & POLLIN) {
        std::vector<ledger::new_file> found;
        for (;;) {
          ssize_t const n = ::read(ifd, events.data(), events.size());
          if (n <= 0) break;
          for (ssize_t off = 0; off < n;) {
            auto const* ev = reinterpret_cast<inotify_event const*>(events.data() + off);
            off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
            if (ev->mask & IN_Q_OVERFLOW) {
              log.warn("inotify_overflow", {{"action", "rescanning the inbox"}});
              last_rescan = std::chrono::steady_clock::now() - std::chrono::hours(1);
            } else if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
              log.error("inbox_gone", {{"path", c.inbox.string()}});
              watch_id = -1;
            } else if (ev->len > 0) {
              examine(c.inbox / ev->name, found, c);
            }
          }
        }
        queue_found(found);
      }
      if (fds[0].revents & POLLIN) {
        signalfd_siginfo si{};
        while (::read(sfd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
          if (si.ssi_signo == SIGHUP) {
            handle_reload(reload);
          } else {
            log.info("stopping", {{"signal", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT"},
                                          {"shutdown_timeout_seconds", c.shutdown_timeout_seconds}});
            notifier.stopping(fmt::format("stopping: finishing {} running files (at most {:.0f} s)",
                                          counters.in_progress.load(), c.shutdown_timeout_seconds));
            drain(c.shutdown_timeout_seconds);
            http.stop();
            if (ifd >= 0) ::close(ifd);
            if (sfd >= 0) ::close(sfd);
            log.info("stopped", {});
            return exit_ok;
          }
        }
      }
    }
    drain(c.shutdown_timeout_seconds);
    http.stop();
    if (ifd >= 0) ::close(ifd);
    if (sfd >= 0) ::close(sfd);
    if (status == exit_ok) status = exit_code_for_run();
    log.info("stopped", {{"exit_status", status}});
    return status;
  }

  void handle_reload(reload_function const& reload) {
    if (auto r = log.reopen(); !r) log.error("log_reopen_failed", {{"error", r.error().message()}});
    if (!reload) {
      log.info("reload_skipped", {{"reason", "no configuration file (settings from flags only)"}});
      return;
    }
    auto next = reload();
    if (!next) {
      log.error("reload_rejected", {{"error", next.error().message()}, {"kept", "previous settings"}});
      return;
    }
    auto const old = settings();
    if (next->inbox != old.inbox || next->out != old.out || next->state != old.state || next->metrics_listen != old.metrics_listen) {
      log.error("reload_rejected", {{"error", "paths.inbox, paths.out, paths.state and metrics.listen cannot change while running; restart the service"},
                                    {"kept", "previous settings"}});
      return;
    }
    if (auto r = processor::prepare_directories(*next, true); !r) {
      log.error("reload_rejected", {{"error", r.error().message()}, {"kept", "previous settings"}});
      return;
    }
    (void)log.open(next->log_file, parse_log_level(next->log_level));
    {
      std::lock_guard lock(mutex);
      cfg = *next;
    }
    start_workers(next->effective_workers());
    log.info("reloaded", {{"workers", next->effective_workers()}, {"fit_algorithm", next->algorithm == fit::fit_algorithm::fitacf3 ? "fitacf3" : "fitacf2"},
                          {"grid_options", next->grid_options}, {"compress", to_string(next->compress)}});
  }

  int batch(std::vector<fs::path> const& files, std::function<void(batch_progress const&)> const& report) {
    batch_mode = true;
    once = true;
    if (auto r = db.recover(); r && *r > 0) log.info("ledger_recovered", {{"requeued", *r}});
    auto const start = std::chrono::steady_clock::now();
    std::vector<ledger::new_file> fresh;
    std::vector<std::string> fresh_paths;
    for (auto const& f : files) {
      std::error_code ec;
      auto const abs = fs::absolute(f, ec).lexically_normal();
      struct stat st{};
      if (::stat(abs.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        std::lock_guard lock(mutex);
        bad_inputs.push_back(fmt::format("{}: {}", abs.string(), errno != 0 ? std::strerror(errno) : "not a regular file"));
        continue;
      }
      auto known = db.find_file(abs.string(), st.st_size, mtime_ns_of(st));
      if (!known) {
        ledger_failed(known.error());
        return exit_internal;
      }
      if (*known) {
        auto const& row = **known;
        if (row.state == input_state::quarantined) {
          std::lock_guard lock(mutex);
          bad_inputs.push_back(fmt::format("{}: {} (quarantined earlier)", row.path, row.error));
        }
        if (row.state == input_state::queued || row.state == input_state::running) {
          std::lock_guard lock(mutex);
          batch_ids.insert(row.id);
          ++progress.total;
          progress.bytes_total += row.size;
        }
        continue;  // done, duplicate or quarantined before: nothing to redo
      }
      auto key = parse_superdarn_name(abs.filename().string());
      fresh.push_back({abs.string(), st.st_size, mtime_ns_of(st), key ? key->grid_key() : std::string()});
    }
    if (!fresh.empty()) {
      if (auto r = db.add_queued(fresh, wall_now()); !r) {
        ledger_failed(r.error());
        return exit_internal;
      }
      for (auto const& f : fresh) {
        auto row = db.find_file(f.path, f.size, f.mtime_ns);
        if (row && *row) {
          std::lock_guard lock(mutex);
          batch_ids.insert((*row)->id);
          ++progress.total;
          progress.bytes_total += f.size;
        }
      }
    }
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGTERM, SIGINT}) sigaddset(&signals, s);
    int const sfd = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    auto const c = settings();
    start_workers(c.effective_workers());
    std::int64_t reported_finished = -1;
    bool interrupted = false;
    for (;;) {
      if (!dispatch()) break;
      {
        std::lock_guard lock(mutex);
        progress.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (report && progress.finished != reported_finished) {
          reported_finished = progress.finished;
          report(progress);
        }
      }
      if (nothing_left()) break;
      pollfd fds[2] = {{sfd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
      int const rc = ::poll(fds, 2, static_cast<int>(next_timer(1.0) * 1000) + 1);
      if (rc < 0 && errno != EINTR) break;
      if (fds[1].revents & POLLIN) {
        std::uint64_t n = 0;
        [[maybe_unused]] auto r = ::read(wake_fd, &n, sizeof n);
      }
      if (fds[0].revents & POLLIN) {
        log.info("batch_interrupted", {});
        interrupted = true;
        break;
      }
      if (report) {
        std::lock_guard lock(mutex);
        progress.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        report(progress);
      }
    }
    drain(c.shutdown_timeout_seconds);
    if (sfd >= 0) ::close(sfd);
    if (report) report(progress);
    if (interrupted) return exit_io;
    return exit_code_for_run();
  }
};

processor::processor(config cfg, ledger& db, logger& log) : impl_(std::make_unique<impl>(std::move(cfg), db, log)) {}
processor::~processor() = default;

result<int> lock_state(fs::path const& path) {
  auto const state = path.parent_path();
  int const fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return unexpected(os_failure("cannot open the lock file", errno).at(path.string()));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    [[maybe_unused]] auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    ::close(fd);
    return unexpected(error(errc::io, fmt::format("another rst-processor (pid {}) is using this state folder", std::string(buf).empty() ? "?" : buf)).at(state.string()));
  }
  auto const pid = std::to_string(::getpid());
  if (::ftruncate(fd, 0) == 0) [[maybe_unused]] auto n = ::pwrite(fd, pid.data(), pid.size(), 0);
  return fd;
}

result<opened_state> open_state(config const& cfg, bool with_inbox) {
  if (auto r = processor::prepare_directories(cfg, with_inbox); !r) return unexpected(r.error());
  auto lock = lock_state(cfg.lock_path());
  if (!lock) return unexpected(lock.error());
  auto db = ledger::open(cfg.ledger_path());
  if (!db) return unexpected(db.error());
  opened_state st;
  st.lock_fd = *lock;
  st.db.emplace(std::move(*db));
  return st;
}

result<void> processor::prepare_directories(config const& c, bool with_inbox) {
  std::vector<fs::path> dirs = {c.out, c.state, c.quarantine_dir()};
  if (with_inbox) dirs.push_back(c.inbox);
  if (c.after_success == input_disposal::archive) dirs.push_back(c.archive_dir());
  for (auto const& d : dirs) {
    std::error_code ec;
    fs::create_directories(d, ec);
    if (ec) return unexpected(error(errc::io, fmt::format("cannot create the folder: {}", ec.message())).at(d.string()));
    if (::access(d.c_str(), W_OK | X_OK) != 0) return unexpected(os_failure("the folder is not writable", errno).at(d.string()));
  }
  return {};
}

int processor::watch(bool once, reload_function const& reload) { return impl_->watch(once, reload); }

int processor::batch(std::vector<fs::path> const& files, std::function<void(batch_progress const&)> const& progress) {
  return impl_->batch(files, progress);
}

service_counters const& processor::counters() const noexcept { return impl_->counters; }

std::vector<std::string> processor::bad_inputs() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->bad_inputs;
}
}  // namespace rstx::service
