#pragma once
/**
 * @file
 * make_fit's engine: rawacf records in, fitacf records out, in input order, in bounded memory.
 *
 * Records are read in chunks (64 by default), converted (from_dmap), fitted on all threads of the
 * execution context and written in order, so memory does not grow with the input and output
 * streams out as it is produced. Like RST, the site (hdw.dat line) is looked up once, from the
 * first record, and used for the whole run.
 *
 * Differences from RST, by design (docs/algorithms/make_fit.md):
 *  - a record that cannot be fitted (from_dmap.hpp) or that does not decode is reported through
 *    `stream_callbacks::skipped` and left out of the output (RST crashes, hangs, or silently stops
 *    at it); with `strict` it ends the run instead, after the records before it are written;
 *  - an input that ends inside a record is an error (errc::truncated) after every complete record
 *    has been written (RST exits 0);
 *  - an input whose first identifiable record is of another product (fitacf, grid or map) is an
 *    error (errc::wrong_type; RST writes empty fit records and exits 0).
 */
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "rstx/core/error.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "rstx/fit/batch.hpp"
#include "rstx/fit/exec.hpp"
#include "rstx/radar/hardware.hpp"

namespace rstx::fit {

/** Choices that hold for a whole run (make_fit's options). */
struct run_options {
  fit_algorithm algorithm = fit_algorithm::fitacf3;
  bool old_elevation = false;         ///< -old_elev
  std::optional<double> tdiff_us;     ///< -tdiff
  std::optional<int> tdiff_method;    ///< -tdiff_method
  std::string hdw_dir;                ///< directory of hdw.dat.*; empty: $SD_HDWPATH
  std::string tdiff_dir;              ///< directory of tdiff.dat.*; empty: $SD_TDIFFPATH
};

/** What a run fixes from its first record. */
struct run_setup {
  radar::radar_entry radar;           ///< the radar of the first record's stid
  radar::site site;                   ///< its hardware line valid at the first record's time
  radar::tdiff_table calibration;     ///< tdiff.dat.<code> when -tdiff_method is used (may be empty)
  elevation_method elevation = elevation_method::v2;
};

/**
 * Looks up the radar and site for the first record like make_fit: station `first.stid`, hardware
 * valid at its time (whole seconds), the calibration table if a tdiff method is given (a missing
 * file is an empty table, as in RST), and the elevation routine (-old_elev: v1, or goose for stid 1).
 * Errors: errc::not_found for an unknown station, no hardware line at that time, missing files.
 */
[[nodiscard]] result<run_setup> setup_run(radar::radar_table const& radars, dmap::radar_parms const& first,
                                          run_options const& opt);

struct stream_options {
  run_options run;
  bool strict = false;                 ///< an unfittable or undecodable record ends the run
  /** Records read, fitted and written together; 0: 8 on one thread (a small chunk stays in the
   *  caches from decoding to writing), 64 on more (fewer hand-overs between the threads). */
  std::int32_t chunk_records = 0;
  std::string command;                 ///< origin.command of every output record
  /** origin.time of every output record as seconds since 1970; unset: the moment each chunk is
   *  written (RST's behaviour). Fixed, the output is reproducible (SOURCE_DATE_EPOCH). */
  std::optional<std::int64_t> origin_time;
};

struct stream_callbacks {
  /** A record left out of the output (not called in strict mode: the error is returned instead). */
  std::function<void(error const&)> skipped;
  /** Every input record whose parameter block decodes, in order (make_fit -vb). */
  std::function<void(dmap::radar_parms const&)> record_read;
  /** Once, when the radar and its hardware line are fixed from the first record (make_fit -vb). */
  std::function<void(run_setup const&)> run_set_up;
};

struct stream_summary {
  std::int64_t records_in = 0;       ///< records (and undecodable stretches) met in the input
  std::int64_t records_out = 0;      ///< fitacf records written
  std::int64_t records_skipped = 0;  ///< reported through `skipped`
};

/**
 * Fits every record of `in` and writes the results to `out` (not committed: the caller decides).
 * On an error the records before it have been written; the error names the source, record index
 * and byte offset.
 */
[[nodiscard]] result<stream_summary> fit_stream(dmap::reader& in, dmap::writer& out, radar::radar_table const& radars,
                                                stream_options const& opt, exec_context const& ctx,
                                                stream_callbacks const& callbacks = {});

}  // namespace rstx::fit
