#pragma once
// Locations of test inputs: the shared reference data (read in place, never copied) and
// scratch directories for files a test writes.
#include <filesystem>
#include <string>
#include <vector>

namespace rstx::test {

/** ../shared beside the repository (RSTX_SHARED overrides it). */
[[nodiscard]] std::filesystem::path shared_dir();
/** A file under shared/, e.g. shared_path("data/real/test.rawacf"). */
[[nodiscard]] std::filesystem::path shared_path(std::string const& relative);
/** A file or folder of rstx's own tables (the repository's tables/; "" for the folder itself). */
[[nodiscard]] std::filesystem::path tables_path(std::string const& relative);
/** Every DMAP file (plain or .bz2) under shared/data, sorted. */
[[nodiscard]] std::vector<std::filesystem::path> shared_dmap_files();
/** Directory of the built programs (build/bin). */
[[nodiscard]] std::filesystem::path bin_dir();
/** A fresh, empty directory for this test (removed and recreated on each call with the same name). */
[[nodiscard]] std::filesystem::path scratch_dir(std::string const& name);
/** Whole file as bytes. */
[[nodiscard]] std::vector<std::byte> read_bytes(std::filesystem::path const& p);
void write_bytes(std::filesystem::path const& p, std::vector<std::byte> const& bytes);
/** Output of `bzip2 -dc` / decompression of a .bz2 file into memory, via the system tool. */
[[nodiscard]] std::vector<std::byte> decompressed_bytes(std::filesystem::path const& p);
/** `p` in single quotes, for a shell command. */
[[nodiscard]] std::string quoted(std::filesystem::path const& p);
/** A shell command prefix pointing RST's table variables (SD_RADAR, SD_HDWPATH, SD_TDIFFPATH,
 *  AACGM_v2_DAT_PREFIX, IGRF_PATH) at rstx's own tables (tables_path), so that a run does not
 *  depend on what the environment of the tests holds. */
[[nodiscard]] std::string table_environment();
/** Runs a shell command; returns its exit status and captures stdout (and stderr if asked). */
struct run_result {
  int status = -1;
  std::string out;
};
[[nodiscard]] run_result run(std::string const& command);

}  // namespace rstx::test
