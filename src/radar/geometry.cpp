#include "rstx/radar/geometry.hpp"

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace rstx::radar {

geo::radar_site_geometry site_geometry(site const& s) noexcept {
  geo::radar_site_geometry g;
  g.geodetic_lat_deg = s.geo_lat_deg;
  g.geodetic_lon_deg = s.geo_lon_deg;
  g.boresight_deg = s.boresight_deg;
  g.beam_offset_deg = s.bmoff_deg;
  g.beam_separation_deg = s.bmsep_deg;
  g.max_beam = s.maxbeam;
  g.recrise_us = s.recrise_us;
  return g;
}

result<std::vector<gate_coordinates>> beam_gate_coordinates(site const& s, beam_layout const& layout,
                                                            double altitude_km, geo::virtual_height_model model,
                                                            geo::igrf_model const& igrf,
                                                            geo::aacgm_v2_model const& aacgm, thread_pool* pool) {
  if (layout.nrang < 0) return fail(errc::bad_value, fmt::format("beam {} has {} range gates", layout.beam, layout.nrang));
  auto const site_geo = site_geometry(s);
  geo::gate_geometry geom;
  geom.frang_km = layout.frang_km;
  geom.rsep_km = layout.rsep_km;
  // GridTableAddBeam takes the receiver rise time from the hardware file, as an int (most radars
  // write a hard-coded 100 us into their records).
  geom.rxrise_us = static_cast<int>(s.recrise_us);
  geom.altitude_km = altitude_km;
  geom.model = model;

  std::vector<gate_coordinates> out(static_cast<std::size_t>(layout.nrang));
  std::vector<std::optional<error>> failures(out.size());
  auto compute = [&](std::int64_t first, std::int64_t last) {
    for (auto g = static_cast<std::size_t>(first); g < static_cast<std::size_t>(last); ++g) {
      auto loc = geo::locate_gate(site_geo, layout.beam, static_cast<int>(g), geom, igrf, aacgm);
      if (!loc) {
        failures[g] = std::move(loc.error());
        continue;
      }
      out[g] = {loc->magnetic.mlat_deg, loc->magnetic.mlon_deg, loc->magnetic.azimuth_deg,
                loc->geographic.azimuth_deg};
    }
  };
  std::size_t const n = out.size();
  if (pool != nullptr && pool->size() > 1)
    pool->parallel_for(static_cast<std::int64_t>(n), 8, compute);
  else
    compute(0, static_cast<std::int64_t>(n));
  for (std::size_t g = 0; g < n; ++g)
    if (failures[g])
      return fail(failures[g]->code, fmt::format("beam {} gate {} (frang {} km, rsep {} km): {}", layout.beam, g,
                                                 layout.frang_km, layout.rsep_km, failures[g]->what));
  return out;
}

}  // namespace rstx::radar
