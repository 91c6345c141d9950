#include "rstx/fit/stream.hpp"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "rstx/core/thread_pool.hpp"
#include "rstx/core/time.hpp"
#include "rstx/fit/fit.hpp"
#include "rstx/fit/from_dmap.hpp"
#include "rstx/fit/to_dmap.hpp"

namespace rstx::fit {

result<run_setup> setup_run(radar::radar_table const& radars, dmap::radar_parms const& first, run_options const& opt) {
  run_setup s;
  auto radar = radars.load_hardware(first.stid, opt.hdw_dir);
  if (!radar) return unexpected(std::move(radar.error()));
  s.radar = std::move(*radar);
  // RadarYMDHMSGetSite: the record time in whole seconds.
  double const when = epoch_from_ymdhms(first.year, first.month, first.day, first.hour, first.minute, first.second);
  auto site = s.radar.site_at(when);
  if (!site) return unexpected(std::move(site.error()));
  s.site = *site;
  if (opt.old_elevation) s.elevation = (first.stid == 1) ? elevation_method::goose : elevation_method::v1;
  if (opt.tdiff_method && !s.radar.codes.empty()) {
    std::string dir = opt.tdiff_dir;
    if (dir.empty()) {
      auto env = radar::require_env("SD_TDIFFPATH", "directory of the tdiff.dat.* calibration files");
      if (!env) return unexpected(std::move(env.error()));
      dir = *env;
    }
    // RST skips a radar without a calibration file; lookups then find nothing.
    std::error_code ec;  // a directory that cannot be searched counts as no file, as in RST
    if (std::filesystem::exists(dir + "/tdiff.dat." + s.radar.codes.front(), ec)) {
      auto table = radar::tdiff_table::load(s.radar.codes.front(), dir);
      if (!table) return unexpected(std::move(table.error()));
      s.calibration = std::move(*table);
    }
  }
  return s;
}

namespace {

/** A chunk of input: records, and what the reader met around them. */
struct chunk {
  std::vector<dmap::record> records;  // [0, index.size()) hold this chunk's records
  std::vector<std::int64_t> index;    // stream index of each record
  std::vector<std::int64_t> offset;   // byte offset of each record
  std::vector<error> skipped;         // stretches the reader skipped (record = their stream index)
  std::optional<error> fatal;         // a read error or truncation after these records
  bool end = false;                   // the input ended after these records
  bool out_of_memory = false;         // reading ran out of memory after these records
};

// A chunk ends at its record count or once its records and the batch they make come to this many
// bytes, whichever comes first, so that memory follows neither the records' size nor their number
// of fields (two chunks are in flight: one read ahead while the other is fitted). Real rawacf
// chunks of 64 records take 2-5 MB; only unusual or hostile records meet the limit.
constexpr std::size_t chunk_bytes = std::size_t{8} << 20;
// A record slot that held more than this gives its memory back once its chunk is done.
constexpr std::size_t slot_keep_bytes = std::size_t{1} << 20;

/** Bytes the converted batch will need per range and lag (acf and xcf, complex floats). */
constexpr std::size_t batch_bytes_per_lag = 2 * 2 * sizeof(float);

/** The rawacf batch a record adds, from its nrang and mplgs (0 when they are absent). */
std::size_t batch_estimate(dmap::record const& r, std::size_t& lag_stride) {
  auto const nrang = r.find_scalar_last("nrang", dmap::type::short_);
  auto const mplgs = r.find_scalar_last("mplgs", dmap::type::short_);
  if (!nrang || !mplgs) return 0;
  lag_stride = std::max<std::size_t>(lag_stride, static_cast<std::size_t>(std::max<std::int16_t>(0, mplgs->as<std::int16_t>())));
  return static_cast<std::size_t>(std::max<std::int16_t>(0, nrang->as<std::int16_t>()));
}

/** Reads the input in chunks; keeps the stream index of records and skipped stretches. */
class chunk_reader {
 public:
  chunk_reader(dmap::reader& in, std::size_t capacity) : in_(in), capacity_(capacity) {}

  /** Fills `c` with the next records; never throws (running out of memory is marked in the chunk,
   *  for the processor to report: building the error here would need memory too). */
  void read(chunk& c) noexcept {
    try {
      read_records(c);
    } catch (std::bad_alloc const&) {
      c.out_of_memory = true;
    }
  }

