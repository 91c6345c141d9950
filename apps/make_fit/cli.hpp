#pragma once
// make_fit's command line: RST's single-dash long options (-fitacf3, -vb, -tdiff 1.5,
// -fitacf-version 3.0, ...) plus rstx's own (-o FILE, --threads N, --backend B, --strict,
// --tables DIR). Every option is accepted with one or two dashes and as --name=value, before or
// after the input file (rst_options.hpp).
#include <optional>
#include <string>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/fit/batch.hpp"

namespace rstx::make_fit {

enum class backend_choice { cpu, cuda, automatic };

struct cli_options {
  bool help = false;
  bool version = false;
  bool verbose = false;        ///< -vb: one line per record on stderr
  bool old_elevation = false;  ///< -old_elev
  bool strict = false;         ///< --strict: an unfittable record is fatal instead of skipped
  std::vector<fit::fit_algorithm> algorithms;  ///< every algorithm flag given, in order
  std::optional<double> tdiff_us;     ///< -tdiff
  std::optional<int> tdiff_method;    ///< -tdiff_method
  std::string input;                  ///< empty or "-": standard input
  std::string output;                 ///< -o; empty: standard output
  int threads = 0;                    ///< --threads; 0: all hardware threads
  std::optional<std::size_t> max_record_bytes;  ///< --max-record-size
  std::string tables_dir;             ///< --tables DIR
  backend_choice backend = backend_choice::automatic;
  bool backend_given = false;         ///< --backend was on the command line
  int device = 0;                     ///< --device N: CUDA device index
};

/** Parses argv[1..]. Errors are errc::invalid_argument (exit status 1) with RST-like messages. */
[[nodiscard]] result<cli_options> parse_command_line(std::vector<std::string> const& args);

/** The --help text. */
[[nodiscard]] std::string help_text();

}  // namespace rstx::make_fit
