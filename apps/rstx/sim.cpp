// rstx sim -o FILE: simulate scan-ordered rawacf records for one radar (library: rstx::sim).
// The output is written atomically, plain or compressed by its suffix; a one-line summary goes to stderr.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "command.hpp"
#include "report.hpp"
#include "rstx/core/time.hpp"
#include "rstx/dmap/writer.hpp"
#include "rstx/radar/hardware.hpp"
#include "rstx/tables/tables.hpp"
#include "rstx/sim/simulate.hpp"

namespace rstx::cli {

namespace {

constexpr std::string_view program = "rstx sim";

struct sim_cli_options {
  std::string output;
  std::string station = "cly";
  std::string start = "2021-06-07T18:00:00";
  std::string duration = "2h";
  std::string scan = "60s";
  std::string dwell;
  std::string intt;
  int beam_count = 0;
  std::vector<int> beam_list;
  bool reverse = false;
  std::string scene = "ionosphere";
  std::string width_model = "lorentzian";
  std::string hdw_path;
  std::string tables_dir;
  std::string radar_dat;
  std::string truth;
  int level = 9;
  bool quiet = false;
  sim::sim_options sim;
};

/** "2h", "30m", "90s", "1h30m", "1d", "0.5h" or plain seconds. */
result<double> parse_duration(std::string_view text, std::string_view what) {
  auto bad = [&] {
    return fail(errc::invalid_argument,
                fmt::format("{} '{}' is not a duration (examples: 2h, 30m, 90s, 1h30m, 3.5)", what, text));
  };
  if (text.empty()) return bad();
  double total = 0.0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) != 0 || text[j] == '.')) ++j;
    if (j == i) return bad();
    double v = 0.0;
    auto const [ptr, ec] = std::from_chars(text.data() + i, text.data() + j, v);
    if (ec != std::errc() || ptr != text.data() + j) return bad();
    double unit = 1.0;
    if (j < text.size()) {
      switch (text[j]) {
        case 'd': unit = 86400.0; break;
        case 'h': unit = 3600.0; break;
        case 'm': unit = 60.0; break;
        case 's': unit = 1.0; break;
        default: return bad();
      }
      ++j;
    } else if (i != 0) {
      return bad();  // "1h30" is ambiguous
    }
    total += v * unit;
    i = j;
  }
  return total;
}

/** "YYYY-MM-DDTHH:MM:SS" (T or space, optional Z and fraction) or "YYYY-MM-DD". */
result<double> parse_start(std::string const& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double s = 0.0;
  char sep = 'T';
  int const n = std::sscanf(text.c_str(), "%d-%d-%d%c%d:%d:%lf", &y, &mo, &d, &sep, &h, &mi, &s);
  bool const ok_form = n == 3 || (n == 7 && (sep == 'T' || sep == ' '));
  if (!ok_form || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0.0 || s >= 60.0)
    return fail(errc::invalid_argument, fmt::format("start '{}' is not a UTC time like 2021-06-07T18:00:00", text));
  return epoch_from_ymdhms(y, mo, d, h, mi, s);
}

result<radar::site> find_site(sim_cli_options const& o, double epoch, int& stid) {
  // rstx's own tables unless --radar-dat/--hdw-path, --tables or RST's variables say otherwise.
  std::string radar_dat = o.radar_dat;
  std::string hdw_path = o.hdw_path;
  if (radar_dat.empty() || hdw_path.empty()) {
    tables::request want;
    want.tables_dir = o.tables_dir;
    auto found = tables::locate(want);
    if (!found) return unexpected(std::move(found.error()));
    if (radar_dat.empty()) radar_dat = found->radar_dat.path;
    if (hdw_path.empty()) hdw_path = found->hdw_dir.path;
  }
  auto table = radar::radar_table::load(radar_dat);
  if (!table) return unexpected(std::move(table.error()));
  radar::radar_entry const* entry = nullptr;
  int id = 0;
  auto const [ptr, ec] = std::from_chars(o.station.data(), o.station.data() + o.station.size(), id);
  if (ec == std::errc() && ptr == o.station.data() + o.station.size()) {
    entry = table->find(id);
  } else {
    std::string code = o.station;
    std::transform(code.begin(), code.end(), code.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (auto const& r : table->radars())
      if (std::find(r.codes.begin(), r.codes.end(), code) != r.codes.end()) entry = &r;
  }
  if (entry == nullptr)
    return fail(errc::invalid_argument, fmt::format("station '{}' is not in radar.dat", o.station));
  stid = entry->stid;
  auto hdw = table->load_hardware(stid, hdw_path);
  if (!hdw) return unexpected(std::move(hdw.error()));
  return hdw->site_at(epoch);
}

std::string utc_text(double epoch) {
  auto const t = ymdhms_from_epoch(epoch);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z", t.year, t.month, t.day, t.hour, t.minute,
                     static_cast<int>(t.second));
}

