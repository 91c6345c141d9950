#pragma once
/**
 * @file
 * `rst-processor slurm`: the batch pipeline over an archive split into shards, one Slurm array task
 * per shard, followed by one job that builds the daily grids (docs/slurm.md).
 *
 * The state folder (on the cluster's shared filesystem) holds:
 *   slurm/manifest.json       the plan, written once: every file, its size and its shard
 *   slurm/config.toml         the settings every task and the grid job run with
 *   slurm/jobs.json           the submissions (array and grid job ids, shards submitted)
 *   slurm/grids.json          the daily grids built, and from which fitacf files
 *   shards/shard-NNNN.sqlite  each task's own ledger (SQLite is never shared between nodes)
 *   logs/task-NNNN.log        each task's JSON log; logs/grid.log the grid job's
 * A shard's ledger is the batch mode's: a task that is run again skips the files it finished.
 */
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rstx/core/error.hpp"
#include "rstx/service/config.hpp"
#include "rstx/service/log.hpp"

namespace rstx::service::slurm {

// ---- the plan ---------------------------------------------------------------------------------

struct planned_file {
  std::string path;       ///< absolute
  std::int64_t size = 0;
  std::string group;      ///< the radar-day ("YYYYMMDD.rad[.chn]") from the name; "" when not a SuperDARN name
};

struct shard {
  int index = 0;
  std::int64_t bytes = 0;
  std::vector<planned_file> files;  ///< sorted by path
};

/**
 * Splits files into at most `n` shards, deterministically (the same list gives the same plan in any
 * order): files of one radar-day stay together and whole days are dealt largest first to the
 * lightest shard. When there are fewer days than shards, the largest days are split into single
 * files until every shard can get work. Empty shards are left out, so there are
 * min(n, files) shards, numbered from 0.
 */
[[nodiscard]] std::vector<shard> split(std::vector<planned_file> files, int n);

struct manifest {
  int version = 1;
  double created = 0;  ///< epoch seconds
  std::vector<shard> shards;
  [[nodiscard]] std::int64_t file_count() const;
};

[[nodiscard]] std::filesystem::path manifest_path(std::filesystem::path const& state);
[[nodiscard]] std::filesystem::path config_path(std::filesystem::path const& state);
[[nodiscard]] std::filesystem::path jobs_path(std::filesystem::path const& state);
[[nodiscard]] std::filesystem::path grids_path(std::filesystem::path const& state);
[[nodiscard]] std::filesystem::path shard_ledger_path(std::filesystem::path const& state, int index);
[[nodiscard]] std::filesystem::path task_log_path(std::filesystem::path const& state, int index);
[[nodiscard]] std::filesystem::path grid_log_path(std::filesystem::path const& state);

[[nodiscard]] nlohmann::json to_json(manifest const& m);
[[nodiscard]] result<manifest> manifest_from_json(nlohmann::json const& j);
/** Writes the plan atomically; fails when one exists already (a plan is written once). */
[[nodiscard]] result<void> write_manifest(std::filesystem::path const& state, manifest const& m);
[[nodiscard]] result<manifest> read_manifest(std::filesystem::path const& state);

// ---- batch scripts and sbatch ---------------------------------------------------------------

struct script_request {
  std::string program;              ///< rst-processor's absolute path
  std::filesystem::path state;
  slurm_settings settings;
  std::string array;                ///< "0-3" or "1,3": the shards of this submission
  std::string name = "rstx";        ///< job name prefix
};

/** The array job's script: each task runs `rst-processor slurm task` on its shard. */
[[nodiscard]] std::string array_script(script_request const& r);
/** The grid job's script: `rst-processor slurm grid` (its dependency is given to sbatch). */
[[nodiscard]] std::string grid_script(script_request const& r);

/** Output of a command run without a shell. */
struct command_output {
  int status = -1;  ///< exit status; 128+signal when killed
  std::string out, err;
};
/** Runs argv[0] (searched in PATH) with its standard input empty; errors only when it cannot start. */
[[nodiscard]] result<command_output> run_command(std::vector<std::string> const& argv);

/** `sbatch --parsable [extra] script`; returns the job id. Errors carry sbatch's message. */
[[nodiscard]] result<std::string> sbatch(std::filesystem::path const& script, std::vector<std::string> const& extra);

/** One submission: which shards went in which array, and the grid job after it. */
struct submission {
  double submitted = 0;
  std::string array_job;  ///< "" when no shard needed work
  std::string grid_job;
  std::vector<int> shards;
};
[[nodiscard]] result<std::vector<submission>> read_submissions(std::filesystem::path const& state);
[[nodiscard]] result<void> append_submission(std::filesystem::path const& state, submission const& s);

/** "0-3" / "1,3,5-7" for sbatch --array. */
[[nodiscard]] std::string array_spec(std::vector<int> const& shards);

/** Slurm's state of each job and array task ("123_4" -> "COMPLETED"), from `sacct` when accounting
 *  is there, else `scontrol show job` (which knows jobs up to MinJobAge after they end). Jobs
 *  neither knows are left out; an error only when neither command could run. */
[[nodiscard]] result<std::map<std::string, std::string>> scheduler_states(std::vector<std::string> const& jobs);
/** Whether a Slurm state means the job may still run (PENDING, RUNNING, ...). */
[[nodiscard]] bool active_state(std::string const& s);

// ---- merged view of the shard ledgers -------------------------------------------------------

/** What became of one planned file, from its shard's ledger. */
struct file_outcome {
  planned_file file;
  int shard = 0;
  std::string state = "missing";  ///< done, duplicate, quarantined, failed, missing (no row, queued or running)
  std::string output;             ///< the fitacf product (done)
  std::string output_sha256;
  std::string grid_key;           ///< from the file's content (done), else its name's radar-day
  std::string error;
  double seconds = 0;             ///< hashing + fitting
  double finished = 0;
};

struct merged_view {
  std::vector<file_outcome> files;  ///< in plan order (shard, then path)
  std::vector<std::string> problems;  ///< shard ledgers that could not be read
};

/** Reads every shard's ledger (read-only) and matches its rows to the plan's files. */
[[nodiscard]] result<merged_view> merge(std::filesystem::path const& state, manifest const& m);

/** Whether a file needs another run (missing, queued, running, failed). */
[[nodiscard]] bool unfinished(file_outcome const& f);

// ---- the grid job ---------------------------------------------------------------------------

/** What the grid step did. */
struct grid_step_result {
  int built = 0, kept = 0, failed = 0, waiting = 0;  ///< waiting: days with files not yet processed
  int exit_status = 0;
};

/**
 * Builds the daily grid of every radar-day whose files are all finished, from the done fitacf files
 * of every shard (sorted by name, like batch mode), with `workers` grid jobs at once. A grid whose
 * inputs (names and SHA-256) equal those recorded in grids.json and whose product is there is kept,
 * not rebuilt. Records each grid in grids.json (atomically, as it goes).
 */
[[nodiscard]] grid_step_result build_grids(std::filesystem::path const& state, config const& cfg, logger& log, int workers);

/** grids.json's content ({} when absent). */
[[nodiscard]] result<nlohmann::json> read_grids(std::filesystem::path const& state);

}  // namespace rstx::service::slurm
