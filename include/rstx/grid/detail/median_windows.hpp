#pragma once
/**
 * @file
 * The median filter's inner step over many windows at once: each window's medians and spreads of
 * the filtered values, sorted by velocity (RST FilterRadarScan's default; make_grid.md §6).
 *
 * Every sum of a window runs in RST's order, one add after the other, so a window alone is a chain
 * of dependent adds. Windows are therefore taken in groups, one window per lane of a vector (2, 4
 * or 8 doubles), and the chains of a group advance in the same instructions. Each lane performs
 * exactly the operations the one-window code performs (IEEE operations are exact per element), so
 * the results are bit-identical for every group size. There are builds for baseline x86-64, SSE4.2,
 * AVX2 and AVX-512; the best the processor runs is chosen at run time.
 */
#include <array>
#include <cstdint>
#include <span>

#include "rstx/grid/scan.hpp"

namespace rstx::grid::detail {

/** One sounding with scatter at one gate, as the filter reads it. */
struct gate_entry {
  double value[4];         ///< v, p_l, w_l, p_0 (velocity first, then RST's order)
  radar_cell const* cell;  ///< where the values came from
};

/** A half-open range of entries. */
struct entry_range {
  std::uint32_t begin = 0, end = 0;
};

/** A filter window: its soundings are the entries of range[0], then range[1], ... (collection order). */
struct window_entries {
  std::array<entry_range, 3> range{};
  std::uint32_t ranges = 0;  ///< ranges in use
  std::uint32_t size = 0;    ///< entries in all ranges (at least 1)
};

/** Medians and spreads of the first `values` parameters of gate_entry::value. */
struct window_medians {
  double median[4];
  double spread[4];
};

/** Which build of the step runs: the best this processor has, or a given one (for tests). */
enum class median_code_path { best, baseline, sse42, avx2, avx512 };

/** Whether this processor (and compiler) can run `path`. */
[[nodiscard]] bool median_code_path_available(median_code_path path) noexcept;

/**
 * For each window: drop the values more than 2σ from the window's mean, sort the rest by velocity
 * (stably, ties in collection order), take the upper-middle one and the standard deviation of the
 * kept values summed in that order, for each of the first `values` (1, 3 or 4) parameters.
 * No window may hold a NaN velocity (qsort's comparisons are inconsistent then; the caller sorts
 * those windows itself). out[i] belongs to windows[i].
 */
void medians_by_velocity(std::span<window_entries const> windows, gate_entry const* entries, int values,
                         window_medians* out, median_code_path path = median_code_path::best);

}  // namespace rstx::grid::detail
