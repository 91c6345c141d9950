// Record contents rather than record framing: DMAP records decoded from the input are converted
// and fitted (FITACF 3.0 and 2.5, with to_dmap), and read as fitacf beams for gridding. Hostile
// nrang, slist, mplgs, lag tables and NaN/Inf samples must give errors, never crashes.
#include <cstddef>
#include <cstdint>
#include <span>

#include "rstx/dmap/codec.hpp"
#include "rstx/fit/fit.hpp"
#include "rstx/fit/from_dmap.hpp"
#include "rstx/fit/to_dmap.hpp"
#include "rstx/grid/scan.hpp"

namespace {

rstx::radar::site clyde_like_site() {
  rstx::radar::site s;
  s.stid = 66;
  s.geo_lat_deg = 70.49;
  s.geo_lon_deg = -68.5;
  s.altitude_m = 20;
  s.boresight_deg = -25.9;
  s.bmsep_deg = 3.24;
  s.vdir = 1;
  s.phidiff = 1;
  s.tdiff_us = {0.0, 0.0};
  s.interferometer_m = {0, -100, 0};
  s.recrise_us = 100;
  s.atten_db = 10;
  s.maxatten = 3;
  s.maxrange = 225;
  s.maxbeam = 16;
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  auto records = rstx::dmap::decode_all(std::span<std::byte const>(reinterpret_cast<std::byte const*>(data), size));
  if (!records || records->empty()) return 0;
  static auto const site = clyde_like_site();

  auto batch = rstx::fit::from_dmap(*records, {}, {}, site, {}, {.max_ranges = site.maxrange});
  for (auto algorithm : {rstx::fit::fit_algorithm::fitacf3, rstx::fit::fit_algorithm::fitacf25}) {
    if (!rstx::fit::algorithm_available(algorithm) || batch.input_index.empty()) continue;
    auto fitted = rstx::fit::fit_records(batch.acf.view(), {.algorithm = algorithm});
    if (!fitted) continue;
    for (std::int32_t i = 0; i < fitted->n_rec(); ++i) {
      rstx::dmap::record out;
      rstx::fit::to_dmap(batch.prm[static_cast<std::size_t>(i)], *fitted, i, {}, out);
    }
  }
  for (auto const& r : *records) (void)rstx::grid::beam_from_fitacf(r);
  return 0;
}