 private:
  void read_records(chunk& c) {
    if (c.records.size() < capacity_) c.records.resize(capacity_);
    c.index.clear();
    c.offset.clear();
    c.skipped.clear();
    c.fatal.reset();
    c.end = false;
    c.out_of_memory = false;
    std::size_t record_bytes = 0;
    std::size_t ranges = 0;
    std::size_t lag_stride = 0;
    while (c.index.size() < capacity_) {
      auto& slot = c.records[c.index.size()];
      auto got = in_.next(slot);
      if (!got) {
        c.fatal = std::move(got.error());
        c.fatal->record = next_index_;
        return;
      }
      auto regions = in_.take_skipped();
      for (std::size_t k = 0; k < regions.size(); ++k) {
        error reason = std::move(regions[k].reason);
        reason.record = next_index_++;
        if (!*got && k + 1 == regions.size() && reason.code == errc::truncated) {
          c.fatal = std::move(reason);  // the input ends inside a record
          return;
        }
        c.skipped.push_back(std::move(reason));
      }
      if (!*got) {
        c.end = true;
        return;
      }
      c.index.push_back(next_index_++);
      c.offset.push_back(in_.last_record_offset());
      record_bytes += slot.memory_bytes();
      ranges += batch_estimate(slot, lag_stride);
      if (record_bytes + ranges * lag_stride * batch_bytes_per_lag >= chunk_bytes) return;
    }
  }

  dmap::reader& in_;
  std::size_t capacity_;
  std::int64_t next_index_ = 0;
};

/** Everything the records of one chunk go through, in order: convert, fit, encode, write. */
class chunk_processor {
 public:
  chunk_processor(dmap::reader& in, dmap::writer& out, radar::radar_table const& radars, stream_options const& opt,
                  exec_context const& ctx, stream_callbacks const& callbacks)
      : in_(in), out_(out), radars_(radars), opt_(opt), ctx_(ctx), callbacks_(callbacks) {
    fopt_.algorithm = opt.run.algorithm;
  }

  /** Processes a chunk; an error ends the run (the records before it are written). */
  result<void> process(chunk& c) {
    // The first identifiable record tells the kind of file: another product (fitacf, grid, map)
    // stops the run there, after the records before it (RST fits such records into empty ones and
    // exits 0). Once a rawacf record has been seen, the rest go unchecked (it costs microseconds).
    std::optional<error> wrong_kind;
    std::size_t n = c.index.size();
    for (std::size_t k = 0; k < n && !rawacf_seen_; ++k) {
      auto const kind = dmap::detect_product(c.records[k]);
      rawacf_seen_ = kind == dmap::product::rawacf;
      if (kind == dmap::product::rawacf || kind == dmap::product::unknown) continue;
      wrong_kind = error(errc::wrong_type,
                         fmt::format("this is a {} record; make_fit reads rawacf records", dmap::to_string(kind)),
                         c.offset[k])
                       .at(in_.source_name(), c.index[k]);
      std::erase_if(c.skipped, [&](error const& e) { return e.record > c.index[k]; });
      n = k;
      break;
    }
    std::span<dmap::record const> records(c.records.data(), n);
    summary.records_in += static_cast<std::int64_t>(n + c.skipped.size());
    if (!setup_) {
      for (std::size_t k = 0; k < n; ++k) {
        auto p = dmap::decode_radar_parms(records[k], dmap::strictness::lenient);
        if (!p) continue;
        auto s = setup_run(radars_, *p, opt_.run);
        if (!s) return unexpected(std::move(s.error()).at(in_.source_name(), c.index[k]));
        setup_ = std::move(*s);
        fopt_.elevation = setup_->elevation;
        if (callbacks_.run_set_up) callbacks_.run_set_up(*setup_);
        break;
      }
    }

    if (callbacks_.record_read) {
      for (auto const& r : records)
        if (auto p = dmap::decode_radar_parms(r, dmap::strictness::lenient)) callbacks_.record_read(*p);
    }

    tdiff_selection tdiff;
    tdiff.fixed_us = opt_.run.tdiff_us;
    tdiff.method = opt_.run.tdiff_method;
    tdiff.calibration = setup_ ? &setup_->calibration : nullptr;
    // hdw.dat maxrange is not a hard limit in practice (RST ignores it; data exceed it), so the
    // check is what the record holds: nrang <= pwr0 extent, in check_rawacf.
    input_limits const limits;
    batch_ = from_dmap(records, std::span(c.index).first(n), std::span(c.offset).first(n),
                       setup_ ? setup_->site : no_site_, tdiff, limits, ctx_, std::move(batch_));
    for (auto& r : c.records)  // converted: a slot that held a large record lets its memory go
      if (r.memory_bytes() > slot_keep_bytes) r = dmap::record{};

    // Records left out (undecodable stretches and unfittable records), reported in input order;
    // in strict mode the first one ends the run and only the records before it are written.
    std::vector<error> left_out = std::move(c.skipped);
    for (auto& rej : batch_.rejected) left_out.push_back(std::move(rej.reason));
    std::stable_sort(left_out.begin(), left_out.end(),
                     [](error const& a, error const& b) { return a.record < b.record; });
    std::int64_t write_before = INT64_MAX;
    std::optional<error> fatal;
    for (auto& e : left_out) {
      e = std::move(e).at(in_.source_name(), e.record);
      if (opt_.strict) {
        write_before = e.record;
        fatal = std::move(e);
        break;
      }
      ++summary.records_skipped;
      if (callbacks_.skipped) callbacks_.skipped(e);
    }

    auto fitted = fit_records(batch_.acf.view(), fopt_, ctx_, std::move(fitted_));
    if (!fitted) return unexpected(std::move(fitted.error()).at(in_.source_name()));

    origin_info origin;
    origin.time = origin_time(opt_.origin_time ? static_cast<std::time_t>(*opt_.origin_time) : std::time(nullptr));
    origin.command = opt_.command;
    auto const n_batch = static_cast<std::int64_t>(batch_.input_index.size());
    if (encoded_.size() < static_cast<std::size_t>(n_batch)) encoded_.resize(static_cast<std::size_t>(n_batch));
    std::vector<std::optional<error>> encode_errors(static_cast<std::size_t>(n_batch));
    ctx_.parallel_for(n_batch, 16, [&](std::int64_t begin, std::int64_t end) {
      thread_local dmap::record rec;
      for (std::int64_t b = begin; b < end; ++b) {
        auto const k = static_cast<std::size_t>(b);
        encoded_[k].clear();
        to_dmap(batch_.prm[k], *fitted, static_cast<std::int32_t>(b), origin, rec);
        if (auto e = rec.encode_to(encoded_[k]); !e) encode_errors[k] = std::move(e.error());
      }
    });
    for (std::int64_t b = 0; b < n_batch; ++b) {
      auto const k = static_cast<std::size_t>(b);
      if (batch_.input_index[k] >= write_before) break;
      if (encode_errors[k])
        return unexpected(std::move(*encode_errors[k]).at(out_.target_name(), batch_.input_index[k]));
      if (auto w = out_.write_bytes(encoded_[k]); !w) return unexpected(std::move(w.error()));
      ++summary.records_out;
    }
    fitted_ = std::move(*fitted);  // its memory serves the next chunk
    if (fatal) return unexpected(std::move(*fatal));
    if (wrong_kind) return unexpected(std::move(*wrong_kind));
    if (c.fatal) {
      auto e = std::move(*c.fatal);
      ++summary.records_in;
      if (e.source.empty()) e.source = in_.source_name();
      return unexpected(std::move(e));
    }
    return {};
  }

