#pragma once
// rstx bench: the daily benchmark (bench_run.cpp), its history and regression check
// (bench_history.cpp) and its trend plots (bench_trends.cpp + bench_trends.py).
//
// One run is one JSON object (docs/bench.md describes every key). Its top-level keys include the
// operations guide's five, as the guide names them: date (ISO 8601, UTC), fitacf_time and
// grid_time (seconds), cuda_speedup (a ratio, or null with cuda_speedup_reason), memory_usage (MiB).
// A history is a JSON-lines file of such objects, oldest first.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "rstx/core/error.hpp"

namespace rstx::cli::bench {

/** Schema name written into every run, so that a later format can be told apart. */
inline constexpr char const* schema = "rstx.bench/1";

/** One readable line of a history file: where it was, and the run it holds. */
struct history_entry {
  std::size_t line = 0;  ///< 1-based line number in the file
  nlohmann::json run;
};

/** A history file's runs; damaged lines are skipped and described in `warnings`. */
struct history {
  std::vector<history_entry> entries;
  std::vector<std::string> warnings;
};

/**
 * Reads a JSON-lines history. A line that is not a JSON object with this schema's keys (a torn
 * write, a hand edit) is skipped with a warning naming the file and line, never fatal.
 * Errors: errc::io when the file cannot be read.
 */
[[nodiscard]] result<history> read_history(std::filesystem::path const& path);

/**
 * Appends one run as one line, atomically: under an exclusive lock on the history's folder the
 * old content plus the new line is written to a temporary file that replaces the history, so a
 * crash leaves the old history or the new one, and two runs appending at once both land.
 */
[[nodiscard]] result<void> append_history(std::filesystem::path const& path, nlohmann::json const& run);

/** The median of `v` (0 when empty). */
[[nodiscard]] double median_of(std::vector<double> v);

/** The figures node_exporter's textfile collector reads (rst_benchmark_*), from one run. */
[[nodiscard]] std::string prometheus_textfile(nlohmann::json const& run);

}  // namespace rstx::cli::bench
