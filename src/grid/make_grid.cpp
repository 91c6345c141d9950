#include "rstx/grid/make_grid.hpp"

#include <cmath>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include <fmt/format.h>

#include "rstx/core/time.hpp"
#include "rstx/geo/aacgm_v2.hpp"
#include "rstx/geo/igrf.hpp"
#include "rstx/radar/hardware.hpp"

namespace rstx::grid {

namespace {

constexpr int seconds_per_day = 24 * 3600;

/**
 * One input file as make_grid reads it: records in order, plus FitSeek's repositioning for the
 * start-time options. FitSeek can rewind to the start of the file, but only from the record after
 * the first scan; so the records read before the seek are kept until it is done (a scan's worth).
 */
class fitacf_input {
 public:
  /** Opens a file; `for_seek`: keep the records read until seek_after() is called. */
  static result<fitacf_input> open(std::string const& path, dmap::reader_options const& opt, bool for_seek) {
    auto rd = dmap::reader::open(path, opt);
    if (!rd) return unexpected(std::move(rd.error()));
    return fitacf_input(std::move(*rd), for_seek);
  }

  /** The next record (valid until the next call), or nullopt at the end of the file. */
  result<std::optional<dmap::record const*>> next() {
    if (!replay_.empty()) {
      current_ = std::move(replay_.front());
      replay_.pop_front();
    } else {
      auto got = reader_.next(current_);
      if (!got) return unexpected(std::move(got.error()));
      if (!*got) return std::optional<dmap::record const*>{};
    }
    if (keep_history_) history_.push_back(current_);
    return std::optional<dmap::record const*>(&current_);
  }

  /**
   * RST's FitSeek without an index (make_grid.md §10): from the current record, find the first
   * record later than `tval`; if the current record is already later, go back to the start of
   * the file. False when the file ends before `tval` (make_grid then ignores the file).
   */
  result<bool> seek_after(double tval) {
    keep_history_ = false;
    std::vector<dmap::record> before = std::move(history_);
    history_.clear();
    auto first = next();
    if (!first) return unexpected(std::move(first.error()));
    double tfile = 0;
    std::optional<dmap::record> at_fptr;  // the record the file pointer is left on
    if (*first) {
      tfile = record_time(***first);
      if (tfile > tval) {  // back to the start of the file
        before.push_back(***first);
        for (auto& r : before) replay_.push_back(std::move(r));
        return true;
      }
    } else {  // nothing after the first scan: FitSeek starts over from the beginning
      for (auto& r : before) replay_.push_back(std::move(r));
    }
    while (tval >= tfile) {
      auto r = next();
      if (!r) return unexpected(std::move(r.error()));
      if (!*r) break;
      tfile = record_time(***r);
      at_fptr = ***r;
    }
    if (tval > tfile) return false;
    if (at_fptr) replay_.push_front(std::move(*at_fptr));
    return true;
  }

  [[nodiscard]] std::string const& name() const noexcept { return reader_.source_name(); }
  [[nodiscard]] dmap::reader const& reader() const noexcept { return reader_; }

 private:
  fitacf_input(dmap::reader rd, bool for_seek) : reader_(std::move(rd)), keep_history_(for_seek) {}

  /** FitGetTime: the record's time, or -1 without time.yr. */
  static double record_time(dmap::record const& r) {
    auto get = [&](std::string_view n) -> int {
      auto s = r.find_scalar_last(n, dmap::type::short_);
      return s ? s->as<std::int16_t>() : 0;
    };
    int const yr = get("time.yr");
    if (yr == 0) return -1;
    auto us_field = r.find_scalar_last("time.us", dmap::type::int_);
    std::int32_t const us = us_field ? us_field->as<std::int32_t>() : 0;
    return epoch_from_ymdhms(yr, get("time.mo"), get("time.dy"), get("time.hr"), get("time.mt"), get("time.sc") + us / 1.0e6);
  }

  dmap::reader reader_;
  dmap::record current_;
  std::deque<dmap::record> replay_;
  std::vector<dmap::record> history_;
  bool keep_history_;
};

result<std::string> from_env_or(std::string const& given, char const* variable, char const* purpose) {
  if (!given.empty()) return given;
  return radar::require_env(variable, purpose);
}

double seconds_of_day(double epoch) { return static_cast<double>(static_cast<int>(epoch) % seconds_per_day); }

/** The run's geolocation models, loaded on first use and kept. */
class model_cache {
 public:
  explicit model_cache(table_paths const& t) : tables_(t) {}

