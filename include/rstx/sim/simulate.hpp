#pragma once
/**
 * @file
 * `rstx sim`: a physically based, deterministic simulator of SuperDARN rawacf data.
 *
 * The simulator writes scan-ordered, multi-beam rawacf records for one radar, whose geometry
 * (boresight, beam separation and offset, interferometer offsets, tdiff, velocity and phase signs)
 * comes from the radar's hardware file. Each range gate either holds an echo or only noise:
 *
 *   ACF   R(tau) = P * rho(tau) * exp(i * vdir * 4 pi v tau / lambda)       (lags tau != 0)
 *         rho = exp(-2 pi w tau / lambda)                      (Lorentzian, width_model::lorentzian)
 *         rho = exp(-(pi w tau)^2 / (lambda^2 ln 2))           (Gaussian, width_model::gaussian)
 *         R(0) = P + N (+ self-clutter from the other pulses)
 *   XCF   X(tau) = coherence * R(tau) * exp(i * phidiff * psi(elevation))   (signal part only)
 *
 * P echo power, N noise power, v line-of-sight velocity (m/s, positive toward the radar), w spectral
 * width (m/s), lambda = c / tfreq. The constants are chosen so that FITACF's estimators recover the
 * simulated values: w_l = |b| lambda / (2 pi) for ln|R| = a + b tau, w_s = sqrt(|b|) lambda
 * sqrt(ln 2) / pi for ln|R| = a + b tau^2, v = slope * lambda / (4 pi) * vdir, and elevation_v2
 * applied to the lag-0 XCF phase returns the simulated elevation (inside the interferometer's
 * unambiguous range). Statistical fluctuations are complex Gaussian with the variance of an average
 * of `nave` lag products: S1 S2 / nave in total, split between the components in phase and in
 * quadrature with the mean M as (S1 S2 + |M|^2) / (2 nave) and (S1 S2 - |M|^2) / (2 nave), where
 * S1, S2 are the total powers (N + P + self-clutter) seen by the two pulses of the lag. Lag 0 is
 * then real with variance (P + N)^2 / nave. docs/sim.md has the full model and its limits.
 *
 * Determinism: record k is generated from its own random streams, keyed by (seed, k), by
 * xoshiro256** and a ziggurat for normal deviates, and every transcendental function on the way
 * (exp, log, sin, cos, asin) is implemented here from IEEE-exact operations. The same options and seed
 * give byte-identical files on every platform with IEEE binary64 arithmetic and no FMA contraction
 * (rstx builds with -ffp-contract=off).
 *
 * Memory is bounded: records are produced one at a time (generator::next, or simulate() into a
 * writer or a callback), so any duration can be simulated.
 */
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/record.hpp"
#include "rstx/dmap/writer.hpp"
#include "rstx/radar/hardware.hpp"

namespace rstx::sim {

/** Speed of light, m/s (RST's C in rmath.h). */
inline constexpr double speed_of_light_m_s = 2.99792458e8;

/**
 * A multi-pulse sequence: pulse table, lag table and lag spacing.
 * Lag-table rows hold the positions (in units of mpinc) of the two pulses that form each lag; the
 * table has mplgs() + 1 rows, the last one being the "alternate lag 0" (the last pulse with itself)
 * that RST stores but FITACF ignores.
 */
struct pulse_sequence {
  std::string name;
  std::vector<std::int16_t> ptab;                    ///< pulse positions, units of mpinc
  std::vector<std::int16_t> ltab;                    ///< flattened rows: row x = (ltab[2x], ltab[2x+1])
  int mpinc_us = 0;                                  ///< lag spacing (multi-pulse increment), µs
  int cp = 0;                                        ///< control program id written to `cp`

