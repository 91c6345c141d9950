#pragma once
// make_grid's command line: RST 5's options (single dash, values after a space) plus rstx's own
// (-o FILE, --threads N, --flush-last, --max-record-size, --aacgm-coeffs, --tables). Options may
// come before or after the input files. See help_text() for the list.
#include <string>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/grid/make_grid.hpp"
#include "rstx/tables/tables.hpp"

namespace rstx::make_grid_cli {

struct cli_options {
  bool help = false;
  bool version = false;
  bool verbose = false;
  std::vector<std::string> inputs;  ///< fitacf files; none or "-": standard input
  std::string output;               ///< -o; empty: standard output
  std::vector<std::string> warnings;  ///< RST's notices for unknown -cn values
  tables::request tables;           ///< --tables, --aacgm-coeffs (tables/README.md)
  grid::make_grid_options run;
};

/** Parses argv[1..]. Errors are errc::invalid_argument (exit status 1). */
[[nodiscard]] result<cli_options> parse_command_line(std::vector<std::string> const& args);

[[nodiscard]] std::string help_text();

}  // namespace rstx::make_grid_cli