  stream_summary summary;

 private:
  dmap::reader& in_;
  dmap::writer& out_;
  radar::radar_table const& radars_;
  stream_options const& opt_;
  exec_context const& ctx_;
  stream_callbacks const& callbacks_;
  std::optional<run_setup> setup_;
  bool rawacf_seen_ = false;
  radar::site const no_site_{};
  fit_options fopt_;
  rawacf_batch batch_;
  host_fit_batch fitted_;
  std::vector<std::vector<std::byte>> encoded_;
};

}  // namespace

result<stream_summary> fit_stream(dmap::reader& in, dmap::writer& out, radar::radar_table const& radars,
                                  stream_options const& opt, exec_context const& ctx,
                                  stream_callbacks const& callbacks) {
  // With more than one thread the next chunk is read (and decompressed) while this one is fitted.
  bool const read_ahead = ctx.pool != nullptr && ctx.pool->size() > 1;
  std::int32_t const chunk_records = opt.chunk_records > 0 ? opt.chunk_records : (read_ahead ? 64 : 8);
  chunk_reader reader(in, static_cast<std::size_t>(chunk_records));
  try {
    chunk_processor processor(in, out, radars, opt, ctx, callbacks);
    chunk current, next;
    reader.read(current);
    for (;;) {
      if (current.out_of_memory) throw std::bad_alloc();  // reported below, like any other
      bool const more = !current.end && !current.fatal;
      result<void> done;
      bool read_next_here = !read_ahead;
      {
        // Joined when this scope ends, also when process() throws (chunk_reader::read never does).
        std::jthread ahead;
        if (more && read_ahead) {
          try {
            ahead = std::jthread([&] {
              name_this_thread("rstx-read");
              reader.read(next);
            });
          } catch (std::system_error const&) {  // no thread to be had: read after fitting instead
            read_next_here = true;
          }
        }
        done = processor.process(current);
      }
      if (!done) return unexpected(std::move(done.error()));
      if (!more) break;
      if (read_next_here) reader.read(next);
      std::swap(current, next);
    }
    return processor.summary;
  } catch (std::bad_alloc const&) {
    return unexpected(error(errc::internal, "out of memory while fitting", in.offset()).at(in.source_name()));
  }
}

}  // namespace rstx::fit
