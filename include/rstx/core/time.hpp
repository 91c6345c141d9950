#pragma once
/**
 * @file
 * UTC calendar time <-> epoch seconds, the way RST converts them (`time.1.7/src/time.c`).
 *
 * Epochs are POSIX seconds since 1970-01-01T00:00:00Z as a double. `epoch_from_ymdhms` adds the
 * fractional part of the seconds to the integer POSIX time, so 0.1 s survives only to about
 * 2.4e-7 s near 2020 (0.1 becomes 0.09999990463256836 on the way back). RST's outputs contain
 * exactly these rounded values; always go through these functions to reproduce them.
 * Out-of-range fields are normalised like mktime/timegm (month 13 is January of the next year).
 */
#include <cstdint>

namespace rstx {

struct ymdhms {
  int year = 1970;
  int month = 1;   ///< 1..12
  int day = 1;     ///< 1..31
  int hour = 0;
  int minute = 0;
  double second = 0.0;  ///< [0, 60), with fraction
};

/** Days from 1970-01-01 to the given proleptic Gregorian date (month/day normalised). */
[[nodiscard]] std::int64_t days_from_civil(std::int64_t year, std::int64_t month, std::int64_t day) noexcept;

/** POSIX seconds of a UTC time, RST's TimeYMDHMSToEpoch: integer part via timegm, plus fraction. */
[[nodiscard]] double epoch_from_ymdhms(int year, int month, int day, int hour, int minute,
                                       double second) noexcept;

/** Inverse of epoch_from_ymdhms, RST's TimeEpochToYMDHMS: gmtime(floor(t)), seconds + fraction. */
[[nodiscard]] ymdhms ymdhms_from_epoch(double epoch) noexcept;

/** True for Gregorian leap years. */
[[nodiscard]] constexpr bool is_leap_year(int year) noexcept {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/** Day of the year, 1-based (1 January = 1). */
[[nodiscard]] int day_of_year(int year, int month, int day) noexcept;

}  // namespace rstx
