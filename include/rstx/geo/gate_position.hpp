#pragma once
/**
 * @file
 * Where a radar range gate is: slant range, virtual height, geocentric field point, the look
 * direction made orthogonal to B, and AACGM-v2 position and azimuth — RST 5.0's `rpos.1.7`
 * (`cnvtcoord.c`: slant_range, geodtgc, fldpnt, geocnvrt, fldpnth, RPosGeo; `invmag.c`:
 * RPosRngBmAzmElv, RPosInvMag, fldpnt_sph, fldpnt_azm) as make_grid calls it (make_grid.md §9).
 *
 * Conventions: angles in degrees; azimuths clockwise from geographic (or AACGM) north; distances
 * in km; times in microseconds. Field points are geocentric: `rho_km` from the Earth's centre,
 * `lat_deg` geocentric latitude, `lon_deg` in (-180, 180]. The site is given by plain numbers
 * (`radar_site_geometry`, the fields of an hdw.dat line) so that this module does not depend on
 * the radar tables.
 *
 * RST behaviour reproduced on purpose (do not "fix" — output must match RST):
 *  - slant range uses integer arithmetic `frang*20/3`, `rsep*20/3` (µs);
 *  - the receiver rise time falls back to the site's when the record's is 0, and the magnetic
 *    functions truncate it to an integer first (RPosInvMag/RPosRngBmAzmElv pass it as int);
 *  - the virtual-height iteration stops when the height is within 0.5 km of the model's;
 *  - the IGRF year is whatever `igrf_model` was built for — make_grid uses the integer year;
 *  - AACGM-v2 receives the **geocentric** latitude of the field point as if it were geodetic
 *    (≈0.2° effect), with the height above the ellipsoid; the AACGM date is whatever the model
 *    was built for — make_grid fixes it at 00:00 UT of the run's first day;
 *  - the second point for the magnetic azimuth lies `rsep` km along the B-orthogonal direction on
 *    a sphere of radius rho, with longitude in [0, 360] (passed unwrapped to AACGM).
 *
 * Accuracy: every output bit-identical to RST 5.0 (double, x86-64, no FMA) on the 1920 gates of
 * `../shared/spec/tools/vectors/rpos_*.txt` (4 radars, 3 dates, standard and Chisham models):
 * rho, lat, lon, mlat, mlon, magnetic and geographic azimuth all with zero difference.
 *
 * Thread safety: all functions are pure; the models are passed by const reference.
 */
#include <cstdint>

#include "rstx/core/error.hpp"
#include "rstx/geo/aacgm_v2.hpp"
#include "rstx/geo/igrf.hpp"

