#pragma once
/**
 * @file
 * Field-by-field comparison of DMAP records: the tool that proves rstx's outputs equal RST's.
 *
 * Fields are matched by name (the k-th field of a name in A with the k-th of that name in B).
 * Integers and strings must be identical; floats must satisfy |a - b| <= atol + rtol * |b|
 * (NaN equals NaN, an infinity equals only itself). Every float is also checked bitwise, so the
 * result says how many values are not bit-identical even when all are within tolerance.
 */
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "rstx/dmap/record.hpp"

namespace rstx::dmap {

struct compare_options {
  double rtol = 1e-5;
  double atol = 1e-5;
  /** Field names to skip; a trailing '*' matches any suffix ("origin.*"). */
  std::vector<std::string> ignore = {"origin.*"};
  /** How many of the largest differences to keep (per comparison). */
  std::size_t keep_largest = 10;
};

/** One float value that differs (within tolerance or not). */
struct value_difference {
  std::int64_t record = 0;
  std::string field;
  std::uint64_t index = 0;   ///< flat element index (0 for scalars)
  double a = 0.0;
  double b = 0.0;
  double abs_diff = 0.0;
  double rel_diff = 0.0;     ///< abs_diff / |b| (inf when b == 0)
  bool within_tolerance = true;
};

/** A structural or exact-value mismatch (missing field, type, shape, integer, string). */
struct mismatch {
  std::int64_t record = 0;
  std::string field;
  std::string what;
};

/** Per-field counts. */
struct field_stats {
  std::uint64_t values = 0;          ///< values compared
  std::uint64_t not_identical = 0;   ///< floats not bit-identical
  std::uint64_t beyond_tolerance = 0;
  double max_abs_diff = 0.0;
  double max_rel_diff = 0.0;
};

struct compare_result {
  std::int64_t records_a = 0;
  std::int64_t records_b = 0;
  std::uint64_t values = 0;
  std::uint64_t float_values = 0;
  std::uint64_t not_identical = 0;     ///< floats not bit-identical
  std::uint64_t beyond_tolerance = 0;  ///< floats outside the tolerance
  std::uint64_t exact_mismatches = 0;  ///< integers, strings, shapes, missing fields
  std::vector<mismatch> mismatches;    ///< the first few exact mismatches
  std::vector<value_difference> largest;  ///< largest float differences, largest first
  std::map<std::string, field_stats> fields;

  /** True when record counts agree, nothing mismatches exactly and every float is within tolerance. */
  [[nodiscard]] bool equal() const noexcept {
    return records_a == records_b && exact_mismatches == 0 && beyond_tolerance == 0;
  }
};

/** Compares two records and accumulates into `out`; `index` is the record number for reports. */
void compare_records(record const& a, record const& b, std::int64_t index, compare_options const& opt,
                     compare_result& out);

/** True if `name` matches one of the ignore patterns. */
[[nodiscard]] bool is_ignored(std::string_view name, std::vector<std::string> const& patterns) noexcept;

}  // namespace rstx::dmap
