#pragma once
/**
 * @file
 * Geodetic <-> geocentric conversions on the WGS-84 ellipsoid, in the two forms that RST uses.
 *
 * Conventions: latitudes and longitudes in degrees (north and east positive), distances in km.
 * Geodetic latitude is measured from the ellipsoid normal, geocentric latitude from the Earth's
 * centre. WGS-84: a = 6378.137 km, f = 1/298.257223563. Nothing here fails or checks its
 * arguments: a latitude outside [-90, 90] gives a meaningless (possibly NaN) result.
 *
 * Two families, because RST has two and the results must match bit for bit:
 *
 *  - `surface_from_geodetic` / `surface_from_geocentric` are RST's `geodtgc` (rpos.1.7
 *    `cnvtcoord.c`): points *on* the ellipsoid, latitude converted through
 *    tan(glat) = (b²/a²)·tan(gdlat); used by the range-gate geolocation (gate_position.hpp).
 *  - `geodetic_to_geocentric` / `geocentric_to_geodetic` are `geod2geoc` / `geoc2geod` of RST's
 *    `igrf_v2/igrflib.c`, the conversions that AACGM-v2 applies to points *above* the ellipsoid;
 *    heights there are measured above the ellipsoid (geodetic) or above the 6371.2 km sphere
 *    (geocentric).
 *
 * Accuracy: every function reproduces RST 5.0 bit for bit (x86-64, no FMA), checked through the
 * AACGM-v2 and range-gate test vectors in `../shared/spec/tools/vectors`.
 */

namespace rstx::geo {

/** A point on the WGS-84 ellipsoid (RST `geodtgc` outputs). */
struct wgs84_surface_point {
  double geodetic_lat_deg = 0;        ///< latitude from the ellipsoid normal
  double geocentric_lat_deg = 0;      ///< latitude from the Earth's centre
  double lon_deg = 0;                 ///< longitude (see the functions for its range)
  double radius_km = 0;               ///< distance from the Earth's centre to this surface point
  double vertical_deviation_deg = 0;  ///< geodetic − geocentric latitude (RST `del`)
};

/**
 * @brief Point of the ellipsoid surface at a geodetic latitude (RST `geodtgc(+1, ...)`).
 * @param geodetic_lat_deg geodetic latitude, degrees, [-90, 90]
 * @param lon_deg          longitude, degrees; values above 180 are returned minus 360
 */
[[nodiscard]] wgs84_surface_point surface_from_geodetic(double geodetic_lat_deg, double lon_deg) noexcept;

/**
 * @brief Point of the ellipsoid surface at a geocentric latitude (RST `geodtgc(-1, ...)`).
 * @param geocentric_lat_deg geocentric latitude, degrees, [-90, 90]
 * @param lon_deg            longitude, degrees, returned unchanged
 */
[[nodiscard]] wgs84_surface_point surface_from_geocentric(double geocentric_lat_deg, double lon_deg) noexcept;

/** Geocentric spherical position as AACGM-v2 uses it. */
struct geocentric_position {
  double lat_deg = 0;    ///< geocentric latitude
  double lon_deg = 0;    ///< longitude (the input after a degree->radian->degree round trip)
  double height_km = 0;  ///< height above the 6371.2 km sphere (AACGM's `RE`), not the ellipsoid
};

/**
 * @brief Geodetic (lat, lon, height above the ellipsoid) to geocentric, as `AACGM_v2_Convert`
 * does before a G2A conversion (`geod2geoc` and the unit changes around it).
 * @param lat_deg   geodetic latitude, degrees, [-90, 90]
 * @param lon_deg   longitude, degrees, any value (kept; it may change in the last bit)
 * @param height_km height above the WGS-84 ellipsoid, km
 */
[[nodiscard]] geocentric_position geodetic_to_geocentric(double lat_deg, double lon_deg, double height_km) noexcept;

/** Geodetic position. */
struct geodetic_position {
  double lat_deg = 0;    ///< geodetic latitude
  double lon_deg = 0;    ///< longitude, unchanged from the input
  double height_km = 0;  ///< height above the WGS-84 ellipsoid
};

/**
 * @brief Geocentric (lat, lon, distance) to geodetic with a closed-form solution (RST
 * `geoc2geod`, used by AACGM-v2 after an A2G conversion).
 * @param lat_deg geocentric latitude, degrees, [-90, 90]
 * @param lon_deg longitude, degrees
 * @param r_re    distance from the Earth's centre in units of 6371.2 km
 */
[[nodiscard]] geodetic_position geocentric_to_geodetic(double lat_deg, double lon_deg, double r_re) noexcept;

}  // namespace rstx::geo
