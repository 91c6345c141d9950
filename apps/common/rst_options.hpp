#pragma once
// Command lines in RST's style: single-dash long options (-vb, -tl 60, -fitacf-version 3.0), also
// accepted with two dashes and as --name=value. Unlike RST's OptionProcess, which stops at the
// first argument that does not start with '-', options may come anywhere on the line (after the
// input file too, as people type them); "--" ends the options, and a lone "-" is an operand
// (standard input). Every command line RST accepts means the same here.
#include <functional>
#include <string>
#include <vector>

#include "rstx/core/error.hpp"

namespace rstx::cli {

class option_table {
 public:
  explicit option_table(std::string program) : program_(std::move(program)) {}

  /** An option without a value. */
  option_table& flag(std::string name, bool& target);
  /** An option with a text value. */
  option_table& text(std::string name, std::string& target);
  /** An option with an integer value. */
  option_table& integer(std::string name, int& target);
  /** An option with a floating-point value. */
  option_table& number(std::string name, double& target);
  /** Any other option: `handle` gets the value (empty for a flag) and may reject it. */
  option_table& custom(std::string name, bool takes_value, std::function<result<void>(std::string const&)> handle);

  /** Parses args (argv[1..]); returns the operands (file names) in order. Errors: errc::invalid_argument. */
  [[nodiscard]] result<std::vector<std::string>> parse(std::vector<std::string> const& args) const;

 private:
  struct entry {
    std::string name;
    bool takes_value;
    std::function<result<void>(std::string const&)> handle;
  };
  std::string program_;
  std::vector<entry> entries_;
};

/** "-name VALUE: not an integer" style parsing helpers shared by the programs. */
[[nodiscard]] result<int> parse_int(std::string const& option, std::string const& value);
[[nodiscard]] result<double> parse_double(std::string const& option, std::string const& value);

}  // namespace rstx::cli