  [[nodiscard]] int mplgs() const noexcept { return static_cast<int>(ltab.size() / 2) - 1; }
  /** Lag number (units of mpinc) of lag-table row `row`. */
  [[nodiscard]] int lag_number(int row) const noexcept { return ltab[2 * row + 1] - ltab[2 * row]; }
};

/**
 * The built-in sequences:
 *  - "normalscan" (alias "7pulse"): 7 pulses 0 9 12 20 22 26 27, mpinc 2400 µs, 22 lags
 *    (0-15, 17, 18, 20, 22, 26, 27) in the row order of Borealis rawacf files (shared/data/real).
 *  - "normalscan-classic" (alias "oldscan"): the same pulses with the classic ROS 18-lag table
 *    (0-15, 17, 18), as RST's make_sim -oldscan.
 *  - "katscan" (alias "8pulse"): 8 pulses 0 14 22 24 27 31 42 43, mpinc 1500 µs, 23 lags
 *    (0-5, 7-22, 24), as RST's make_sim default.
 * errc::invalid_argument for any other name.
 */
[[nodiscard]] result<pulse_sequence> sequence_by_name(std::string_view name);
/** Names accepted by sequence_by_name (canonical names first). */
[[nodiscard]] std::vector<std::string_view> sequence_names();

/** Shape of the ACF decay. */
enum class width_model : std::uint8_t { lorentzian, gaussian };

/** What fills the range gates. */
enum class scene_kind : std::uint8_t {
  ionosphere,  ///< F-region band with a convection flow, near-range ground scatter, E region, sporadic echoes
  uniform,     ///< the same echo (uniform_echo) in every gate: for tests of what a fit recovers
  noise_only,  ///< no echoes at all
};

/** Kind of echo of one gate (ground truth). */
enum class echo_kind : std::uint8_t { none, f_region, ground, e_region, sporadic, uniform };
[[nodiscard]] std::string_view to_string(echo_kind k) noexcept;

/**
 * The echo of the uniform scene. It fills the gates from `first_gate` on; the gates before it hold
 * only noise, because FITACF estimates the noise from the weakest gates of the first third.
 */
struct uniform_echo {
  double snr_db = 20.0;          ///< 10 log10(P / N)
  double velocity_m_s = 300.0;   ///< line of sight, positive toward the radar
  double width_m_s = 100.0;      ///< spectral width
  double elevation_deg = 20.0;   ///< arrival elevation, degrees above the horizon
  double coherence = 1.0;        ///< |XCF| / |ACF| of the signal, [0, 1]
  int first_gate = -1;           ///< first gate with the echo; -1: nrang / 3
};

/** Controls of the ionosphere scene. */
struct ionosphere_scene {
  bool f_region = true;
  bool ground_scatter = true;
  bool e_region = true;
  bool sporadic = true;
  double peak_snr_db = 30.0;               ///< F-region SNR at the middle of the band
  double flow_speed_m_s = 650.0;           ///< convection speed (mean over the band)
  double flow_rotation_period_s = 7200.0;  ///< the flow direction turns through 360 degrees in this time
  double f_virtual_height_km = 300.0;      ///< mean F-region reflection height
  double noise_variation = 0.3;            ///< relative amplitude of the slow noise-level variation
};

struct scene_options {
  scene_kind kind = scene_kind::ionosphere;
  ionosphere_scene ionosphere;
  uniform_echo uniform;
};

/**
 * Everything that defines a simulated file. Zero in a field marked "auto" means: derived from the
 * other fields as documented. Units are in the names; epochs are POSIX seconds (UTC).
 */
struct sim_options {
  int stid = 66;                            ///< station id (radar.dat / hdw file)
  double start_epoch = 1623088800.0;        ///< first record's time: 2021-06-07T18:00:00Z
  double duration_s = 7200.0;               ///< records start in [start, start + duration)
  double scan_s = 60.0;                     ///< scan period (one scan flag per period)
  double beam_dwell_s = 0.0;                ///< time per beam; auto: scan_s / number of beams
  double intt_s = 0.0;                      ///< integration time per beam; auto: min(3, dwell)
  std::vector<int> beams;                   ///< beam order inside a scan; empty: 0 .. maxbeam-1
  int nrang = 100;                          ///< number of range gates
  int frang_km = 180;                       ///< distance to the first gate
  int rsep_km = 45;                         ///< gate length
  int tfreq_khz = 10700;                    ///< transmit frequency
  int nave = 0;                             ///< sequences per integration; auto: intt / sequence length
  std::string sequence = "normalscan";      ///< see sequence_by_name
  int mpinc_us = 0;                         ///< auto: the sequence's
  int smsep_us = 0;                         ///< sample separation; auto: rsep_km / 0.15
  int txpl_us = 0;                          ///< pulse length; auto: smsep
  int lagfr_us = 0;                         ///< lag to first range; auto: frang_km / 0.15
  int cp = -1;                              ///< control program id; -1: the sequence's
  double noise = 1000.0;                    ///< mean noise power N (linear ACF units)
  bool integer_values = false;              ///< round ACFs, XCFs and pwr0 to integers (classic ROS data)
  bool xcf = true;                          ///< write XCFs
  int channel = 0;                          ///< 0 mono; 1, 2 stereo channel A/B
  int offset_us = 0;                        ///< stereo channel offset
  std::uint64_t seed = 1;
  width_model width = width_model::lorentzian;
  bool fluctuations = true;                 ///< add the statistical fluctuations (false: expected values)
  bool self_clutter = true;                 ///< echoes seen through the other pulses add to the variance and lag 0
  scene_options scene;
};

/** Ground truth of one gate of one record. */
struct gate_truth {
  echo_kind kind = echo_kind::none;
  float power = 0.0F;          ///< echo power P (linear ACF units); 0 for no echo
  float snr_db = 0.0F;         ///< 10 log10(P / N); -inf for no echo
  float velocity_m_s = 0.0F;   ///< line of sight, positive toward the radar
  float width_m_s = 0.0F;
  float elevation_deg = 0.0F;
  float xcf_phase_rad = 0.0F;  ///< phase of the noise-free lag-0 XCF times phidiff, in (-pi, pi]
  float coherence = 0.0F;
};

/** Where and when one record sits in the simulated file. */
struct record_info {
  std::int64_t index = 0;      ///< 0-based record number
  std::int64_t scan = 0;       ///< 0-based scan number
  int position = 0;            ///< place of the beam inside its scan (0 = first beam, scan flag 1)
  int bmnum = 0;
  double epoch = 0.0;          ///< record time (start of the integration)
  double noise = 0.0;          ///< noise power N of this record
  int nave = 0;
};

/** What was simulated. */
struct sim_summary {
  std::int64_t records = 0;
  std::int64_t scans = 0;              ///< scans started (the last one may be partial)
  double first_epoch = 0.0;
  double last_epoch = 0.0;
  std::uint64_t bytes = 0;             ///< encoded (uncompressed) bytes of all records
};

/**
 * The radar's hardware at `epoch`: radar.dat from `radar_dat` (or $SD_RADAR when empty), the hdw
 * file from `hdw_dir` (or $SD_HDWPATH when empty). errc::not_found names what is missing.
 */
[[nodiscard]] result<radar::site> load_site(int stid, double epoch, std::string const& radar_dat = {},
                                            std::string const& hdw_dir = {});

/**
 * Interferometer phase (rad, not wrapped) of a plane wave from `elevation_deg` on beam `bmnum`:
 * psi = 2 pi f (D / c - tdiff), D = X sin(phi) + Y sqrt(cos^2(phi) - sin^2(el)) + Z sin(el), phi the
 * beam's angle from boresight. This is the relation that RST's elevation_v2 inverts (fitacf3.md
 * §15.1), so elevation_v2(wrap(psi)) = elevation_deg while psi lies in its unambiguous interval.
 */
[[nodiscard]] double interferometer_phase_rad(radar::site const& site, int bmnum, double tfreq_khz,
                                              double elevation_deg, double tdiff_us) noexcept;

/**
 * Elevation (degrees) of an echo at `slant_range_km` reflected at `virtual_height_km` above a
 * spherical Earth (radius 6370 km): sin(el) = ((Re + h)^2 - Re^2 - r^2) / (2 Re r), clamped to
 * [0, 90].
 */
[[nodiscard]] double elevation_for_height_deg(double slant_range_km, double virtual_height_km) noexcept;

/**
 * Streaming record generator. Records can be made in order (next) or by index (make_record); a
 * record depends only on the options, the site and its index.
 */
class generator {
 public:
  /** Validates the options against the site (errc::invalid_argument naming the option). */
  [[nodiscard]] static result<generator> create(sim_options const& opt, radar::site const& site);

