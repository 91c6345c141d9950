#pragma once
/**
 * @file
 * Typed views of the SuperDARN products stored in DMAP records: rawacf, fitacf, grid and map.
 *
 * Decoding follows RST's decoders (dmap.md §1.8): a field is taken when both its name and its
 * type match, the last such field wins, and absent scalars read as zero (`ifmode` as -1). On top
 * of that every view checks its arrays' types and shapes, so later stages can index them safely:
 *
 * - strict:  every field that current RST writes for the product must be present with its type.
 * - lenient: only the fields that processing needs are required, so older files that lack
 *            optional fields (mplgexs, ifmode, origin.*, algorithm, tdiff, ...) still read.
 *
 * Wrong types or shapes are errors in both modes (errc::wrong_type / errc::missing_field, naming
 * the field). Values are not range-checked here: that is the job of each algorithm's input stage.
 */
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/dmap/record.hpp"

namespace rstx::dmap {

enum class strictness : std::uint8_t { strict, lenient };

/** What kind of product a record holds, guessed from its field names. */
enum class product : std::uint8_t { unknown, rawacf, fitacf, grid, map };
[[nodiscard]] std::string_view to_string(product p) noexcept;
[[nodiscard]] product detect_product(record const& r) noexcept;

/**
 * The radar parameter block that starts every rawacf and fitacf record (RST `RadarParm`,
 * rprm.c). Members keep RST's field names and units: times UTC; lagfr, smsep, txpl, mpinc,
 * offset, rxrise in microseconds; frang, rsep in km; tfreq in kHz; bmazm in degrees.
 */
struct radar_parms {
  std::int8_t revision_major = 0;   ///< radar.revision.major
  std::int8_t revision_minor = 0;   ///< radar.revision.minor
  std::int8_t origin_code = 0;      ///< origin.code
  std::string origin_time;          ///< origin.time
  std::string origin_command;       ///< origin.command
  std::int16_t cp = 0;
  std::int16_t stid = 0;
  std::int16_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;  ///< time.yr .. time.sc
  std::int32_t microsecond = 0;     ///< time.us
  std::int16_t txpow = 0;
  std::int16_t nave = 0;
  std::int16_t atten = 0;
  std::int16_t lagfr = 0;
  std::int16_t smsep = 0;
  std::int16_t ercod = 0;
  std::int16_t agc = 0;             ///< stat.agc
  std::int16_t lopwr = 0;           ///< stat.lopwr
  float noise_search = 0.0F;        ///< noise.search
  float noise_mean = 0.0F;          ///< noise.mean
  std::int16_t channel = 0;
  std::int16_t bmnum = 0;
  float bmazm = 0.0F;
  std::int16_t scan = 0;
  std::int16_t offset = 0;
  std::int16_t rxrise = 0;
  std::int16_t intt_sc = 0;         ///< intt.sc
  std::int32_t intt_us = 0;         ///< intt.us
  std::int16_t txpl = 0;
  std::int16_t mpinc = 0;
  std::int16_t mppul = 0;
  std::int16_t mplgs = 0;
  std::int16_t mplgexs = 0;
  std::int16_t ifmode = -1;         ///< -1 when absent (RST 5.0)
  std::int16_t nrang = 0;
  std::int16_t frang = 0;
  std::int16_t rsep = 0;
  std::int16_t xcf = 0;
  std::int16_t tfreq = 0;
  std::int32_t mxpwr = 0;
  /** RST reads this int32 through an int16 pointer: only the low 16 bits, sign-extended, survive
   *  decoding (dmap.md §2). Kept that way so that outputs match RST. */
  std::int32_t lvmax = 0;
  std::string combf;
  std::vector<std::int16_t> ptab;   ///< pulse table [mppul], in units of mpinc
  /** Lag table, flattened: lag row x has pulses ltab[2*x] and ltab[2*x+1]; (2, rows) extents. */
  std::vector<std::int16_t> ltab;

