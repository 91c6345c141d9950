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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rstx/core/error.hpp"
#include "rstx/service/config.hpp"
#include "rstx/service/log.hpp"
#include "rstx/service/processor.hpp"

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

// ---- the steps of `rst-processor slurm` (src/service/slurm_run.cpp) ----------------------------

/** The files of a submission, with their sizes and radar-days. */
struct planned_inputs {
  std::vector<planned_file> files;
  std::vector<std::string> problems;  ///< "path: reason" for each path that is not a readable regular file
};
/** Makes each path absolute and reads its size; its radar-day comes from its name. */
[[nodiscard]] planned_inputs plan_inputs(std::vector<std::filesystem::path> const& paths);

/** The plan of `files` in at most `tasks` shards, created now. */
[[nodiscard]] manifest plan_shards(std::vector<planned_file> files, int tasks);

/** Creates the state folder's folders (those of the settings, then slurm/, shards/, logs/). */
[[nodiscard]] result<void> prepare_state(config const& cfg);
/** Writes the settings every task and the grid job will run with (slurm/config.toml). */
[[nodiscard]] result<void> save_config(config const& cfg);
/** The settings a submission saved, for its tasks, grid job and resubmissions (state: that folder). */
[[nodiscard]] result<config> saved_config(std::filesystem::path const& state, grid_options_check const& check_grid = {});

/** One submission before it is made: the scripts, and which jobs it has. */
struct submission_plan {
  script_request request;   ///< request.array: the shards' sbatch --array
  std::vector<int> shards;  ///< the array job's tasks; none: no array job
  bool grids = false;       ///< whether a grid job follows
  std::string array_text, grid_text;
};
[[nodiscard]] submission_plan plan_submission(std::string program, std::filesystem::path const& state, config const& cfg,
                                              std::vector<int> shards, bool grids);

/** What a submission did. */
struct submit_outcome {
  submission record;                ///< the jobs that went in (appended to jobs.json)
  std::optional<error> grid_error;  ///< the grid job could not be submitted (the array job was)
  std::optional<error> record_error;  ///< jobs.json could not be written
};
/** Writes the scripts (slurm/submit-N-array.sh, -grid.sh) and hands them to sbatch, the grid job
 *  depending on the array job; records the submission. An error: nothing was submitted. */
[[nodiscard]] result<submit_outcome> submit(submission_plan const& plan);

/** What Slurm tells a job step through its environment. */
struct job_environment {
  std::optional<int> array_task_id;  ///< SLURM_ARRAY_TASK_ID
  int cpus_per_task = 0;             ///< SLURM_CPUS_PER_TASK; 0 when not given
  std::string job_id;                ///< SLURM_JOB_ID
};
/** This process's environment. */
[[nodiscard]] job_environment environment();
/** Files processed at once in a task, grid jobs at once in the grid step: Slurm's CPUs, else [slurm] cpus_per_task. */
[[nodiscard]] int workers(config const& cfg, job_environment const& env);

/** One shard's work, planned from the state folder; its settings are the task's own (ledger, log, workers). */
struct task_plan {
  config cfg;
  int shard = 0;
  std::vector<std::filesystem::path> files;
  std::string job;  ///< the Slurm job id, "" outside a job
};
/** The task of shard `shard` (which the plan `m` has) with the saved settings `cfg`. */
[[nodiscard]] task_plan plan_task(config cfg, manifest const& m, int shard, job_environment const& env);

/** A task ready to run: its log open, its ledger open and locked. */
struct task {
  task_plan plan;
  std::unique_ptr<logger> log;
  opened_state state;
};
/** Creates the task's folders, opens its log and its ledger (every error is one of I/O; the last is logged too). */
[[nodiscard]] result<task> open_task(task_plan plan);
/**
 * Processes the shard's files through the batch pipeline (signals must be blocked as for
 * processor::batch). Returns its exit status, 0 when nothing is left to do: quarantined inputs
 * are an outcome recorded in the ledger.
 */
[[nodiscard]] int run_task(task& t);

/** The grid step: takes the grid lock, opens logs/grid.log and builds the grids (build_grids).
 *  Errors: the log or the lock (I/O). */
[[nodiscard]] result<grid_step_result> run_grid_step(config const& cfg, job_environment const& env);

// ---- the merged status ----------------------------------------------------------------------

/** Files and bytes of a group of planned files, and how many of them are in each state. */
struct state_counts {
  std::int64_t done = 0, duplicate = 0, quarantined = 0, failed = 0, running = 0, missing = 0;
  std::int64_t files = 0, bytes = 0;
  void add(file_outcome const& f);
  /** The count of a state ("done", ..., "missing"). */
  [[nodiscard]] std::int64_t of(std::string const& state) const;
};
/** The states a planned file can be in, in the order they are shown. */
[[nodiscard]] std::vector<std::string> const& outcome_states();

struct file_note {
  std::string path;
  int shard = 0;
  std::string state;  ///< unfinished files only
  std::string error;
};

struct throughput_summary {
  std::int64_t bytes_done = 0;
  double busy_seconds = 0, mb_per_core_hour = 0, files_per_core_hour = 0, files_per_hour = 0;
  double first_finished = 0, last_finished = 0;
};

/** `slurm status`: the shard ledgers merged, the grids built, the jobs and Slurm's view of them. */
struct status_report {
  std::filesystem::path state_dir;
  std::size_t shards = 0;
  state_counts inputs;
  std::map<std::string, state_counts> per_radar, per_day;  ///< "unknown" for names that are not SuperDARN's
  std::vector<state_counts> per_shard;
  std::vector<std::string> problems;  ///< shard ledgers that could not be read
  std::vector<file_note> unfinished, quarantined;
  std::map<std::string, int> grids;   ///< grids.json's entries by state (done and failed always there)
  throughput_summary throughput;
  std::vector<submission> submissions;
  std::optional<std::map<std::string, std::string>> scheduler;  ///< job -> Slurm state; none when Slurm could not be asked
  std::string scheduler_error;
  bool active = false;    ///< a job of this folder may still run
  bool complete = false;  ///< every file finished, no grid failed
};
/** Merges the state folder's plan, shard ledgers, grids.json and jobs.json, and asks Slurm (scheduler_states). */
[[nodiscard]] result<status_report> status(std::filesystem::path const& state);
/** The same from what was read already, with Slurm's states given (the part testable without Slurm). */
[[nodiscard]] status_report summarize(std::filesystem::path const& state, manifest const& m, merged_view const& v, nlohmann::json const& grids,
                                      std::vector<submission> const& subs,
                                      result<std::map<std::string, std::string>> const& scheduler);
/** `slurm status --json`. */
[[nodiscard]] nlohmann::json to_json(status_report const& r);

/** What `slurm resubmit` would submit. */
struct resubmission {
  std::vector<std::pair<std::string, std::string>> active_jobs;  ///< jobs still queued or running (then nothing may be submitted)
  std::vector<int> shards;          ///< shards with files not done
  std::size_t unfinished_files = 0;
  bool grids = false;               ///< a grid job is needed (some work left, a failed grid, a day without its grid)
  [[nodiscard]] bool nothing() const { return shards.empty() && !grids; }
};
/** Decides from the merged status; `daily_grids`: the saved settings' [grids]. */
[[nodiscard]] result<resubmission> plan_resubmission(std::filesystem::path const& state, bool daily_grids);
/** The same from a status report and the grids recorded. */
[[nodiscard]] resubmission plan_resubmission(status_report const& r, merged_view const& v, nlohmann::json const& grids, bool daily_grids);

}  // namespace rstx::service::slurm
