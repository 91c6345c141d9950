#include "rstx/grid/make_grid.hpp"

#include <cmath>
#include <cstdlib>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "rstx/core/numeric.hpp"
#include "rstx/core/thread_pool.hpp"
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

/** make_grid.c's `(int) t % (24 * 3600)`: an epoch beyond the int range (a year past 2038) gives
 *  what RST's binary gives, not undefined behaviour. */
double seconds_of_day(double epoch) { return static_cast<double>(x86_double_to_int(epoch) % seconds_per_day); }

/** The run's geolocation models, loaded on first use and kept. */
class model_cache {
 public:
  /** `log` (may be empty) gets a line naming the files of each model loaded (make_grid -vb). */
  model_cache(table_paths const& t, std::function<void(std::string_view)> log) : tables_(t), log_(std::move(log)) {}

  result<geo::aacgm_v2_model const*> aacgm_for_day(int year, int month, int day) {
    auto const key = std::array<int, 3>{year, month, day};
    if (!aacgm_ || aacgm_day_ != key) {
      auto m = geo::aacgm_v2_model::load(tables_.aacgm_prefix, year, month, day, 0, 0, 0);
      if (!m) return unexpected(std::move(m.error()));
      aacgm_ = std::make_unique<geo::aacgm_v2_model>(std::move(*m));
      aacgm_day_ = key;
      if (log_)
        log_(fmt::format("AACGM-v2 coefficients for {:04d}-{:02d}-{:02d}: {}{:04d}.asc and {}{:04d}.asc", year, month,
                         day, aacgm_->prefix(), aacgm_->epoch(), aacgm_->prefix(), aacgm_->epoch() + 5));
    }
    return aacgm_.get();
  }

  result<geo::igrf_model const*> igrf(int year) {
    auto it = igrf_.find(year);
    if (it == igrf_.end()) {
      auto m = geo::igrf_model::load(tables_.igrf_dir, year);
      if (!m) return unexpected(std::move(m.error()));
      it = igrf_.emplace(year, std::make_unique<geo::igrf_model>(std::move(*m))).first;
      if (log_)
        log_(fmt::format("IGRF coefficients for {}: {} and {}", year, it->second->model_files()[0],
                         it->second->model_files()[1]));
    }
    return it->second.get();
  }

 private:
  table_paths const& tables_;
  std::function<void(std::string_view)> log_;
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
 * The run after reading: each scan window is median-filtered on one of several worker threads
 * (windows are independent), and the filtered scans are gridded in order on a thread of their
 * own. A window holds shared, read-only snapshots of its scans, so the reader can go on with the
 * next scans meanwhile. Notices travel in the same ordered queue so that stderr keeps RST's order.
 * The first error stops the run; push() then returns it, and finish() reports it once the records
 * before it have been written.
 */
class window_pipeline {
 public:
  using scan_ptr = std::shared_ptr<radar_scan const>;
  struct window {
    std::array<scan_ptr, 3> slots;  // RST's slot positions (make_grid.c src[])
    int depth = 3;
    int newest = 0;
    bool filter = true;             // false: grid slots[newest] as it is (-fwgt -1)
    median_options options;
    double stime = 0;               // make_grid's start time: earlier intervals are not written
    std::string_view path;          // the input file, for errors
  };

  window_pipeline(int filter_threads, std::function<result<void>(radar_scan const&, window const&)> grid_scan,
                  std::function<void(std::string_view)> notice)
      : grid_scan_(std::move(grid_scan)), notice_(std::move(notice)) {
    spare_items_.reserve(capacity + 2);
    filters_.reserve(static_cast<std::size_t>(std::max(1, filter_threads)));
    try {
      for (int i = 0; i < std::max(1, filter_threads); ++i) filters_.emplace_back([this] { guarded(&window_pipeline::filter_loop); });
      grid_thread_ = std::thread([this] { guarded(&window_pipeline::grid_loop); });
    } catch (std::system_error const& e) {  // a thread that cannot start: the ones that did are stopped
      stop();
      throw std::system_error(e.code(), fmt::format("cannot start {} filter threads and the grid thread (use fewer threads)",
                                                    std::max(1, filter_threads)));
    } catch (...) {
      stop();
      throw;
    }
  }
  window_pipeline(window_pipeline const&) = delete;
  window_pipeline& operator=(window_pipeline const&) = delete;
  ~window_pipeline() { stop(); }