  result<geo::aacgm_v2_model const*> aacgm_for_day(int year, int month, int day) {
    auto const key = std::array<int, 3>{year, month, day};
    if (!aacgm_ || aacgm_day_ != key) {
      auto m = geo::aacgm_v2_model::load(tables_.aacgm_prefix, year, month, day, 0, 0, 0);
      if (!m) return unexpected(std::move(m.error()));
      aacgm_ = std::make_unique<geo::aacgm_v2_model>(std::move(*m));
      aacgm_day_ = key;
    }
    return aacgm_.get();
  }

  result<geo::igrf_model const*> igrf(int year) {
    auto it = igrf_.find(year);
    if (it == igrf_.end()) {
      auto m = geo::igrf_model::load(tables_.igrf_dir, year);
      if (!m) return unexpected(std::move(m.error()));
      it = igrf_.emplace(year, std::make_unique<geo::igrf_model>(std::move(*m))).first;
    }
    return it->second.get();
  }

 private:
  table_paths const& tables_;
  std::unique_ptr<geo::aacgm_v2_model> aacgm_;
  std::array<int, 3> aacgm_day_{};
  std::map<int, std::unique_ptr<geo::igrf_model>> igrf_;
};

std::string storing_line(grid_table const& g) {
  auto const s = ymdhms_from_epoch(g.start_time());
  auto const e = ymdhms_from_epoch(g.end_time());
  return fmt::format("Storing:{}-{}-{} {}:{}:{} {}:{}:{} pnts={} ({})", s.year, s.month, s.day, s.hour, s.minute,
                     static_cast<int>(s.second), e.hour, e.minute, static_cast<int>(e.second), g.vectors(), g.station());
}

/**
 * The grid table's side of the run, on a thread of its own so that it overlaps reading and
 * filtering: filtered scans (and notices, to keep their order) go through a bounded queue and
 * are gridded in order. Scan buffers are recycled. The first error stops the stage; push() then
 * returns it, and finish() reports it after the records before it have been written.
 */
class grid_stage {
 public:
  struct scan_job {
    std::unique_ptr<radar_scan> scan;
    double stime = 0;        // make_grid's start time: earlier intervals are not written
    std::string_view path;   // the input file the scan came from, for errors
  };

  grid_stage(grid_table& grid, std::function<result<void>(scan_job&)> grid_scan, std::function<void(std::string_view)> log)
      : grid_(grid), grid_scan_(std::move(grid_scan)), log_(std::move(log)), thread_([this] { run(); }) {}
  grid_stage(grid_stage const&) = delete;
  grid_stage& operator=(grid_stage const&) = delete;
  ~grid_stage() {
    if (thread_.joinable()) (void)finish();
  }

  /** A scan buffer for the next job (recycled when one is free). */
  std::unique_ptr<radar_scan> buffer() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) return std::make_unique<radar_scan>();
    auto b = std::move(spare_.back());
    spare_.pop_back();
    return b;
  }

  result<void> push(scan_job job) { return push_item(std::move(job)); }
  result<void> log(std::string line) {
    if (!log_) return {};
    return push_item(std::move(line));
  }

  /** Waits for every job to be gridded; the stage's error if it failed. */
  result<void> finish() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    changed_.notify_all();
    thread_.join();
    if (failure_) return unexpected(std::move(*failure_));
    return {};
  }

  [[nodiscard]] grid_table& grid() { return grid_; }

 private:
  using item = std::variant<scan_job, std::string>;
  static constexpr std::size_t capacity = 64;  // scans read ahead of the grid (~100 kB each)

  result<void> push_item(item it) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < capacity || failure_; });
    if (failure_) return unexpected(*failure_);
    queue_.push_back(std::move(it));
    lock.unlock();
    changed_.notify_all();
    return {};
  }

  void run() {
    for (;;) {
      item it;
      {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return !queue_.empty() || closed_; });
        if (queue_.empty()) return;
        it = std::move(queue_.front());
        queue_.pop_front();
      }
      changed_.notify_all();
      if (auto* line = std::get_if<std::string>(&it)) {
        log_(*line);
        continue;
      }
      auto& job = std::get<scan_job>(it);
      auto done = grid_scan_(job);
      std::lock_guard lock(mutex_);
      spare_.push_back(std::move(job.scan));
      if (!done) {
        failure_ = std::move(done.error());
        queue_.clear();
        changed_.notify_all();
        return;
      }
    }
  }

  grid_table& grid_;
  std::function<result<void>(scan_job&)> grid_scan_;
  std::function<void(std::string_view)> log_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<item> queue_;
  std::vector<std::unique_ptr<radar_scan>> spare_;
  std::optional<error> failure_;
  bool closed_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace

