#include "rstx/fit/stream.hpp"

#include <ctime>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

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
    if (std::filesystem::exists(dir + "/tdiff.dat." + s.radar.codes.front())) {
      auto table = radar::tdiff_table::load(s.radar.codes.front(), dir);
      if (!table) return unexpected(std::move(table.error()));
      s.calibration = std::move(*table);
    }
  }
  return s;
}

namespace {

/** Reads up to `capacity` records; stops early at the end of input or on a fatal problem. */
struct chunk_reader {
  dmap::reader& in;
  stream_options const& opt;
  stream_callbacks const& callbacks;
  stream_summary& summary;
  std::size_t regions_seen = 0;
  std::int64_t next_index = 0;

  std::vector<dmap::record> records;
  std::vector<std::int64_t> index;    // stream index of each record of the chunk
  std::vector<std::int64_t> offset;   // byte offset of each record
  std::optional<error> fatal;         // ends the run once the chunk is written
  bool end = false;

  /** A stretch the reader skipped: reported, or fatal in strict mode. */
  void skip(error e) {
    e.record = next_index++;
    ++summary.records_in;
    if (opt.strict) {
      if (!fatal) fatal = std::move(e);
      return;
    }
    ++summary.records_skipped;
    if (callbacks.skipped) callbacks.skipped(e);
  }

  void read(std::size_t capacity) {
    if (records.size() < capacity) records.resize(capacity);
    index.clear();
    offset.clear();
    while (index.size() < capacity && !fatal && !end) {
      auto got = in.next(records[index.size()]);
      if (!got) {
        fatal = std::move(got.error());
        fatal->record = next_index;
        return;
      }
      auto const regions = in.skipped();
      for (; regions_seen < regions.size(); ++regions_seen) {
        error reason = regions[regions_seen].reason;
        bool const at_end = !*got && regions_seen + 1 == regions.size();
        if (at_end && reason.code == errc::truncated) {  // the input ends inside a record
          reason.record = next_index++;
          ++summary.records_in;
          fatal = std::move(reason);
          return;
        }
        skip(std::move(reason));
        if (fatal) return;
      }
      if (!*got) {
        end = true;
        return;
      }
      index.push_back(next_index++);
      offset.push_back(in.last_record_offset());
      ++summary.records_in;
    }
  }
};

}  // namespace

result<stream_summary> fit_stream(dmap::reader& in, dmap::writer& out, radar::radar_table const& radars,
                                  stream_options const& opt, exec_context const& ctx,
                                  stream_callbacks const& callbacks) {
  stream_summary summary;
  chunk_reader reader{in, opt, callbacks, summary, 0, 0, {}, {}, {}, std::nullopt, false};
  auto const capacity = static_cast<std::size_t>(std::max(1, opt.chunk_records));
  std::optional<run_setup> setup;
  radar::site const no_site{};
  std::vector<std::vector<std::byte>> encoded;
  rawacf_batch batch;
  fit_options fopt;
  fopt.algorithm = opt.run.algorithm;

  while (!reader.end && !reader.fatal) {
    reader.read(capacity);
    auto const n = reader.index.size();
    std::span<dmap::record const> records(reader.records.data(), n);

    if (callbacks.record_read) {
      for (auto const& r : records)
        if (auto p = dmap::decode_radar_parms(r, dmap::strictness::lenient)) callbacks.record_read(*p);
    }
    if (!setup) {
      for (auto const& r : records) {
        auto p = dmap::decode_radar_parms(r, dmap::strictness::lenient);
        if (!p) continue;
        auto s = setup_run(radars, *p, opt.run);
        if (!s) return unexpected(std::move(s.error()).at(in.source_name(), reader.index[static_cast<std::size_t>(&r - records.data())]));
        setup = std::move(*s);
        fopt.elevation = setup->elevation;
        break;
      }
    }

    tdiff_selection tdiff;
    tdiff.fixed_us = opt.run.tdiff_us;
    tdiff.method = opt.run.tdiff_method;
    tdiff.calibration = setup ? &setup->calibration : nullptr;
    input_limits limits;
    // hdw.dat maxrange is not a hard limit in practice (RST ignores it; data exceed it), so the
    // check is what the record holds: nrang <= pwr0 extent, in check_rawacf.
    limits.max_ranges = 0;
    batch = from_dmap(records, n > 0 ? reader.index.front() : 0, reader.offset, setup ? setup->site : no_site, tdiff,
                      limits, ctx, std::move(batch));

    // Records that cannot be fitted: reported and left out; in strict mode the first one ends the run
    // and only the records before it are written.
    std::int64_t write_before = INT64_MAX;
    for (auto& rej : batch.rejected) {
      rej.reason = std::move(rej.reason).at(in.source_name(), rej.index);
      if (opt.strict) {
        write_before = rej.index;
        reader.fatal = std::move(rej.reason);
        break;
      }
      ++summary.records_skipped;
      if (callbacks.skipped) callbacks.skipped(rej.reason);
    }

    auto fitted = fit_records(batch.acf.view(), fopt, ctx);
    if (!fitted) return unexpected(std::move(fitted.error()).at(in.source_name()));

    origin_info origin;
    origin.time = origin_time(std::time(nullptr));
    origin.command = opt.command;
    auto const n_batch = static_cast<std::int64_t>(batch.input_index.size());
    if (encoded.size() < static_cast<std::size_t>(n_batch)) encoded.resize(static_cast<std::size_t>(n_batch));
    std::vector<std::optional<error>> encode_errors(static_cast<std::size_t>(n_batch));
    ctx.parallel_for(n_batch, 16, [&](std::int64_t begin, std::int64_t end) {
      thread_local dmap::record rec;
      for (std::int64_t b = begin; b < end; ++b) {
        auto const k = static_cast<std::size_t>(b);
        encoded[k].clear();
        to_dmap(batch.prm[k], *fitted, static_cast<std::int32_t>(b), origin, rec);
        if (auto e = rec.encode_to(encoded[k]); !e) encode_errors[k] = std::move(e.error());
      }
    });
    for (std::int64_t b = 0; b < n_batch; ++b) {
      auto const k = static_cast<std::size_t>(b);
      if (batch.input_index[k] >= write_before) break;
      if (encode_errors[k]) return unexpected(std::move(*encode_errors[k]).at(out.target_name(), batch.input_index[k]));
      if (auto w = out.write_bytes(encoded[k]); !w) return unexpected(std::move(w.error()));
      ++summary.records_out;
    }
  }
  if (reader.fatal) {
    auto e = std::move(*reader.fatal);
    if (e.source.empty()) e.source = in.source_name();
    return unexpected(std::move(e));
  }
  return summary;
}

}  // namespace rstx::fit
