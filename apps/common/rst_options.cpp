#include "rst_options.hpp"

#include <charconv>
#include <cstdlib>
#include <optional>

#include <fmt/format.h>

namespace rstx::cli {

result<int> parse_int(std::string const& option, std::string const& value) {
  int v = 0;
  auto const [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size())
    return fail(errc::invalid_argument, fmt::format("-{} {}: not an integer", option, value));
  return v;
}

result<double> parse_double(std::string const& option, std::string const& value) {
  char* end = nullptr;
  double const v = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size())
    return fail(errc::invalid_argument, fmt::format("-{} {}: not a number", option, value));
  return v;
}

option_table& option_table::flag(std::string name, bool& target) {
  return custom(std::move(name), false, [&target](std::string const&) -> result<void> {
    target = true;
    return {};
  });
}

option_table& option_table::text(std::string name, std::string& target) {
  return custom(std::move(name), true, [&target](std::string const& v) -> result<void> {
    target = v;
    return {};
  });
}

option_table& option_table::integer(std::string name, int& target) {
  std::string n = name;
  return custom(std::move(name), true, [&target, n](std::string const& v) -> result<void> {
    auto i = parse_int(n, v);
    if (!i) return unexpected(std::move(i.error()));
    target = *i;
    return {};
  });
}

option_table& option_table::number(std::string name, double& target) {
  std::string n = name;
  return custom(std::move(name), true, [&target, n](std::string const& v) -> result<void> {
    auto d = parse_double(n, v);
    if (!d) return unexpected(std::move(d.error()));
    target = *d;
    return {};
  });
}

option_table& option_table::custom(std::string name, bool takes_value,
                                   std::function<result<void>(std::string const&)> handle) {
  entries_.push_back({std::move(name), takes_value, std::move(handle)});
  return *this;
}

result<std::vector<std::string>> option_table::parse(std::vector<std::string> const& args) const {
  std::vector<std::string> operands;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string const& arg = args[i];
    if (arg == "--") {  // everything after is an operand, even if it starts with '-'
      operands.insert(operands.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      operands.push_back(arg);
      continue;
    }
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name.resize(eq);
    }
    entry const* e = nullptr;
    for (auto const& candidate : entries_)
      if (candidate.name == name) e = &candidate;
    if (e == nullptr)
      return fail(errc::invalid_argument, fmt::format("Option not recognized: {} (please try: {} --help)", arg, program_));
    std::string value;
    if (e->takes_value) {
      if (inline_value) value = *inline_value;
      else if (i + 1 < args.size()) value = args[++i];
      else return fail(errc::invalid_argument, fmt::format("option {} needs a value", arg));
    } else if (inline_value) {
      return fail(errc::invalid_argument, fmt::format("option -{} takes no value", name));
    }
    if (auto r = e->handle(value); !r) return unexpected(std::move(r.error()));
  }
  return operands;
}

}  // namespace rstx::cli
