#pragma once
/**
 * @file
 * The International Geomagnetic Reference Field as RST's old IGRF library (`igrf.1.13`:
 * `igrfcall.c`, `getshc.c`, `interpshc.c`, `extrapshc.c`, `shval3.c`, `magcmp.c`) evaluates it.
 * make_grid uses it for the direction of B at each range gate (gate_position.hpp); it is not the
 * IGRF code bundled with AACGM-v2 (that one is only needed for field-line tracing).
 *
 * Tables: a directory (RST's `IGRF_PATH`) holding `coef.dat` and the model files it lists.
 * `coef.dat` has one `file epoch` pair per line (`dgrf45.dat 1945` … `igrf2020.dat 2020`) and
 * ends with the secular-variation file, whose epoch is written as 0 (`igrf2020s.dat 0`). Each
 * model file has a title line, then `nmax radius_km epoch`, then `n m g h` for n = 1..nmax,
 * m = 0..n (Schmidt semi-normalised Gauss coefficients, nT or nT/yr).
 *
 * Date: a decimal year, but make_grid passes the **integer calendar year** of the scan (RST
 * quirk reproduced by the caller, see gate_position.hpp). With epochs E_0 < … < E_last and the
 * first index i where E_i >= year, the model interpolates linearly between E_{i−1} and E_i;
 * beyond E_last it extrapolates from E_last with the secular variation (no upper limit, as in
 * RST: accuracy degrades past E_last + 5). Years <= E_0 (1945 with RST's tables) fail, as in RST.
 *
 * Synthesis: geomag70-style recursion (`shval3`) with geocentric input, RST's truncated
 * degree→radian factor 0.01745329 and its pole guard (latitudes within 0.001° of ±90 use
 * ±89.999° for cos(lat)).
 *
 * Accuracy: bit-identical to RST 5.0 as measured through the range-gate azimuth vectors
 * (`../shared/spec/tools/vectors/rpos_*.txt`, interpolated 2015 and 2019 and extrapolated 2021
 * models); against an independent full-precision Schmidt synthesis of the same coefficients the
 * components agree to 0.012 nT (tests/geo/igrf_test.cpp; the truncated 0.01745329 factor
 * accounts for the difference).
 *
 * Thread safety: immutable after load; all methods const and reentrant.
 */
#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rstx/core/error.hpp"

namespace rstx::geo {

/** Field in local north/east/down components, nT (shval3 x, y, z). */
struct igrf_field_ned {
  double north_nt = 0;
  double east_nt = 0;
  double down_nt = 0;
};

/** Field in local south/east/up components plus magnitude, nT (RST `IGRFMagCmp`). */
struct igrf_field_seu {
  double south_nt = 0;
  double east_nt = 0;
  double up_nt = 0;
  double total_nt = 0;
};

class igrf_model {
 public:
  /**
   * @brief Reads `coef.dat` and the two model files needed for `year` from `igrf_dir`, and
   * interpolates or extrapolates the coefficients to it (RST `IGRFCall`'s set-up).
   * @param igrf_dir directory of the tables (RST `IGRF_PATH`)
   * @param year     decimal year; make_grid passes the integer year
   * @return the model; errc::not_found naming a missing file; errc::bad_value for a malformed
   *   file (path and byte offset); errc::out_of_range for a year not after the first epoch.
   */
  [[nodiscard]] static result<igrf_model> load(std::string_view igrf_dir, double year);
  /** Same, with the directory from the environment variable IGRF_PATH (error if unset). */
  [[nodiscard]] static result<igrf_model> load_from_env(double year);

  /** The two model files the coefficients were interpolated or extrapolated from. */
  [[nodiscard]] std::array<std::string, 2> const& model_files() const noexcept { return files_; }

  /**
   * @brief Field at a geocentric point (RST `shval3` with igdgc = 2).
   * @param geocentric_lat_deg geocentric latitude, degrees, [-90, 90]
   * @param lon_deg            longitude, degrees
   * @param radius_km          distance from the Earth's centre, km
   */
  [[nodiscard]] igrf_field_ned field_ned(double geocentric_lat_deg, double lon_deg, double radius_km) const noexcept;

  /** Field as RST's `IGRFMagCmp` returns it: (−north, east, −down) and |B|. Same arguments. */
  [[nodiscard]] igrf_field_seu field_seu(double geocentric_lat_deg, double lon_deg, double radius_km) const noexcept;

  /** The year the coefficients were computed for. */
  [[nodiscard]] double year() const noexcept { return year_; }
  /** True when the year lies after the last dated model (secular-variation extrapolation). */
  [[nodiscard]] bool extrapolated() const noexcept { return extrapolated_; }
  /** Largest degree n of the interpolated model. */
  [[nodiscard]] int max_degree() const noexcept { return nmax_; }
  /** Largest degree a model file may have. */
  static constexpr int max_degree_supported = 30;
  /** Reference radius of the expansion, km (6371.2). */
  [[nodiscard]] double reference_radius_km() const noexcept { return erad_; }
  /** Interpolated coefficients g(1,0), g(1,1), h(1,1), g(2,0), … (h only for m > 0), nT. */
  [[nodiscard]] std::span<double const> coefficients() const noexcept { return gh_; }

 private:
  igrf_model() = default;
  void build_recursion();

  static constexpr std::size_t max_terms = (max_degree_supported * (max_degree_supported + 3)) / 2;
  /** The Legendre recursion's factors for term k (they depend on n and m only). */
  struct recursion_term {
    double p = 0, q = 0;                      // m == n
    double b = 0, c = 0, b_over_n_minus_1 = 0;  // m < n
  };
  std::vector<recursion_term> recursion_;
  std::vector<double> gh_;
  double year_ = 0;
  double erad_ = 0;
  int nmax_ = 0;
  bool extrapolated_ = false;
  std::array<std::string, 2> files_;
};

/** Value of IGRF_PATH; errc::not_found naming the variable when it is unset or empty. */
[[nodiscard]] result<std::string> igrf_path_from_env();

}  // namespace rstx::geo
