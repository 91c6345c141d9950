#pragma once
/**
 * @file
 * One unit of the service's work (fit one rawacf file, or build one day's grid), run in a child
 * process of rst-processor (`rst-processor _job`, request and result as JSON on its standard input
 * and output). A child per job is what makes a per-file timeout enforceable (the child is killed),
 * keeps one file's crash or memory blow-up from touching the others, and lets a job's file-size
 * limit apply to it alone. Products are written atomically by the child (dmap::writer), so a
 * killed job leaves no file under a final name.
 */
#include <atomic>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rstx/core/error.hpp"

namespace rstx::service {

/** How a failed job should be treated. */
enum class failure_kind {
  permanent,  ///< the input itself is bad (corrupt, not rawacf, unknown station): quarantine
  transient,  ///< the system is (disk full, I/O error, tables missing, timeout, crash): retry later
};

struct job_failure {
  failure_kind kind = failure_kind::transient;
  error reason;
  bool disk_full = false;  ///< ENOSPC/EDQUOT/EFBIG: retried without limit, the file stays queued
};

/** Runs a request in this process (the `_job` side). Never throws; failures are in the JSON. */
[[nodiscard]] nlohmann::json run_job(nlohmann::json const& request);

/** Runs `run_job(request)` in a child process of this executable, killed after `timeout_s` or when
 *  `abort` becomes true. Returns the child's JSON result, or a transient failure (timeout, crash). */
[[nodiscard]] nlohmann::json run_job_in_child(nlohmann::json const& request, double timeout_s,
                                              std::atomic<bool> const* abort = nullptr);

/** Where this executable is, for systems without /proc (call once at start-up, before any job). */
void set_job_executable(std::string path);

/** Reads the failure out of a job's JSON result (nullopt when it succeeded). */
[[nodiscard]] std::optional<job_failure> job_failed(nlohmann::json const& result);

/** SHA-256 of a file's bytes, in lower-case hex. */
[[nodiscard]] result<std::string> sha256_file(std::filesystem::path const& p);

}  // namespace rstx::service
