#pragma once
/**
 * @file
 * One DMAP record: an ordered list of named scalars followed by an ordered list of named arrays.
 *
 * A record owns one byte store. A decoded record keeps the bytes it was decoded from and its
 * fields point into them (nothing is copied or converted until asked for). A built record appends
 * each field to the store in encoded form. Either way encoding writes the fields back in order,
 * so decoding and re-encoding any valid record gives identical bytes.
 *
 * Names and order are preserved, duplicates included. Lookups by name return the first match,
 * like RST's DataMapFindScalar/Array; the product views (products.hpp) apply RST's decoder rules.
 *
 * Arrays are stored with the first extent varying fastest (dmap.md §1.3): element (i0, i1, i2)
 * of an array with extents (d0, d1, d2) is at flat index i0 + d0*(i1 + d1*i2).
 */
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rstx/core/assert.hpp"
#include "rstx/core/error.hpp"
#include "rstx/dmap/types.hpp"

namespace rstx::dmap {

static_assert(std::endian::native == std::endian::little,
              "rstx reads DMAP values by copying little-endian bytes; big-endian hosts are not supported");

namespace detail {
/** Where one field lives inside a record's store. */
struct field_entry {
  std::uint32_t chunk_off = 0;  ///< the whole encoded field: name, NUL, type, [ndim, dims], value
  std::uint32_t chunk_len = 0;
  std::uint32_t name_off = 0;
  std::uint32_t name_len = 0;
  std::uint32_t data_off = 0;   ///< value bytes (strings: without the final NUL of a scalar)
  std::uint32_t data_len = 0;
  std::uint32_t dims_off = 0;   ///< arrays: offset of the int32 extents
  std::uint32_t ndim = 0;       ///< arrays only
  std::uint64_t count = 1;      ///< number of elements (1 for scalars)
  type t = type::int_;
};

template <class T>
T load(std::byte const* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
}  // namespace detail

class record;
[[nodiscard]] result<void> decode_into(record& out, std::span<std::byte const> bytes, std::int64_t base_offset);

/** Read-only reference to one scalar of a record. Valid while the record is alive and unchanged. */
class scalar_ref {
 public:
  [[nodiscard]] std::string_view name() const noexcept { return name_; }
  [[nodiscard]] dmap::type type() const noexcept { return t_; }

  /** The value as T; T must be exactly the stored type. */
  template <class T>
  [[nodiscard]] T as() const noexcept {
    RSTX_ASSERT(type_of<T>() == t_);
    return detail::load<T>(data_);
  }
  /** The value as T if it is stored as T, else nullopt. */
  template <class T>
  [[nodiscard]] std::optional<T> get() const noexcept {
    if (type_of<T>() != t_) return std::nullopt;
    return detail::load<T>(data_);
  }
  /** String value (type string only; bytes up to the terminator). */
  [[nodiscard]] std::string_view as_string() const noexcept {
    RSTX_ASSERT(t_ == type::string);
    return {reinterpret_cast<char const*>(data_), len_};
  }
  /** Any numeric value widened to double (int64/uint64 may round). */
  [[nodiscard]] double to_double() const noexcept;
  /** Any integer value widened to int64 (uint64 above INT64_MAX wraps). */
  [[nodiscard]] std::int64_t to_int64() const noexcept;
  /** Encoded value bytes (strings without their terminator). */
  [[nodiscard]] std::span<std::byte const> bytes() const noexcept { return {data_, len_}; }

 private:
  friend class record;
  std::string_view name_;
  std::byte const* data_ = nullptr;
  std::size_t len_ = 0;
  dmap::type t_ = type::int_;
};

/** Read-only reference to one array of a record. Valid while the record is alive and unchanged. */
class array_ref {
 public:
  [[nodiscard]] std::string_view name() const noexcept { return name_; }
  [[nodiscard]] dmap::type type() const noexcept { return t_; }
  [[nodiscard]] std::size_t ndim() const noexcept { return ndim_; }
  /** Extent of dimension i (first extent varies fastest). */
  [[nodiscard]] std::int32_t dim(std::size_t i) const noexcept {
    RSTX_ASSERT(i < ndim_);
    return detail::load<std::int32_t>(dims_ + 4 * i);
  }
  [[nodiscard]] std::vector<std::int32_t> dims() const;
  /** Number of elements, the product of the extents. */
  [[nodiscard]] std::uint64_t count() const noexcept { return count_; }

  /** Element i as T; T must be exactly the stored type. */
  template <class T>
  [[nodiscard]] T at(std::size_t i) const noexcept {
    RSTX_ASSERT(type_of<T>() == t_ && i < count_);
    return detail::load<T>(data_ + i * sizeof(T));
  }
  /** Copies all elements into out (out.size() must equal count(); T must be the stored type). */
  template <class T>
  void copy_to(std::span<T> out) const noexcept {
    RSTX_ASSERT(type_of<T>() == t_ && out.size() == count_);
    if (!out.empty()) std::memcpy(out.data(), data_, out.size_bytes());
  }
  /** All elements as a vector of T (T must be the stored type). */
  template <class T>
  [[nodiscard]] std::vector<T> values() const {
    std::vector<T> v(count_);
    copy_to(std::span<T>(v));
    return v;
  }
  /** Numeric element i widened to double. */
  [[nodiscard]] double to_double(std::size_t i) const noexcept;
  /** Integer element i widened to int64. */
  [[nodiscard]] std::int64_t to_int64(std::size_t i) const noexcept;
  /** The elements of a string array, in order. */
  [[nodiscard]] std::vector<std::string_view> strings() const;
  /** Raw little-endian element bytes (string arrays: the NUL-terminated strings back to back). */
  [[nodiscard]] std::span<std::byte const> bytes() const noexcept { return {data_, len_}; }

