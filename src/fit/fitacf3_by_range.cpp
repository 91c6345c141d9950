// FITACF 3.0 one range at a time on the host: the CUDA kernels' code (detail/fitacf3_range.hpp)
// driven by plain loops in the order a kernel's block runs it (noise ranks, plan, ranges), and the
// host's half of what the kernels need (the noise correction of each record).
#include <cmath>
#include <unordered_map>
#include <vector>

#include "detail/fitacf3_range.hpp"
#include "rstx/fit/fitacf3.hpp"

namespace rstx::fit::detail {

void noise_corrections(acf_batch_view const& in, double* out) {
  std::unordered_map<std::uint64_t, double> known;  // (nave, nrang) -> correction
  for (std::int32_t i = 0; i < in.n_rec; ++i) {
    auto const& p = in.rec[i];
    if (p.nave <= 0) {
      out[i] = NAN;
      continue;
    }
    auto const key = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(p.nave)) << 32) |
                     static_cast<std::uint32_t>(p.nrang);
    auto it = known.find(key);
    if (it == known.end()) it = known.emplace(key, fitacf3::noise_correction(p.nave, p.nrang)).first;
    out[i] = it->second;
  }
}

host_fit_batch fitacf3_by_range(acf_batch_view const& in, fitacf3_options const& opt, host_fit_batch reuse) {
  namespace m = fitacf3;
  host_fit_batch result = std::move(reuse);
  result.reset(in, fit_algorithm::fitacf3);
  fit_batch_view const out = result.view();
  std::vector<double> correction(static_cast<std::size_t>(in.n_rec));
  noise_corrections(in, correction.data());
  std::vector<double> lowest;
  m::record_plan plan;
  for (std::int32_t i = 0; i < in.n_rec; ++i) {
    auto const& p = in.rec[i];
    double noise_pwr = 1.0;
    if (p.nave > 0) {
      float const* pwr0 = in.pwr0 + p.range_begin;
      std::int32_t const third = p.nrang / 3;
      lowest.assign(static_cast<std::size_t>(third), 0.0);
      for (std::int32_t r = 0; r < p.nrang; ++r)
        if (auto const rank = m::rank_of(pwr0, p.nrang, r); rank < third) lowest[static_cast<std::size_t>(rank)] = pwr0[r];
      noise_pwr = m::noise_from_lowest(lowest.data(), third, correction[static_cast<std::size_t>(i)], p.noise_search);
    }
    m::plan_record(p, noise_pwr, plan);
    std::int32_t fitted = 0;
    for (std::int32_t r = 0; r < p.nrang; ++r) fitted += m::fit_range(in, p, plan, r, opt.elevation, out) ? 1 : 0;
    out.rec[i] = m::record_result_of(p, noise_pwr, fitted);
  }
  return result;
}

}  // namespace rstx::fit::detail