result<table_paths> resolve_tables(table_paths const& given) {
  namespace fs = std::filesystem;
  table_paths t;
  auto radar_dat = from_env_or(given.radar_dat, "SD_RADAR", "path of radar.dat");
  if (!radar_dat) return unexpected(std::move(radar_dat.error()));
  auto hdw = from_env_or(given.hdw_dir, "SD_HDWPATH", "directory of the hdw.dat.* hardware files");
  if (!hdw) return unexpected(std::move(hdw.error()));
  auto aacgm = from_env_or(given.aacgm_prefix, "AACGM_v2_DAT_PREFIX",
                           "prefix of the AACGM-v2 coefficient files, e.g. .../aacgm_coeffs-13-");
  if (!aacgm) return unexpected(std::move(aacgm.error()));
  auto igrf = from_env_or(given.igrf_dir, "IGRF_PATH", "directory of the IGRF coefficients (coef.dat)");
  if (!igrf) return unexpected(std::move(igrf.error()));
  t.radar_dat = *radar_dat;
  t.hdw_dir = *hdw;
  t.aacgm_prefix = *aacgm;
  t.igrf_dir = *igrf;
  if (!fs::is_regular_file(t.radar_dat))
    return unexpected(error(errc::not_found, "the radar list (SD_RADAR) does not exist").at(t.radar_dat));
  if (!fs::is_directory(t.hdw_dir))
    return unexpected(error(errc::not_found, "the hardware directory (SD_HDWPATH) does not exist").at(t.hdw_dir));
  if (!fs::is_regular_file(fs::path(t.igrf_dir) / "coef.dat"))
    return unexpected(error(errc::not_found, "IGRF_PATH has no coef.dat").at(t.igrf_dir));
  return t;
}

