#pragma once
/**
 * @file
 * Batches of records for the fitting algorithms (FITACF 3.0, FITACF 2.5): structure-of-arrays
 * input (lag-0 power, ACFs and XCFs of records × ranges × lags) and output (one value per fitted
 * quantity per range), shared by the CPU code and, later, CUDA kernels.
 *
 * Layout. Records have their own number of ranges (`nrang`), so ranges are stored back to back:
 * range r of record i has the global range index `rec[i].range_begin + r`. Every range has
 * `lag_stride` lag slots (the largest `mplgs` in the batch); lag-table row l of that range is at
 * `range_index * lag_stride + l`. Complex values are interleaved (re, im), as in DMAP's acfd.
 *
 * Views (`*_view`) are trivially copyable structs of pointers and extents, valid in device code;
 * `host_*` containers own the memory and hand out views. Nothing here knows about DMAP:
 * `from_dmap.hpp` builds input batches from rawacf records, `to_dmap.hpp` writes fitacf records.
 */
#include <array>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "rstx/core/numeric.hpp"  // RSTX_HOST_DEVICE

namespace rstx::fit {

/** Most lag-table rows (mplgs) a record may have. RST has no limit; real modes use 17-23 rows
 *  (tauscan 17, katscan 18, Borealis 22-23). Records above it are rejected by from_dmap. The
 *  per-range lag masks are 64-bit words, which is why this is 64. */
inline constexpr int max_lags = 64;
/** Most pulses (mppul) a record may have (real sequences have 7-13). Checked by from_dmap. */
inline constexpr int max_pulses = 64;
/** Most ranges (nrang) a record may have. RST has no limit; real radars record 75-300 (300 gates
 *  of 15 km already reach 4500 km). The limit bounds what one record costs to fit (about 1.2 kB a
 *  range), which a damaged nrang of 700 000 would otherwise make hundreds of MB. Checked by
 *  from_dmap. */
inline constexpr int max_ranges = 1000;

/** Which algorithm filled a fit batch; decides the fitacf record layout (dmap.md §3.2). */
enum class fit_algorithm : std::uint8_t {
  fitacf3,   ///< FITACF 3.0: XCF block phi0, phi0_e, elv, elv_fitted, elv_error, x_sd_phi
  fitacf25,  ///< FITACF 2.5: XCF block x_qflg ... x_sd_phi with elv_low/elv_high
};

/** Which elevation-angle routine converts interferometer phase to elevation (fitacf3.md §15). */
enum class elevation_method : std::uint8_t {
  v2,     ///< elevation_v2 (Shepherd 2017), RST's default
  v1,     ///< elevation (make_fit -old_elev)
  goose,  ///< elev_goose (make_fit -old_elev on Goose Bay, stid 1)
};

/**
 * Site constants of one record: the hdw.dat line chosen for the run plus the tdiff chosen for
 * this record (hardware channel rule, calibration file or -tdiff). Angles in degrees, lengths in
 * metres, tdiff in microseconds.
 */
struct site_params {
  double interfer_m[3] = {0.0, 0.0, 0.0};  ///< interferometer offset X, Y, Z from the main array
  double bmoff_deg = 0.0;
  double bmsep_deg = 0.0;
  double phidiff = 1.0;     ///< interferometer phase sign: +1, -1 or 0 (no interferometer)
  double vdir = 1.0;        ///< velocity sign
  double tdiff_us = 0.0;    ///< interferometer cable delay used for this record
  std::int32_t maxbeam = 0;
  std::int32_t stid = 0;    ///< station of the site (Goose Bay special cases key on it)
};

/**
 * Per-record parameters the algorithms need, copied from the rawacf record and the site. Values
 * keep RST's integer types and units: times in microseconds, tfreq in kHz. All have been
 * validated by from_dmap: 1 <= nrang, 1 <= mplgs <= max_lags, 1 <= mppul <= max_pulses, smsep > 0,
 * every lag-table entry of rows 0..mplgs-1 is a pulse of the pulse table.
 */
struct record_params {
  std::int64_t range_begin = 0;   ///< global index of range 0 of this record in the range arrays
  std::int32_t nrang = 0;         ///< ranges of this record
  std::int32_t mplgs = 0;         ///< lag-table rows used by the fit
  std::int32_t mppul = 0;         ///< pulses in the pulse table
  std::int32_t nave = 0;          ///< sequences averaged (may be <= 0 in bad data; RST copes, so do we)
  std::int32_t smsep_us = 0;      ///< sample separation
  std::int32_t mpinc_us = 0;      ///< multi-pulse increment (lag unit)
  std::int32_t txpl_us = 0;       ///< transmitted pulse length
  std::int32_t lagfr_us = 0;      ///< lag to first range
  std::int32_t offset_us = 0;     ///< stereo channel offset
  std::int32_t channel = 0;       ///< 0 mono, 1/2 stereo channel A/B
  std::int32_t bmnum = 0;
  std::int32_t tfreq_khz = 0;
  std::int32_t xcf = 0;           ///< non-zero when the record has interferometer data
  std::int32_t cp = 0;
  std::int32_t stid = 0;          ///< station id of the record
  std::int32_t year = 0;          ///< time.yr (FITACF 2.5 treats data before 1993 as "old")
  float noise_search = 0.0F;      ///< noise.search (clear-frequency search noise), linear power
  std::int16_t pulse[max_pulses] = {};       ///< pulse table, in units of mpinc
  std::int16_t lag[2][max_lags + 1] = {};   ///< lag table: row l pairs pulse lag[0][l] with lag[1][l]
  site_params site;
};
static_assert(std::is_trivially_copyable_v<record_params>);

/** Non-owning view of an input batch (see the file comment for the layout). */
struct acf_batch_view {
  std::int32_t n_rec = 0;
  std::int32_t lag_stride = 0;       ///< lag slots per range, 1..max_lags
  std::int64_t n_ranges = 0;         ///< sum of nrang over the records
  record_params const* rec = nullptr;  ///< [n_rec]
  float const* pwr0 = nullptr;       ///< [n_ranges] lag-0 power, linear (not dB)
  float const* acf = nullptr;        ///< [n_ranges][lag_stride][2] ACF re, im; zero where absent
  float const* xcf = nullptr;        ///< [n_ranges][lag_stride][2] XCF re, im; zero where absent
};
static_assert(std::is_trivially_copyable_v<acf_batch_view>);

/** Owning input batch. */
struct host_acf_batch {
  std::int32_t lag_stride = 0;
  std::vector<record_params> rec;
  std::vector<float> pwr0;
  std::vector<float> acf;
  std::vector<float> xcf;

