#pragma once
// Each `rstx <command>` lives in its own file and registers itself on the CLI11 app.
// A command's callback stores its exit status in `exit_status` (see exit codes in main.cpp).
#include <filesystem>

#include <CLI/CLI.hpp>

#include "rstx/dmap/reader.hpp"

namespace rstx::cli {

/** Exit statuses shared by every rstx program. */
enum exit_code : int { ok = 0, usage = 1, bad_input = 2, io_error = 3, internal = 4, differ = 5 };

/** The folder holding the running rstx (where make_fit and make_grid are installed beside it);
 *  empty when /proc is not there. */
[[nodiscard]] std::filesystem::path own_dir();

/** Adds --max-record-size (bytes, with K/M/G suffixes) to a command that reads DMAP files. */
void add_reader_options(CLI::App* cmd, dmap::reader_options& opt);

/** Calls f(region) for each stretch the reader skipped (recover mode) since the last call. */
template <class F>
void for_new_skips(dmap::reader& rd, F&& f) {
  for (auto const& region : rd.take_skipped()) f(region);
}

void add_dump(CLI::App& app, int& exit_status);
void add_info(CLI::App& app, int& exit_status);
void add_validate(CLI::App& app, int& exit_status);
void add_diff(CLI::App& app, int& exit_status);
void add_convert(CLI::App& app, int& exit_status);
void add_sim(CLI::App& app, int& exit_status);
void add_doctor(CLI::App& app, int& exit_status);
void add_bench(CLI::App& app, int& exit_status);

}  // namespace rstx::cli