  result<void> push(window w) {
    auto it = new_item();
    it->win = std::move(w);
    it->ready = !it->win.filter;
    return push_item(std::move(it));
  }
  result<void> notice(std::string line) {
    if (!notice_) return {};
    auto it = new_item();
    it->line = std::move(line);
    it->ready = true;
    return push_item(std::move(it));
  }

  /** Waits until every window is gridded; the pipeline's error if it failed. */
  result<void> finish() {
    stop();
    return outcome();
  }

 private:
  /** Lets the grid thread finish the queue, then the filter threads go. Allocates nothing, so
   *  that it is safe on the way out of an exception (the destructor calls it too). */
  void stop() noexcept {
    {
      std::lock_guard lock(mutex_);
      if (stopped_) return;
      stopped_ = true;
      closed_ = true;
    }
    ready_.notify_one();
    if (grid_thread_.joinable()) grid_thread_.join();
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_.notify_all();
    for (auto& t : filters_) t.join();
  }

  /** The pipeline's first error, if it failed (called with no thread running, or under the lock). */
  [[nodiscard]] result<void> outcome() const {
    if (out_of_memory_) return fail(errc::internal, "out of memory while filtering or gridding");
    if (failure_) return unexpected(*failure_);
    return {};
  }
  [[nodiscard]] bool failed() const noexcept { return out_of_memory_ || failure_.has_value(); }

  struct item {
    window win;
    std::optional<std::string> line;
    radar_scan filtered;
    bool taken = false;  // a filter thread has it
    bool ready = false;  // filtered (or nothing to filter)
  };
  static constexpr std::size_t capacity = 6;  // windows read ahead of the grid

  /** An item from those the grid thread is done with (its filtered scan keeps its memory). */
  std::unique_ptr<item> new_item() {
    std::lock_guard lock(mutex_);
    if (spare_items_.empty()) return std::make_unique<item>();
    auto it = std::move(spare_items_.back());
    spare_items_.pop_back();
    return it;
  }
  void give_back(std::unique_ptr<item> it) {
    it->win = window{};  // lets go of its scans (outside the lock: they go back to the reader)
    it->line.reset();
    it->taken = false;
    it->ready = false;
    // An item whose filtered scan grew far beyond a usual one's is not kept for reuse.
    std::size_t cells = 0;
    for (auto const& b : it->filtered.beams) cells += b.rng.capacity();
    if (cells * sizeof(radar_cell) > item_keep_bytes) return;
    std::lock_guard lock(mutex_);
    if (spare_items_.size() < capacity + 2) spare_items_.push_back(std::move(it));
  }
  static constexpr std::size_t item_keep_bytes = std::size_t{2} << 20;  // a real scan: about 0.1 MB

  // Waits spin briefly (yielding the core) before they sleep: a window takes a fraction of a
  // millisecond, and waking a sleeping thread on the other core costs about as much (measured: the
  // run 0.8x the wall time with the short spin). A thread that finds nothing within the spin
  // sleeps as before, so an idle pipeline does not burn a core.
  template <class Pred>
  static void wait_for(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Pred pred) {
    for (int i = 0; i < spin_limit && !pred(); ++i) {
      lock.unlock();
      std::this_thread::yield();
      lock.lock();
    }
    cv.wait(lock, pred);
  }
  static constexpr int spin_limit = 200;  // yields (each about a microsecond when nothing else runs)

  // One condition per kind of waiter (the reader, the filter threads, the grid thread), so that
  // each change wakes only a thread that can act on it.
  result<void> push_item(std::unique_ptr<item> it) {
    std::unique_lock lock(mutex_);
    wait_for(lock, space_, [&] { return queue_.size() < capacity || failed(); });
    if (failed()) return outcome();
    bool const needs_filter = !it->ready;
    queue_.push_back(std::move(it));
    lock.unlock();
    if (needs_filter) work_.notify_one();
    else ready_.notify_one();
    return {};
  }

