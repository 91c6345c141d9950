#include "rstx/core/time.hpp"

#include <cmath>

namespace rstx {

namespace {
// Floor division and modulo for possibly negative numerators.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}
}  // namespace

// Howard Hinnant's days_from_civil, after normalising the month into 1..12.
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) noexcept {
  std::int64_t const carry = floor_div(m - 1, 12);
  y += carry;
  m -= carry * 12;
  y -= m <= 2;
  std::int64_t const era = floor_div(y, 400);
  std::int64_t const yoe = y - era * 400;
  std::int64_t const doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5;
  std::int64_t const doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468 + (d - 1);
}

double epoch_from_ymdhms(int year, int month, int day, int hour, int minute, double second) noexcept {
  double const whole = std::floor(second);
  std::int64_t const t = days_from_civil(year, month, day) * 86400 + std::int64_t{hour} * 3600 +
                         std::int64_t{minute} * 60 + static_cast<std::int64_t>(whole);
  return static_cast<double>(t) + (second - whole);
}

ymdhms ymdhms_from_epoch(double epoch) noexcept {
  double const whole = std::floor(epoch);
  auto const t = static_cast<std::int64_t>(whole);
  std::int64_t const days = floor_div(t, 86400);
  std::int64_t const sod = t - days * 86400;
  // civil_from_days
  std::int64_t const z = days + 719468;
  std::int64_t const era = floor_div(z, 146097);
  std::int64_t const doe = z - era * 146097;
  std::int64_t const yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t const doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t const mp = (5 * doy + 2) / 153;
  std::int64_t const d = doy - (153 * mp + 2) / 5 + 1;
  std::int64_t const m = mp < 10 ? mp + 3 : mp - 9;
  std::int64_t const y = yoe + era * 400 + (m <= 2);
  ymdhms out;
  out.year = static_cast<int>(y);
  out.month = static_cast<int>(m);
  out.day = static_cast<int>(d);
  out.hour = static_cast<int>(sod / 3600);
  out.minute = static_cast<int>((sod % 3600) / 60);
  out.second = static_cast<double>(sod % 60) + (epoch - whole);
  return out;
}

int day_of_year(int year, int month, int day) noexcept {
  return static_cast<int>(days_from_civil(year, month, day) - days_from_civil(year, 1, 1)) + 1;
}

}  // namespace rstx