int run_sim(sim_cli_options& o) {
  auto& s = o.sim;
  auto const t0 = std::chrono::steady_clock::now();
  auto start = parse_start(o.start);
  if (!start) return report(program, start.error());
  s.start_epoch = *start;
  for (auto [text, dst, what] : {std::tuple{&o.duration, &s.duration_s, "duration"}, std::tuple{&o.scan, &s.scan_s, "scan"},
                                 std::tuple{&o.dwell, &s.beam_dwell_s, "beam dwell"},
                                 std::tuple{&o.intt, &s.intt_s, "integration time"}}) {
    if (text->empty()) continue;
    auto v = parse_duration(*text, what);
    if (!v) return report(program, v.error());
    *dst = *v;
  }
  if (o.scene == "ionosphere") s.scene.kind = sim::scene_kind::ionosphere;
  else if (o.scene == "uniform") s.scene.kind = sim::scene_kind::uniform;
  else s.scene.kind = sim::scene_kind::noise_only;
  s.width = o.width_model == "gaussian" ? sim::width_model::gaussian : sim::width_model::lorentzian;

  auto site = find_site(o, s.start_epoch, s.stid);
  if (!site) return report(program, site.error());
  if (!o.beam_list.empty()) {
    s.beams = o.beam_list;
  } else {
    int const n = o.beam_count > 0 ? o.beam_count : site->maxbeam;
    s.beams.clear();
    for (int b = 0; b < n; ++b) s.beams.push_back(o.reverse ? n - 1 - b : b);
  }
  if (o.reverse && !o.beam_list.empty()) std::reverse(s.beams.begin(), s.beams.end());

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> truth(nullptr, &std::fclose);
  if (!o.truth.empty()) {
    truth.reset(std::fopen(o.truth.c_str(), "w"));
    if (!truth) return report(program, error(errc::io, fmt::format("cannot create truth file '{}'", o.truth)));
    fmt::print(truth.get(),
               "record,epoch,bmnum,gate,kind,snr_db,power,velocity_m_s,width_m_s,elevation_deg,xcf_phase_rad,"
               "coherence,noise,nave\n");
  }

  dmap::writer_options wo;
  wo.comp = dmap::compression_for_path(o.output);
  wo.level = o.level;
  auto w = dmap::writer::create(o.output, wo);
  if (!w) return report(program, w.error());
  auto sum = sim::simulate(s, *site, [&](dmap::record const& r, sim::record_info const& ri,
                                         std::span<sim::gate_truth const> gates) -> result<void> {
    if (truth) {
      for (std::size_t g = 0; g < gates.size(); ++g) {
        auto const& t = gates[g];
        if (t.kind == sim::echo_kind::none) continue;
        fmt::print(truth.get(), "{},{:.6f},{},{},{},{:.3f},{:.6g},{:.3f},{:.3f},{:.4f},{:.6f},{:.4f},{:.6g},{}\n", ri.index,
                   ri.epoch, ri.bmnum, g, sim::to_string(t.kind), t.snr_db, t.power, t.velocity_m_s, t.width_m_s,
                   t.elevation_deg, t.xcf_phase_rad, t.coherence, ri.noise, ri.nave);
      }
    }
    return w->write(r);
  });
  if (!sum) return report(program, std::move(sum.error()).at(o.output));
  if (auto c = w->commit(); !c) return report(program, c.error());
  if (truth && std::fclose(truth.release()) != 0)
    return report(program, error(errc::io, fmt::format("cannot write truth file '{}'", o.truth)));

  if (!o.quiet) {
    double const secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string size = fmt::format("{} bytes", sum->bytes);
    std::error_code ec;
    if (wo.comp != dmap::compression::none && o.output != "-")
      if (auto const n = std::filesystem::file_size(o.output, ec); !ec)
        size += fmt::format(" ({} {})", n, dmap::to_string(wo.comp));
    std::string span = sum->records == 0 ? "no records"
                                         : fmt::format("{} to {}", utc_text(sum->first_epoch), utc_text(sum->last_epoch));
    fmt::print(stderr, "{}: {}: {} records, {} scans of {} beams, stid {}, {} ({:g} s), {}, {:.2f} s\n", program,
               o.output, sum->records, sum->scans, s.beams.size(), s.stid, span, s.duration_s, size, secs);
  }
  return ok;
}

}  // namespace

