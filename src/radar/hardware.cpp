#include <cerrno>
#include <cstring>
#include "rstx/radar/hardware.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "rstx/core/time.hpp"

namespace rstx::radar {

namespace {

result<std::string> read_text(std::string const& path, char const* what) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int const e = errno != 0 ? errno : ENOENT;  // kept: a missing table file is not a bad input file
    return unexpected(error(errc::not_found, fmt::format("cannot open {}: {}", what, std::strerror(e))).with_os_error(e).at(path));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/** Splits a line into whitespace-separated tokens; "quoted text" is one token (quotes removed). */
std::vector<std::string_view> tokens(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size()) break;
    if (line[i] == '"') {
      auto const close = line.find('"', i + 1);
      auto const end = close == std::string_view::npos ? line.size() : close;
      out.push_back(line.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      auto j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
      out.push_back(line.substr(i, j - i));
      i = j;
    }
  }
  return out;
}

/** Calls f(line_number, line) for every line that is neither blank nor a # comment. */
template <class F>
result<void> for_each_data_line(std::string_view text, F&& f) {
  std::size_t pos = 0;
  int number = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    auto const line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++number;
    auto const first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || line[first] == '#') continue;
    if (auto r = f(number, line.substr(first)); !r) return r;
  }
  return {};
}

template <class T>
bool parse_number(std::string_view s, T& out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto const [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

/** YYYYMMDD (RST takes the last 8 characters of the token) -> epoch at 00:00 UT. */
bool parse_date(std::string_view s, double& epoch) {
  if (s.size() < 8) return false;
  s = s.substr(s.size() - 8);
  int y = 0, m = 0, d = 0;
  if (!parse_number(s.substr(0, 4), y) || !parse_number(s.substr(4, 2), m) || !parse_number(s.substr(6, 2), d))
    return false;
  epoch = epoch_from_ymdhms(y, m, d, 0, 0, 0.0);
  return true;
}

bool parse_hms(std::string_view s, int& h, int& m, int& sec) {
  auto const a = s.find(':');
  auto const b = s.find(':', a + 1);
  if (a == std::string_view::npos || b == std::string_view::npos) return false;
  return parse_number(s.substr(0, a), h) && parse_number(s.substr(a + 1, b - a - 1), m) &&
         parse_number(s.substr(b + 1), sec);
}

error line_error(std::string const& source, int line, std::string what) {
  return error(errc::bad_value, fmt::format("line {}: {}", line, what)).at(source);
}

}  // namespace

result<std::string> require_env(char const* name, char const* purpose) {
  char const* v = std::getenv(name);
  if (v == nullptr || *v == '\0')
    return fail(errc::not_found, fmt::format("environment variable {} is not set ({})", name, purpose));
  return std::string(v);
}

result<site> radar_entry::site_at(double epoch) const {
  auto const when = [&] {
    auto const t = ymdhms_from_epoch(epoch);
    return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02.0f}", t.year, t.month, t.day, t.hour, t.minute,
                       t.second);
  };
  if (start && epoch < *start)
    return fail(errc::not_found, fmt::format("radar {} ({}) did not operate yet at {}", stid, name, when()));
  if (end && epoch > *end)
    return fail(errc::not_found, fmt::format("radar {} ({}) no longer operated at {}", stid, name, when()));
  site const* found = nullptr;
  for (auto const& s : sites) {
    if (s.valid_from > epoch) break;
    found = &s;
  }
  if (found == nullptr)
    return fail(errc::not_found, fmt::format("hardware file {} has no entry for radar {} valid at {}", hdw_file,
                                             stid, when()));
  return *found;
}

result<radar_table> radar_table::from_environment() {
  auto path = require_env("SD_RADAR", "path of radar.dat");
  if (!path) return unexpected(std::move(path.error()));
  return load(*path);
}

