#pragma once
// Small timing harness shared by the benchmarks: medians of repeated wall-clock runs, of a function
// in this process or of an external command (fork/exec), so that every figure is printed next to a
// baseline measured in the same run.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rstx::bench {

struct timing {
  double median_s = 0.0;
  double min_s = 0.0;
  double max_s = 0.0;
};

[[nodiscard]] timing summarize(std::vector<double> seconds);

/** Runs f() `runs` times after one warm-up run. */
template <class F>
timing time_function(int runs, F&& f) {
  f();
  std::vector<double> s;
  for (int i = 0; i < runs; ++i) {
    auto const t0 = std::chrono::steady_clock::now();
    f();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return summarize(std::move(s));
}

/** Runs a command (argv[0] looked up in PATH) `runs` times after a warm-up, stdout to `out_path`.
 *  Returns a timing with median -1 if the command cannot run or exits non-zero. */
[[nodiscard]] timing time_command(std::vector<std::string> const& argv, int runs, std::string const& out_path = "/dev/null",
                                  std::string const& in_path = "");

/** Peak resident set size of the last finished child (from wait4), in MiB. */
[[nodiscard]] double last_child_peak_rss_mib();

/** One program in an interleaved comparison: its command, where its output goes, its timings. */
struct contender {
  contender(std::string label_, std::vector<std::string> argv_, std::string out = "/dev/null")
      : label(std::move(label_)), argv(std::move(argv_)), out_path(std::move(out)) {}

  std::string label;
  std::vector<std::string> argv;
  std::string out_path = "/dev/null";
  std::vector<double> seconds;
  double peak_rss_mib = 0.0;

  [[nodiscard]] double median() const { return summarize(seconds).median_s; }
  [[nodiscard]] double minimum() const { return summarize(seconds).min_s; }
};

/**
 * Runs the contenders one after the other, `runs` + 1 rounds (round 0 warms the page cache and is
 * not counted), so that a noisy machine hurts every program alike. Returns the label of a program
 * that could not run or failed, or an empty string.
 */
[[nodiscard]] std::string run_interleaved(std::vector<contender>& contenders, int runs);

/** Prints one line per contender (median, minimum, items/s, peak RSS) and, when `baseline` is a
 *  contender's index, each other's speed-up over it (ratio of medians). */
void print_contenders(std::vector<contender> const& contenders, std::int64_t items, std::string const& item_unit,
                      int baseline);

/** Value of --name=VALUE or --name VALUE in argv, or `fallback`. */
[[nodiscard]] std::string option(int argc, char** argv, std::string const& name, std::string const& fallback);

}  // namespace rstx::bench