  [[nodiscard]] std::int64_t n_ranges() const noexcept { return static_cast<std::int64_t>(pwr0.size()); }
  [[nodiscard]] acf_batch_view view() const noexcept {
    return {static_cast<std::int32_t>(rec.size()), lag_stride, n_ranges(), rec.data(), pwr0.data(), acf.data(),
            xcf.data()};
  }
};

/** Per-record results. Noise in linear power units, tdiff in microseconds. */
struct record_result {
  std::int64_t range_begin = 0;  ///< as in the input batch
  std::int32_t nrang = 0;
  std::int32_t xcf = 0;          ///< the record's xcf flag: decides whether the XCF block is written
  float noise_sky = 0.0F;        ///< noise.sky
  float noise_lag0 = 0.0F;       ///< noise.lag0 (0 in both algorithms)
  float noise_vel = 0.0F;        ///< noise.vel (0 in both algorithms)
  float tdiff_us = 0.0F;         ///< tdiff actually used (written as the tdiff scalar)
  std::int32_t fitted = 0;       ///< ranges written (qflg == 1 or x_qflg == 1)
};
static_assert(std::is_trivially_copyable_v<record_result>);

/**
 * Per-range output columns, in the order of the fitacf writer (dmap.md §3.2). Each is a float per
 * range (computed in double, narrowed once when stored, exactly like RST's FitEncode). Units: powers
 * dB (SNR), velocities and widths m/s, phases rad, elevations degrees; sd_* are χ² in FITACF 3.0 and
 * standard deviations in 2.5.
 */
enum class fit_column : std::uint8_t {
  p_l, p_l_e, p_s, p_s_e, v, v_e, w_l, w_l_e, w_s, w_s_e, sd_l, sd_s, sd_phi,   // both algorithms
  phi0, phi0_e, elv, elv_fitted, elv_error, x_sd_phi,                          // FITACF 3.0 XCF block
  x_p_l, x_p_l_e, x_p_s, x_p_s_e, x_v, x_v_e, x_w_l, x_w_l_e, x_w_s, x_w_s_e,  // FITACF 2.5 XCF block
  elv_low, elv_high, x_sd_l, x_sd_s,
  count_
};
inline constexpr int fit_column_count = static_cast<int>(fit_column::count_);

/** DMAP field name of a column ("p_l", "elv_fitted", ...). */
[[nodiscard]] constexpr char const* column_name(fit_column c) noexcept {
  constexpr char const* names[fit_column_count] = {
      "p_l",     "p_l_e",   "p_s",   "p_s_e",   "v",     "v_e",        "w_l",       "w_l_e",  "w_s",
      "w_s_e",   "sd_l",    "sd_s",  "sd_phi",  "phi0",  "phi0_e",     "elv",       "elv_fitted",
      "elv_error", "x_sd_phi", "x_p_l", "x_p_l_e", "x_p_s", "x_p_s_e", "x_v",       "x_v_e",  "x_w_l",
      "x_w_l_e", "x_w_s",   "x_w_s_e", "elv_low", "elv_high", "x_sd_l",  "x_sd_s"};
  return names[static_cast<int>(c)];
}

/**
 * Non-owning view of an output batch: per-record results plus per-range columns over the same
 * range indexing as the input batch. A range is written to the fitacf record when qflg == 1 or
 * x_qflg == 1 (RST's FitEncode rule); everything else of unwritten ranges is ignored.
 */
struct fit_batch_view {
  std::int32_t n_rec = 0;
  std::int64_t n_ranges = 0;
  fit_algorithm algorithm = fit_algorithm::fitacf3;
  record_result* rec = nullptr;   ///< [n_rec]
  float* pwr0_db = nullptr;       ///< [n_ranges] lag-0 SNR of every range, dB (written as pwr0)
  std::int8_t* qflg = nullptr;    ///< [n_ranges] 1 = fitted
  std::int8_t* gflg = nullptr;    ///< [n_ranges] ground-scatter flag
  std::int16_t* nlag = nullptr;   ///< [n_ranges] power lags used
  std::int8_t* x_qflg = nullptr;  ///< [n_ranges] XCF fit quality (2.5; 0 in 3.0)
  std::int8_t* x_gflg = nullptr;  ///< [n_ranges] XCF ground-scatter flag (2.5)
  float* col[fit_column_count] = {};  ///< [fit_column][n_ranges]

