// WGS-84 conversions: known values, round trips, longitude handling.
#include <gtest/gtest.h>

#include <cmath>

#include "rstx/geo/wgs84.hpp"

namespace rstx::geo {
namespace {

constexpr double a_km = 6378.137;
constexpr double b_km = a_km * (1.0 - 1.0 / 298.257223563);
constexpr double re_km = 6371.2;

TEST(Wgs84Surface, EquatorAndPoles) {
  auto eq = surface_from_geodetic(0, 10);
  EXPECT_EQ(eq.geocentric_lat_deg, 0.0);
  EXPECT_DOUBLE_EQ(eq.radius_km, a_km);
  EXPECT_EQ(eq.vertical_deviation_deg, 0.0);
  auto np = surface_from_geodetic(90, 10);
  EXPECT_NEAR(np.geocentric_lat_deg, 90.0, 1e-12);
  EXPECT_NEAR(np.radius_km, b_km, 1e-9);
  auto sp = surface_from_geocentric(-90, 10);
  EXPECT_NEAR(sp.geodetic_lat_deg, -90.0, 1e-12);
  EXPECT_NEAR(sp.radius_km, b_km, 1e-9);
}

TEST(Wgs84Surface, GeocentricLatitudeIsSmallerInMagnitude) {
  // At 45 deg the geodetic-geocentric difference is about 0.19 deg (the size of RST's AACGM quirk).
  auto p = surface_from_geodetic(45, 0);
  EXPECT_NEAR(p.vertical_deviation_deg, 0.1924, 1e-3);
  auto s = surface_from_geodetic(-45, 0);
  EXPECT_NEAR(s.vertical_deviation_deg, -0.1924, 1e-3);
}

TEST(Wgs84Surface, RoundTripAndLongitude) {
  for (double lat = -89.5; lat <= 89.5; lat += 3.7) {
    auto f = surface_from_geodetic(lat, 0);
    auto r = surface_from_geocentric(f.geocentric_lat_deg, 0);
    EXPECT_NEAR(r.geodetic_lat_deg, lat, 1e-12);
    EXPECT_EQ(r.radius_km, f.radius_km);
  }
  EXPECT_EQ(surface_from_geodetic(52, 190).lon_deg, -170.0);
  EXPECT_EQ(surface_from_geodetic(52, 180).lon_deg, 180.0);
  EXPECT_EQ(surface_from_geodetic(52, -200).lon_deg, -200.0);  // only > 180 is wrapped (RST)
  EXPECT_EQ(surface_from_geocentric(52, 300).lon_deg, 300.0);
}

TEST(Wgs84Height, GeodeticToGeocentricKnownValues) {
  auto eq = geodetic_to_geocentric(0, 0, 0);
  EXPECT_NEAR(eq.lat_deg, 0.0, 1e-12);
  EXPECT_NEAR(eq.height_km, a_km - re_km, 1e-9);
  auto pole = geodetic_to_geocentric(90, 0, 0);
  EXPECT_NEAR(pole.lat_deg, 90.0, 1e-12);
  EXPECT_NEAR(pole.height_km, b_km - re_km, 1e-9);
  // Far above the ellipsoid the two latitudes converge.
  auto high = geodetic_to_geocentric(45, 0, 1e8);
  EXPECT_NEAR(high.lat_deg, 45.0, 1e-4);
}

TEST(Wgs84Height, ClosedFormInverse) {
  for (double lat = -89.0; lat <= 89.0; lat += 4.25) {
    for (double h : {0.0, 115.0, 300.0, 2000.0}) {
      auto gc = geodetic_to_geocentric(lat, 33.3, h);
      auto gd = geocentric_to_geodetic(gc.lat_deg, gc.lon_deg, (re_km + gc.height_km) / re_km);
      EXPECT_NEAR(gd.lat_deg, lat, 1e-9) << lat << " " << h;
      EXPECT_NEAR(gd.height_km, h, 1e-6) << lat << " " << h;
      EXPECT_EQ(gd.lon_deg, gc.lon_deg);
    }
  }
}

}  // namespace
}  // namespace rstx::geo
