#pragma once
/**
 * @file
 * DMAP writer: records to a file or standard output, plain or compressed.
 *
 * Writing to a path is atomic: records go to a temporary file in the same directory, and
 * `commit()` flushes it to disk and renames it over the final name, so the final name holds either
 * the previous file or the complete new one, never a partial file.
 *
 * - The temporary file is unnamed (Linux O_TMPFILE) where the filesystem allows, so nothing is
 *   left behind whatever ends the process; elsewhere it is a hidden `.NAME.tmp-PID-XXXXXXXX` that a
 *   writer destroyed without `commit()` removes, and that remove_uncommitted_temporaries() removes
 *   from a signal handler.
 * - A symbolic link is followed: the file it leads to is replaced and the link stays a link.
 * - A replaced file's mode and owner carry over to the new one (the owner as far as the process
 *   may set it).
 * - Devices, pipes and sockets are written in place, and so are this process's own descriptors
 *   named as paths (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`): their target keeps its name.
 */
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "rstx/core/error.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/record.hpp"

namespace rstx::dmap {

struct writer_options {
  compression comp = compression::none;
  int level = 9;  ///< compression level (bzip2 1..9, gzip 1..9, zstd 1..19)
  /** Use an unnamed temporary file where the filesystem supports it (false: always a named one). */
  bool anonymous_temporary = true;
  /**
   * Threads that compress: bzip2 blocks compressed in parallel and joined into one standard stream,
   * byte-identical to the single-threaded output (and to `bzip2 -LEVEL`); zstd with libzstd's own
   * workers (its frames then differ from the single-threaded ones, not their content). gzip uses
   * one. 0 means one per core.
   */
  int threads = 1;
};

/**
 * Removes the named temporary files of every writer not yet committed. Async-signal-safe: meant for
 * a SIGINT/SIGTERM handler that then ends the process (up to 64 writers at a time are covered).
 */
void remove_uncommitted_temporaries() noexcept;

/** The compression implied by a file name's suffix (.bz2, .gz, .zst), else none. */
[[nodiscard]] compression compression_for_path(std::string_view path) noexcept;

class writer {
 public:
  /** Creates a writer to `path` (atomic, see above); "-" writes to standard output. */
  [[nodiscard]] static result<writer> create(std::string const& path, writer_options const& opt = {});
  /** Writes to an open descriptor (not closed, not atomic). `name` is used in errors. */
  [[nodiscard]] static result<writer> to_fd(int fd, std::string name, writer_options const& opt = {});

  writer(writer&&) noexcept;
  writer& operator=(writer&&) noexcept;
  /** Without commit(): discards the temporary file. */
  ~writer();

  [[nodiscard]] result<void> write(record const& r);
  /** Writes already-encoded bytes. */
  [[nodiscard]] result<void> write_bytes(std::span<std::byte const> bytes);
  /** Finishes the stream; for a path, syncs the file and renames it to its final name. */
  [[nodiscard]] result<void> commit();

  [[nodiscard]] std::int64_t records_written() const noexcept;
  [[nodiscard]] std::string const& target_name() const noexcept;

 private:
  struct impl;
  explicit writer(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace rstx::dmap
