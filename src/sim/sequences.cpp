// The built-in multi-pulse sequences. Pulse positions and lag-table rows are facts of the radar
// operating modes: the 7-pulse 22-lag table in the row order of the Borealis file
// shared/data/real/test.rawacf, the classic ROS 18-lag table and the 8-pulse katscan table as RST's
// make_sim documents them.
#include <span>
#include <string>

#include <fmt/format.h>

#include "rstx/sim/simulate.hpp"

namespace rstx::sim {

namespace {

/** ROS "normalscan" control program id; make_sim uses it for every sequence but oldscan. */
constexpr int normalscan_cp = 150;

struct sequence_def {
  std::string_view name;
  std::string_view alias;
  int mpinc_us;
  std::span<std::int16_t const> ptab;
  std::span<std::int16_t const> ltab;  // rows (first pulse, second pulse), alternate lag 0 last
};

// 7 pulses; 22 lags 0-15, 17, 18, 20, 22, 26, 27 (no 16, 19, 21, 23-25).
constexpr std::int16_t ptab7[] = {0, 9, 12, 20, 22, 26, 27};
constexpr std::int16_t ltab7_22[] = {0,  0,  26, 27, 20, 22, 9,  12, 22, 26, 22, 27, 20, 26, 20, 27,
                                     12, 20, 0,  9,  12, 22, 9,  20, 0,  12, 9,  22, 12, 26, 12, 27,
                                     9,  26, 9,  27, 0,  20, 0,  22, 0,  26, 0,  27, 27, 27};
// Classic ROS table: 18 lags 0-15, 17, 18.
constexpr std::int16_t ltab7_18[] = {0,  0,  26, 27, 20, 22, 9,  12, 22, 26, 22, 27, 20, 26, 20, 27, 12, 20, 0,
                                     9,  12, 22, 9,  20, 0,  12, 9,  22, 12, 26, 12, 27, 9,  26, 9,  27, 27, 27};
// 8 pulses; 23 lags 0-5, 7-22, 24.
constexpr std::int16_t ptab8[] = {0, 14, 22, 24, 27, 31, 42, 43};
constexpr std::int16_t ltab8_23[] = {0,  0,  42, 43, 22, 24, 24, 27, 27, 31, 22, 27, 24, 31, 14, 22,
                                     22, 31, 14, 24, 31, 42, 31, 43, 14, 27, 0,  14, 27, 42, 27, 43,
                                     14, 31, 24, 42, 24, 43, 22, 42, 22, 43, 0,  22, 0,  24, 43, 43};

constexpr sequence_def defs[] = {
    {"normalscan", "7pulse", 2400, ptab7, ltab7_22},
    {"normalscan-classic", "oldscan", 2400, ptab7, ltab7_18},
    {"katscan", "8pulse", 1500, ptab8, ltab8_23},
};

}  // namespace

std::string_view to_string(echo_kind k) noexcept {
  switch (k) {
    case echo_kind::none: return "none";
    case echo_kind::f_region: return "f_region";
    case echo_kind::ground: return "ground";
    case echo_kind::e_region: return "e_region";
    case echo_kind::sporadic: return "sporadic";
    case echo_kind::uniform: return "uniform";
  }
  return "?";
}

std::vector<std::string_view> sequence_names() {
  std::vector<std::string_view> out;
  for (auto const& d : defs) out.push_back(d.name);
  for (auto const& d : defs) out.push_back(d.alias);
  return out;
}

result<pulse_sequence> sequence_by_name(std::string_view name) {
  for (auto const& d : defs) {
    if (name != d.name && name != d.alias) continue;
    pulse_sequence s;
    s.name = std::string(d.name);
    s.ptab.assign(d.ptab.begin(), d.ptab.end());
    s.ltab.assign(d.ltab.begin(), d.ltab.end());
    s.mpinc_us = d.mpinc_us;
    s.cp = normalscan_cp;
    return s;
  }
  std::string known;
  for (auto n : sequence_names()) known += (known.empty() ? "" : ", ") + std::string(n);
  return fail(errc::invalid_argument, fmt::format("unknown pulse sequence '{}' (known: {})", name, known));
}

}  // namespace rstx::sim
