#pragma once
/**
 * @file
 * The processing service: inbox watching (inotify plus periodic rescans), the ledger-driven queue,
 * a bounded pool of workers each running one job (a child process) at a time, retries with
 * backoff, quarantine, archiving, daily grids, and the signals (SIGHUP reload, SIGTERM/SIGINT
 * drain). `watch` is `rst-processor run`; `batch` runs the same pipeline over given files.
 *
 * Memory does not grow with the number of files waiting: they wait in the ledger, and only
 * `queue_size` of them are held in memory at a time.
 */
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/service/config.hpp"
#include "rstx/service/ledger.hpp"
#include "rstx/service/log.hpp"
#include "rstx/service/metrics.hpp"

namespace rstx::service {

/** Running totals since start (what the metrics endpoint will publish). */
struct service_counters {
  std::atomic<std::int64_t> fit_done{0}, fit_failed{0}, fit_quarantined{0}, fit_duplicate{0}, fit_retried{0};
  std::atomic<std::int64_t> grid_done{0}, grid_failed{0};
  std::atomic<std::int64_t> records_fitted{0}, records_gridded{0};
  std::atomic<std::int64_t> bytes_read{0}, bytes_written{0};
  std::atomic<std::int64_t> in_progress{0}, queue_depth{0};
  std::atomic<double> last_fit_success{0}, last_grid_success{0};
  seconds_histogram fit_seconds, grid_seconds;  ///< per file (hash + job), per daily grid
};

/** Progress of a batch run, reported after each finished file. */
struct batch_progress {
  std::int64_t total = 0, finished = 0;
  std::int64_t bytes_total = 0, bytes_finished = 0;
  double elapsed_seconds = 0;
};

/** Exit statuses of `run --once` and `batch`. */
enum exit_status : int { exit_ok = 0, exit_bad_inputs = 2, exit_io = 3, exit_internal = 4 };

class processor {
 public:
  /** Reads the configuration file again (SIGHUP); empty when the service runs from flags only. */
  using reload_function = std::function<result<config>()>;

  processor(config cfg, ledger& db, logger& log);
  ~processor();
  processor(processor const&) = delete;
  processor& operator=(processor const&) = delete;

  /** Creates the folders the configuration names (inbox, out, state, archive, quarantine). */
  [[nodiscard]] static result<void> prepare_directories(config const& cfg, bool with_inbox);

  /**
   * `run`: watches the inbox until SIGTERM/SIGINT (signals must be blocked in every thread before
   * the call; the processor takes them through a signalfd). With `once`, processes what is in the
   * inbox and returns when that work is finished. Returns an exit status.
   */
  [[nodiscard]] int watch(bool once, reload_function const& reload);

  /** `batch`: the files given (already expanded), resumable through the ledger. */
  [[nodiscard]] int batch(std::vector<std::filesystem::path> const& files,
                          std::function<void(batch_progress const&)> const& progress);

  [[nodiscard]] service_counters const& counters() const noexcept;
  /** Inputs of this run that could not be processed, "path: reason" (for the batch summary). */
  [[nodiscard]] std::vector<std::string> bad_inputs() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/** Holds an exclusive lock on `path` (<state>/lock) for the process's life: one processor per ledger.
 *  Returns the lock's file descriptor, which is left open. */
[[nodiscard]] result<int> lock_state(std::filesystem::path const& path);

/** What a run holds for its life: the state folder's lock and its ledger. */
struct opened_state {
  int lock_fd = -1;
  std::optional<ledger> db;
};

/** Creates the folders, takes the lock and opens the ledger (every error is one of I/O). */
[[nodiscard]] result<opened_state> open_state(config const& cfg, bool with_inbox);

/** Names that transfer tools give files still arriving (rsync's .name.XXXXXX, *.part, *.tmp, *~):
 *  the service never reads them. */
[[nodiscard]] bool temporary_input_name(std::string const& name);

/** Whether another process holds `path` open for writing (a lease probe; false when unknown). */
[[nodiscard]] bool open_for_writing(std::filesystem::path const& path);

/** Whether the file starts like DMAP data or a compressed stream rstx reads (bzip2, gzip, zstd). */
[[nodiscard]] bool looks_like_dmap(std::filesystem::path const& path);

}  // namespace rstx::service
