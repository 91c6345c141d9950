#pragma once
/**
 * @file
 * Error values returned by every rstx library function that can fail.
 *
 * Library code never prints and never exits: a function that can fail returns `result<T>`, which
 * holds either a `T` or an `error`. The error carries a code, a one-line explanation, and where
 * the problem is: the source (file path or "<memory>"), the 0-based record index and the byte
 * offset. Lower layers fill in what they know (the decoder knows the offset) and the layers above
 * add the rest as the error passes up (`std::move(e).at(path, record)`).
 */
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace rstx {

/** What went wrong. One value per kind of failure; see `to_string(errc)` for the names. */
enum class errc : std::uint8_t {
  io,                 ///< a file or stream could not be opened, read, written or renamed
  truncated,          ///< the input ended inside a record (or a compressed stream)
  bad_header,         ///< a record header is impossible: size below 16 bytes, negative counts
  too_large,          ///< a record or value is larger than the configured limit
  bad_type,           ///< unknown DMAP type code
  bad_dims,           ///< array dimension count or extent impossible, or their product overflows
  bad_string,         ///< a name or string without its NUL terminator inside the record
  size_mismatch,      ///< the fields of a record do not fill exactly its declared size
  decompress,         ///< a compressed stream is corrupt
  missing_field,      ///< a field that the record type requires is absent
  wrong_type,         ///< a field (or a whole record) has an unexpected type or shape
  bad_value,          ///< a value makes the record unusable (e.g. nrang <= 0, slist out of range)
  out_of_range,       ///< an argument lies outside a model's domain (date, height, latitude)
  invalid_argument,   ///< a bad option, flag or parameter given by the caller
  not_found,          ///< a table, file or table entry that is needed does not exist
  unsupported,        ///< valid input that this build or version cannot handle
  cuda,               ///< a CUDA call failed; the context is still usable
  cuda_fatal,         ///< a CUDA call failed and the context is broken
  internal,           ///< a bug in rstx
};

/** Short stable name of an error code, e.g. "truncated". */
[[nodiscard]] std::string_view to_string(errc code) noexcept;

/** An error with its location. record/offset are -1 when they do not apply. */
struct error {
  errc code = errc::internal;
  std::string what;              ///< one line, no trailing newline
  std::string source;            ///< file path, "<stdin>", "<memory>", or empty when unknown
  std::int64_t record = -1;      ///< 0-based record index
  std::int64_t offset = -1;      ///< byte offset from the start of the (decompressed) stream
  int os_error = 0;              ///< errno of the system call that failed (ENOSPC, EIO, ...), 0 otherwise

  error() = default;
  error(errc c, std::string w) : code(c), what(std::move(w)) {}
  error(errc c, std::string w, std::int64_t off) : code(c), what(std::move(w)), offset(off) {}

  /** Adds the source and record index (keeps values already set). */
  [[nodiscard]] error at(std::string_view src, std::int64_t rec = -1) && {
    if (source.empty()) source = src;
    if (record < 0) record = rec;
    return std::move(*this);
  }
  /** Records the errno of the failed system call (a caller tells a full disk from a bad file by it). */
  [[nodiscard]] error with_os_error(int e) && {
    os_error = e;
    return std::move(*this);
  }
  /** Adds a byte offset (keeps a value already set). */
  [[nodiscard]] error at_offset(std::int64_t off) && {
    if (offset < 0) offset = off;
    return std::move(*this);
  }

  /** One line for humans: "SOURCE: record R, byte O: CODE: WHAT" (absent parts omitted). */
  [[nodiscard]] std::string message() const;
};

template <class T>
using result = tl::expected<T, error>;

using unexpected = tl::unexpected<error>;

/** An errc::io error for a failed system call: `what` plus strerror(e), with os_error = e. */
[[nodiscard]] error os_failure(std::string what, int e);

/** Shorthand for returning an error from a function that returns result<T>. */
[[nodiscard]] inline unexpected fail(errc code, std::string what, std::int64_t offset = -1) {
  return unexpected(error(code, std::move(what), offset));
}

}  // namespace rstx
