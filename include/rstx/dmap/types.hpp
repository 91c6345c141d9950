#pragma once
/**
 * @file
 * DataMap (DMAP) type codes, as in RST's `dmap.h`. Every value is little-endian on disk.
 */
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace rstx::dmap {

/** Type code byte of a scalar or array. */
enum class type : std::uint8_t {
  char_ = 1,     ///< int8 (RST `char`, signed on x86)
  short_ = 2,    ///< int16
  int_ = 3,      ///< int32
  float_ = 4,    ///< IEEE binary32
  double_ = 8,   ///< IEEE binary64
  string = 9,    ///< NUL-terminated bytes
  long_ = 10,    ///< int64
  uchar = 16,    ///< uint8
  ushort = 17,   ///< uint16
  uint = 18,     ///< uint32
  ulong = 19,    ///< uint64
};

/** The type for a raw code byte, or nullopt when RST defines no such scalar/array type.
 *  (Code 255, a nested record, is never used by SuperDARN products and is rejected.) */
[[nodiscard]] constexpr std::optional<type> type_from_code(std::uint8_t code) noexcept {
  switch (code) {
    case 1: case 2: case 3: case 4: case 8: case 9: case 10: case 16: case 17: case 18: case 19:
      return static_cast<type>(code);
    default:
      return std::nullopt;
  }
}

/** Size in bytes of one value; 0 for strings (variable length). */
[[nodiscard]] constexpr std::size_t type_size(type t) noexcept {
  switch (t) {
    case type::char_: case type::uchar: return 1;
    case type::short_: case type::ushort: return 2;
    case type::int_: case type::uint: case type::float_: return 4;
    case type::double_: case type::long_: case type::ulong: return 8;
    case type::string: return 0;
  }
  return 0;
}

/** C-like name of a type ("float", "short", ...), as dmapdump prints it. */
[[nodiscard]] constexpr std::string_view type_name(type t) noexcept {
  switch (t) {
    case type::char_: return "char";
    case type::short_: return "short";
    case type::int_: return "int";
    case type::float_: return "float";
    case type::double_: return "double";
    case type::string: return "string";
    case type::long_: return "long";
    case type::uchar: return "uchar";
    case type::ushort: return "ushort";
    case type::uint: return "uint";
    case type::ulong: return "ulong";
  }
  return "?";
}

[[nodiscard]] constexpr bool is_integer(type t) noexcept {
  return t != type::float_ && t != type::double_ && t != type::string;
}
[[nodiscard]] constexpr bool is_floating(type t) noexcept {
  return t == type::float_ || t == type::double_;
}

/** The DMAP type of a C++ arithmetic type. */
template <class T>
constexpr type type_of() noexcept {
  if constexpr (std::is_same_v<T, std::int8_t>) return type::char_;
  else if constexpr (std::is_same_v<T, std::int16_t>) return type::short_;
  else if constexpr (std::is_same_v<T, std::int32_t>) return type::int_;
  else if constexpr (std::is_same_v<T, float>) return type::float_;
  else if constexpr (std::is_same_v<T, double>) return type::double_;
  else if constexpr (std::is_same_v<T, std::int64_t>) return type::long_;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return type::uchar;
  else if constexpr (std::is_same_v<T, std::uint16_t>) return type::ushort;
  else if constexpr (std::is_same_v<T, std::uint32_t>) return type::uint;
  else if constexpr (std::is_same_v<T, std::uint64_t>) return type::ulong;
  else static_assert(sizeof(T) == 0, "not a DMAP value type");
}

/** First four bytes of every RST record (DATACODE). */
inline constexpr std::int32_t record_code = 0x00010001;
/** Bytes of the record header: code, size, scalar count, array count (int32 each). */
inline constexpr std::size_t header_size = 16;
/**
 * Most fields (scalars and arrays together) a record may have. RST's products have a few dozen to
 * a few hundred; the limit bounds the decoder's per-field bookkeeping (about 48 bytes a field),
 * which a record of tiny fields would otherwise make 16 times the record's own size.
 */
inline constexpr std::int64_t max_record_fields = 65536;
/** RST rejects arrays with more dimensions than this (dmap.c). */
inline constexpr std::int32_t max_array_dims = 999;

}  // namespace rstx::dmap
