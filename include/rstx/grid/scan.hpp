#pragma once
/**
 * @file
 * Radar scans for gridding (RST `RadarScan`, `RadarBeam`, `RadarCell`; make_grid.md §2) and the
 * scan reader that assembles them from fitacf records.
 *
 * Values keep RST's types: operating parameters are ints (`noise` is `noise.search` truncated to
 * an int, as in RST 5.0), fitted values are the fitacf floats widened to double. Times are epoch
 * seconds built like RST builds them (`TimeYMDHMSToEpoch(..., sc + us/1e6)`).
 */
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/dmap/products.hpp"
#include "rstx/dmap/record.hpp"

namespace rstx::grid {

/** Fitted values of one range gate (RST RadarCell). Velocities m/s, powers dB, widths m/s. */
struct radar_cell {
  int gsct = 0;        ///< ground-scatter flag
  double p_0 = 0.0;    ///< lag-0 power (fitacf pwr0), dB
  double p_0_e = 0.0;
  double v = 0.0;      ///< Doppler velocity
  double v_e = 0.0;
  double w_l = 0.0;    ///< spectral width (exponential fit)
  double w_l_e = 0.0;  ///< zero as read (fitacf w_l_e is not carried, as in RST)
  double p_l = 0.0;    ///< power (exponential fit)
  double p_l_e = 0.0;  ///< zero as read
};

/** One beam sounding (RST RadarBeam). */
struct radar_beam {
  int scan = 0;     ///< scan flag
  int bm = 0;       ///< beam number; -1 marks an empty slot in filtered output
  float bmazm = 0.0F;
  double time = 0.0;
  int cpid = 0;
  int intt_sc = 0;
  int intt_us = 0;
  int nave = 0;
  int frang = 0;    ///< km
  int rsep = 0;     ///< km
  int rxrise = 0;   ///< us
  int freq = 0;     ///< tfreq, kHz
  int noise = 0;    ///< noise.search truncated to int
  int atten = 0;
  int channel = 0;
  int nrang = 0;
  std::vector<std::uint8_t> sct;   ///< [nrang] 1 when the gate holds usable scatter
  std::vector<radar_cell> rng;     ///< [nrang]
};

/** A scan: the beams between two scan boundaries (RST RadarScan). */
struct radar_scan {
  int stid = 0;
  int version_major = 0;
  int version_minor = 0;
  double st_time = 0.0;
  double ed_time = 0.0;
  std::vector<radar_beam> beams;
};

/**
 * Largest beam number make_grid accepts. The median filter's tables are indexed by beam number, so
 * a damaged `bmnum` of 32767 would make every scan window hundreds of megabytes. SuperDARN radars
 * have at most 24 beams (hdw.dat), so this leaves room for any real beam pattern.
 */
inline constexpr int max_beam_number = 255;
/**
 * Most range gates per beam make_grid accepts (fitacf `nrang`). Real radars record at most a few
 * hundred, and RST's median filter never uses more than 1000 (its starting value for the fewest
 * gates of any beam).
 */
inline constexpr int max_gates = 1000;

/**
 * A beam made from a fitacf record (RST FitReadRadarScan's per-record part, FitDecode's rules).
 * A beam number above max_beam_number or an nrang above max_gates is an error (errc::bad_value).
 */
struct fitacf_beam {
  radar_beam beam;
  int stid = 0;
  int version_major = 0;  ///< radar.revision.major
  int version_minor = 0;
};
[[nodiscard]] result<fitacf_beam> beam_from_fitacf(dmap::record const& r);
/** The same into `out`, reusing its memory; `prm` is scratch space (reused too). */
[[nodiscard]] result<void> beam_from_fitacf(dmap::record const& r, fitacf_beam& out, dmap::radar_parms& prm);

/** Scan boundaries: the scan flag, or fixed lengths locked to multiples of `scan_length_s`. */
struct scan_rules {
  int scan_length_s = 0;  ///< make_grid -tl; 0 = scan flag
  int channel = 0;        ///< read filter: 0 every record, 1 records with channel != 2, 2 only channel 2
};

/** Where the reader's records come from: next() gives the next fitacf record or nullopt at the end. */
using record_source = std::function<result<std::optional<dmap::record const*>>()>;

/**
 * RST's FitReadRadarScan, with its state kept across calls and across input files: 0 fresh,
 * 1 a record is pending (read but not yet in a scan), 2 the previous file ended. A file change
 * while the state is 2 appends the next file's first beams to whatever the target scan holds
 * (make_grid.md §2, "multiple input files"); this is RST's behaviour and is kept on purpose.
 */
class scan_reader {
 public:
  enum class status { scan, last_scan, end };

  explicit scan_reader(scan_rules rules) : rules_(rules) {}

  /** Reads the next scan into `out` (see RST's return values: scan 0, last_scan 1, end -1).
   *  Input whose first identifiable record is rawacf, grid or map is errc::wrong_type. */
  [[nodiscard]] result<status> read(record_source const& next, radar_scan& out);

  /** Reads records until one with |scan| == 1 (make_grid's start-time alignment); it becomes pending. */
  [[nodiscard]] result<bool> skip_to_scan_start(record_source const& next);

  /** Forgets a pending record (make_grid -st with -tl resets the state to 0). */
  void reset() noexcept { state_ = 0; }

  [[nodiscard]] int state() const noexcept { return state_; }

  /** Keeps the memory of a scan's beams for the beams read next (up to a few scans' worth); the
   *  scan is left without beams. */
  void recycle(radar_scan& scan);

 private:
  /** Reads the next record into pending_ (false at the end of the input). */
  [[nodiscard]] result<bool> read_one(record_source const& next, bool filter_channel);

  scan_rules rules_;
  int state_ = 0;
  fitacf_beam pending_;        // read but not yet in a scan (RST keeps it in prm/fit)
  bool has_pending_ = false;
  dmap::radar_parms prm_;      // scratch for decoding
  std::vector<radar_beam> spare_;  // beams of reset scans, reused
  std::size_t spare_bytes_ = 0;    // the memory they hold
  bool fitacf_seen_ = false;       // the input has shown itself to be fitacf
};

}  // namespace rstx::grid
