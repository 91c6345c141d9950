#pragma once
/**
 * @file
 * DMAP writer: records to a file or standard output, plain or compressed.
 *
 * Writing to a path is atomic: records go to a temporary file in the same directory, and
 * `commit()` flushes it to disk and renames it over the final name. A writer destroyed without
 * `commit()` (an error, a crash, an interrupted run) removes its temporary file, so the final
 * name holds either the previous file or the complete new one, never a partial file.
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
};

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
