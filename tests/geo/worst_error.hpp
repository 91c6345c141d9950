#pragma once
// Worst-error bookkeeping for the geo tests (GeographicLib GeodTest style): per output field, the
// largest |expected − actual|, where it happened, and how many values matched bit for bit.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace rstx::geo::check {

struct worst_error {
  std::string field;
  double max_abs = 0;
  std::string where;        ///< description of the worst case
  std::size_t n = 0;        ///< values compared
  std::size_t n_exact = 0;  ///< values equal bit for bit (NaN == NaN)

  explicit worst_error(std::string name) : field(std::move(name)) {}

  /// Records one comparison; returns |expected − actual| (0 for two NaNs, +inf for one NaN).
  double add(double expected, double actual, std::string const& context) {
    ++n;
    if (std::memcmp(&expected, &actual, sizeof(double)) == 0 || (std::isnan(expected) && std::isnan(actual))) {
      ++n_exact;
      return 0;
    }
    double const d = (std::isnan(expected) || std::isnan(actual)) ? INFINITY : std::fabs(expected - actual);
    if (d > max_abs || where.empty()) {
      max_abs = d;
      where = fmt::format("{} (expected {:.17g}, got {:.17g})", context, expected, actual);
    }
    return d;
  }

  [[nodiscard]] std::string report() const {
    if (n_exact == n) return fmt::format("{:>8}: {} values, all bit-identical", field, n);
    return fmt::format("{:>8}: {} values, {} bit-identical, worst |diff| {:.3g} at {}", field, n, n_exact, max_abs,
                       where);
  }
};

}  // namespace rstx::geo::check
