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

result<std::vector<std::vector<gate_coordinates>>> beams_gate_coordinates(site const& s,
                                                                         std::span<beam_layout const> layouts,
                                                                         double altitude_km,
                                                                         geo::virtual_height_model model,
                                                                         geo::igrf_model const& igrf,
                                                                         geo::aacgm_v2_model const& aacgm,
                                                                         thread_pool* pool) {
  std::vector<std::vector<gate_coordinates>> out(layouts.size());
  std::vector<std::size_t> first_gate(layouts.size() + 1, 0);  // of each beam in the flat gate list
  for (std::size_t i = 0; i < layouts.size(); ++i) {
    auto const& layout = layouts[i];
    if (layout.nrang < 0) return fail(errc::bad_value, fmt::format("beam {} has {} range gates", layout.beam, layout.nrang));
    out[i].resize(static_cast<std::size_t>(layout.nrang));
    first_gate[i + 1] = first_gate[i] + out[i].size();
  }
  auto const site_geo = site_geometry(s);
  auto geometry_of = [&](beam_layout const& layout) {
    geo::gate_geometry geom;
    geom.frang_km = layout.frang_km;
    geom.rsep_km = layout.rsep_km;
    // GridTableAddBeam takes the receiver rise time from the hardware file, as an int (most radars
    // write a hard-coded 100 us into their records).
    geom.rxrise_us = static_cast<int>(s.recrise_us);
    geom.altitude_km = altitude_km;
    geom.model = model;
    return geom;
  };

  // All gates of all beams in one pass: the gates of a new scan's beams come together, and one
  // split over the pool keeps its threads busy where a split per beam left them waiting.
  std::size_t const n = first_gate.back();
  std::vector<std::optional<error>> failures(n);
  auto compute = [&](std::int64_t first, std::int64_t last) {
    std::size_t beam = static_cast<std::size_t>(
        std::upper_bound(first_gate.begin(), first_gate.end(), static_cast<std::size_t>(first)) - first_gate.begin() - 1);
    for (auto i = static_cast<std::size_t>(first); i < static_cast<std::size_t>(last); ++i) {
      while (i >= first_gate[beam + 1]) ++beam;
      auto const& layout = layouts[beam];
      std::size_t const g = i - first_gate[beam];
      auto loc = geo::locate_gate(site_geo, layout.beam, static_cast<int>(g), geometry_of(layout), igrf, aacgm);
      if (!loc) {
        failures[i] = std::move(loc.error());
        continue;
      }
      out[beam][g] = {loc->magnetic.mlat_deg, loc->magnetic.mlon_deg, loc->magnetic.azimuth_deg,
                      loc->geographic.azimuth_deg};
    }
  };
  if (pool != nullptr && pool->size() > 1)
    pool->parallel_for(static_cast<std::int64_t>(n), 8, compute);
  else
    compute(0, static_cast<std::int64_t>(n));
  for (std::size_t beam = 0; beam < layouts.size(); ++beam)
    for (std::size_t i = first_gate[beam]; i < first_gate[beam + 1]; ++i)
      if (failures[i]) {
        auto const& layout = layouts[beam];
        return fail(failures[i]->code, fmt::format("beam {} gate {} (frang {} km, rsep {} km): {}", layout.beam,
                                                   i - first_gate[beam], layout.frang_km, layout.rsep_km,
                                                   failures[i]->what));
      }
  return out;
}

result<std::vector<gate_coordinates>> beam_gate_coordinates(site const& s, beam_layout const& layout,
                                                            double altitude_km, geo::virtual_height_model model,
                                                            geo::igrf_model const& igrf,
                                                            geo::aacgm_v2_model const& aacgm, thread_pool* pool) {
  auto all = beams_gate_coordinates(s, std::span<beam_layout const>(&layout, 1), altitude_km, model, igrf, aacgm, pool);
  if (!all) return unexpected(std::move(all.error()));
  return std::move(all->front());
}

}  // namespace rstx::radar