result<radar_table> radar_table::load(std::string const& radar_dat) {
  auto text = read_text(radar_dat, "the radar list (radar.dat)");
  if (!text) return unexpected(std::move(text.error()));
  radar_table t;
  t.path_ = radar_dat;
  auto ok = for_each_data_line(*text, [&](int number, std::string_view line) -> result<void> {
    auto const tok = tokens(line);
    if (tok.size() < 8)
      return unexpected(line_error(radar_dat, number, fmt::format("expected at least 8 fields, found {}", tok.size())));
    radar_entry r;
    if (!parse_number(tok[0], r.stid) || !parse_number(tok[1], r.status))
      return unexpected(line_error(radar_dat, number, "station id and status must be integers"));
    double when = 0;
    if (tok[2] != "-") {
      if (!parse_date(tok[2], when)) return unexpected(line_error(radar_dat, number, "bad start date"));
      r.start = when;
    }
    if (tok[3] != "-") {
      if (!parse_date(tok[3], when)) return unexpected(line_error(radar_dat, number, "bad end date"));
      r.end = when;
    }
    r.name = tok[4];
    r.operator_name = tok[5];
    r.hdw_file = tok[6];
    for (std::size_t i = 7; i < tok.size(); ++i) r.codes.emplace_back(tok[i]);
    t.radars_.push_back(std::move(r));
    return {};
  });
  if (!ok) return unexpected(std::move(ok.error()));
  return t;
}

radar_entry const* radar_table::find(int stid) const noexcept {
  for (auto const& r : radars_)
    if (r.stid == stid) return &r;
  return nullptr;
}

result<std::vector<site>> parse_hardware(std::string_view text, int stid, std::string const& source) {
  std::vector<site> out;
  auto ok = for_each_data_line(text, [&](int number, std::string_view line) -> result<void> {
    auto const tok = tokens(line);
    site s;
    if (tok.empty() || !parse_number(tok[0], s.stid))
      return unexpected(line_error(source, number, "the first field must be the station id"));
    if (s.stid != stid) return {};  // lines of other radars are ignored, as in RST
    bool const current = tok.size() >= 4 && tok[3].find(':') != std::string_view::npos;
    if (current) {
      // stid status YYYYMMDD HH:MM:SS lat lon alt boresight bmoff bmsep vdir phidiff tdiffA tdiffB
      // X Y Z recrise atten maxatten maxrange maxbeam
      if (tok.size() != 22)
        return unexpected(line_error(source, number, fmt::format("expected 22 fields, found {}", tok.size())));
      int date = 0, h = 0, m = 0, sec = 0;
      if (!parse_number(tok[1], s.status) || !parse_number(tok[2], date) || !parse_hms(tok[3], h, m, sec))
        return unexpected(line_error(source, number, "bad status, date or time"));
      s.valid_from = epoch_from_ymdhms(date / 10000, (date / 100) % 100, date % 100, h, m, sec);
      double* const values[] = {&s.geo_lat_deg, &s.geo_lon_deg, &s.altitude_m, &s.boresight_deg, &s.bmoff_deg,
                                &s.bmsep_deg, &s.vdir, &s.phidiff, &s.tdiff_us[0], &s.tdiff_us[1],
                                &s.interferometer_m[0], &s.interferometer_m[1], &s.interferometer_m[2],
                                &s.recrise_us, &s.atten_db};
      for (std::size_t i = 0; i < std::size(values); ++i)
        if (!parse_number(tok[4 + i], *values[i]))
          return unexpected(line_error(source, number, fmt::format("field {} ('{}') is not a number", 5 + i, tok[4 + i])));
      if (!parse_number(tok[19], s.maxatten) || !parse_number(tok[20], s.maxrange) || !parse_number(tok[21], s.maxbeam))
        return unexpected(line_error(source, number, "maxatten, maxrange and maxbeam must be integers"));
    } else {
      // RST 4 format: stid year seconds-of-year lat lon alt boresight bmsep vdir atten tdiff phidiff
      // X Y Z recrise maxatten maxrange maxbeam
      if (tok.size() != 19)
        return unexpected(line_error(source, number, fmt::format("expected 19 or 22 fields, found {}", tok.size())));
      int year = 0;
      double year_seconds = 0;
      if (!parse_number(tok[1], year) || !parse_number(tok[2], year_seconds))
        return unexpected(line_error(source, number, "bad year or seconds of year"));
      s.valid_from = epoch_from_ymdhms(year, 1, 1, 0, 0, 0.0) + year_seconds;
      double tdiff = 0;
      double* const values[] = {&s.geo_lat_deg, &s.geo_lon_deg, &s.altitude_m, &s.boresight_deg, &s.bmsep_deg,
                                &s.vdir, &s.atten_db, &tdiff, &s.phidiff, &s.interferometer_m[0],
                                &s.interferometer_m[1], &s.interferometer_m[2], &s.recrise_us};
      for (std::size_t i = 0; i < std::size(values); ++i)
        if (!parse_number(tok[3 + i], *values[i]))
          return unexpected(line_error(source, number, fmt::format("field {} ('{}') is not a number", 4 + i, tok[3 + i])));
      s.tdiff_us = {tdiff, tdiff};
      if (!parse_number(tok[16], s.maxatten) || !parse_number(tok[17], s.maxrange) || !parse_number(tok[18], s.maxbeam))
        return unexpected(line_error(source, number, "maxatten, maxrange and maxbeam must be integers"));
    }
    if (s.maxbeam <= 0 || s.maxrange <= 0)
      return unexpected(line_error(source, number, "maxbeam and maxrange must be positive"));
    out.push_back(s);
    return {};
  });
  if (!ok) return unexpected(std::move(ok.error()));
  return out;
}

