#pragma once
/**
 * @file
 * The grid table (RST `GridTable`, make_grid.md §7–§8): equal-area cells of 1° of AACGM-v2
 * latitude and round(360·cos(latitude)) cells around each band, into which the velocities of every
 * scan of an interval (make_grid -i, 120 s by default) are averaged, weighted by their errors.
 *
 * Like RST, cells and beam geometries persist for the whole run: cells keep their creation order
 * (the order of the output vectors) and their `max` count of the gates that map into them.
 */
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/dmap/record.hpp"
#include "rstx/grid/scan.hpp"
#include "rstx/radar/geometry.hpp"

namespace rstx::grid {

/** How gates are placed and what is averaged (make_grid -alt, -chisham, -inertial, -i). */
struct mapping_options {
  double altitude_km = 300.0;
  geo::virtual_height_model model = geo::virtual_height_model::standard;
  bool inertial = false;   ///< add the Earth's rotation velocity (make_grid -inertial)
  int interval_s = 120;
  thread_pool* pool = nullptr;  ///< geolocation of new beam geometries runs on it
};

/** What every record carries besides its vectors (make_grid options). */
struct record_header {
  int channel = 0;          ///< grid.chn (make_grid -cn / -cn_fix)
  int gsct = 1;             ///< scatter selection mode written as `gsct`
  std::array<double, 4> min{};  ///< limits written (zeros when bounds are off, as in RST)
  std::array<double, 4> max{};
  bool extended = false;    ///< -xtd: power and width medians and spreads
};

/**
 * Supplies the geolocation models: IGRF for a (integer) year, and the run's AACGM-v2 model.
 * Supplied by the caller so that tables are loaded once and errors carry their file names.
 */
struct geolocation {
  std::function<result<geo::igrf_model const*>(int year)> igrf;
  geo::aacgm_v2_model const* aacgm = nullptr;
};

class grid_table {
 public:
  grid_table(mapping_options map, record_header header) : map_(map), header_(header) {}

  /** GridTableTest: when `scan` starts after the interval being accumulated, averages it and
   *  returns true (write it with to_record), else false. */
  [[nodiscard]] bool interval_complete(radar_scan const& scan);

  /** GridTableMap: adds a scan's gates to the interval (starting a new interval if needed). */
  [[nodiscard]] result<void> add_scan(radar_scan const& scan, radar::site const& site, geolocation const& geo);

  /** The averaged interval as a grid record (GridTableWrite), valid after interval_complete(). */
  [[nodiscard]] dmap::record to_record() const;

  /** Averages the interval being accumulated, as interval_complete would (make_grid --flush-last). */
  [[nodiscard]] bool flush();

  [[nodiscard]] double start_time() const noexcept { return st_time_; }
  [[nodiscard]] double end_time() const noexcept { return ed_time_; }
  [[nodiscard]] int vectors() const noexcept { return npnt_; }
  [[nodiscard]] int station() const noexcept { return st_id_; }

 private:
  struct cell {
    int max = 0;
    int cnt = 0;
    int ref = 0;
    double mlat = 0.0;
    double mlon = 0.0;
    double azm = 0.0;
    double vel_median = 0.0, vel_n = 0.0, vel_e = 0.0, vel_sd = 0.0;
    double pwr_median = 0.0, pwr_sd = 0.0;
    double wdt_median = 0.0, wdt_sd = 0.0;
  };
  struct beam_geometry {
    radar::beam_layout layout;
    std::vector<int> cell_index;   ///< [nrang]
    std::vector<double> azm;       ///< [nrang] magnetic azimuth, [0, 360)
    std::vector<double> cos_azm;   ///< [nrang] its cosine and sine, computed once per geometry
    std::vector<double> sin_azm;
    std::vector<double> ival;      ///< [nrang] inertial velocity correction, m/s
  };

  [[nodiscard]] std::optional<std::size_t> find_geometry(radar::beam_layout const& layout) const noexcept;
  [[nodiscard]] result<void> add_new_geometries(radar_scan const& scan, radar::site const& site, geolocation const& geo,
                                                double scan_centre);
  void add_geometry(radar::beam_layout const& layout, radar::site const& site,
                    std::vector<radar::gate_coordinates> const& gates);
  void average();

  mapping_options map_;
  record_header header_;
  double st_time_ = -1.0;
  double ed_time_ = 0.0;
  int status_ = 0;
  int st_id_ = 0;
  int prog_id_ = 0;
  int nscan_ = 0;
  int npnt_ = 0;
  double freq_ = 0.0;
  double noise_mean_ = 0.0;
  double noise_sd_ = 0.0;
  std::vector<beam_geometry> geometries_;
  std::vector<cell> cells_;                         // creation order = output order
  std::unordered_map<int, std::size_t> cell_of_ref_;  // RST searches the list; same answer
};

}  // namespace rstx::grid