  void filter_loop() {
    name_this_thread("rstx-filter");
    std::unique_lock lock(mutex_);
    for (;;) {
      item* job = nullptr;
      wait_for(lock, work_, [&] {
        if (stopping_) return true;
        for (auto& it : queue_)
          if (!it->taken && !it->ready) {
            job = it.get();
            return true;
          }
        return false;
      });
      if (job == nullptr) return;  // stopping
      job->taken = true;
      lock.unlock();
      bool out_of_memory = false;
      std::optional<error> failure;
      try {
        std::array<radar_scan const*, 3> slots{};
        for (std::size_t i = 0; i < 3; ++i) slots[i] = job->win.slots[i].get();
        median_filter(std::span<radar_scan const* const>(slots.data(), static_cast<std::size_t>(job->win.depth)),
                      job->win.depth, job->win.newest, job->win.options, job->filtered);
      } catch (...) {
        out_of_memory = !describe_failure(std::current_exception(), "filtering a scan", job->win.path, failure);
      }
      lock.lock();
      bool const failed_here = out_of_memory || failure;
      if (failed_here) fail_locked(std::move(failure), out_of_memory);  // the grid thread stops before this window
      job->ready = true;
      if (failed_here || job == queue_.front().get()) ready_.notify_one();
    }
  }

  /**
   * An exception from a filter or grid step as the run's error ("while filtering a scan: ...").
   * False when even that cannot be built for lack of memory (the caller then marks the pipeline
   * out of memory, which needs no allocation).
   */
  static bool describe_failure(std::exception_ptr const& caught, char const* doing, std::string_view path,
                               std::optional<error>& out) noexcept {
    try {
      try {
        std::rethrow_exception(caught);
      } catch (std::bad_alloc const&) {
        return false;
      } catch (std::exception const& e) {
        out = error(errc::internal, fmt::format("while {}: {}", doing, e.what())).at(std::string(path));
      } catch (...) {
        out = error(errc::internal, fmt::format("while {}: unknown exception", doing)).at(std::string(path));
      }
      return true;
    } catch (...) {
      return false;
    }
  }

  /** Runs a thread's loop; anything that escapes it (memory for bookkeeping, say) fails the
   *  pipeline instead of ending the process. */
  void guarded(void (window_pipeline::*loop)()) noexcept {
    try {
      (this->*loop)();
    } catch (...) {
      std::lock_guard lock(mutex_);
      fail_locked(std::nullopt, true);
      ready_.notify_all();
      work_.notify_all();
    }
  }

  /** Records the pipeline's first error; the windows still queued are never gridded. */
  void fail_locked(std::optional<error> e, bool out_of_memory) noexcept {
    if (!failed()) {
      if (out_of_memory) out_of_memory_ = true;
      else failure_ = std::move(e);
    }
    space_.notify_all();
  }

  void grid_loop() {
    name_this_thread("rstx-grid");
    for (;;) {
      std::unique_ptr<item> it;
      {
        std::unique_lock lock(mutex_);
        wait_for(lock, ready_, [&] {
          return failed() || (!queue_.empty() && queue_.front()->ready) || (closed_ && queue_.empty());
        });
        if (failed() || queue_.empty()) return;
        it = std::move(queue_.front());
        queue_.pop_front();
      }
      space_.notify_one();
      bool out_of_memory = false;
      std::optional<error> failure;
      try {
        if (it->line) {
          notice_(*it->line);
        } else {
          auto const& scan = it->win.filter ? it->filtered : *it->win.slots[static_cast<std::size_t>(it->win.newest)];
          if (auto done = grid_scan_(scan, it->win); !done) failure = std::move(done.error());
        }
      } catch (...) {
        out_of_memory = !describe_failure(std::current_exception(), "gridding a scan", it->win.path, failure);
      }
      if (out_of_memory || failure) {
        std::lock_guard lock(mutex_);
        fail_locked(std::move(failure), out_of_memory);
        return;
      }
      give_back(std::move(it));
    }
  }

