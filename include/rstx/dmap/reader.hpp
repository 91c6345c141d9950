#pragma once
/**
 * @file
 * Streaming DMAP reader: one record at a time from a file, stdin or memory, plain or compressed
 * (bzip2, gzip, zstd; detected from the first bytes, never from the file name).
 *
 * Memory stays bounded whatever the input size or damage: the reader holds one read window and
 * one record, a record's declared size is capped by `reader_options::max_record_bytes` before
 * anything is allocated for it, the window shrinks back after a large record, and the list of
 * skipped stretches is capped. Time stays linear: in recover mode each candidate record is
 * checked where it lies, field by field as its bytes arrive, and copied only once it is valid.
 *
 * Errors name the source, the 0-based index of the record and the byte offset in the
 * decompressed stream. In recover mode a damaged stretch is skipped instead: the reader looks for
 * the next offset where a complete, valid record starts, reports the skipped stretch through
 * `skipped()` and carries on.
 */
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/dmap/record.hpp"

namespace rstx::dmap {

namespace detail {
class byte_source;
}

enum class compression : std::uint8_t { none, bzip2, gzip, zstd };

[[nodiscard]] std::string_view to_string(compression c) noexcept;

/** Compression recognised from the first bytes of a stream (needs up to 4 bytes). */
[[nodiscard]] compression detect_compression(std::span<std::byte const> head) noexcept;

struct reader_options {
  /**
   * Largest record accepted, in bytes. RST's products are at most a few hundred kB per record (a
   * rawacf record of 300 ranges and 100 lags is under 0.5 MB); the limit also bounds what the
   * reader holds in memory, about twice this at worst.
   */
  std::size_t max_record_bytes = std::size_t{8} << 20;
  /** Skip damaged stretches and resynchronise on the next valid record instead of failing. */
  bool recover = false;
  /** An input with no records at all is an error (otherwise it is an empty, valid stream). */
  bool reject_empty = false;
  /** Skipped stretches kept for `skipped()` until taken; beyond this they are only counted. */
  std::size_t max_pending_skips = 1000;
  /**
   * Threads that decompress a bzip2 input, block by block, ahead of the records being read
   * (detail/bzip2_parallel.hpp); 0 means one per core. 1 decodes in the calling thread, as
   * libbz2 streams it. The bytes delivered are the same for every value; so are the errors.
   */
  int threads = 1;
  /** Test hook for the parallel bzip2 decoder: extra cut points (bit offsets) inside its blocks. */
  std::vector<std::int64_t> bzip2_forced_cuts = {};
};

/** A stretch of input skipped in recover mode. */
struct skipped_region {
  std::int64_t offset = 0;       ///< decompressed byte offset where the damage starts
  std::int64_t length = 0;       ///< bytes skipped
  std::int64_t next_record = 0;  ///< index that the next good record received (records before it: all good)
  error reason;                  ///< why the record at `offset` could not be read
};

/** Every stretch skipped so far in recover mode, whether or not its details were kept. */
struct skip_totals {
  std::int64_t stretches = 0;
  std::int64_t bytes = 0;
  std::int64_t dropped = 0;  ///< stretches whose details were not kept (max_pending_skips reached)
};

class reader {
 public:
  /** Opens a file; "-" reads standard input. */
  [[nodiscard]] static result<reader> open(std::string const& path, reader_options const& opt = {});
  /** Reads from an open descriptor (not closed by the reader). `name` is used in errors. */
  [[nodiscard]] static result<reader> from_fd(int fd, std::string name, reader_options const& opt = {});
  /** Reads from bytes in memory (not copied; they must outlive the reader). */
  [[nodiscard]] static result<reader> from_memory(std::span<std::byte const> bytes, std::string name = "<memory>",
                                                  reader_options const& opt = {});

  reader(reader&&) noexcept;
  reader& operator=(reader&&) noexcept;
  ~reader();

  /**
   * Reads the next record into `out` (reusing its memory). Returns false at the end of the input.
   * After an error (outside recover mode) the reader stays at the failed record: call again and
   * the same error comes back.
   */
  [[nodiscard]] result<bool> next(record& out);
  /** Reads the next record; nullopt at the end of the input. */
  [[nodiscard]] result<std::optional<record>> next();

  /** Number of records returned so far (the index the next record will get). */
  [[nodiscard]] std::int64_t records_read() const noexcept;
  /** Decompressed byte offset where the next record starts. */
  [[nodiscard]] std::int64_t offset() const noexcept;
  /** Decompressed byte offset where the record most recently returned by next() starts. */
  [[nodiscard]] std::int64_t last_record_offset() const noexcept;
  [[nodiscard]] compression input_compression() const noexcept;
  [[nodiscard]] std::string const& source_name() const noexcept;
  /**
   * Stretches skipped in recover mode and not yet taken, oldest first. At most
   * `reader_options::max_pending_skips` are kept (memory stays bounded however damaged the input
   * is); a caller that takes them after each next() sees every one.
   */
  [[nodiscard]] std::span<skipped_region const> skipped() const noexcept;
  /** Hands over the stretches skipped() shows and forgets them. */
  [[nodiscard]] std::vector<skipped_region> take_skipped();
  /** Counts of every stretch skipped so far. */
  [[nodiscard]] skip_totals skipped_totals() const noexcept;

 private:
  struct impl;
  explicit reader(std::unique_ptr<impl> p) noexcept;
  static result<reader> from_source(std::unique_ptr<detail::byte_source> raw, std::string name,
                                    reader_options const& opt);
  std::unique_ptr<impl> impl_;
};

/** Reads every record of a file (convenience for tests and small files). */
[[nodiscard]] result<std::vector<record>> read_file(std::string const& path, reader_options const& opt = {});

}  // namespace rstx::dmap
