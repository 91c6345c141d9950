#pragma once
/**
 * @file
 * Small whole-file writes that a crash can never leave half done: the text goes to a temporary
 * file in the same directory, is fsynced, renamed over the target, and the directory is fsynced.
 * Readers see the old content or the new, never a mixture.
 */
#include <filesystem>
#include <string>

#include "rstx/core/error.hpp"

namespace rstx {

/** Writes `text` to `path` atomically (see above). Errors: errc::io naming the path and errno. */
[[nodiscard]] result<void> write_file_atomically(std::filesystem::path const& path, std::string const& text);

/** fsyncs a directory, so that a rename or a new entry in it survives a crash (best effort). */
void fsync_directory(std::filesystem::path const& dir) noexcept;

}  // namespace rstx