 private:
  friend class record;
  std::string_view name_;
  std::byte const* dims_ = nullptr;
  std::byte const* data_ = nullptr;
  std::size_t ndim_ = 0;
  std::uint64_t count_ = 0;
  std::size_t len_ = 0;
  dmap::type t_ = type::int_;
};

/** One DMAP record (see the file comment). Cheap to move; copying copies the bytes. */
class record {
 public:
  record() = default;

  [[nodiscard]] std::size_t num_scalars() const noexcept { return scalars_.size(); }
  [[nodiscard]] std::size_t num_arrays() const noexcept { return arrays_.size(); }
  [[nodiscard]] bool empty() const noexcept { return scalars_.empty() && arrays_.empty(); }
  /** The header's code field (0x00010001 in every RST file; kept as read so re-encoding is exact). */
  [[nodiscard]] std::int32_t code() const noexcept { return code_; }

  [[nodiscard]] scalar_ref scalar(std::size_t i) const noexcept;
  [[nodiscard]] array_ref array(std::size_t i) const noexcept;

  /** First scalar with this name. */
  [[nodiscard]] std::optional<scalar_ref> find_scalar(std::string_view name) const noexcept;
  /** First array with this name. */
  [[nodiscard]] std::optional<array_ref> find_array(std::string_view name) const noexcept;
  /** Last scalar with this name and exactly this type (RST's RadarParmDecode/FitDecode rule). */
  [[nodiscard]] std::optional<scalar_ref> find_scalar_last(std::string_view name, dmap::type t) const noexcept;
  /** Last array with this name and exactly this type. */
  [[nodiscard]] std::optional<array_ref> find_array_last(std::string_view name, dmap::type t) const noexcept;

  // ---- building (appends; scalars and arrays keep their own insertion order) ----
  template <class T>
  record& add_scalar(std::string_view name, T value) {
    return add_scalar_raw(name, type_of<T>(), &value, sizeof(T));
  }
  /** Adds a string scalar. Writing an absent (NULL) string in RST gives the same bytes as "". */
  record& add_string(std::string_view name, std::string_view value);
  /** Adds a numeric array; values.size() must equal the product of dims. */
  template <class T>
  record& add_array(std::string_view name, std::span<std::int32_t const> dims, std::span<T const> values) {
    return add_array_raw(name, type_of<T>(), dims, values.data(), values.size(), values.size_bytes());
  }
  /** One-dimensional numeric array. */
  template <class T>
  record& add_array(std::string_view name, std::span<T const> values) {
    std::int32_t const n = static_cast<std::int32_t>(values.size());
    return add_array(name, std::span<std::int32_t const>(&n, 1), values);
  }
  template <class T>
  record& add_array(std::string_view name, std::vector<T> const& values) {
    return add_array(name, std::span<T const>(values));
  }
  /** Adds a string array; strings.size() must equal the product of dims. */
  record& add_string_array(std::string_view name, std::span<std::int32_t const> dims,
                           std::span<std::string const> strings);
  /** Copies a field of another record (scalar or array), as is. */
  record& add_copy(scalar_ref const& s);
  record& add_copy(array_ref const& a);

  /** Removes every field; keeps the allocated memory. */
  void clear() noexcept;

  /** Bytes of memory the record holds (its byte store and field list, as allocated). */
  [[nodiscard]] std::size_t memory_bytes() const noexcept {
    return store_.capacity() + (scalars_.capacity() + arrays_.capacity()) * sizeof(detail::field_entry);
  }

  /** Size in bytes of the encoded record (header included). */
  [[nodiscard]] std::uint64_t encoded_size() const noexcept;
  /** Appends the encoded record to out. Fails (too_large) if it would exceed the int32 size field. */
  [[nodiscard]] result<void> encode_to(std::vector<std::byte>& out) const;

 private:
  friend result<void> decode_into(record&, std::span<std::byte const>, std::int64_t);
  record& add_scalar_raw(std::string_view name, dmap::type t, void const* value, std::size_t len);
  record& add_array_raw(std::string_view name, dmap::type t, std::span<std::int32_t const> dims,
                        void const* data, std::size_t count, std::size_t bytes);
  detail::field_entry begin_field(std::string_view name, dmap::type t);
  std::uint32_t append(void const* p, std::size_t n);

  std::vector<std::byte> store_;
  std::int32_t code_ = record_code;
  std::vector<detail::field_entry> scalars_;
  std::vector<detail::field_entry> arrays_;
};

}  // namespace rstx::dmap
