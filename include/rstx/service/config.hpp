#pragma once
/**
 * @file
 * rst-processor's settings: one TOML file (deploy/rst-processor.toml documents every key and its
 * default), overridable by command-line flags. Unknown keys, wrong types and impossible values
 * are errors that name the file, the key and its line; nothing is silently ignored.
 */
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/fit/fit.hpp"

namespace rstx::service {

/** What happens to an input once its products are written. */
enum class input_disposal { archive, keep, remove };
/** Compression of the products. */
enum class product_compression { none, bz2 };

[[nodiscard]] char const* to_string(input_disposal d) noexcept;
[[nodiscard]] char const* to_string(product_compression c) noexcept;

/** `rst-processor slurm`: how the archive's shards are submitted to a Slurm cluster (docs/slurm.md). */
struct slurm_settings {
  int tasks = 4;                   ///< shards, one array task each
  int cpus_per_task = 1;           ///< files processed at once inside one task (and sbatch --cpus-per-task)
  std::string partition;           ///< sbatch --partition; empty: the cluster's default
  std::string account;             ///< sbatch --account; empty: none
  std::string time;                ///< sbatch --time of an array task; empty: the partition's default
  std::string grid_time;           ///< sbatch --time of the grid job; empty: the partition's default
  std::string grid_dependency = "afterany";  ///< afterany (grids of the complete days) or afterok
  std::string setup;               ///< shell lines run first in every job (e.g. "module load rstx")
  std::vector<std::string> sbatch_options;  ///< more sbatch flags for every job, e.g. "--qos=long"
};

struct config {
  // [paths]
  std::filesystem::path inbox;    ///< watched for rawacf files
  std::filesystem::path out;      ///< products (fitacf, grid)
  std::filesystem::path state;    ///< ledger, quarantine, archive (by default)
  std::filesystem::path archive;  ///< processed inputs (input_disposal::archive); empty: <state>/archive
  std::filesystem::path tables;   ///< rstx tables folder; empty: the usual lookup (tables/README.md)

  // [processing]
  int workers = 0;                ///< files processed at once; 0: one per core
  int threads_per_job = 1;        ///< fitting threads inside one file's job
  fit::fit_algorithm algorithm = fit::fit_algorithm::fitacf3;
  std::string backend = "cpu";    ///< FITACF 3.0 on "cpu", "cuda" (a GPU, else the job is retried) or "auto"
  int device = 0;                 ///< CUDA device index for backend cuda/auto
  std::string grid_options = "-xtd";  ///< make_grid's own flags for the daily grids
  bool daily_grids = true;        ///< build one grid per radar (and channel) per UT day
  product_compression compress = product_compression::none;
  input_disposal after_success = input_disposal::archive;

  // [inbox]
  double rescan_seconds = 60;     ///< full rescan period (inotify may be missing or overflow)
  double settle_seconds = 2;      ///< a file is complete once unchanged this long and not open for writing
  double grid_delay_seconds = 30; ///< a day's grid is rebuilt this long after its latest new fitacf

  // [limits]
  double job_timeout_seconds = 1800;     ///< one file's processing; longer is killed and retried
  double shutdown_timeout_seconds = 60;  ///< SIGTERM: running work may finish within this
  int max_attempts = 5;                  ///< transient failures before an input is `failed` (disk full: unlimited)
  double retry_initial_seconds = 10;     ///< first retry delay, doubled each attempt
  double retry_max_seconds = 600;        ///< longest retry delay
  int queue_size = 0;                    ///< files held in memory for the workers; 0: 2 x workers

  // [metrics]
  std::string metrics_listen = "127.0.0.1:9101";  ///< HOST:PORT of /metrics, /healthz, /readyz; empty: none

  // [slurm]
  slurm_settings slurm;

  // Not in the file: set by `rst-processor slurm task` for its shard.
  std::filesystem::path ledger_file;  ///< empty: <state>/ledger.sqlite
  bool defer_grids = false;            ///< record each file's grid key, build no grid (the grid job will)

  // [log]
  std::filesystem::path log_file;  ///< empty: standard error
  std::string log_level = "info";  ///< debug, info, warn, error

  /** Where processed inputs go: `archive`, or <state>/archive. */
  [[nodiscard]] std::filesystem::path archive_dir() const { return archive.empty() ? state / "archive" : archive; }
  [[nodiscard]] std::filesystem::path quarantine_dir() const { return state / "quarantine"; }
  [[nodiscard]] std::filesystem::path ledger_path() const { return ledger_file.empty() ? state / "ledger.sqlite" : ledger_file; }
  /** The lock that keeps a second processor off the same ledger. */
  [[nodiscard]] std::filesystem::path lock_path() const {
    return ledger_file.empty() ? state / "lock" : std::filesystem::path(ledger_file.string() + ".lock");
  }
  [[nodiscard]] int effective_workers() const;
  /** The wait before retrying after `attempts` transient failures: retry_initial_seconds doubled
   *  each further attempt, at most retry_max_seconds. */
  [[nodiscard]] double retry_delay_seconds(int attempts) const;
  [[nodiscard]] int effective_queue_size() const { return queue_size > 0 ? queue_size : 2 * effective_workers(); }
};

/** Checks make_grid flags (the service passes --grid-options through make_grid's own parser). */
using grid_options_check = std::function<result<void>(std::string const&)>;

/**
 * Reads a TOML file over `base` (the defaults). Errors are errc::invalid_argument with the source
 * set to the file and the message naming the key and line, e.g.
 * "rst.toml: line 7: processing.workers: must be an integer from 1 to 1024".
 */
[[nodiscard]] result<config> load_config(std::filesystem::path const& file, config base = {},
                                         grid_options_check const& check_grid = {});

/** Checks a complete configuration (flags applied): values in range, the paths that must be set. */
[[nodiscard]] result<void> validate(config const& c, bool need_inbox, grid_options_check const& check_grid = {});

/** Parses "fitacf3"/"fitacf2" (also "3.0", "2.5"). */
[[nodiscard]] std::optional<fit::fit_algorithm> parse_algorithm(std::string const& s);

/** The configuration as TOML (every key, absolute paths), for `check-config --print`. */
[[nodiscard]] std::string to_toml(config const& c);

}  // namespace rstx::service
