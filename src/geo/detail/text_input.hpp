#pragma once
// Reading the geo module's text tables: whole files into memory and whitespace-separated numbers
// out of them (the way RST reads them with fscanf "%lf" / "%d", but locale-independent and with
// the position of a bad token known). Internal to the geo module.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "rstx/core/error.hpp"

namespace rstx::geo::detail {

/// Whole file as text. errc::not_found when it does not exist, errc::io when it cannot be read;
/// the error's source is the path. `what_for` says what the file is ("AACGM-v2 coefficient file").
[[nodiscard]] result<std::string> read_text_file(std::string const& path, std::string_view what_for);

/// Value of an environment variable; errc::not_found naming the variable (and what it should
/// point at) when it is unset or empty.
[[nodiscard]] result<std::string> environment_path(char const* variable, std::string_view meaning);

/// Sequential reader of whitespace-separated numbers.
class number_scanner {
 public:
  explicit number_scanner(std::string_view text) noexcept : text_(text) {}

  /// Next token as a double (decimal or exponent form, optional sign); nullopt at the end of the
  /// text or when the token is not a number (then offset() points at it).
  [[nodiscard]] std::optional<double> next_double() noexcept;
  /// Next token as an int; same conventions.
  [[nodiscard]] std::optional<int> next_int() noexcept;
  /// Skips the rest of the current line, including its newline.
  void skip_line() noexcept;
  /// True when only whitespace remains.
  [[nodiscard]] bool at_end() noexcept;
  /// Byte offset of the next unread character.
  [[nodiscard]] std::size_t offset() const noexcept { return pos_; }

 private:
  void skip_space() noexcept;
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace rstx::geo::detail