  /** Number of lag-table rows (extent 1 of ltab). */
  [[nodiscard]] std::size_t ltab_rows() const noexcept { return ltab.size() / 2; }
  /** Record time as RST computes it: TimeYMDHMSToEpoch(yr,mo,dy,hr,mt, sc + us/1e6). */
  [[nodiscard]] double epoch() const noexcept;
};

/** Decodes the radar parameter block (scalars plus ptab/ltab). */
[[nodiscard]] result<radar_parms> decode_radar_parms(record const& r, strictness mode);
/** The same into an existing object, reusing its strings and tables (no allocation once warm). */
[[nodiscard]] result<void> decode_radar_parms(record const& r, strictness mode, radar_parms& out);

/** Appends the 46 radar-parameter scalars in RST's order (RadarParmEncode; arrays not included). */
void encode_radar_parms_scalars(radar_parms const& p, record& out);
/** Appends ptab and ltab (ltab with `rows` rows: RST writes mplgs+1 for fitacf). */
void encode_radar_parms_arrays(radar_parms const& p, record& out);

/** A rawacf record (RST `RawData`). Arrays are validated views into the record. */
struct rawacf_view {
  radar_parms prm;
  std::int32_t revision_major = 0;  ///< rawacf.revision.major
  std::int32_t revision_minor = 0;  ///< rawacf.revision.minor
  float thr = 0.0F;
  /** Lag-0 power of every range [nrang_raw] (float, linear). */
  array_ref pwr0;
  /** Ranges that have ACFs, [snum] (short). Absent or empty: no ACF data. */
  std::optional<array_ref> slist;
  /** ACFs (float), extents (2, lags, snum): re/im fastest, then lag, then listed range. */
  std::optional<array_ref> acfd;
  /** XCFs, same shape as acfd. */
  std::optional<array_ref> xcfd;

  [[nodiscard]] std::size_t nrang_raw() const noexcept { return pwr0.count(); }
  [[nodiscard]] std::size_t snum() const noexcept { return slist ? slist->count() : 0; }
  /** Lags per range in acfd (its extent 1), 0 when absent. */
  [[nodiscard]] std::size_t acf_lags() const noexcept { return acfd ? static_cast<std::size_t>(acfd->dim(1)) : 0; }
  [[nodiscard]] std::size_t xcf_lags() const noexcept { return xcfd ? static_cast<std::size_t>(xcfd->dim(1)) : 0; }
};

/** Decodes a rawacf record. The view refers to `r`, which must outlive it. */
[[nodiscard]] result<rawacf_view> decode_rawacf(record const& r, strictness mode);

/** A fitacf record (RST `FitData` as written by FitEncode). Per-range arrays are [snum]. */
struct fitacf_view {
  radar_parms prm;
  std::string algorithm;            ///< "fitacf3", "fitacf2", or empty in older files
  std::int32_t revision_major = 0;  ///< fitacf.revision.major
  std::int32_t revision_minor = 0;  ///< fitacf.revision.minor
  float noise_sky = 0.0F;
  float noise_lag0 = 0.0F;
  float noise_vel = 0.0F;
  std::optional<float> tdiff;
  array_ref pwr0;                   ///< [nrang] lag-0 SNR in dB
  std::optional<array_ref> slist;   ///< [snum] short
  /** Any other per-range array by name ([snum], type checked by `get`). */
  [[nodiscard]] std::optional<array_ref> get(std::string_view name) const noexcept;

  [[nodiscard]] std::size_t snum() const noexcept { return slist ? slist->count() : 0; }
  record const* rec = nullptr;
};

/** Decodes a fitacf record; checks that every per-range array has snum elements. */
[[nodiscard]] result<fitacf_view> decode_fitacf(record const& r, strictness mode);

/** Start and end times of a grid or map record. */
struct grid_times {
  std::int16_t start_year = 0, start_month = 0, start_day = 0, start_hour = 0, start_minute = 0;
  double start_second = 0.0;
  std::int16_t end_year = 0, end_month = 0, end_day = 0, end_hour = 0, end_minute = 0;
  double end_second = 0.0;
  [[nodiscard]] double start_epoch() const noexcept;
  [[nodiscard]] double end_epoch() const noexcept;
};

/** A grid record (RST GridTableWrite) or the grid part of a map record. */
struct grid_view {
  grid_times times;
  std::size_t nstations = 0;        ///< extent of the per-station arrays
  std::size_t nvectors = 0;         ///< extent of the vector.* arrays
  array_ref stid;                   ///< [nstations] short
  array_ref nvec;                   ///< [nstations] short
  std::optional<array_ref> vector_index;  ///< [nvectors] int
  record const* rec = nullptr;
  [[nodiscard]] std::optional<array_ref> get(std::string_view name) const noexcept;
};

[[nodiscard]] result<grid_view> decode_grid(record const& r, strictness mode);

/** A convection map record: a grid plus the map scalars. */
struct map_view {
  grid_view grid;
  record const* rec = nullptr;
};

[[nodiscard]] result<map_view> decode_map(record const& r, strictness mode);

/** Checks a record against the rules of the product it holds (detect_product). */
[[nodiscard]] result<product> validate_record(record const& r, strictness mode);

}  // namespace rstx::dmap
