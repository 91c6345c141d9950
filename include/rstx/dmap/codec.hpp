#pragma once
/**
 * @file
 * Decoding and encoding single DMAP records held in memory.
 *
 * The decoder checks every count, extent, type code and terminator against the record's declared
 * size before reading, and requires the fields to fill the record exactly. Allocation is bounded by
 * the record's size (and its field count by `max_record_fields`). The bytes are checked where they
 * are and copied only when the whole record is valid. NaN and infinities are ordinary values at
 * this layer.
 */
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/dmap/record.hpp"

namespace rstx::dmap {

/** The four header fields of a record. */
struct record_header {
  std::int32_t code = 0;
  std::int32_t size = 0;   ///< whole record, header included
  std::int32_t num_scalars = 0;
  std::int32_t num_arrays = 0;
};

/** Reads the 16 header bytes (bytes.size() must be at least 16). */
[[nodiscard]] record_header read_header(std::span<std::byte const> bytes) noexcept;

/**
 * Decodes one record. `bytes` must hold exactly the record (its size field must equal bytes.size()).
 * The record takes a copy of the bytes; its previous contents are replaced (memory is reused).
 * Errors carry the byte offset `base_offset + position` of the offending byte.
 */
[[nodiscard]] result<void> decode_into(record& out, std::span<std::byte const> bytes, std::int64_t base_offset = 0);

/**
 * Checks what is at hand of a record that may not have arrived whole: `prefix` holds its first
 * bytes (the header and as many more as are available). Returns the first error those bytes
 * already show, or nothing when they are consistent so far (the rest may still be wrong, which
 * decode_into finds). Allocates nothing; costs at most one pass over `prefix`.
 */
[[nodiscard]] std::optional<error> check_record_start(std::span<std::byte const> prefix, std::int64_t base_offset = 0);

/** decode_into into a new record. */
[[nodiscard]] result<record> decode(std::span<std::byte const> bytes, std::int64_t base_offset = 0);

/** Decodes a whole buffer of back-to-back records (no recovery: the first error is returned). */
[[nodiscard]] result<std::vector<record>> decode_all(std::span<std::byte const> bytes);

/** Encodes one record into a new buffer. */
[[nodiscard]] result<std::vector<std::byte>> encode(record const& r);

/** Encodes records back to back. */
[[nodiscard]] result<std::vector<std::byte>> encode_all(std::span<record const> records);

/** True if both records have the same fields in the same order with bitwise identical values. */
[[nodiscard]] bool bitwise_equal(record const& a, record const& b) noexcept;

}  // namespace rstx::dmap
