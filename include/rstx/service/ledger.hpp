#pragma once
/**
 * @file
 * The ledger: what rst-processor has seen and done, one SQLite database (WAL mode, synchronous
 * FULL) in the state folder. One row per input file version (path, size, mtime, sha256) with its
 * state, attempts, products and timings; one row per daily grid. Every change is one transaction,
 * so after a crash (kill -9, power cut) the ledger holds either the old or the new state of a
 * row, never half of it; products are written before their row says `done`, inputs are moved
 * after, and the service repairs the gap either way at start-up.
 *
 * Thread-safe: one connection, one mutex. Other processes (`rst-processor status`) read it
 * concurrently thanks to WAL.
 */
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rstx/core/error.hpp"

struct sqlite3;

namespace rstx::service {

enum class input_state { queued, running, done, failed, quarantined, duplicate };
[[nodiscard]] char const* to_string(input_state s) noexcept;
[[nodiscard]] std::optional<input_state> parse_input_state(std::string const& s) noexcept;

struct input_row {
  std::int64_t id = 0;
  std::string path;            ///< where the file was found
  std::int64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string sha256;          ///< of the input's bytes as found (empty until hashed)
  input_state state = input_state::queued;
  int attempts = 0;
  double next_attempt = 0;     ///< epoch seconds: not before
  std::string algorithm;       ///< e.g. "fitacf3"
  std::string options;         ///< the settings that shape the product (compression)
  std::string grid_key;        ///< YYYYMMDD.rad[.chn]
  std::string output;          ///< the fitacf product
  std::int64_t output_size = 0;
  std::string output_sha256;
  std::int64_t records_in = 0, records_out = 0, records_skipped = 0;
  double hash_seconds = 0, process_seconds = 0;
  std::string error;           ///< last error, one line
  std::int64_t error_record = -1, error_offset = -1;
  std::string moved_to;        ///< archive or quarantine path, when moved
  double discovered = 0, started = 0, finished = 0;
};

enum class grid_state { pending, running, done, failed };
[[nodiscard]] char const* to_string(grid_state s) noexcept;

struct grid_row {
  std::string key;             ///< YYYYMMDD.rad[.chn]
  grid_state state = grid_state::pending;
  std::int64_t requested = 0;  ///< bumped by each new fitacf of the day
  std::int64_t built = 0;      ///< the `requested` value the current product was built from
  double due = 0;              ///< epoch seconds: not before (debounce)
  int attempts = 0;
  std::string output;
  std::int64_t output_size = 0;
  std::string output_sha256;
  std::int64_t inputs = 0, records = 0;
  double seconds = 0, finished = 0;
  std::string error;
};

/** What `status` prints. */
struct ledger_summary {
  std::vector<std::pair<std::string, std::int64_t>> inputs_by_state;
  std::vector<std::pair<std::string, std::int64_t>> grids_by_state;
  std::vector<input_row> last_done, last_failed;   ///< latest few of each
  std::int64_t bytes_done = 0;                     ///< input bytes processed (done)
  double busy_seconds = 0;                         ///< sum of processing time (done)
  double first_finished = 0, last_finished = 0;
};

class ledger {
 public:
  /** Opens (creating when `create`) the database and its schema. */
  [[nodiscard]] static result<ledger> open(std::filesystem::path const& file, bool create = true);
  ledger(ledger&&) noexcept;
  ledger& operator=(ledger&&) noexcept;
  ~ledger();

  [[nodiscard]] std::filesystem::path const& path() const noexcept { return path_; }

  /** Start-up repair: `running` rows go back to `queued` (their work was cut off), `failed` rows are
   *  given another round of attempts, and running grids become pending. Returns the rows re-queued. */
  [[nodiscard]] result<std::int64_t> recover();

