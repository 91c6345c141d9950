#pragma once
/**
 * @file
 * Range-gate geometry of a radar from its hardware line: where each gate of a beam lies in
 * AACGM-v2 coordinates and which way its line of sight points, as make_grid computes it
 * (RST `GridTableAddBeam`: `RPosRngBmAzmElv` + `RPosInvMag`, make_grid.md §7.3, §9).
 *
 * RST behaviours reproduced: the receiver rise time is the hardware file's `recrise` truncated to
 * an integer (not the record's `rxrise`), IGRF is evaluated at the integer year of the scan, the
 * geocentric latitude of the field point is handed to AACGM-v2 as if it were geodetic, and the
 * virtual height follows the standard model or Chisham's (make_grid -chisham).
 */
#include <span>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/core/thread_pool.hpp"
#include "rstx/geo/gate_position.hpp"
#include "rstx/radar/hardware.hpp"

namespace rstx::radar {

/** The geo module's site description for a hardware line. */
[[nodiscard]] geo::radar_site_geometry site_geometry(site const& s) noexcept;

/** One gate of a beam as make_grid needs it. */
struct gate_coordinates {
  double mlat_deg = 0.0;          ///< AACGM-v2 latitude
  double mlon_deg = 0.0;          ///< AACGM-v2 longitude, (-180, 180]
  double mag_azimuth_deg = 0.0;   ///< AACGM-v2 azimuth of the line of sight (B-orthogonal), [-180, 180]
  double geo_azimuth_deg = 0.0;   ///< geographic azimuth of the line of sight, (-180, 180]
};

/** What fixes a beam's gates: beam number, first range, range separation, gate count. */
struct beam_layout {
  int beam = 0;
  int frang_km = 0;
  int rsep_km = 0;
  int nrang = 0;

  friend bool operator==(beam_layout const&, beam_layout const&) = default;
};

/**
 * The AACGM-v2 position and line-of-sight azimuth of every gate of a beam (gates 0..nrang-1),
 * computed in parallel over gates on `pool` when given (results do not depend on it).
 * Errors: the first gate whose geolocation fails (errc::out_of_range), with the gate named.
 */
[[nodiscard]] result<std::vector<gate_coordinates>> beam_gate_coordinates(
    site const& s, beam_layout const& layout, double altitude_km, geo::virtual_height_model model,
    geo::igrf_model const& igrf, geo::aacgm_v2_model const& aacgm, thread_pool* pool = nullptr);

/** The same for several beams at once, in one split over `pool` (out[i] belongs to layouts[i]).
 *  Errors: the first failing gate in beam order. */
[[nodiscard]] result<std::vector<std::vector<gate_coordinates>>> beams_gate_coordinates(
    site const& s, std::span<beam_layout const> layouts, double altitude_km, geo::virtual_height_model model,
    geo::igrf_model const& igrf, geo::aacgm_v2_model const& aacgm, thread_pool* pool = nullptr);

}  // namespace rstx::radar