result<run_summary> make_grid(std::vector<std::string> const& inputs, make_grid_options const& opt,
                              table_paths const& tables, run_callbacks const& cb) {
  auto radars = radar::radar_table::load(tables.radar_dat);
  if (!radars) return unexpected(std::move(radars.error()));
  model_cache models(tables);

  run_summary summary;
  scan_reader reader(opt.scan);
  std::array<radar_scan, 3> src;
  int const nbox = opt.median ? 3 : 1;
  int const mode = opt.filter_mode;
  int const tlen = opt.scan.scan_length_s;
  int index = 0;
  int num = 0;
  thread_pool pool(opt.threads);
  mapping_options mapping = opt.mapping;
  mapping.pool = nullptr;  // the grid stage runs beside the filter, which has the pool
  grid_table grid(mapping, opt.header);
  // The grid table reads the filtered velocities, and powers and widths only to write them (-xtd).
  filtered_values const values = opt.header.extended ? filtered_values::velocity_power_width : filtered_values::velocity;
  std::optional<radar::site> site;

  // RST's start/end handling: -1 is "not set" throughout, as in make_grid.c.
  double stime = opt.start_sod.value_or(-1);
  double etime = opt.end_sod.value_or(-1);
  double const sdate = opt.start_date.value_or(-1);
  double const edate = opt.end_date.value_or(-1);
  int found_record = 0;

  std::int64_t grid_records = 0;
  auto emit = [&](grid_table const& g) -> result<void> {
    if (cb.log) cb.log(storing_line(g));
    ++grid_records;
    return cb.write(g.to_record());
  };
  geolocation geo{[&](int year) { return models.igrf(year); }, nullptr};
  // What happens to each filtered scan, in order, on the grid stage's thread (make_grid.c's
  // GridTableTest / GridTableWrite / GridTableMap).
  auto grid_scan = [&](grid_stage::scan_job& job) -> result<void> {
    radar_scan const& out = *job.scan;
    if (!site) {
      auto hw = radars->load_hardware(out.stid, tables.hdw_dir);
      if (!hw) return unexpected(std::move(hw.error()));
      auto const t = ymdhms_from_epoch(out.st_time);
      auto found = hw->site_at(epoch_from_ymdhms(t.year, t.month, t.day, t.hour, t.minute, static_cast<int>(t.second)));
      if (!found) return unexpected(std::move(found.error()));
      site = *found;
    }
    if (grid.interval_complete(out) && grid.start_time() >= job.stime) {
      if (auto w = emit(grid); !w) return unexpected(std::move(w.error()));
    }
    if (auto m = grid.add_scan(out, *site, geo); !m)
      return unexpected(error(m.error().code, fmt::format("error mapping beams: {}", m.error().what)).at(std::string(job.path)));
    return {};
  };
  grid_stage stage(grid, grid_scan, cb.notice);
  // Input errors are reported after the scans read before them have been gridded and written.
  auto stop = [&](error e) -> result<run_summary> {
    if (auto f = stage.finish(); !f) return unexpected(std::move(f.error()));
    return unexpected(std::move(e));
  };

  for (auto const& path : inputs) {
    if (auto l = stage.log(fmt::format("Opening file:{}", path)); !l) return stop(std::move(l.error()));
    // Only the first file's start-time search can rewind (FitSeek), and only to its first scan.
    bool const may_seek = found_record == 0 && (stime != -1 || sdate != -1);
    auto in = fitacf_input::open(path, opt.reader, may_seek);
    if (!in) return stop(std::move(in.error()));
    std::int64_t records_before = 0;
    record_source next = [&]() -> result<std::optional<dmap::record const*>> {
      auto r = in->next();
      if (!r) return unexpected(std::move(r.error()));
      return r;
    };
    auto located = [&](error e) {
      return stop(std::move(e).at(path, in->reader().records_read() - 1).at_offset(in->reader().last_record_offset()));
    };
    auto s = reader.read(next, src[static_cast<std::size_t>(index)]);
    if (!s) return located(std::move(s.error()));
    if (*s != scan_reader::status::scan) continue;  // RST skips a file that holds less than two scans

    if (found_record == 0) {
      if (stime != -1 || sdate != -1) {
        double const given_stime = stime;
        auto const& first = src[0];
        if (stime == -1) stime = seconds_of_day(first.st_time);
        if (sdate == -1) stime += first.st_time - seconds_of_day(first.st_time);
        else stime += sdate;
        if (opt.median) stime -= tlen != 0 ? tlen : 15 + first.ed_time - first.st_time;
        auto const t = ymdhms_from_epoch(stime);
        auto found = in->seek_after(epoch_from_ymdhms(t.year, t.month, t.day, t.hour, t.minute,
                                                      static_cast<int>(t.second)));
        if (!found) return located(std::move(found.error()));
        if (!*found) {  // "File ends before requested start time, ignoring this file."
          if (auto l = stage.log("File ends before requested start time, ignoring this file."); !l)
            return stop(std::move(l.error()));
          stime = given_stime;
          continue;
        }
        found_record = 1;
        if (tlen == 0) {
          auto aligned = reader.skip_to_scan_start(next);
          if (!aligned) return located(std::move(aligned.error()));
        } else {
          reader.reset();
        }
        s = reader.read(next, src[0]);
        if (!s) return located(std::move(s.error()));
      } else {
        stime = src[0].st_time;
        found_record = 1;
      }
    }
    if (found_record == 1) {
      if (etime != -1) etime += edate == -1 ? src[0].st_time - seconds_of_day(src[0].st_time) : edate;
      if (opt.extent_s != 0) etime = stime + opt.extent_s;
      if (etime != -1 && opt.median) etime += tlen != 0 ? tlen : 15 + src[0].ed_time - src[0].st_time;
      found_record = 2;
    }
    auto const day = ymdhms_from_epoch(stime);
    if (geo.aacgm == nullptr) {  // the start time, and so the day, is fixed once a file has a scan
      auto aacgm = models.aacgm_for_day(day.year, day.month, day.day);
      if (!aacgm) return stop(std::move(aacgm.error()));
      geo.aacgm = *aacgm;
    }

    ++num;
    do {
      auto& newest = src[static_cast<std::size_t>(index)];
      ++summary.scans;
      exclude_beams(newest, opt.exclude_beams);
      if (opt.exclude_out_of_scan) exclude_out_of_scan(newest);
      exclude_ranges(newest, opt.ranges);
      exclude_scatter_type(newest, opt.header.gsct);
      if (opt.apply_bounds) exclude_out_of_bounds(newest, opt.bounds);
      bool const ops_differ = num >= nbox && opt.check_ops && mode != -1 &&
                              !operating_parameters_agree(std::span<radar_scan const>(src.data(), static_cast<std::size_t>(nbox)), opt.fmax);
      if (!ops_differ && num >= nbox) {
        grid_stage::scan_job job{stage.buffer(), stime, path};
        if (mode != -1) {
          median_filter(std::span<radar_scan const>(src.data(), static_cast<std::size_t>(nbox)), nbox, index,
                        {mode, opt.isort, &pool, values}, *job.scan);
        } else {
          *job.scan = newest;
        }
        if (auto p = stage.push(std::move(job)); !p) return stop(std::move(p.error()));
      }
      if (opt.median) index = (index + 1) % 3;
      s = reader.read(next, src[static_cast<std::size_t>(index)]);
      if (!s) return located(std::move(s.error()));
      if (etime != -1 && src[static_cast<std::size_t>(index)].st_time > etime) break;
      ++num;
    } while (*s != scan_reader::status::end);
    summary.records_read += in->reader().records_read() - records_before;
    if (etime != -1 && src[static_cast<std::size_t>(index)].st_time > etime) break;
  }
  if (auto f = stage.finish(); !f) return unexpected(std::move(f.error()));
  if (opt.flush_last && grid.flush() && grid.start_time() >= stime) {
    if (auto w = emit(grid); !w) return unexpected(std::move(w.error()));
  }
  summary.grid_records = grid_records;
  return summary;
}

}  // namespace rstx::grid
