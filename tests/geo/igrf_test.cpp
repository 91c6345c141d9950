// Old IGRF library (igrf.1.13): coefficient interpolation/extrapolation as RST, the synthesis
// against an independent full-precision evaluation, and the error paths. Bit-identity with RST
// is checked end to end through the range-gate azimuths in gate_position_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <vector>

#include "rstx/geo/igrf.hpp"
#include "support/scoped_env.hpp"
#include "support/test_data.hpp"

namespace rstx::geo {
namespace {

std::string igrf_dir() { return rstx::test::tables_path("igrf").string(); }

// Coefficients of the shipped files (dgrf2015.dat, igrf2020.dat, igrf2020s.dat), first terms.
constexpr double g10_2015 = -29441.46;
constexpr double g10_2020 = -29404.80;
constexpr double h11_2020 = 4652.50;
constexpr double g10_sv = 5.70;
constexpr double h11_sv = -25.90;

TEST(IgrfLoad, InterpolatesBetweenEpochsLikeRst) {
  auto m = igrf_model::load(igrf_dir(), 2017);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_FALSE(m->extrapolated());
  EXPECT_EQ(m->max_degree(), 13);
  EXPECT_EQ(m->reference_radius_km(), 6371.2);
  ASSERT_EQ(m->coefficients().size(), 13u * 15u);
  double const f = (2017.0 - 2015.0) / (2020.0 - 2015.0);
  EXPECT_EQ(m->coefficients()[0], g10_2015 + f * (g10_2020 - g10_2015));
  // RST picks the pair (E_{i-1}, E_i) with E_i the first epoch >= year: 2020 itself is
  // interpolated from 2015 with factor 1, not read from igrf2020.dat.
  auto y2020 = igrf_model::load(igrf_dir(), 2020);
  ASSERT_TRUE(y2020);
  EXPECT_FALSE(y2020->extrapolated());
  EXPECT_EQ(y2020->coefficients()[0], g10_2015 + 1.0 * (g10_2020 - g10_2015));
}

TEST(IgrfLoad, ExtrapolatesWithSecularVariationAfterLastEpoch) {
  auto m = igrf_model::load(igrf_dir(), 2022);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_TRUE(m->extrapolated());
  EXPECT_EQ(m->max_degree(), 13);
  EXPECT_EQ(m->coefficients()[0], g10_2020 + 2.0 * g10_sv);
  EXPECT_EQ(m->coefficients()[2], h11_2020 + 2.0 * h11_sv);
  EXPECT_EQ(m->year(), 2022);
}

TEST(IgrfLoad, DifferentDegreesAreInterpolatedAgainstZero) {
  // dgrf95 has degree 10, dgrf2000 degree 13: in 1997 the extra terms are 0.4 x the 2000 values.
  auto m = igrf_model::load(igrf_dir(), 1997);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->max_degree(), 13);
  std::size_t const g_11_0 = 10 * 12;  // first term of degree 11
  double const factor = (1997.0 - 1995.0) / (2000.0 - 1995.0);
  EXPECT_EQ(m->coefficients()[g_11_0], factor * 2.70);  // dgrf2000.dat: "11 0 2.70 0.00"
}

// Independent reference: potential with Schmidt semi-normalised Legendre functions in full
// precision, field by central differences (B = −∇V).
double potential(std::span<double const> gh, int nmax, double a, double r, double theta, double phi) {
  auto const size = static_cast<std::size_t>(nmax + 1);
  std::vector<std::vector<double>> p(size, std::vector<double>(size, 0.0));
  double const c = std::cos(theta), s = std::sin(theta);
  p[0][0] = 1;
  for (int n = 1; n <= nmax; ++n) {
    p[n][n] = (n == 1 ? 1.0 : std::sqrt((2.0 * n - 1) / (2.0 * n))) * s * p[n - 1][n - 1];
    for (int m = 0; m < n; ++m) {
      double const prev2 = n >= 2 && m <= n - 2 ? p[n - 2][m] : 0.0;
      p[n][m] = ((2.0 * n - 1) * c * p[n - 1][m] - std::sqrt((n - 1.0) * (n - 1.0) - m * m) * prev2) /
                std::sqrt(1.0 * n * n - m * m);
    }
  }
  double v = 0;
  std::size_t k = 0;
  for (int n = 1; n <= nmax; ++n) {
    double sum = 0;
    for (int m = 0; m <= n; ++m) {
      double const g = gh[k++];
      double const h = m == 0 ? 0.0 : gh[k++];
      sum += (g * std::cos(m * phi) + h * std::sin(m * phi)) * p[n][m];
    }
    v += std::pow(a / r, n + 1) * sum;
  }
  return a * v;
}

TEST(IgrfField, AgreesWithIndependentSynthesis) {
  auto m = igrf_model::load(igrf_dir(), 2021);
  ASSERT_TRUE(m) << m.error().message();
  double const a = m->reference_radius_km();
  double worst = 0;
  for (double lat : {-87.0, -60.0, -20.0, 0.0, 33.0, 62.3, 75.0, 88.5}) {
    for (double lon : {-170.0, -68.5, 0.0, 26.6, 120.0}) {
      for (double r : {6371.2, 6671.0, 8000.0}) {
        double const th = (90 - lat) * M_PI / 180, ph = lon * M_PI / 180;
        auto V = [&](double rr, double t, double p) {
          return potential(m->coefficients(), m->max_degree(), a, rr, t, p);
        };
        double const dr = 1e-3, dt = 1e-7, dp = 1e-7;
        double const br = -(V(r + dr, th, ph) - V(r - dr, th, ph)) / (2 * dr);
        double const bt = -(V(r, th + dt, ph) - V(r, th - dt, ph)) / (2 * dt) / r;
        double const bp = -(V(r, th, ph + dp) - V(r, th, ph - dp)) / (2 * dp) / (r * std::sin(th));
        igrf_field_ned const f = m->field_ned(lat, lon, r);
        EXPECT_NEAR(f.north_nt, -bt, 0.5) << lat << " " << lon << " " << r;
        EXPECT_NEAR(f.east_nt, bp, 0.5) << lat << " " << lon << " " << r;
        EXPECT_NEAR(f.down_nt, -br, 0.5) << lat << " " << lon << " " << r;
        worst = std::max({worst, std::fabs(f.north_nt + bt), std::fabs(f.east_nt - bp), std::fabs(f.down_nt + br)});
        igrf_field_seu const s = m->field_seu(lat, lon, r);
        EXPECT_EQ(s.south_nt, -f.north_nt);
        EXPECT_EQ(s.east_nt, f.east_nt);
        EXPECT_EQ(s.up_nt, -f.down_nt);
        EXPECT_NEAR(s.total_nt, std::hypot(f.north_nt, f.east_nt, f.down_nt), 1e-9);
      }
    }
  }
  std::cout << "IGRF shval3 vs full-precision synthesis: worst component difference " << worst << " nT\n";
}

TEST(IgrfField, PolesAreFinite) {
  auto m = igrf_model::load(igrf_dir(), 2015);
  ASSERT_TRUE(m);
  for (double lat : {90.0, -90.0, 89.9995}) {
    auto f = m->field_ned(lat, 45, 6500);
    EXPECT_TRUE(std::isfinite(f.north_nt) && std::isfinite(f.east_nt) && std::isfinite(f.down_nt)) << lat;
    EXPECT_GT(std::fabs(f.down_nt), 40000) << lat;
  }
}

using rstx::test::scoped_env;

TEST(IgrfLoad, EnvironmentVariable) {
  {
    scoped_env unset("IGRF_PATH", nullptr);
    auto m = igrf_model::load_from_env(2015);
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().code, errc::not_found);
    EXPECT_NE(m.error().what.find("IGRF_PATH"), std::string::npos) << m.error().what;
  }
  scoped_env set("IGRF_PATH", igrf_dir().c_str());
  auto m = igrf_model::load_from_env(2015);
  ASSERT_TRUE(m) << m.error().message();
  auto direct = igrf_model::load(igrf_dir(), 2015);
  ASSERT_TRUE(direct);
  EXPECT_TRUE(std::equal(m->coefficients().begin(), m->coefficients().end(), direct->coefficients().begin()));
}

