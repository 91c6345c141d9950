// rstx info FILE...: what a file holds (record type and count, time span, stations, beams, channels,
// frequencies) and how much of it is damaged. Damaged stretches are skipped and counted.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "report.hpp"
#include "rstx/core/time.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/radar/hardware.hpp"
#include "rstx/tables/tables.hpp"

namespace rstx::cli {

namespace {

template <class T>
concept array_ref_like = requires(T const& a, std::size_t i) {
  a.count();
  a.to_double(i);
};

struct info_options {
  std::vector<std::string> paths;
  bool json = false;
  bool intervals = false;  // grid/map: one line per record
  bool hardware = false;   // which table files apply to the file's stations
  std::string tables_dir;  // --tables
  dmap::reader_options reader;
};


struct summary {
  std::string path;
  dmap::compression comp = dmap::compression::none;
  std::int64_t records = 0;
  std::int64_t bytes = 0;
  std::map<dmap::product, std::int64_t> kinds;
  std::optional<double> first_time, last_time;
  std::set<int> stations, beams, channels, nrangs, mplgs;
  std::optional<int> fmin_khz, fmax_khz;
  std::int64_t scans = 0;
  std::int64_t vectors = 0;
  std::set<std::string> algorithms;     // fitacf
  std::int64_t fitted = 0;              // fitacf: ranges in slist
  std::int64_t ground_scatter = 0;      // fitacf: of those, gflg set
  std::optional<std::int64_t> min_vectors, max_vectors;  // grid/map: per record
  std::optional<double> vmin, vmax;     // fitacf: v; grid/map: vector.vel.median (m/s)
  struct interval {
    double start = 0, end = 0;
    std::int64_t vectors = 0;
    std::optional<double> vmin, vmax;
  };
  bool keep_intervals = false;          // --intervals: memory grows with the file, so only when asked
  std::int64_t interval_count = 0;
  std::vector<interval> intervals;      // grid/map, one per record (when keep_intervals)
  std::int64_t corrupt_regions = 0;
  std::int64_t corrupt_bytes = 0;
  std::int64_t problem_count = 0;
  std::vector<std::string> problems;    // the first max_problems_kept of them

  void note_problem(std::string what) {
    ++problem_count;
    if (problems.size() < max_problems_kept) problems.push_back(std::move(what));
  }
  static constexpr std::size_t max_problems_kept = 20;
};

std::optional<std::int64_t> int_field(dmap::record const& r, std::string_view name, dmap::type t) {
  auto s = r.find_scalar_last(name, t);
  if (!s) return std::nullopt;
  return s->to_int64();
}

std::string time_text(double epoch) {
  auto const t = ymdhms_from_epoch(epoch);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:06.3f}Z", t.year, t.month, t.day, t.hour, t.minute,
                     t.second);
}

void note_time(summary& s, double t) {
  if (!s.first_time || t < *s.first_time) s.first_time = t;
  if (!s.last_time || t > *s.last_time) s.last_time = t;
}

template <class Ranged>
void note_velocity(Ranged& s, array_ref_like auto const& a) {
  for (std::size_t i = 0; i < a.count(); ++i) {
    double const v = a.to_double(i);
    if (!std::isfinite(v)) continue;
    s.vmin = s.vmin ? std::min(*s.vmin, v) : v;
    s.vmax = s.vmax ? std::max(*s.vmax, v) : v;
  }
}