result<radar_entry> radar_table::load_hardware(int stid, std::string const& hdw_dir) const {
  auto const* r = find(stid);
  if (r == nullptr) return unexpected(error(errc::not_found, fmt::format("station id {} is not in the radar list", stid)).at(path_));
  std::string dir = hdw_dir;
  if (dir.empty()) {
    auto env = require_env("SD_HDWPATH", "directory of the hdw.dat.* hardware files");
    if (!env) return unexpected(std::move(env.error()));
    dir = *env;
  }
  std::string const path = dir + "/" + r->hdw_file;
  auto text = read_text(path, fmt::format("the hardware file of radar {} ({})", stid, r->name).c_str());
  if (!text) return unexpected(std::move(text.error()));
  auto sites = parse_hardware(*text, stid, path);
  if (!sites) return unexpected(std::move(sites.error()));
  if (sites->empty())
    return unexpected(error(errc::not_found, fmt::format("no hardware lines for station id {}", stid)).at(path));
  radar_entry out = *r;
  out.sites = std::move(*sites);
  return out;
}

result<tdiff_table> tdiff_table::load(std::string const& code, std::string const& dir) {
  std::string d = dir;
  if (d.empty()) {
    auto env = require_env("SD_TDIFFPATH", "directory of the tdiff.dat.* calibration files");
    if (!env) return unexpected(std::move(env.error()));
    d = *env;
  }
  std::string const path = d + "/tdiff.dat." + code;
  auto text = read_text(path, "the tdiff calibration file");
  if (!text) return unexpected(std::move(text.error()));
  return parse(*text, path);
}

result<tdiff_table> tdiff_table::parse(std::string_view text, std::string const& source) {
  tdiff_table t;
  auto ok = for_each_data_line(text, [&](int number, std::string_view line) -> result<void> {
    // method channel fmin fmax YYYYMMDD HH:MM:SS YYYYMMDD HH:MM:SS tdiff tdiff_err [ignored...]
    auto const tok = tokens(line);
    if (tok.size() < 10)
      return unexpected(line_error(source, number, fmt::format("expected at least 10 fields, found {}", tok.size())));
    tdiff_entry e;
    int fmin = 0, fmax = 0, sdate = 0, edate = 0, sh = 0, sm = 0, ss = 0, eh = 0, em = 0, es = 0;
    if (!parse_number(tok[0], e.method) || !parse_number(tok[1], e.channel) || !parse_number(tok[2], fmin) ||
        !parse_number(tok[3], fmax) || !parse_number(tok[4], sdate) || !parse_hms(tok[5], sh, sm, ss) ||
        !parse_number(tok[6], edate) || !parse_hms(tok[7], eh, em, es) || !parse_number(tok[8], e.tdiff_us) ||
        !parse_number(tok[9], e.tdiff_err_us))
      return unexpected(line_error(source, number, "malformed calibration line"));
    e.fmin_khz = fmin;
    e.fmax_khz = fmax;
    e.start = epoch_from_ymdhms(sdate / 10000, (sdate / 100) % 100, sdate % 100, sh, sm, ss);
    e.end = epoch_from_ymdhms(edate / 10000, (edate / 100) % 100, edate % 100, eh, em, es);
    t.entries_.push_back(e);
    return {};
  });
  if (!ok) return unexpected(std::move(ok.error()));
  return t;
}

std::optional<tdiff_entry> tdiff_table::find(int method, int channel, double tfreq_khz, double epoch) const {
  for (auto const& e : entries_) {
    if (e.method != method || e.channel != channel) continue;
    if (e.fmin_khz > tfreq_khz || e.fmax_khz < tfreq_khz) continue;
    if (e.start > epoch || e.end < epoch) continue;
    return e;
  }
  return std::nullopt;
}

}  // namespace rstx::radar
