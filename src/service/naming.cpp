#include "rstx/service/naming.hpp"

#include <cctype>
#include <vector>

#include <fmt/format.h>

#include "rstx/core/time.hpp"

namespace rstx::service {

namespace {

bool all_digits(std::string_view s, std::size_t n) {
  if (s.size() != n) return false;
  for (char c : s)
    if (std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  return true;
}

bool all_lower_alnum(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (std::islower(static_cast<unsigned char>(c)) == 0 && std::isdigit(static_cast<unsigned char>(c)) == 0) return false;
  return true;
}

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    auto const dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string file_key::grid_key() const { return channel.empty() ? fmt::format("{}.{}", day, radar) : fmt::format("{}.{}.{}", day, radar, channel); }

std::string file_key::stem() const {
  return channel.empty() ? fmt::format("{}.{}.{}", day, time, radar) : fmt::format("{}.{}.{}.{}", day, time, radar, channel);
}

std::optional<file_key> parse_superdarn_name(std::string_view filename) {
  auto parts = split_dots(filename);
  // Drop a compression suffix, then expect "rawacf".
  if (!parts.empty()) {
    auto const last = lower(parts.back());
    if (last == "bz2" || last == "gz" || last == "zst") parts.pop_back();
  }
  if (parts.empty() || lower(parts.back()) != "rawacf") return std::nullopt;
  parts.pop_back();
  // YYYYMMDD HHMM SS rad [chn]
  if (parts.size() != 4 && parts.size() != 5) return std::nullopt;
  if (!all_digits(parts[0], 8) || !all_digits(parts[1], 4) || !all_digits(parts[2], 2)) return std::nullopt;
  int const month = std::stoi(std::string(parts[0].substr(4, 2)));
  int const day = std::stoi(std::string(parts[0].substr(6, 2)));
  int const hour = std::stoi(std::string(parts[1].substr(0, 2)));
  int const minute = std::stoi(std::string(parts[1].substr(2, 2)));
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59) return std::nullopt;
  if (!all_lower_alnum(parts[3]) || parts[3].size() > 8) return std::nullopt;
  file_key k{std::string(parts[0]), fmt::format("{}.{}", parts[1], parts[2]), std::string(parts[3]), {}};
  if (parts.size() == 5) {
    if (parts[4].size() != 1 || std::islower(static_cast<unsigned char>(parts[4][0])) == 0) return std::nullopt;
    k.channel = std::string(parts[4]);
  }
  return k;
}

file_key key_from_content(std::string const& radar_code, int channel, double epoch) {
  auto const t = ymdhms_from_epoch(epoch);
  file_key k;
  k.day = fmt::format("{:04d}{:02d}{:02d}", t.year, t.month, t.day);
  k.time = fmt::format("{:02d}{:02d}.{:02d}", t.hour, t.minute, static_cast<int>(t.second));
  k.radar = radar_code;
  if (channel > 0 && channel <= 26) k.channel = std::string(1, static_cast<char>('a' + channel - 1));
  return k;
}

std::string fitacf_name(file_key const& k, bool bz2) { return k.stem() + (bz2 ? ".fitacf.bz2" : ".fitacf"); }

std::string grid_name(file_key const& k, bool bz2) { return grid_name(k.grid_key(), bz2); }
std::string grid_name(std::string const& grid_key, bool bz2) { return grid_key + (bz2 ? ".grid.bz2" : ".grid"); }

}  // namespace rstx::service
