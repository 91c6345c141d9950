#include "rstx/fit/to_dmap.hpp"

#include <array>
#include <cstring>
#include <vector>

#include "rstx/core/assert.hpp"

namespace rstx::fit {

namespace {

/** (fitacf.revision.major, minor, algorithm) as FitEncode/FitSetAlgorithm write them. */
struct variant_info {
  std::int32_t major;
  std::int32_t minor;
  char const* algorithm;
};

constexpr variant_info variant(fit_algorithm a) noexcept {
  return a == fit_algorithm::fitacf3 ? variant_info{3, 0, "fitacf3"} : variant_info{2, 5, "fitacf2"};
}

constexpr fit_column acf_columns[] = {
    fit_column::p_l,   fit_column::p_l_e, fit_column::p_s,   fit_column::p_s_e, fit_column::v,
    fit_column::v_e,   fit_column::w_l,   fit_column::w_l_e, fit_column::w_s,   fit_column::w_s_e,
    fit_column::sd_l,  fit_column::sd_s,  fit_column::sd_phi};
constexpr fit_column xcf3_columns[] = {fit_column::phi0,       fit_column::phi0_e,    fit_column::elv,
                                       fit_column::elv_fitted, fit_column::elv_error, fit_column::x_sd_phi};
// FITACF 2.5 block after x_qflg, x_gflg.
constexpr fit_column xcf25_columns[] = {
    fit_column::x_p_l,   fit_column::x_p_l_e, fit_column::x_p_s,    fit_column::x_p_s_e, fit_column::x_v,
    fit_column::x_v_e,   fit_column::x_w_l,   fit_column::x_w_l_e,  fit_column::x_w_s,   fit_column::x_w_s_e,
    fit_column::phi0,    fit_column::phi0_e,  fit_column::elv,      fit_column::elv_low, fit_column::elv_high,
    fit_column::x_sd_l,  fit_column::x_sd_s,  fit_column::x_sd_phi};

}  // namespace

std::string origin_time(std::time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  ::asctime_r(&tm, buf);
  buf[24] = '\0';
  return buf;
}

std::string origin_command(std::span<char const* const> argv) {
  std::string command;
  std::size_t n = 0;
  for (std::size_t c = 0; c < argv.size(); ++c) {
    n += std::strlen(argv[c]) + 1;
    if (n > 127) break;
    if (c != 0) command += ' ';
    command += argv[c];
  }
  return command;
}

void to_dmap(dmap::radar_parms const& prm, host_fit_batch const& fit, std::int32_t i, origin_info const& origin,
             dmap::record& out) {
  out.clear();
  auto const& rr = fit.rec(i);
  auto const info = variant(fit.algorithm());

  dmap::radar_parms p = prm;
  p.origin_code = origin.code;
  p.origin_time = origin.time;
  p.origin_command = origin.command;
  p.mppul = static_cast<std::int16_t>(p.ptab.size());  // RadarParmSetPulse: mppul = ptab's extent
  dmap::encode_radar_parms_scalars(p, out);

  out.add_string("algorithm", info.algorithm);
  out.add_scalar<std::int32_t>("fitacf.revision.major", info.major);
  out.add_scalar<std::int32_t>("fitacf.revision.minor", info.minor);
  out.add_scalar<float>("noise.sky", rr.noise_sky);
  out.add_scalar<float>("noise.lag0", rr.noise_lag0);
  out.add_scalar<float>("noise.vel", rr.noise_vel);
  out.add_scalar<float>("tdiff", rr.tdiff_us);

  out.add_array<std::int16_t>("ptab", std::span<std::int16_t const>(p.ptab));
  std::int32_t const rows = (p.mplgexs != 0 ? p.mplgexs : p.mplgs) + 1;
  RSTX_ASSERT(rows > 0 && 2 * static_cast<std::size_t>(rows) <= p.ltab.size());  // checked by from_dmap
  std::int32_t const ltab_dims[2] = {2, rows};
  out.add_array<std::int16_t>("ltab", ltab_dims,
                              std::span<std::int16_t const>(p.ltab.data(), 2 * static_cast<std::size_t>(rows)));

  auto const begin = rr.range_begin;
  auto const nrang = static_cast<std::size_t>(rr.nrang);
  // Scratch columns, reused from record to record by each thread.
  thread_local std::vector<float> column;
  thread_local std::vector<std::int16_t> slist, shorts;
  thread_local std::vector<std::int8_t> chars;
  column.resize(nrang);
  for (std::size_t r = 0; r < nrang; ++r) column[r] = fit.pwr0_db(begin + static_cast<std::int64_t>(r));
  out.add_array<float>("pwr0", std::span<float const>(column));

  slist.clear();
  for (std::size_t r = 0; r < nrang; ++r) {
    auto const g = begin + static_cast<std::int64_t>(r);
    if (fit.qflg(g) == 1 || fit.x_qflg(g) == 1) slist.push_back(static_cast<std::int16_t>(r));
  }
  if (slist.empty()) return;
  std::size_t const snum = slist.size();
  out.add_array<std::int16_t>("slist", std::span<std::int16_t const>(slist));

  shorts.resize(snum);
  chars.resize(snum);
  column.resize(snum);
  auto const at = [&](std::size_t x) { return begin + slist[x]; };
  for (std::size_t x = 0; x < snum; ++x) shorts[x] = fit.nlag(at(x));
  out.add_array<std::int16_t>("nlag", std::span<std::int16_t const>(shorts));
  for (std::size_t x = 0; x < snum; ++x) chars[x] = fit.qflg(at(x));
  out.add_array<std::int8_t>("qflg", std::span<std::int8_t const>(chars));
  for (std::size_t x = 0; x < snum; ++x) chars[x] = fit.gflg(at(x));
  out.add_array<std::int8_t>("gflg", std::span<std::int8_t const>(chars));

  auto const add_column = [&](fit_column c) {
    for (std::size_t x = 0; x < snum; ++x) column[x] = fit.value(c, at(x));
    out.add_array<float>(column_name(c), std::span<float const>(column));
  };
  for (auto c : acf_columns) add_column(c);
  if (rr.xcf == 0) return;
  if (fit.algorithm() == fit_algorithm::fitacf3) {
    for (auto c : xcf3_columns) add_column(c);
    return;
  }
  for (std::size_t x = 0; x < snum; ++x) chars[x] = fit.x_qflg(at(x));
  out.add_array<std::int8_t>("x_qflg", std::span<std::int8_t const>(chars));
  for (std::size_t x = 0; x < snum; ++x) chars[x] = fit.x_gflg(at(x));
  out.add_array<std::int8_t>("x_gflg", std::span<std::int8_t const>(chars));
  for (auto c : xcf25_columns) add_column(c);
}

}  // namespace rstx::fit