void add_sim(CLI::App& app, int& exit_status) {
  auto o = std::make_shared<sim_cli_options>();
  auto& s = o->sim;
  auto* cmd = app.add_subcommand("sim", "Simulate a rawacf file (physically based ACFs/XCFs, scan-ordered, deterministic)");
  cmd->add_option("-o,--output", o->output, "Output rawacf (written atomically; .bz2/.gz/.zst compress); - for stdout")
      ->required();
  cmd->add_option("--station", o->station, "Station code or id (geometry from the hardware tables)")->capture_default_str();
  cmd->add_option("--start", o->start, "UTC time of the first record, YYYY-MM-DDTHH:MM:SS")->capture_default_str();
  cmd->add_option("--duration", o->duration, "Span of the file: 2h, 30m, 90s, 1h30m, 1d ...")->capture_default_str();
  cmd->add_option("--scan", o->scan, "Scan period")->capture_default_str();
  cmd->add_option("--beam-dwell", o->dwell, "Time per beam (default: scan / beams)");
  cmd->add_option("--intt", o->intt, "Integration time per beam (default: min(3 s, dwell))");
  cmd->add_option("--beams", o->beam_count, "Number of beams, 0..N-1 (default: all of the radar's)")->check(CLI::Range(1, 64));
  cmd->add_option("--beam-list", o->beam_list, "Explicit beam order, e.g. 0,2,4")->delimiter(',');
  cmd->add_flag("--reverse", o->reverse, "Scan the beams in descending order");
  cmd->add_option("--nrang", s.nrang, "Number of range gates")->capture_default_str();
  cmd->add_option("--frang", s.frang_km, "Distance to the first gate, km")->capture_default_str();
  cmd->add_option("--rsep", s.rsep_km, "Gate length, km")->capture_default_str();
  cmd->add_option("--tfreq", s.tfreq_khz, "Transmit frequency, kHz")->capture_default_str();
  cmd->add_option("--sequence", s.sequence, "Pulse sequence: normalscan (7-pulse, 22 lags), normalscan-classic "
                                            "(7-pulse, 18 lags), katscan (8-pulse, 23 lags)")
      ->capture_default_str();
  cmd->add_option("--nave", s.nave, "Sequences per integration (default: from intt and sequence length)");
  cmd->add_option("--mpinc", s.mpinc_us, "Lag spacing, µs (default: the sequence's)");
  cmd->add_option("--smsep", s.smsep_us, "Sample separation, µs (default: rsep / 0.15)");
  cmd->add_option("--txpl", s.txpl_us, "Pulse length, µs (default: smsep)");
  cmd->add_option("--lagfr", s.lagfr_us, "Lag to first range, µs (default: frang / 0.15)");
  cmd->add_option("--cp", s.cp, "Control program id (default: 150)");
  cmd->add_option("--noise", s.noise, "Mean noise power (linear ACF units)")->capture_default_str();
  cmd->add_flag("--int", s.integer_values, "Round ACFs, XCFs and pwr0 to integers (like classic ROS data)");
  cmd->add_flag("!--no-xcf", s.xcf, "Write no XCFs");
  cmd->add_option("--channel", s.channel, "Channel: 0 mono, 1 or 2 stereo")->check(CLI::Range(0, 2));
  cmd->add_option("--offset", s.offset_us, "Stereo channel offset, µs");
  cmd->add_option("--seed", s.seed, "Random seed (same seed, same file)")->capture_default_str();
  cmd->add_option("--width-model", o->width_model, "ACF decay: lorentzian or gaussian")
      ->check(CLI::IsMember({"lorentzian", "gaussian"}))
      ->capture_default_str();
  cmd->add_flag("!--no-fluctuations", s.fluctuations, "Write expected values (no statistical fluctuations)");
  cmd->add_flag("!--no-self-clutter", s.self_clutter, "Leave out the echoes seen through the other pulses");
  cmd->add_option("--scene", o->scene, "ionosphere, uniform or noise")
      ->check(CLI::IsMember({"ionosphere", "uniform", "noise"}))
      ->capture_default_str();
  cmd->add_option("--snr", s.scene.uniform.snr_db, "Uniform scene: SNR, dB")->capture_default_str();
  cmd->add_option("--velocity", s.scene.uniform.velocity_m_s, "Uniform scene: velocity, m/s (+ toward the radar)")
      ->capture_default_str();
  cmd->add_option("--width", s.scene.uniform.width_m_s, "Uniform scene: spectral width, m/s")->capture_default_str();
  cmd->add_option("--elevation", s.scene.uniform.elevation_deg, "Uniform scene: elevation, degrees")->capture_default_str();
  cmd->add_option("--coherence", s.scene.uniform.coherence, "Uniform scene: XCF coherence, 0-1")->capture_default_str();
  cmd->add_option("--first-gate", s.scene.uniform.first_gate, "Uniform scene: first gate with the echo (default nrang/3)");
  cmd->add_flag("!--no-f-region", s.scene.ionosphere.f_region, "Ionosphere scene: no F-region band");
  cmd->add_flag("!--no-ground", s.scene.ionosphere.ground_scatter, "Ionosphere scene: no ground scatter");
  cmd->add_flag("!--no-e-region", s.scene.ionosphere.e_region, "Ionosphere scene: no E-region echoes");
  cmd->add_flag("!--no-sporadic", s.scene.ionosphere.sporadic, "Ionosphere scene: no sporadic echoes");
  cmd->add_option("--peak-snr", s.scene.ionosphere.peak_snr_db, "Ionosphere scene: F-region peak SNR, dB")
      ->capture_default_str();
  cmd->add_option("--flow-speed", s.scene.ionosphere.flow_speed_m_s, "Ionosphere scene: convection speed, m/s")
      ->capture_default_str();
  cmd->add_option("--hdw-path", o->hdw_path, "Directory of hdw.dat.* (default: $SD_HDWPATH, else rstx's own)");
  cmd->add_option("--radar-dat", o->radar_dat, "Path of radar.dat (default: $SD_RADAR, else rstx's own)");
  cmd->add_option("--tables", o->tables_dir, "Table folder (radar.dat, hdw/) to use instead of rstx's own");
  cmd->add_option("--truth", o->truth, "Also write the simulated echoes (one CSV line per echo gate)");
  cmd->add_option("--level", o->level, "Compression level")->check(CLI::Range(1, 19));
  cmd->add_flag("-q,--quiet", o->quiet, "No summary line");
  cmd->footer("Defaults make the standard benchmark file: Clyde River, 2 hours of 1-minute 16-beam scans\n"
              "(1920 records, 7-pulse 22-lag sequence, 100 gates, XCFs, floats, about 70 MB).\n"
              "Exit status: 0 ok, 1 bad option, 2 missing or bad tables, 3 I/O error.");
  cmd->callback([o, &exit_status] { exit_status = run_sim(*o); });
}

}  // namespace rstx::cli
