#pragma once
/**
 * @file
 * What make_grid does to a scan before gridding (make_grid.md §4–§6): exclusions of beams, gates,
 * scatter types and out-of-bounds values; the operating-parameter check across the three scans
 * of the filter; and the 3×3×3 weighted median filter.
 */
#include <array>
#include <span>
#include <vector>

#include "rstx/core/thread_pool.hpp"
#include "rstx/grid/scan.hpp"

namespace rstx::grid {

/** Bounds on |v|, p_l, w_l and v_e (make_grid -vmin ... -vemax); index 0 v, 1 p_l, 2 w_l, 3 v_e. */
struct value_bounds {
  std::array<double, 4> min{35.0, 3.0, 10.0, 0.0};      // make_grid.c defaults
  std::array<double, 4> max{2500.0, 60.0, 1000.0, 200.0};
};

/** Removes the beams whose numbers are listed (RadarScanResetBeam, make_grid -ebm). */
void exclude_beams(radar_scan& scan, std::span<int const> beams);
/** Removes beams with a negative scan flag (exclude_outofscan, make_grid -ns). */
void exclude_out_of_scan(radar_scan& scan);

/** Gate limits (make_grid -minrng/-maxrng, -minsrng/-maxsrng); -1 means "not set". */
struct range_limits {
  int min_gate = -1;
  int max_gate = -1;
  double min_slant_km = -1.0;
  double max_slant_km = -1.0;
};
/**
 * Clears gates outside the limits (make_grid.c exclude_range). With a slant-range limit the gate
 * limits are ignored; slant ranges use the record's rxrise (not the hardware's).
 */
void exclude_ranges(radar_scan& scan, range_limits const& limits);

/** Clears gates whose ground-scatter flag equals `mode` (FilterBoundType: 1 drops ground scatter,
 *  0 ionospheric scatter, 2 nothing). */
void exclude_scatter_type(radar_scan& scan, int mode);

/** Clears gates outside the bounds (FilterBound; NaN values pass every test, as in RST). */
void exclude_out_of_bounds(radar_scan& scan, value_bounds const& bounds);

/**
 * RST's FilterCheckOps over the three scan slots: false when a beam of slot 1 and a beam with the
 * same number in slot 0 or 2 differ in frang, rsep or (fmax != 0) frequency by more than fmax.
 * Slot 1 is the physical middle slot, whichever scan is the temporal centre (an RST quirk).
 */
[[nodiscard]] bool operating_parameters_agree(std::span<radar_scan const> slots, int fmax);
/** The same over scans held elsewhere (slot i is *slots[i]). */
[[nodiscard]] bool operating_parameters_agree(std::span<radar_scan const* const> slots, int fmax);

/** Which fitted values the median filter computes medians and spreads of. RST's filter does all
 *  four; make_grid reads only the velocity, and power and width with -xtd. Values not computed
 *  are left at zero in the output. */
enum class filtered_values {
  all,                   ///< v, p_l, w_l and p_0 (RST's FilterRadarScan)
  velocity_power_width,  ///< v, p_l, w_l
  velocity,              ///< v
};

/** Options of the median filter (make_grid -fwgt, -isort). */
struct median_options {
  int mode = 0;        ///< FilterRadarScan mode: bit 0 picks the threshold 24 instead of 12; bit 2 the centre scan's parameters
  bool isort = false;  ///< sort power and width by themselves instead of by velocity
  thread_pool* pool = nullptr;  ///< beams are filtered in parallel on it (same result for any size)
  filtered_values values = filtered_values::all;
};

/**
 * The 3×3×3 weighted median filter (RST FilterRadarScan with prm = 15) over `depth` scans held
 * in `slots`; `newest` is the slot of the newest scan. Writes a scan with one beam per beam
 * number 0..maxbeam-1 (bm = -1 where no scan has that beam), each with min(nrang) gates.
 *
 * Medians are taken with a stable sort keyed on collection order, which is what glibc's qsort
 * (a merge sort up to glibc 2.36, the RST reference build) gives for ties, including the
 * inconsistent comparisons that NaN values produce.
 */
void median_filter(std::span<radar_scan const> slots, int depth, int newest, median_options const& opt,
                   radar_scan& out);
/** The same over scans held elsewhere (slot i is *slots[i]). */
void median_filter(std::span<radar_scan const* const> slots, int depth, int newest, median_options const& opt,
                   radar_scan& out);

namespace detail {
/** glibc's qsort up to 2.36 for a comparator returning <0/0/>0: top-down merge sort, split at n/2,
 *  ties (and NaN comparisons, which are neither < nor >) taken from the left. */
template <class T, class Less>
void rst_merge_sort(std::span<T> items, std::span<T> scratch, Less less);
}  // namespace detail

}  // namespace rstx::grid

#include "rstx/grid/detail/merge_sort.hpp"