void add_record(summary& s, dmap::record const& r) {
  auto const kind = dmap::detect_product(r);
  ++s.kinds[kind];
  if (kind == dmap::product::rawacf || kind == dmap::product::fitacf) {
    using dmap::type;
    auto const yr = int_field(r, "time.yr", type::short_), mo = int_field(r, "time.mo", type::short_),
               dy = int_field(r, "time.dy", type::short_), hr = int_field(r, "time.hr", type::short_),
               mt = int_field(r, "time.mt", type::short_), sc = int_field(r, "time.sc", type::short_);
    if (yr && mo && dy && hr && mt && sc) {
      double const us = static_cast<double>(int_field(r, "time.us", type::int_).value_or(0));
      note_time(s, epoch_from_ymdhms(static_cast<int>(*yr), static_cast<int>(*mo), static_cast<int>(*dy),
                                     static_cast<int>(*hr), static_cast<int>(*mt), static_cast<double>(*sc) + us / 1e6));
    }
    if (auto v = int_field(r, "stid", type::short_)) s.stations.insert(static_cast<int>(*v));
    if (auto v = int_field(r, "bmnum", type::short_)) s.beams.insert(static_cast<int>(*v));
    if (auto v = int_field(r, "channel", type::short_)) s.channels.insert(static_cast<int>(*v));
    if (auto v = int_field(r, "nrang", type::short_)) s.nrangs.insert(static_cast<int>(*v));
    if (auto v = int_field(r, "mplgs", type::short_)) s.mplgs.insert(static_cast<int>(*v));
    if (auto v = int_field(r, "scan", type::short_); v && (*v == 1 || *v == -1)) ++s.scans;
    if (auto v = int_field(r, "tfreq", type::short_)) {
      int const f = static_cast<int>(*v);
      s.fmin_khz = s.fmin_khz ? std::min(*s.fmin_khz, f) : f;
      s.fmax_khz = s.fmax_khz ? std::max(*s.fmax_khz, f) : f;
    }
    if (kind == dmap::product::fitacf) {
      if (auto a = r.find_scalar_last("algorithm", type::string)) s.algorithms.insert(std::string(a->as_string()));
      if (auto sl = r.find_array_last("slist", type::short_)) s.fitted += static_cast<std::int64_t>(sl->count());
      if (auto g = r.find_array_last("gflg", type::char_))
        for (std::size_t i = 0; i < g->count(); ++i) s.ground_scatter += g->at<std::int8_t>(i) != 0;
      if (auto v = r.find_array_last("v", type::float_)) note_velocity(s, *v);
    }
  } else if (kind == dmap::product::grid || kind == dmap::product::map) {
    auto g = dmap::decode_grid(r, dmap::strictness::lenient);
    if (!g) {
      s.note_problem(g.error().what);
      return;
    }
    note_time(s, g->times.start_epoch());
    note_time(s, g->times.end_epoch());
    for (std::size_t i = 0; i < g->nstations; ++i) s.stations.insert(g->stid.at<std::int16_t>(i));
    if (auto ch = g->get("channel"))
      for (std::size_t i = 0; i < ch->count(); ++i) s.channels.insert(ch->at<std::int16_t>(i));
    if (auto f = g->get("freq"); f && f->type() == dmap::type::float_)
      for (std::size_t i = 0; i < f->count(); ++i) {
        int const khz = static_cast<int>(f->at<float>(i));
        s.fmin_khz = s.fmin_khz ? std::min(*s.fmin_khz, khz) : khz;
        s.fmax_khz = s.fmax_khz ? std::max(*s.fmax_khz, khz) : khz;
      }
    auto const n = static_cast<std::int64_t>(g->nvectors);
    s.vectors += n;
    s.min_vectors = s.min_vectors ? std::min(*s.min_vectors, n) : n;
    s.max_vectors = s.max_vectors ? std::max(*s.max_vectors, n) : n;
    summary::interval iv{g->times.start_epoch(), g->times.end_epoch(), n, {}, {}};
    if (auto v = g->get("vector.vel.median"); v && v->type() == dmap::type::float_) {
      note_velocity(s, *v);
      note_velocity(iv, *v);
    }
    ++s.interval_count;
    if (s.keep_intervals) s.intervals.push_back(iv);
  }
}

result<summary> summarize(std::string const& path, dmap::reader_options opt, bool keep_intervals) {
  summary s;
  s.path = path;
  s.keep_intervals = keep_intervals;
  opt.recover = true;
  auto rd = dmap::reader::open(path, opt);
  if (!rd) return unexpected(std::move(rd.error()));
  s.comp = rd->input_compression();
  dmap::record r;
  for (;;) {
    auto got = rd->next(r);
    if (!got) return unexpected(std::move(got.error()));  // I/O or decompression: nothing to resync on
    for (auto const& k : rd->take_skipped()) s.note_problem(k.reason.message());
    if (!*got) break;
    add_record(s, r);
  }
  s.records = rd->records_read();
  s.bytes = rd->offset();
  auto const skips = rd->skipped_totals();
  s.corrupt_regions = skips.stretches;
  s.corrupt_bytes = skips.bytes;
  return s;
}

std::string set_text(std::set<int> const& v) {
  if (v.empty()) return "-";
  if (v.size() > 3 && *v.rbegin() - *v.begin() + 1 == static_cast<int>(v.size()))
    return fmt::format("{}-{} ({} values)", *v.begin(), *v.rbegin(), v.size());
  return fmt::format("{}", fmt::join(v, " "));
}

