#include "rstx/geo/aacgm_v2.hpp"

#include <dirent.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "detail/degrees.hpp"
#include "detail/text_input.hpp"
#include "rstx/core/time.hpp"
#include "rstx/geo/wgs84.hpp"

namespace rstx::geo {

namespace {

namespace fs = std::filesystem;

using detail::dtor;
using detail::earth_radius_km;

constexpr int n_k = aacgm_v2_model::n_harmonics;  // 121
constexpr int n_comp = 3;                         // x, y, z
constexpr int n_pow = 5;                          // quartic in height
constexpr int n_dir = 2;                          // 0: G2A, 1: A2G
constexpr int g2a = 0;
constexpr int a2g = 1;
constexpr int epoch_step_years = 5;

// Index into the interpolated coefficients: [direction][component][power][k], so that the height
// polynomial runs over k in vector lanes.
constexpr std::size_t coef_index(int dir, int k, int comp, int pow) noexcept {
  return static_cast<std::size_t>(((dir * n_comp + comp) * n_pow + pow) * n_k + k);
}
// Index of a value in a coefficient file, which is written direction, power, component, k from
// the outermost loop to the innermost (aacgm.md §1.1).
constexpr std::size_t file_index(int dir, int k, int comp, int pow) noexcept {
  return static_cast<std::size_t>(((dir * n_pow + pow) * n_comp + comp) * n_k + k);
}

using harmonics = std::array<double, n_k>;

// Normalisation of each harmonic, sign for odd negative m included:
// sqrt((2l+1)/(4π) · (l−|m|)!/(l+|m|)!), with the factorials as RST forms them in double.
harmonics const& harmonic_norms() {
  static harmonics const norms = [] {
    constexpr int order = aacgm_v2_model::order;
    std::array<double, 2 * order + 2> fact{};
    fact[0] = fact[1] = 1;
    for (std::size_t k = 2; k < fact.size(); ++k) fact[k] = static_cast<double>(k) * fact[k - 1];
    auto idx = [](int i) { return static_cast<std::size_t>(i); };
    harmonics n{};
    for (int l = 0; l <= order; ++l) {
      for (int m = 0; m <= l; ++m) {
        n[idx(l * (l + 1) + m)] = std::sqrt((2 * l + 1) / (4 * detail::pi) * fact[idx(l - m)] / fact[idx(l + m)]);
      }
      for (int m = -l; m < 0; ++m) {
        double const sign = (-m % 2) != 0 ? -1 : 1;
        n[idx(l * (l + 1) + m)] = n[idx(l * (l + 1) - m)] * sign;
      }
    }
    return n;
  }();
  return norms;
}

// AACGM's real spherical harmonics up to degree 10 (Shepherd 2014, RST AACGM_v2_Rylm): Legendre
// recursions of Numerical Recipes §6.8 carried on the complex value q = −sinθ·e^{iφ} so that the
// cos(mφ) and sin(mφ) parts come out together. The steps and their rounding follow RST exactly.
void rylm(double colat, double lon, harmonics& y) noexcept {
  constexpr int order = aacgm_v2_model::order;
  auto at = [&y](int k) -> double& { return y[static_cast<std::size_t>(k)]; };
  double const cos_t = std::cos(colat);
  double const sin_t = std::sin(colat);
  double const cos_p = std::cos(lon);
  double const sin_p = std::sin(lon);

  // q = −sinθ (cosφ + i sinφ)
  double const minus_sin_t = -sin_t;
  double const q_re = minus_sin_t * cos_p;
  double const q_im = minus_sin_t * sin_p;

  // m = 0: l P_l = (2l−1) cosθ P_{l−1} − (l−1) P_{l−2}
  at(0) = 1;
  at(2) = cos_t;
  for (int l = 2; l <= order; ++l) {
    at(l * (l + 1)) = (cos_t * (2 * l - 1) * at((l - 1) * l) - (l - 1) * at((l - 2) * (l - 1))) / l;
  }

  // m = ±l: q_l = (2l−1) q q_{l−1}; Re → m = +l, −Im → m = −l
  double v_re = q_re;
  double v_im = q_im;
  at(3) = v_re;
  at(1) = -v_im;
  for (int l = 2; l <= order; ++l) {
    double const d = l * 2 - 1.;
    double const z_re = d * q_re;
    double const z_im = d * q_im;
    double const n_re = z_re * v_re - z_im * v_im;
    double const n_im = z_re * v_im + z_im * v_re;
    v_re = n_re;
    v_im = n_im;
    at(l * (l + 2)) = v_re;
    at(l * l) = -v_im;
  }

  // m = ±(l−1): P_{l,l−1} = (2l−1) cosθ P_{l−1,l−1}
  for (int l = 2; l <= order; ++l) {
    double const l2 = l * l;
    double const tl = 2 * l;
    double const fac = tl - 1;
    at(static_cast<int>(l2 + tl - 1)) = fac * cos_t * at(static_cast<int>(l2 - 1));
    at(static_cast<int>(l2 + 1)) = fac * cos_t * at(static_cast<int>(l2 - tl + 1));
  }

  // the rest: (l−m) P_{l,m} = (2l−1) cosθ P_{l−1,m} − (l+m−1) P_{l−2,m}, for +m and −m
  for (int m = 1; m <= order - 2; ++m) {
    for (int l = m + 2; l <= order; ++l) {
      double const ca = static_cast<double>(2 * l - 1) / (l - m);
      double const cb = static_cast<double>(l + m - 1) / (l - m);
      int const l2 = l * l;
      int ic = l2 + l + m;
      int ib = l2 - l + m;
      int ia = l2 - 3 * l + 2 + m;
      at(ic) = ca * cos_t * at(ib) - cb * at(ia);
      ic -= 2 * m;
      ib -= 2 * m;
      ia -= 2 * m;
      at(ic) = ca * cos_t * at(ib) - cb * at(ia);
    }
  }

  harmonics const& norms = harmonic_norms();
  for (std::size_t k = 0; k < y.size(); ++k) y[k] *= norms[k];
}

struct xyz {
  double x = 0, y = 0, z = 0;
};

// Σ_k c_k(h)·Y_k for the three components, c_k(h) the height polynomial in h/2000 km, summed in
// ascending k (RST's order).
xyz synthesize(std::vector<double> const& coef, int dir, double height_km, double colat, double lon) noexcept {
  double const v = height_km / aacgm_v2_model::max_height_km;
  double const v2 = v * v;
  double const v3 = v * v2;
  double const v4 = v * v3;
  harmonics y;
  rylm(colat, lon, y);
  // c_k(h) for every k first (independent sums, vectorised), then the series in ascending k.
  std::array<harmonics, n_comp> c;
  for (int a = 0; a < n_comp; ++a) {
    double const* p0 = &coef[coef_index(dir, 0, a, 0)];
    double const* p1 = &coef[coef_index(dir, 0, a, 1)];
    double const* p2 = &coef[coef_index(dir, 0, a, 2)];
    double const* p3 = &coef[coef_index(dir, 0, a, 3)];
    double const* p4 = &coef[coef_index(dir, 0, a, 4)];
    for (int k = 0; k < n_k; ++k) c[a][k] = p0[k] + p1[k] * v + p2[k] * v2 + p3[k] * v3 + p4[k] * v4;
  }
  xyz s;
  for (int k = 0; k < n_k; ++k) {
    double const yk = y[static_cast<std::size_t>(k)];
    s.x += c[0][k] * yk;
    s.y += c[1][k] * yk;
    s.z += c[2][k] * yk;
  }
  return s;
}

std::string epoch_path(std::string_view prefix, int epoch) { return fmt::format("{}{:04d}.asc", prefix, epoch); }

// Epochs of the files "<prefix>NNNN.asc" that exist.
result<std::set<int>> available_epochs(std::string_view prefix) {
  fs::path const p{std::string(prefix)};
  fs::path dir = p.parent_path();
  std::string const stem = p.filename().string();
  if (dir.empty()) dir = ".";
  // POSIX readdir, not std::filesystem::directory_iterator: libstdc++'s increment(error_code&) is
  // noexcept yet allocates each entry's path, so running out of memory there ends the process.
  std::unique_ptr<DIR, int (*)(DIR*)> listing(::opendir(dir.c_str()), &::closedir);
  if (!listing) {
    return unexpected(error(errc::not_found,
                            fmt::format("no AACGM-v2 coefficient files {}YYYY.asc: cannot list directory {}: {}",
                                        prefix, dir.string(), std::strerror(errno)))
                          .at(prefix));
  }
  std::set<int> epochs;
  while (dirent const* entry = ::readdir(listing.get())) {
    std::string_view const name(entry->d_name);
    if (name.size() != stem.size() + 8 || name.substr(0, stem.size()) != stem) continue;
    std::string_view const tail = name.substr(stem.size());
    if (tail.substr(4) != ".asc") continue;
    if (!std::all_of(tail.begin(), tail.begin() + 4, [](char c) { return c >= '0' && c <= '9'; })) continue;
    epochs.insert((tail[0] - '0') * 1000 + (tail[1] - '0') * 100 + (tail[2] - '0') * 10 + (tail[3] - '0'));
  }
  if (epochs.empty()) {
    return unexpected(error(errc::not_found,
                            fmt::format("no AACGM-v2 coefficient files {}YYYY.asc found in {}", prefix, dir.string()))
                          .at(prefix));
  }
  return epochs;
}

result<std::vector<double>> read_epoch_file(std::string const& path) {
  auto text = detail::read_text_file(path, "AACGM-v2 coefficient file");
  if (!text) return unexpected(std::move(text.error()));
  std::vector<double> values;
  values.reserve(aacgm_v2_model::values_per_file);
  detail::number_scanner in(*text);
  while (!in.at_end()) {
    auto v = in.next_double();
    if (!v) {
      return unexpected(error(errc::bad_value, "AACGM-v2 coefficient file: not a number",
                              static_cast<std::int64_t>(in.offset()))
                            .at(path));
    }
    values.push_back(*v);
  }
  if (values.size() != static_cast<std::size_t>(aacgm_v2_model::values_per_file)) {
    return unexpected(error(errc::bad_value, fmt::format("AACGM-v2 coefficient file holds {} numbers, expected {}",
                                                         values.size(), aacgm_v2_model::values_per_file))
                          .at(path));
  }
  return values;
}

bool valid_datetime(aacgm_v2_datetime const& t) noexcept {
  static constexpr int days_in_month[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (t.month < 1 || t.month > 12) return false;
  int const dim = days_in_month[t.month - 1] + (t.month == 2 && is_leap_year(t.year) ? 1 : 0);
  return t.day >= 1 && t.day <= dim && t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59 &&
         t.second >= 0 && t.second <= 60;
}

}  // namespace

result<aacgm_v2_model> aacgm_v2_model::load(std::string_view coeff_prefix, int year, int month, int day, int hour,
                                            int minute, int second) {
  return load(coeff_prefix, aacgm_v2_datetime{year, month, day, hour, minute, second});
}

result<aacgm_v2_model> aacgm_v2_model::load(std::string_view coeff_prefix, aacgm_v2_datetime const& when) {
  if (!valid_datetime(when)) {
    return fail(errc::invalid_argument,
                fmt::format("AACGM-v2: impossible date/time {:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}", when.year,
                            when.month, when.day, when.hour, when.minute, when.second));
  }
  // Decimal year, RST AACGM_v2_SetDateTime (dayno from genmag.c).
  int const doy = day_of_year(when.year, when.month, when.day);
  int const ndays = is_leap_year(when.year) ? 366 : 365;
  double const fyear =
      when.year + ((doy - 1) + (when.hour + (when.minute + when.second / 60.) / 60.) / 24.) / ndays;

  auto epochs = available_epochs(coeff_prefix);
  if (!epochs) return unexpected(std::move(epochs.error()));
  int const first = *epochs->begin();
  int const last = *epochs->rbegin();
  if (!(fyear >= first && fyear < last)) {
    return unexpected(
        error(errc::out_of_range,
              fmt::format("AACGM-v2: date {:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d} (decimal year {:.6f}) is outside "
                          "[{}, {}), the range covered by the coefficient files {} ... {}",
                          when.year, when.month, when.day, when.hour, when.minute, when.second, fyear, first, last,
                          epoch_path(coeff_prefix, first), epoch_path(coeff_prefix, last)))
            .at(coeff_prefix));
  }

  int const epoch = when.year / epoch_step_years * epoch_step_years;
  auto c0 = read_epoch_file(epoch_path(coeff_prefix, epoch));
  if (!c0) return unexpected(std::move(c0.error()));
  auto c1 = read_epoch_file(epoch_path(coeff_prefix, epoch + epoch_step_years));
  if (!c1) return unexpected(std::move(c1.error()));

  aacgm_v2_model m;
  m.coef_.resize(static_cast<std::size_t>(n_dir * n_k * n_comp * n_pow));
  for (int f = 0; f < n_dir; ++f) {
    for (int k = 0; k < n_k; ++k) {
      for (int a = 0; a < n_comp; ++a) {
        for (int l = 0; l < n_pow; ++l) {
          double const a0 = (*c0)[file_index(f, k, a, l)];
          double const a5 = (*c1)[file_index(f, k, a, l)];
          m.coef_[coef_index(f, k, a, l)] = a0 + (fyear - epoch) * (a5 - a0) / epoch_step_years;
        }
      }
    }
  }
  m.when_ = when;
  m.decimal_year_ = fyear;
  m.epoch_ = epoch;
  m.prefix_ = std::string(coeff_prefix);
  return m;
}

result<aacgm_v2_model> aacgm_v2_model::load_from_env(aacgm_v2_datetime const& when) {
  auto prefix = aacgm_v2_prefix_from_env();
  if (!prefix) return unexpected(std::move(prefix.error()));
  return load(*prefix, when);
}

result<std::string> aacgm_v2_prefix_from_env() {
  return detail::environment_path(
      "AACGM_v2_DAT_PREFIX",
      "the AACGM-v2 coefficient file prefix, e.g. /path/to/aacgm_coeffs-13- (files <prefix>YYYY.asc)");
}

result<magnetic_coords> aacgm_v2_model::convert_g2a(double lat_deg, double lon_deg, double height_km,
                                                     geographic_frame frame) const {
  if (std::isnan(lat_deg) || std::isnan(lon_deg) || std::isnan(height_km)) {
    return fail(errc::invalid_argument,
                fmt::format("AACGM-v2 G2A: NaN input (lat {}, lon {}, height {} km)", lat_deg, lon_deg, height_km));
  }
  if (std::fabs(lat_deg) > 90.) {
    return fail(errc::out_of_range, fmt::format("AACGM-v2 G2A: latitude {} deg outside [-90, 90]", lat_deg));
  }
  double lat = lat_deg;
  double lon = lon_deg;
  double height = height_km;
  if (frame == geographic_frame::geodetic) {
    geocentric_position const gc = geodetic_to_geocentric(lat_deg, lon_deg, height_km);
    lat = gc.lat_deg;
    lon = gc.lon_deg;
    height = gc.height_km;
  }
  if (height > max_height_km) {
    return fail(errc::out_of_range,
                fmt::format("AACGM-v2 G2A: geocentric height {} km above the coefficients' limit of {} km "
                            "(input lat {}, lon {}, height {} km)",
                            height, max_height_km, lat_deg, lon_deg, height_km));
  }
  xyz const s = synthesize(coef_, g2a, height, (90. - lat) * dtor, lon * dtor);
  // The fit gives a point on the unit sphere only through x and y; z supplies the hemisphere.
  double const fac = s.x * s.x + s.y * s.y;
  if (fac > 1.) {
    return fail(errc::out_of_range,
                fmt::format("AACGM-v2 G2A: lat {}, lon {}, height {} km lies in the forbidden region near the "
                            "magnetic equator (field lines do not reach this height; x^2+y^2 = {})",
                            lat_deg, lon_deg, height_km, fac));
  }
  double const ztmp = std::sqrt(1. - fac);
  double const z = s.z < 0 ? -ztmp : ztmp;
  double const colat_out = std::acos(z);
  double const lon_out = (std::fabs(s.x) < 1e-8 && std::fabs(s.y) < 1e-8) ? 0 : std::atan2(s.y, s.x);
  return magnetic_coords{90. - colat_out / dtor, lon_out / dtor, (height + earth_radius_km) / earth_radius_km};
}

result<geographic_coords> aacgm_v2_model::convert_a2g(double mlat_deg, double mlon_deg, double height_km,
                                                       geographic_frame frame) const {
  if (std::isnan(mlat_deg) || std::isnan(mlon_deg) || std::isnan(height_km)) {
    return fail(errc::invalid_argument,
                fmt::format("AACGM-v2 A2G: NaN input (mlat {}, mlon {}, height {} km)", mlat_deg, mlon_deg, height_km));
  }
  if (std::fabs(mlat_deg) > 90.) {
    return fail(errc::out_of_range, fmt::format("AACGM-v2 A2G: latitude {} deg outside [-90, 90]", mlat_deg));
  }
  if (height_km > max_height_km) {
    return fail(errc::out_of_range, fmt::format("AACGM-v2 A2G: height {} km above the coefficients' limit of {} km",
                                                height_km, max_height_km));
  }
  // AACGM -> "at-altitude" latitude: cos²(lat_alt) = (1 + h/RE) cos²(mlat) (RST AACGM_v2_CGM2Alt).
  double const c = std::cos(mlat_deg * dtor);
  double const ra = (height_km / earth_radius_km + 1) * (c * c);
  if (ra > 1) {
    return fail(errc::out_of_range,
                fmt::format("AACGM-v2 A2G: mlat {} deg at height {} km is equatorward of the field line that "
                            "reaches this height",
                            mlat_deg, height_km));
  }
  double const lat_alt_rad = std::acos(std::sqrt(ra));
  double const lat_alt = (mlat_deg >= 0 ? lat_alt_rad : -lat_alt_rad) / dtor;

  xyz s = synthesize(coef_, a2g, height_km, (90. - lat_alt) * dtor, mlon_deg * dtor);
  // The inverse fit is normalised onto the unit sphere; far from it the fit is not trusted.
  double const r = std::sqrt(s.x * s.x + s.y * s.y + s.z * s.z);
  if (r < 0.9 || r > 1.1) {
    return fail(errc::out_of_range,
                fmt::format("AACGM-v2 A2G: mlat {}, mlon {}, height {} km: inverse synthesis at radius {} (not within "
                            "0.1 of the unit sphere)",
                            mlat_deg, mlon_deg, height_km, r));
  }
  s.z /= r;
  s.x /= r;
  s.y /= r;
  double const colat = s.z > 1. ? 0 : (s.z < -1. ? detail::pi : std::acos(s.z));
  double const lon_out = (std::fabs(s.x) < 1e-8 && std::fabs(s.y) < 1e-8) ? 0 : std::atan2(s.y, s.x);
  geographic_coords out{90. - colat / dtor, lon_out / dtor, height_km};
  if (frame == geographic_frame::geodetic) {
    geodetic_position const gd =
        geocentric_to_geodetic(out.lat_deg, out.lon_deg, (earth_radius_km + height_km) / earth_radius_km);
    out.lat_deg = gd.lat_deg;
    out.height_km = gd.height_km;
  }
  return out;
}

std::vector<double> aacgm_v2_harmonics(double colat_rad, double lon_rad) {
  harmonics y;
  rylm(colat_rad, lon_rad, y);
  return {y.begin(), y.end()};
}

}  // namespace rstx::geo