  [[nodiscard]] std::int64_t total_records() const noexcept { return total_records_; }
  [[nodiscard]] std::int64_t total_scans() const noexcept { return total_scans_; }
  [[nodiscard]] std::int64_t next_index() const noexcept { return next_; }
  [[nodiscard]] bool done() const noexcept { return next_ >= total_records_; }
  /** The options with every automatic value resolved (beams, dwell, intt, nave, timing, cp). */
  [[nodiscard]] sim_options const& options() const noexcept { return opt_; }
  [[nodiscard]] pulse_sequence const& sequence() const noexcept { return seq_; }

  /** Time, beam and scan of record `index` (0 <= index < total_records()). */
  [[nodiscard]] record_info info(std::int64_t index) const;
  /** Builds record `index` into `out` (cleared first); fills `truth` (nrang gates) when given. */
  record_info make_record(std::int64_t index, dmap::record& out, std::vector<gate_truth>* truth = nullptr);
  /** Builds the next record in order; false when all records are done. */
  bool next(dmap::record& out, std::vector<gate_truth>* truth = nullptr, record_info* info = nullptr);

 private:
  generator() = default;
  sim_options opt_;
  radar::site site_;
  pulse_sequence seq_;
  std::int64_t total_records_ = 0;
  std::int64_t total_scans_ = 0;
  std::int64_t next_ = 0;
  std::int64_t start_us_ = 0;      ///< start epoch in microseconds
  std::int64_t scan_us_ = 0;       ///< scan period
  std::int64_t dwell_us_ = 0;      ///< time per beam
  double tdiff_us_ = 0.0;          ///< interferometer cable delay of the simulated channel
  double lambda_m_ = 0.0;          ///< radar wavelength
  dmap::radar_parms prm_;          ///< parameter block template (per-record fields set in make_record)
  std::vector<int> lag_pulse_[2];  ///< pulse index of each lag row's two pulses
  std::vector<double> lag_tau_s_;  ///< lag time of each row
  // scratch, reused between records
  std::vector<double> echo_;       ///< [gate][echo_fields]: power, velocity, width, sin(el), coherence, phase
  std::vector<double> clutter_;    ///< [pulse][gate] total power seen through each pulse
  std::vector<float> pwr0_, acfd_, xcfd_;
  std::vector<std::int16_t> slist_;
  std::vector<gate_truth> truth_scratch_;
};

/** Receives each record with its place in the file and its ground truth (nrang gates). */
using record_sink = std::function<result<void>(dmap::record const&, record_info const&, std::span<gate_truth const>)>;

/** Simulates every record into `out` (the caller commits the writer). */
[[nodiscard]] result<sim_summary> simulate(sim_options const& opt, radar::site const& site, dmap::writer& out);
/** Simulates every record into a callback; an error from the callback stops the run and is returned. */
[[nodiscard]] result<sim_summary> simulate(sim_options const& opt, radar::site const& site, record_sink const& sink);

}  // namespace rstx::sim
