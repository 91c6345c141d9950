#pragma once
/**
 * @file
 * FITACF 2.5 for one record: RST 5.0's do_fit.c (noise, lag-0 SNR, the loop over ranges with the
 * unit conversions), badlags.c / badlags_s.c (samples overlapped by the transmitter),
 * rang_badlags.c (cross-range interference) and noise_stat.c, over RST's FitBlock input: integer
 * lag-0 powers and the record's ACF/XCF samples in lag-table order.
 *
 * The elevation angles are not computed here: the driver calls the shared elevation functions
 * for every range where `elevation_wanted` holds, with `xcf.phi0 ± xcf.phi0_err`.
 */
#include <cstdint>
#include <span>
#include <vector>

#include "rstx/core/error.hpp"
#include "fitacf25/detail/range_fit.hpp"

namespace rstx::fit::detail::fit25 {

/** Most pulses per sequence: bad pulses are one 64-bit mask (RST's rang_badlags.c allows 256). */
inline constexpr int max_pulses = 64;
/** Capacity of the bad-sample list (RST badsmp.h MAXBAD). */
inline constexpr int max_bad_samples = 500;

/** The record parameters (RST FitPrm) FITACF 2.5 reads. Times in microseconds. */
struct record_params {
  std::int32_t nrang = 0;
  std::int32_t mplgs = 0;      ///< lag-table rows (the extra row mplgs of the table is not used)
  std::int32_t mppul = 0;
  std::int32_t nave = 0;
  std::int32_t mpinc_us = 0;
  std::int32_t smsep_us = 0;
  std::int32_t txpl_us = 0;
  std::int32_t lagfr_us = 0;
  std::int32_t offset_us = 0;  ///< stereo offset; 0 for mono radars
  std::int32_t channel = 0;
  std::int32_t xcf = 0;        ///< non-zero: fit the XCFs too
  std::int32_t tfreq_khz = 0;
  std::int32_t year = 0;       ///< record year (prm.old for data before 1993)
  float noise_search = 0.0F;   ///< noise.search (truncated to int as RST does)
  double vdir = 1.0;           ///< site velocity sign
  double phidiff = 1.0;        ///< site interferometer phase sign (0: none)
  std::int32_t pulse[max_pulses] = {};           ///< pulse table, units of mpinc
  std::int32_t lag[2][max_lags] = {};           ///< lag table: pulses of each row
};

/** The record's samples. Missing ACF or XCF arrays read as zeros (RST fill_fit_block). */
struct record_samples {
  float const* pwr0 = nullptr;  ///< [nrang] lag-0 power, linear
  float const* acf = nullptr;   ///< [nrang][lag_stride][2]: re, im of (range r, row k); or null
  float const* xcf = nullptr;   ///< same for the XCFs; or null
  std::int32_t lag_stride = 0;  ///< >= mplgs
};

/** Per-range results of one record; the vectors hold nrang entries. */
struct record_result {
  double noise_sky = 0.0;               ///< noise.sky (RST skynoise)
  std::vector<double> pwr0_db;          ///< lag-0 SNR in dB, every range
  std::vector<range_fit> acf;           ///< ACF fits (qflg 1 = written)
  std::vector<range_fit> xcf;           ///< XCF fits (only meaningful where xcf != 0)
  /** ranges whose XCF fit succeeded: their elevations come from xcf.phi0 ± xcf.phi0_err */
  std::vector<std::uint8_t> elevation_wanted;
};

/** Reusable per-thread scratch of fit_record (grown, never shrunk). */
struct record_scratch {
  std::vector<std::int32_t> pwr0_int;
  std::vector<double> sorted;
  std::vector<std::uint64_t> tx_mask;   ///< per range: rows overlapped by the transmitter
  std::vector<std::uint64_t> bad_mask;  ///< per range: all rows flagged before the fit (when done)
  std::vector<std::uint8_t> mask_done;  ///< per range: bad_mask computed
  std::vector<float> zeros;
};

/** Transmitter-overlapped samples and the cross-range interference table of one record. */
struct bad_samples {
  std::int32_t smsep_us = 0;  ///< smsep, or txpl where smsep <= 0 (RST's substitution)
  std::int32_t tau_smp = 0;   ///< mpinc / smsep (integer division): samples per lag
  std::int32_t n = 0;
  std::int32_t smp[max_bad_samples] = {};  ///< ascending, no duplicates
  std::uint64_t pulse_rows[max_pulses] = {};  ///< rows that use pulse p (either end)
  std::int64_t pulse_smp[max_pulses] = {};     ///< pulse p's position in samples, pulse[p] * tau_smp
};

/**
 * FitACFBadlags / FitACFBadlagsStereo and r_overlap's table. Errors: errc::bad_value when both
 * smsep and txpl are <= 0 (RST reads uninitialised memory), errc::unsupported when more than
 * max_bad_samples samples are overlapped.
 */
[[nodiscard]] result<void> find_bad_samples(record_params const& p, bad_samples& out);

/**
 * FitACFCkRng, transmitter part, for every range at once: bit k of out[r] is set when row k of
 * range r (0-based) uses a sample in the bad list. Sweeps the list once per record instead of
 * once per range; rows whose second pulse comes first (lag[0] > lag[1]) keep RST's per-range
 * scan (tx_bad_rows_exact), whose early exit then decides. `out` has p.nrang entries.
 */
void tx_bad_rows(record_params const& p, bad_samples const& b, std::uint64_t* out) noexcept;

/** FitACFCkRng's transmitter part for one range, exactly as RST scans the list (reference). */
[[nodiscard]] std::uint64_t tx_bad_rows_exact(record_params const& p, bad_samples const& b, int r,
                                              std::uint64_t rows = ~std::uint64_t{0}) noexcept;

/**
 * lag_overlap: rows using a pulse whose cross-range interference (the lag-0 powers of the ranges
 * it brings in through the other pulses) exceeds the lag-0 power of range r.
 */
[[nodiscard]] std::uint64_t cri_bad_rows(record_params const& p, bad_samples const& b,
                                         std::int32_t const* pwr0_int, int r) noexcept;

/**
 * FitACFCkRng for range r (0-based): rows overlapped by the transmitter, row 13 of 17-lag data
 * when `flag_row13`, and rows of pulses with cross-range interference.
 */
[[nodiscard]] std::uint64_t range_bad_lags(record_params const& p, bad_samples const& b,
                                           std::int32_t const* pwr0_int, int r, bool flag_row13) noexcept;

/**
 * Fits one record. `flag_row13_for_17_lags` is fitacf25_options' switch. Errors (bad parameters,
 * see find_bad_samples; mplgs or mppul beyond the limits above) leave `out` unspecified.
 */
[[nodiscard]] result<void> fit_record(record_params const& p, record_samples const& in,
                                      bool flag_row13_for_17_lags, record_scratch& scratch, record_result& out);

}  // namespace rstx::fit::detail::fit25