  /** The latest row for this exact file version, if any. */
  [[nodiscard]] result<std::optional<input_row>> find_file(std::string const& path, std::int64_t size, std::int64_t mtime_ns);
  /** The latest row for this path whatever its version. */
  [[nodiscard]] result<std::optional<input_row>> find_path(std::string const& path);
  [[nodiscard]] result<std::int64_t> add_queued(std::string const& path, std::int64_t size, std::int64_t mtime_ns, double now);
  /** Queued rows due by `now`, oldest first, skipping ids in `busy`. */
  [[nodiscard]] result<std::vector<input_row>> next_queued(double now, int limit, std::vector<std::int64_t> const& busy);
  [[nodiscard]] result<std::int64_t> count(input_state s);
  /** Seconds until the earliest queued row not yet due becomes due (nullopt: none). Rows already
   *  due are not counted: they are dispatched now, or wait for a free worker. */
  [[nodiscard]] result<std::optional<double>> next_due(double now);

  /** Adds many files in one transaction (batch mode, rescans); returns how many were added. */
  struct new_file {
    std::string path;
    std::int64_t size = 0, mtime_ns = 0;
    std::string grid_key;  ///< from a SuperDARN name, so that its day's grid waits for it
  };
  [[nodiscard]] result<std::int64_t> add_queued(std::vector<new_file> const& files, double now);
  [[nodiscard]] result<void> mark_running(std::int64_t id, double now);
  /**
   * Claims `row`'s content (sha256 + algorithm + options) for processing, atomically: when another
   * row with the same content is done or running it is returned and nothing changes; otherwise the
   * row's sha256, algorithm and options are stored and nullopt returned. Two copies of one file
   * processed at once therefore cannot both proceed.
   */
  [[nodiscard]] result<std::optional<input_row>> claim_content(input_row const& row);
  /** Updates the size and mtime of a row whose file changed after discovery, back to queued. */
  [[nodiscard]] result<void> requeue_changed(std::int64_t id, std::int64_t size, std::int64_t mtime_ns, double not_before);
  /** Marks `row` done (all its fields) and, when it has a grid key, requests its day's grid for `grid_due`. */
  [[nodiscard]] result<void> mark_done(input_row const& row, std::optional<double> grid_due);
  [[nodiscard]] result<void> mark_duplicate(input_row const& row);
  [[nodiscard]] result<void> mark_quarantined(input_row const& row);
  /** Back to queued, not before `next_attempt`; attempts as in the row. */
  [[nodiscard]] result<void> mark_retry(input_row const& row);
  [[nodiscard]] result<void> mark_failed(input_row const& row);
  [[nodiscard]] result<void> set_moved(std::int64_t id, std::string const& moved_to);
  /** Back to queued without counting an attempt (work abandoned at shutdown). */
  [[nodiscard]] result<void> requeue(std::int64_t id);

  // Daily grids.
  /** Grids whose requested > built and that are due (or every such grid when `ignore_due`). */
  [[nodiscard]] result<std::vector<grid_row>> due_grids(double now, bool ignore_due);
  /** Whether inputs of this grid key are still queued or running. */
  [[nodiscard]] result<bool> grid_inputs_pending(std::string const& key);
  /** The products of the day's done inputs, sorted by file name. */
  [[nodiscard]] result<std::vector<std::string>> grid_inputs(std::string const& key);
  [[nodiscard]] result<void> mark_grid_running(std::string const& key);
  /** Records a grid built from request number `built`. */
  [[nodiscard]] result<void> mark_grid_done(grid_row const& row);
  [[nodiscard]] result<void> mark_grid_failed(grid_row const& row);
  /** When the earliest pending grid not yet due becomes due (epoch seconds; nullopt: none). */
  [[nodiscard]] result<std::optional<double>> next_grid_due(double now);

  // Reports.
  /** Input rows per state (every state listed, zeros included). */
  [[nodiscard]] result<std::vector<std::pair<std::string, std::int64_t>>> counts_by_state();
  /** SQLite's quick_check: "ok", or what is damaged. */
  [[nodiscard]] result<std::string> quick_check();
  /** Whether a write transaction can be started (and is rolled back at once). */
  [[nodiscard]] result<void> check_writable();
  [[nodiscard]] result<ledger_summary> summary(int last_n = 5);
  [[nodiscard]] result<std::vector<input_row>> list(std::optional<input_state> only);
  [[nodiscard]] result<std::vector<grid_row>> list_grids();

 private:
  ledger() = default;
  struct statement;
  result<void> exec(char const* sql);
  result<void> write_row(input_row const& row);
  result<void> write_state(input_row const& row, input_state state);
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<std::mutex> mutex_;
};

}  // namespace rstx::service
