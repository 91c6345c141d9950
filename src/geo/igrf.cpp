#include "rstx/geo/igrf.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "detail/text_input.hpp"

namespace rstx::geo {

namespace {

namespace fs = std::filesystem;

// shval3's degree -> radian factor, truncated as in RST (and geomag70).
constexpr double deg_to_rad_igrf = .01745329;

struct model_entry {
  std::string file;
  double epoch = 0;  // 0 marks the secular-variation file
};

// coef.dat: "file epoch" per line; the list ends with the secular-variation entry (epoch 0),
// which must be the last line.
result<std::vector<model_entry>> read_model_list(std::string const& path) {
  auto text = detail::read_text_file(path, "IGRF model list");
  if (!text) return unexpected(std::move(text.error()));
  std::vector<model_entry> entries;
  std::size_t pos = 0;
  bool have_sv = false;
  while (pos < text->size()) {
    std::size_t const eol = std::min(text->find('\n', pos), text->size());
    std::string_view const line(text->data() + pos, eol - pos);
    std::size_t const line_offset = pos;
    pos = eol + 1;
    std::size_t const a = line.find_first_not_of(" \t\r");
    if (a == std::string_view::npos) continue;  // blank line
    std::size_t const b = line.find_first_of(" \t\r", a);
    auto bad = [&](std::string what) {
      return unexpected(error(errc::bad_value, std::move(what), static_cast<std::int64_t>(line_offset)).at(path));
    };
    if (have_sv) return bad("IGRF model list: entries after the secular-variation entry (epoch 0)");
    if (b == std::string_view::npos) return bad("IGRF model list: line without an epoch");
    detail::number_scanner in(line.substr(b));
    auto epoch = in.next_double();
    if (!epoch) return bad("IGRF model list: epoch is not a number");
    model_entry e{std::string(line.substr(a, b - a)), *epoch};
    if (e.epoch == 0) {
      have_sv = true;
    } else if (!entries.empty() && e.epoch <= entries.back().epoch) {
      return bad("IGRF model list: epochs not increasing");
    }
    entries.push_back(std::move(e));
  }
  if (!have_sv || entries.size() < 2) {
    return unexpected(
        error(errc::bad_value, "IGRF model list: needs at least one dated model and a last line with epoch 0 "
                               "(the secular-variation file)")
            .at(path));
  }
  return entries;
}

struct sh_model {
  int nmax = 0;
  double erad = 0;
  std::vector<double> gh;  // g(1,0), g(1,1), h(1,1), g(2,0), ...
};

// A model file (RST getshc): title line, "nmax erad epoch", then "n m g h" for n = 1..nmax, m = 0..n.
result<sh_model> read_model_file(std::string const& path) {
  auto text = detail::read_text_file(path, "IGRF model file");
  if (!text) return unexpected(std::move(text.error()));
  detail::number_scanner in(*text);
  in.skip_line();
  auto bad = [&](std::string what) {
    auto const offset = static_cast<std::int64_t>(in.offset());
    return unexpected(error(errc::bad_value, "IGRF model file: " + std::move(what), offset).at(path));
  };
  sh_model m;
  auto nmax = in.next_int();
  if (!nmax || *nmax < 1 || *nmax > igrf_model::max_degree_supported) return bad("bad maximum degree");
  auto erad = in.next_double();
  if (!erad || !(*erad > 0)) return bad("bad reference radius");
  if (!in.next_double()) return bad("bad epoch");
  m.nmax = *nmax;
  m.erad = *erad;
  m.gh.reserve(static_cast<std::size_t>(m.nmax * (m.nmax + 2)));
  for (int nn = 1; nn <= m.nmax; ++nn) {
    for (int mm = 0; mm <= nn; ++mm) {
      auto n = in.next_int();
      auto mo = in.next_int();
      if (!n || !mo || *n != nn || *mo != mm) return bad(fmt::format("expected the line for n = {}, m = {}", nn, mm));
      auto g = in.next_double();
      auto h = in.next_double();
      if (!g || !h) return bad(fmt::format("bad coefficient for n = {}, m = {}", nn, mm));
      m.gh.push_back(*g);
      if (mm != 0) m.gh.push_back(*h);
    }
  }
  return m;
}

std::size_t n_terms(int nmax) noexcept { return static_cast<std::size_t>(nmax * (nmax + 2)); }

// Linear interpolation between two models (RST interpshc); terms present in one model only are
// interpolated against zero.
sh_model interpolate(double date, double dte1, sh_model const& m1, double dte2, sh_model const& m2) {
  double const factor = (date - dte1) / (dte2 - dte1);
  sh_model out;
  out.erad = m2.erad;
  out.nmax = std::max(m1.nmax, m2.nmax);
  out.gh.resize(n_terms(out.nmax));
  std::size_t const k = n_terms(std::min(m1.nmax, m2.nmax));
  for (std::size_t i = k; i < out.gh.size(); ++i) {
    out.gh[i] = m1.nmax > m2.nmax ? m1.gh[i] + factor * (-m1.gh[i]) : factor * m2.gh[i];
  }
  for (std::size_t i = 0; i < k; ++i) out.gh[i] = m1.gh[i] + factor * (m2.gh[i] - m1.gh[i]);
  return out;
}

// Extrapolation with the secular variation sv (nT/yr) (RST extrapshc).
sh_model extrapolate(double date, double dte1, sh_model const& m1, sh_model const& sv) {
  double const factor = date - dte1;
  sh_model out;
  out.erad = sv.erad;
  out.nmax = std::max(m1.nmax, sv.nmax);
  out.gh.resize(n_terms(out.nmax));
  std::size_t const k = n_terms(std::min(m1.nmax, sv.nmax));
  for (std::size_t i = k; i < out.gh.size(); ++i) out.gh[i] = m1.nmax > sv.nmax ? m1.gh[i] : factor * sv.gh[i];
  for (std::size_t i = 0; i < k; ++i) out.gh[i] = m1.gh[i] + factor * sv.gh[i];
  return out;
}

}  // namespace

result<std::string> igrf_path_from_env() {
  return detail::environment_path("IGRF_PATH",
                                  "the directory of RST's IGRF tables (coef.dat, dgrf*.dat, igrf*.dat)");
}

result<igrf_model> igrf_model::load_from_env(double year) {
  auto dir = igrf_path_from_env();
  if (!dir) return unexpected(std::move(dir.error()));
  return load(*dir, year);
}

result<igrf_model> igrf_model::load(std::string_view igrf_dir, double year) {
  if (!std::isfinite(year)) return fail(errc::invalid_argument, fmt::format("IGRF: year {} is not finite", year));
  fs::path const dir{std::string(igrf_dir)};
  auto list = read_model_list((dir / "coef.dat").string());
  if (!list) return unexpected(std::move(list.error()));
  std::vector<model_entry> const& e = *list;
  std::size_t const sv_index = e.size() - 1;

  std::size_t i = 0;
  while (e[i].epoch != 0 && e[i].epoch < year) ++i;
  if (i == 0) {
    return unexpected(error(errc::out_of_range,
                            fmt::format("IGRF: year {} is not after the first model epoch {} ({})", year, e[0].epoch,
                                        e[0].file))
                          .at((dir / "coef.dat").string()));
  }
  --i;

  auto m1 = read_model_file((dir / e[i].file).string());
  if (!m1) return unexpected(std::move(m1.error()));
  auto m2 = read_model_file((dir / e[i + 1].file).string());
  if (!m2) return unexpected(std::move(m2.error()));

  igrf_model out;
  out.files_ = {(dir / e[i].file).string(), (dir / e[i + 1].file).string()};
  out.year_ = year;
  out.extrapolated_ = i + 1 == sv_index;
  sh_model const m = out.extrapolated_ ? extrapolate(year, e[i].epoch, *m1, *m2)
                                       : interpolate(year, e[i].epoch, *m1, e[i + 1].epoch, *m2);
  out.gh_ = m.gh;
  out.erad_ = m.erad;
  out.nmax_ = m.nmax;
  out.build_recursion();
  return out;
}

void igrf_model::build_recursion() {
  // shval3 computes these square roots and quotients of n and m afresh for every point; they
  // depend on the degree and order only, so they are computed once here with the same
  // operations (and so the same bits).
  int const npq = (nmax_ * (nmax_ + 3)) / 2;
  recursion_.assign(static_cast<std::size_t>(npq), recursion_term{});
  int k = 0;
  for (int n = 1; n <= nmax_; ++n) {
    for (int m = 0; m <= n; ++m, ++k) {
      auto& t = recursion_[static_cast<std::size_t>(k)];
      double const fn = n;
      double const fm = m;
      if (k < 4) continue;  // P(1..4), Q(1..4) are written out
      if (m == n) {
        double const aa = std::sqrt(1.0 - (0.5 / fm));
        t.p = (1.0 / fm + 1.0) * aa;
        t.q = aa;
      } else {
        double const aa = std::sqrt(fn * fn - fm * fm);
        double const d1 = fn - 1.0;
        double const bb = std::sqrt(d1 * d1 - fm * fm) / aa;
        t.c = (fn * 2.0 - 1.0) / aa;
        t.b = bb;
        t.b_over_n_minus_1 = bb / (fn - 1.0);
      }
    }
  }
}

igrf_field_ned igrf_model::field_ned(double flat, double flon, double radius_km) const noexcept {
  // Schmidt quasi-normalised Legendre functions p (and q = their colatitude derivatives, both
  // scaled as in geomag70) by recursion over the terms k = 1..npq in order n = 1.., m = 0..n.
  // The operation order is RST's shval3, so the result is bit-identical.
  int const nmax = nmax_;
  std::array<double, max_terms> p;  // 0-based here: shval3's P(k) is p[k - 1]
  std::array<double, max_terms> q;
  std::array<double, max_degree_supported + 1> sl;  // sin(m·lon), cos(m·lon); shval3's SL(m) is sl[m - 1]
  std::array<double, max_degree_supported + 1> cl;

  double const r = radius_km;
  double const slat = std::sin(flat * deg_to_rad_igrf);
  double aa = 0;
  if ((90.0 - flat) < 0.001) {
    aa = 89.999;  // about 100 m from the north pole
  } else if (flat + 90.0 < 0.001) {
    aa = -89.999;
  } else {
    aa = flat;
  }
  double const clat = std::cos(aa * deg_to_rad_igrf);
  sl[0] = std::sin(flon * deg_to_rad_igrf);
  cl[0] = std::cos(flon * deg_to_rad_igrf);
  double x = 0.0;
  double y = 0.0;
  double z = 0.0;
  double const sd = 0.0;  // geocentric input: no rotation to the geodetic vertical
  double const cd = 1.0;
  double const ratio = erad_ / r;
  double const sqrt3 = std::sqrt(3.0);
  p[0] = slat * 2.0;
  p[1] = clat * 2.0;
  p[2] = slat * 4.5 * slat - 1.5;
  p[3] = sqrt3 * 3.0 * clat * slat;
  q[0] = -clat;
  q[1] = slat;
  q[2] = clat * -3.0 * slat;
  q[3] = sqrt3 * (slat * slat - clat * clat);

  std::size_t l = 0;  // index into gh_ (shval3's l − 1)
  std::size_t k = 0;  // shval3's k − 1
  for (int n = 1; n <= nmax; ++n) {
    double const rr = std::pow(ratio, static_cast<double>(n + 2));
    double const fn = n;
    for (int m = 0; m <= n; ++m, ++k) {
      double const fm = m;
      auto const& t = recursion_[k];
      if (k >= 4) {
        if (m == n) {
          std::size_t const j = k - static_cast<std::size_t>(n) - 1;
          p[k] = t.p * clat * p[j];
          q[k] = t.q * (clat * q[j] + slat / fm * p[j]);
          auto const mi = static_cast<std::size_t>(m);
          sl[mi - 1] = sl[mi - 2] * cl[0] + cl[mi - 2] * sl[0];
          cl[mi - 1] = cl[mi - 2] * cl[0] - sl[mi - 2] * sl[0];
        } else {
          std::size_t const i = k - static_cast<std::size_t>(n);
          std::size_t const j = k - 2 * static_cast<std::size_t>(n) + 1;
          p[k] = (fn + 1.0) * (t.c * slat / fn * p[i] - t.b_over_n_minus_1 * p[j]);
          q[k] = t.c * (slat * q[i] - clat / fn * p[i]) - t.b * q[j];
        }
      }
      aa = rr * gh_[l];
      if (m == 0) {
        x += aa * q[k];
        z -= aa * p[k];
        ++l;
      } else {
        double const bb = rr * gh_[l + 1];
        auto const mi = static_cast<std::size_t>(m);
        double const cc = aa * cl[mi - 1] + bb * sl[mi - 1];
        x += cc * q[k];
        z -= cc * p[k];
        if (clat > 0.0) {
          y += (aa * sl[mi - 1] - bb * cl[mi - 1]) * fm * p[k] / ((fn + 1.0) * clat);
        } else {
          y += (aa * sl[mi - 1] - bb * cl[mi - 1]) * q[k] * slat;
        }
        l += 2;
      }
    }
  }
  aa = x;
  x = x * cd + z * sd;
  z = z * cd - aa * sd;
  return {x, y, z};
}

igrf_field_seu igrf_model::field_seu(double geocentric_lat_deg, double lon_deg, double radius_km) const noexcept {
  igrf_field_ned const f = field_ned(geocentric_lat_deg, lon_deg, radius_km);
  double const b = std::sqrt(f.north_nt * f.north_nt + f.east_nt * f.east_nt + f.down_nt * f.down_nt);
  return {-f.north_nt, f.east_nt, -f.down_nt, b};
}

}  // namespace rstx::geo