TEST(IgrfLoad, YearsBeforeTheSecondEpochFail) {
  for (double year : {1945.0, 1900.0, -5.0}) {
    auto m = igrf_model::load(igrf_dir(), year);
    ASSERT_FALSE(m) << year;
    EXPECT_EQ(m.error().code, errc::out_of_range);
    EXPECT_NE(m.error().what.find("1945"), std::string::npos) << m.error().what;
  }
  EXPECT_TRUE(igrf_model::load(igrf_dir(), 1946));
  auto nan = igrf_model::load(igrf_dir(), NAN);
  ASSERT_FALSE(nan);
  EXPECT_EQ(nan.error().code, errc::invalid_argument);
}

void write_file(std::filesystem::path const& p, std::string const& text) {
  std::ofstream out(p);
  out << text;
}

TEST(IgrfLoad, MissingAndMalformedTables) {
  auto none = igrf_model::load("/nonexistent-rstx-igrf", 2015);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, errc::not_found);
  EXPECT_NE(none.error().source.find("coef.dat"), std::string::npos) << none.error().message();

  auto dir = rstx::test::scratch_dir("igrf_tables");
  write_file(dir / "coef.dat", "m2000.dat 2000\nm2005.dat 2005\nm2005s.dat 0\n");
  auto missing = igrf_model::load(dir.string(), 2003);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  EXPECT_EQ(missing.error().source, (dir / "m2000.dat").string());

  write_file(dir / "m2000.dat", "  m2000\n 1 6371.2 2000.0\n 1 0 -30000.0 0.0\n 1 1 -2000.0 5000.0\n");
  write_file(dir / "m2005.dat", "  m2005\n 1 6371.2 2005.0\n 1 0 -29000.0 0.0\n 1 2 -2000.0 5000.0\n");
  auto bad = igrf_model::load(dir.string(), 2003);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, errc::bad_value);
  EXPECT_EQ(bad.error().source, (dir / "m2005.dat").string());
  EXPECT_GT(bad.error().offset, 0);

  write_file(dir / "m2005.dat", "  m2005\n 1 6371.2 2005.0\n 1 0 -29000.0 0.0\n 1 1 -2000.0 5000.0\n");
  auto ok = igrf_model::load(dir.string(), 2003);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->coefficients()[0], -30000.0 + 0.6 * (-29000.0 - -30000.0));

  write_file(dir / "coef.dat", "m2000.dat 2000\nm2005.dat 2005\n");  // no secular-variation line
  auto no_sv = igrf_model::load(dir.string(), 2003);
  ASSERT_FALSE(no_sv);
  EXPECT_EQ(no_sv.error().code, errc::bad_value);
}

}  // namespace
}  // namespace rstx::geo