  [[nodiscard]] RSTX_HOST_DEVICE float* operator[](fit_column c) const noexcept { return col[static_cast<int>(c)]; }
};
static_assert(std::is_trivially_copyable_v<fit_batch_view>);

/** Owning output batch, zero-filled on construction. */
class host_fit_batch {
 public:
  host_fit_batch() = default;
  /** Sized for `in` (one result per record, one slot per range); copies range_begin, nrang, xcf. */
  host_fit_batch(acf_batch_view const& in, fit_algorithm algorithm);
  /** The same as constructing anew, but keeps the memory already held (no page faults per batch). */
  void reset(acf_batch_view const& in, fit_algorithm algorithm);

  [[nodiscard]] fit_batch_view view() noexcept;
  [[nodiscard]] fit_algorithm algorithm() const noexcept { return algorithm_; }
  [[nodiscard]] std::int32_t n_rec() const noexcept { return static_cast<std::int32_t>(rec_.size()); }
  [[nodiscard]] std::int64_t n_ranges() const noexcept { return static_cast<std::int64_t>(pwr0_db_.size()); }

  [[nodiscard]] record_result const& rec(std::int32_t i) const noexcept { return rec_[static_cast<std::size_t>(i)]; }
  [[nodiscard]] float pwr0_db(std::int64_t r) const noexcept { return pwr0_db_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] std::int8_t qflg(std::int64_t r) const noexcept { return qflg_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] std::int8_t gflg(std::int64_t r) const noexcept { return gflg_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] std::int16_t nlag(std::int64_t r) const noexcept { return nlag_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] std::int8_t x_qflg(std::int64_t r) const noexcept { return x_qflg_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] std::int8_t x_gflg(std::int64_t r) const noexcept { return x_gflg_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] float value(fit_column c, std::int64_t r) const noexcept {
    return cols_[static_cast<std::size_t>(c) * pwr0_db_.size() + static_cast<std::size_t>(r)];
  }

 private:
  fit_algorithm algorithm_ = fit_algorithm::fitacf3;
  std::vector<record_result> rec_;
  std::vector<float> pwr0_db_;
  std::vector<std::int8_t> qflg_, gflg_, x_qflg_, x_gflg_;
  std::vector<std::int16_t> nlag_;
  std::vector<float> cols_;  ///< fit_column_count blocks of n_ranges
};

}  // namespace rstx::fit