std::string kinds_text(summary const& s) {
  std::vector<std::string> parts;
  for (auto const& [k, n] : s.kinds) parts.push_back(s.kinds.size() == 1 ? std::string(dmap::to_string(k))
                                                                           : fmt::format("{} ({})", dmap::to_string(k), n));
  return parts.empty() ? "empty" : fmt::format("{}", fmt::join(parts, ", "));
}

void print_intervals(summary const& s) {
  for (auto const& iv : s.intervals) {
    auto const a = ymdhms_from_epoch(iv.start), b = ymdhms_from_epoch(iv.end);
    fmt::print("    {:02d}:{:02d}:{:02d}-{:02d}:{:02d}:{:02d}  {:5d} vectors", a.hour, a.minute, static_cast<int>(a.second),
               b.hour, b.minute, static_cast<int>(b.second), iv.vectors);
    if (iv.vmin) fmt::print("  {:7.1f} to {:7.1f} m/s", *iv.vmin, *iv.vmax);
    fmt::print("\n");
  }
}

void print_text(summary const& s, bool intervals) {
  fmt::print("{}\n", s.path);
  fmt::print("  type:        {}\n", kinds_text(s));
  fmt::print("  records:     {}\n", s.records);
  fmt::print("  bytes:       {}{}\n", s.bytes,
             s.comp == dmap::compression::none ? "" : fmt::format(" (decompressed from {})", dmap::to_string(s.comp)));
  if (s.first_time)
    fmt::print("  time:        {} to {} ({:.1f} s)\n", time_text(*s.first_time), time_text(*s.last_time),
               *s.last_time - *s.first_time);
  fmt::print("  stations:    {}\n", set_text(s.stations));
  if (!s.beams.empty()) fmt::print("  beams:       {}\n", set_text(s.beams));
  fmt::print("  channels:    {}\n", set_text(s.channels));
  if (s.fmin_khz) fmt::print("  frequencies: {}-{} kHz\n", *s.fmin_khz, *s.fmax_khz);
  if (!s.nrangs.empty()) fmt::print("  nrang:       {}\n", set_text(s.nrangs));
  if (!s.mplgs.empty()) fmt::print("  mplgs:       {}\n", set_text(s.mplgs));
  if (s.scans > 0) fmt::print("  scans:       {}\n", s.scans);
  if (!s.algorithms.empty()) fmt::print("  algorithm:   {}\n", fmt::join(s.algorithms, " "));
  if (s.kinds.count(dmap::product::fitacf) != 0 && s.records > 0)
    fmt::print("  fitted:      {} ranges ({:.1f} per record, {} flagged ground scatter)\n", s.fitted,
               static_cast<double>(s.fitted) / static_cast<double>(s.records), s.ground_scatter);
  if (s.min_vectors)
    fmt::print("  vectors:     {} ({} to {} per record, {:.1f} on average)\n", s.vectors, *s.min_vectors, *s.max_vectors,
               static_cast<double>(s.vectors) / static_cast<double>(s.records));
  if (s.vmin) fmt::print("  velocity:    {:.1f} to {:.1f} m/s\n", *s.vmin, *s.vmax);
  if (intervals && !s.intervals.empty()) {
    fmt::print("  intervals:   {}\n", s.interval_count);
    print_intervals(s);
  }
  fmt::print("  corrupt:     {}", s.corrupt_regions == 0 ? "none\n"
                                                          : fmt::format("{} damaged stretch(es), {} bytes skipped\n",
                                                                        s.corrupt_regions, s.corrupt_bytes));
  for (auto const& p : s.problems) fmt::print("    {}\n", p);
  if (s.problem_count > static_cast<std::int64_t>(s.problems.size()))
    fmt::print("    ... and {} more\n", s.problem_count - static_cast<std::int64_t>(s.problems.size()));
}

