#include "detail/text_input.hpp"

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include <fmt/format.h>

namespace rstx::geo::detail {

result<std::string> read_text_file(std::string const& path, std::string_view what_for) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int const e = errno;
    auto const code = (e == ENOENT || e == ENOTDIR) ? errc::not_found : errc::io;
    return unexpected(error(code, fmt::format("cannot open {}: {}", what_for, std::strerror(e))).with_os_error(e).at(path));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return unexpected(error(errc::io, fmt::format("cannot read {}", what_for)).at(path));
  return text;
}

result<std::string> environment_path(char const* variable, std::string_view meaning) {
  char const* value = std::getenv(variable);
  if (value == nullptr || *value == '\0') {
    return fail(errc::not_found,
                fmt::format("environment variable {} is not set; set it to {}", variable, meaning));
  }
  return std::string(value);
}

namespace {
bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
}  // namespace

void number_scanner::skip_space() noexcept {
  while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
}

bool number_scanner::at_end() noexcept {
  skip_space();
  return pos_ >= text_.size();
}

void number_scanner::skip_line() noexcept {
  while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
  if (pos_ < text_.size()) ++pos_;
}

std::optional<double> number_scanner::next_double() noexcept {
  skip_space();
  char const* first = text_.data() + pos_;
  char const* const last = text_.data() + text_.size();
  if (first != last && *first == '+') ++first;  // fscanf accepts a leading '+', from_chars does not
  double value = 0.0;
  auto const [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || (ptr != last && !is_space(*ptr))) return std::nullopt;
  pos_ = static_cast<std::size_t>(ptr - text_.data());
  return value;
}

std::optional<int> number_scanner::next_int() noexcept {
  skip_space();
  char const* first = text_.data() + pos_;
  char const* const last = text_.data() + text_.size();
  if (first != last && *first == '+') ++first;
  int value = 0;
  auto const [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || (ptr != last && !is_space(*ptr))) return std::nullopt;
  pos_ = static_cast<std::size_t>(ptr - text_.data());
  return value;
}

}  // namespace rstx::geo::detail