  std::function<result<void>(radar_scan const&, window const&)> grid_scan_;
  std::function<void(std::string_view)> notice_;
  std::mutex mutex_;
  std::condition_variable space_;  // the reader waits for room in the queue
  std::condition_variable work_;   // filter threads wait for a window
  std::condition_variable ready_;  // the grid thread waits for the front window
  std::deque<std::unique_ptr<item>> queue_;
  std::vector<std::unique_ptr<item>> spare_items_;  // gridded, for new_item
  std::optional<error> failure_;
  bool out_of_memory_ = false;  // a thread ran out of memory (kept apart from failure_: no allocation)
  bool closed_ = false;    // no more windows will come
  bool stopping_ = false;  // the grid thread is done: filter threads leave
  bool stopped_ = false;
  std::vector<std::thread> filters_;
  std::thread grid_thread_;
};

}  // namespace

/**
 * Shares scans with the pipeline and takes them back when its last window lets go (on whichever
 * thread that is), so that the reader refills their beams' memory instead of allocating and
 * zeroing fresh pages for every scan.
 */
class scan_recycler {
 public:
  window_pipeline::scan_ptr share(radar_scan&& scan) {
    return {new radar_scan(std::move(scan)), [this](radar_scan const* done) noexcept {
              std::unique_ptr<radar_scan> owned(const_cast<radar_scan*>(done));  // created non-const above
              try {
                std::lock_guard lock(mutex_);
                returned_.push_back(std::move(*owned));
              } catch (...) {  // out of memory: the scan is simply freed
              }
            }};
  }
  /** Hands the returned scans' beams to the reader. */
  void refill(scan_reader& reader) {
    {
      std::lock_guard lock(mutex_);
      taken_.swap(returned_);
    }
    for (auto& scan : taken_) reader.recycle(scan);
    taken_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<radar_scan> returned_;
  std::vector<radar_scan> taken_;  // the reader's side of the swap
};

namespace {
result<run_summary> run_make_grid(std::vector<std::string> const& inputs, make_grid_options const& opt,
                                  table_paths const& tables, run_callbacks const& cb, std::string_view& current_input);
}  // namespace

result<run_summary> make_grid(std::vector<std::string> const& inputs, make_grid_options const& opt,
                              table_paths const& tables, run_callbacks const& cb) {
  // Running out of memory (or a thread that cannot start) ends the run with an error naming the
  // file being read, not an abort.
  std::string_view current_input;
  try {
    return run_make_grid(inputs, opt, tables, cb, current_input);
  } catch (std::bad_alloc const&) {
    return unexpected(error(errc::internal, "out of memory").at(current_input));
  } catch (std::exception const& e) {
    return unexpected(error(errc::internal, e.what()).at(current_input));
  }
}

namespace {
result<run_summary> run_make_grid(std::vector<std::string> const& inputs, make_grid_options const& opt,
                                  table_paths const& tables, run_callbacks const& cb, std::string_view& current_input) {
  auto radars = radar::radar_table::load(tables.radar_dat);
  if (!radars) return unexpected(std::move(radars.error()));
  model_cache models(tables, cb.log);

  run_summary summary;
  scan_reader reader(opt.scan);
  std::array<radar_scan, 3> src;
  int const nbox = opt.median ? 3 : 1;
  int const mode = opt.filter_mode;
  int const tlen = opt.scan.scan_length_s;
  int index = 0;
  int num = 0;
  // The scans of the current filter window as read-only snapshots (RST's src[] slot positions):
  // windows being filtered share them while src[] is refilled. (The recycler outlives them.)
  scan_recycler recycler;
  std::array<window_pipeline::scan_ptr, 3> snapshot;
  int const threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  // New beams are geolocated gate by gate on this pool (the grid thread takes part). That work
  // comes all at once at the first scans, while the queue ahead of the grid is full and the
  // reader and filter threads wait, so the pool's threads would otherwise find the cores idle.
  std::optional<thread_pool> geolocation_pool;
  if (threads > 1) geolocation_pool.emplace(threads);
  mapping_options mapping = opt.mapping;
  mapping.pool = geolocation_pool ? &*geolocation_pool : nullptr;
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
  // The day of the AACGM-v2 coefficients, fixed by the reader once a file has a scan; the grid
  // thread loads them at its first scan, while the reader goes on.
  std::optional<std::array<int, 3>> aacgm_day;
  // What happens to each filtered scan, in order, on the pipeline's grid thread (make_grid.c's
  // GridTableTest / GridTableWrite / GridTableMap).
  auto grid_scan = [&](radar_scan const& out, window_pipeline::window const& w) -> result<void> {
    if (geo.aacgm == nullptr) {
      auto aacgm = models.aacgm_for_day((*aacgm_day)[0], (*aacgm_day)[1], (*aacgm_day)[2]);
      if (!aacgm) return unexpected(std::move(aacgm.error()));
      geo.aacgm = *aacgm;
    }
    if (!site) {
      auto hw = radars->load_hardware(out.stid, tables.hdw_dir);
      if (!hw) return unexpected(std::move(hw.error()));
      auto const t = ymdhms_from_epoch(out.st_time);
      auto found = hw->site_at(epoch_from_ymdhms(t.year, t.month, t.day, t.hour, t.minute, static_cast<int>(t.second)));
      if (!found) return unexpected(std::move(found.error()));
      site = *found;
    }
    if (grid.interval_complete(out) && grid.start_time() >= w.stime) {
      if (auto e = emit(grid); !e) return unexpected(std::move(e.error()));
    }
    if (auto m = grid.add_scan(out, *site, geo); !m)
      return unexpected(error(m.error().code, fmt::format("error mapping beams: {}", m.error().what)).at(std::string(w.path)));
    return {};
  };
  window_pipeline pipeline(threads, grid_scan, cb.notice);
  // Input errors are reported after the scans read before them have been gridded and written.
  auto stop = [&](error e) -> result<run_summary> {
    if (auto f = pipeline.finish(); !f) return unexpected(std::move(f.error()).at(current_input));
    return unexpected(std::move(e));
  };
  // Reads the next scan into src[slot]. A snapshot of that slot may still be in use by a window,
  // so the slot is refilled from scratch; RST's reader appends to the slot's old scan when a new
  // file begins (state 2), so that case starts from a copy of it.
  auto read_into = [&](std::size_t slot, record_source const& next) {
    if (reader.state() == 2 && snapshot[slot]) src[slot] = *snapshot[slot];
    return reader.read(next, src[slot]);
  };

  for (auto const& path : inputs) {
    current_input = path;
    if (auto l = pipeline.notice(fmt::format("Opening file:{}", path)); !l) return stop(std::move(l.error()));
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
    auto s = read_into(static_cast<std::size_t>(index), next);
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
          if (auto l = pipeline.notice("File ends before requested start time, ignoring this file."); !l)
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
        s = read_into(0, next);
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
    if (!aacgm_day) {  // the start time, and so the day, is fixed once a file has a scan
      auto const day = ymdhms_from_epoch(stime);
      aacgm_day = std::array<int, 3>{day.year, day.month, day.day};
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
      snapshot[static_cast<std::size_t>(index)] = recycler.share(std::move(newest));
      newest = radar_scan{};
      recycler.refill(reader);
      std::array<radar_scan const*, 3> slots{};
      for (std::size_t i = 0; i < 3; ++i) slots[i] = snapshot[i].get();
      bool const ops_differ =
          num >= nbox && opt.check_ops && mode != -1 &&
          !operating_parameters_agree(std::span<radar_scan const* const>(slots.data(), static_cast<std::size_t>(nbox)), opt.fmax);
      if (!ops_differ && num >= nbox) {
        window_pipeline::window w{snapshot, nbox, index, mode != -1, {mode, opt.isort, nullptr, values}, stime, path};
        if (auto p = pipeline.push(std::move(w)); !p) return stop(std::move(p.error()));
      }
      if (opt.median) index = (index + 1) % 3;
      s = read_into(static_cast<std::size_t>(index), next);
      if (!s) return located(std::move(s.error()));
      if (etime != -1 && src[static_cast<std::size_t>(index)].st_time > etime) break;
      ++num;
    } while (*s != scan_reader::status::end);
    summary.records_read += in->reader().records_read() - records_before;
    if (etime != -1 && src[static_cast<std::size_t>(index)].st_time > etime) break;
  }
  if (auto f = pipeline.finish(); !f) return unexpected(std::move(f.error()).at(current_input));
  if (opt.flush_last && grid.flush() && grid.start_time() >= stime) {
    if (auto w = emit(grid); !w) return unexpected(std::move(w.error()));
  }
  summary.grid_records = grid_records;
  return summary;
}

}  // namespace

}  // namespace rstx::grid