nlohmann::json to_json(summary const& s, bool intervals) {
  nlohmann::json j{{"path", s.path}, {"compression", dmap::to_string(s.comp)}, {"records", s.records},
                   {"bytes", s.bytes}, {"stations", s.stations}, {"beams", s.beams}, {"channels", s.channels},
                   {"nrang", s.nrangs}, {"mplgs", s.mplgs}, {"scans", s.scans}, {"vectors", s.vectors},
                   {"corrupt_regions", s.corrupt_regions}, {"corrupt_bytes", s.corrupt_bytes},
                   {"problems", s.problems}, {"problem_count", s.problem_count}};
  auto& kinds = j["types"] = nlohmann::json::object();
  for (auto const& [k, n] : s.kinds) kinds[std::string(dmap::to_string(k))] = n;
  if (s.first_time) {
    j["start"] = time_text(*s.first_time);
    j["end"] = time_text(*s.last_time);
  }
  if (s.fmin_khz) j["frequency_khz"] = {*s.fmin_khz, *s.fmax_khz};
  if (!s.algorithms.empty()) j["algorithms"] = s.algorithms;
  if (s.kinds.count(dmap::product::fitacf) != 0) {
    j["fitted_ranges"] = s.fitted;
    j["ground_scatter_ranges"] = s.ground_scatter;
  }
  if (s.min_vectors) j["vectors_per_record"] = {*s.min_vectors, *s.max_vectors};
  if (s.vmin) j["velocity_m_s"] = {*s.vmin, *s.vmax};
  if (intervals) {
    auto& list = j["intervals"] = nlohmann::json::array();
    for (auto const& iv : s.intervals) {
      nlohmann::json one{{"start", time_text(iv.start)}, {"end", time_text(iv.end)}, {"vectors", iv.vectors}};
      if (iv.vmin) one["velocity_m_s"] = {*iv.vmin, *iv.vmax};
      list.push_back(std::move(one));
    }
  }
  return j;
}

/** One line per station of a file: the hardware file and line that apply to it at the file's start. */
std::vector<std::string> hardware_lines(std::set<int> const& stations, std::optional<double> start,
                                        std::string const& tables_dir) {
  tables::request want;
  want.tables_dir = tables_dir;
  auto found = tables::locate(want);
  if (!found) return {found.error().message()};
  std::vector<std::string> lines = found->describe();
  auto radars = radar::radar_table::load(found->radar_dat.path);
  if (!radars) return {radars.error().message()};
  for (int stid : stations) {
    auto radar = radars->load_hardware(stid, found->hdw_dir.path);
    if (!radar) {
      lines.push_back(fmt::format("station {}: {}", stid, radar.error().message()));
      continue;
    }
    auto const file = (std::filesystem::path(found->hdw_dir.path) / radar->hdw_file).string();
    auto site = start ? radar->site_at(*start) : result<radar::site>(unexpected(error(errc::not_found, "no record time")));
    lines.push_back(site ? fmt::format("station {} ({}): {}, line valid from {}", stid, radar->name, file,
                                       time_text(site->valid_from))
                         : fmt::format("station {} ({}): {}: {}", stid, radar->name, file, site.error().what));
  }
  return lines;
}

int run_info(info_options const& o) {
  int status = ok;
  for (auto const& path : o.paths) {
    auto s = summarize(path, o.reader, o.intervals);
    if (!s) {
      status = std::max(status, report("rstx info", s.error()));
      continue;
    }
    std::vector<std::string> const hardware =
        o.hardware ? hardware_lines(s->stations, s->first_time, o.tables_dir) : std::vector<std::string>{};
    if (o.json) {
      auto j = to_json(*s, o.intervals);
      if (o.hardware) j["tables"] = hardware;
      fmt::print("{}\n", j.dump());
    } else {
      print_text(*s, o.intervals);
      for (auto const& line : hardware) fmt::print("  tables:      {}\n", line);
    }
    if (s->corrupt_regions > 0) status = std::max(status, static_cast<int>(bad_input));
  }
  std::fflush(stdout);
  return status;
}

}  // namespace

void add_info(CLI::App& app, int& exit_status) {
  auto o = std::make_shared<info_options>();
  auto* cmd = app.add_subcommand("info", "Summarise DMAP files: type, records, time span, stations, beams, damage");
  cmd->add_option("files", o->paths, "DMAP files, plain or compressed; - for standard input")->required();
  cmd->add_flag("--json", o->json, "One JSON object per file");
  cmd->add_flag("--intervals", o->intervals, "Grid and map files: one line per record (time, vectors, velocities)");
  cmd->add_flag("--hardware", o->hardware,
                "Which tables apply: the radar list, and each station's hardware file and line at the file's start");
  cmd->add_option("--tables", o->tables_dir, "Table folder to use (default: rstx's own, or RST's variables)");
  add_reader_options(cmd, o->reader);
  cmd->footer("Exit status: 0 when every file is intact, 2 when a file has damaged records (still summarised),\n"
              "3 when a file cannot be read.");
  cmd->callback([o, &exit_status] { exit_status = run_info(*o); });
}

}  // namespace rstx::cli