namespace rstx::geo {

/** Virtual-height model of the ionospheric reflection point. */
enum class virtual_height_model : std::uint8_t {
  standard,  ///< RST default: 115 km up to 600 km range, ramp to the nominal altitude by 800 km
  chisham,   ///< Chisham et al. (2008), doi:10.5194/angeo-26-823-2008 (make_grid -chisham)
};

/** Which point of the range-beam cell. */
enum class cell_point : std::uint8_t {
  centre,       ///< cell centre (what make_grid uses)
  near_corner,  ///< near (lower range) edge, half a beam width to the lower-beam side (RST center = 0)
};

/** Site parameters, as in one line of hdw.dat. */
struct radar_site_geometry {
  double geodetic_lat_deg = 0;     ///< WGS-84 geodetic latitude of the site
  double geodetic_lon_deg = 0;     ///< longitude of the site, east positive
  double boresight_deg = 0;        ///< boresight azimuth from geographic north
  double beam_offset_deg = 0;      ///< electronic boresight shift `bmoff`
  double beam_separation_deg = 0;  ///< `bmsep`; negative for some southern radars
  int max_beam = 16;               ///< number of beams `maxbeam`
  double recrise_us = 0;           ///< receiver rise time used when the record gives 0
};

/** Range parameters of a beam and the mapping options. */
struct gate_geometry {
  int frang_km = 180;        ///< distance to the first range gate
  int rsep_km = 45;          ///< range separation
  int rxrise_us = 0;         ///< receiver rise time; 0 → the site's `recrise_us`
  double altitude_km = 300;  ///< nominal virtual height (make_grid -alt), >= 90 km
  virtual_height_model model = virtual_height_model::standard;
};

/** Geocentric spherical position of a field point. */
struct field_point {
  double rho_km = 0;   ///< distance from the Earth's centre
  double lat_deg = 0;  ///< geocentric latitude
  double lon_deg = 0;  ///< longitude, (-180, 180]
};

/**
 * @brief Slant range to a range gate (RST `slant_range`):
 * `(frang*20/3 − rxrise + (gate−1)*(rsep*20/3) + range_edge)*0.15` with integer `*20/3`.
 * @param gate          1-based range gate (RST passes the 0-based gate + 1)
 * @param range_edge_us offset in µs (0 for the cell centre)
 */
[[nodiscard]] double slant_range_km(int frang_km, int rsep_km, double rxrise_us, int gate,
                                    double range_edge_us = 0.0) noexcept;

/**
 * @brief Virtual height, km, of the reflection point at a slant range (the model part of RST
 * `fldpnth`). Standard: `altitude` when altitude <= 150, else 115 km up to 600 km range, a
 * ramp to `altitude` by 800 km, then `altitude`; below 150 km range scaled down to
 * (R/150)·115. Chisham: quadratic in R in three range segments; below 115 km (R/115)·112.
 */
[[nodiscard]] double virtual_height_km(double slant_range_km, double altitude_km, virtual_height_model model) noexcept;

/**
 * @brief Point at slant range R, azimuth and elevation from a geocentric origin (RST `fldpnt`).
 * @param origin     geocentric origin (site)
 * @param azimuth_deg, elevation_deg direction in the local south/east/up frame of the origin
 * @param range_km   slant range
 */
[[nodiscard]] field_point point_along(field_point const& origin, double azimuth_deg, double elevation_deg,
                                      double range_km) noexcept;

/**
 * @brief Field point of a beam direction at the model's virtual height (RST `fldpnth`): iterates
 * elevation and off-boresight azimuth (cone angle `psi`) until the height above the ellipsoid is
 * within 0.5 km of the virtual height.
 * @param site_lat_deg, site_lon_deg geodetic site position
 * @param psi_deg      beam direction off boresight (cone angle)
 * @param boresight_deg boresight azimuth
 * @param altitude_km  nominal virtual height
 * @param range_km     slant range (0 is treated as 0.1 km, as in RST)
 * @return the point; errc::out_of_range if the geometry has no solution (non-finite result) or
 *   the iteration does not settle in 100 steps (RST would loop forever).
 */
[[nodiscard]] result<field_point> field_point_at_height(double site_lat_deg, double site_lon_deg, double psi_deg,
                                                        double boresight_deg, double altitude_km, double range_km,
                                                        virtual_height_model model);

/**
 * @brief Field point of a range-beam cell (RST `RPosGeo`).
 * @param beam 0-based beam number (not checked against max_beam, as in RST)
 * @param gate 0-based range gate
 * @return the point; errc::invalid_argument for altitude < 90 km (RST reads that as an
 *   elevation angle, which is not supported here) or max_beam <= 0; errors of
 *   field_point_at_height.
 */
[[nodiscard]] result<field_point> gate_field_point(radar_site_geometry const& site, int beam, int gate,
                                                   gate_geometry const& geom, cell_point point = cell_point::centre);

/** Look direction at a field point, made orthogonal to B. */
struct look_direction {
  double azimuth_deg = 0;    ///< geographic azimuth, (-180, 180]
  double elevation_deg = 0;  ///< elevation of the B-orthogonal direction
};

/**
 * @brief Geographic azimuth and elevation of the B-orthogonal look direction at a gate's centre
 * (RST `RPosRngBmAzmElv`).
 * @param igrf the field model for the year (make_grid: the integer year of the scan)
 */
[[nodiscard]] result<look_direction> gate_look_direction(radar_site_geometry const& site, int beam, int gate,
                                                         gate_geometry const& geom, igrf_model const& igrf);

/** AACGM-v2 position and azimuth of a gate. */
struct magnetic_gate_position {
  double mlat_deg = 0;     ///< AACGM-v2 latitude
  double mlon_deg = 0;     ///< AACGM-v2 longitude, (-180, 180]
  double azimuth_deg = 0;  ///< AACGM-v2 azimuth of the B-orthogonal look direction, [-180, 180]
};

/**
 * @brief AACGM-v2 latitude, longitude and azimuth of a gate's centre (RST `RPosInvMag`).
 * @return the position; errors of gate_field_point, or AACGM-v2 errors (forbidden region, height)
 *   for the gate or for the point one range separation further along the look direction.
 */
[[nodiscard]] result<magnetic_gate_position> gate_magnetic_position(radar_site_geometry const& site, int beam,
                                                                    int gate, gate_geometry const& geom,
                                                                    igrf_model const& igrf,
                                                                    aacgm_v2_model const& aacgm);

/** Everything make_grid needs about one gate, from one pass. */
struct gate_location {
  field_point point;              ///< geocentric field point (RPosGeo)
  look_direction geographic;      ///< RPosRngBmAzmElv
  magnetic_gate_position magnetic;  ///< RPosInvMag
};

/** gate_field_point + gate_look_direction + gate_magnetic_position with shared intermediate results. */
[[nodiscard]] result<gate_location> locate_gate(radar_site_geometry const& site, int beam, int gate,
                                                gate_geometry const& geom, igrf_model const& igrf,
                                                aacgm_v2_model const& aacgm);

/** Latitude and longitude, degrees. */
struct lat_lon {
  double lat_deg = 0;
  double lon_deg = 0;
};

/**
 * @brief Destination on a sphere of radius rho from (lat, lon) after `distance_km` along
 * `azimuth_deg` (RST `fldpnt_sph`; spherical law of cosines, both cosines clamped to [-1, 1]).
 * @return destination; longitude in [0, 360]
 */
[[nodiscard]] lat_lon spherical_destination(double rho_km, double lat_deg, double lon_deg, double azimuth_deg,
                                            double distance_km) noexcept;

/**
 * @brief Initial bearing from (lat1, lon1) to (lat2, lon2) on a sphere (RST `fldpnt_azm`):
 * in [-180, 180], 0 where the formula gives NaN (e.g. coincident points).
 */
[[nodiscard]] double spherical_bearing(double lat1_deg, double lon1_deg, double lat2_deg, double lon2_deg) noexcept;

}  // namespace rstx::geo
