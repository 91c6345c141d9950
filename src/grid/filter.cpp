#include "rstx/grid/filter.hpp"

#include <algorithm>
#include <cmath>

#include "rstx/core/numeric.hpp"
#include "rstx/geo/gate_position.hpp"
#include "rstx/grid/detail/median_windows.hpp"

namespace rstx::grid {

namespace {

// FilterRadarScan's window: 3 beams × 3 gates × up to 3 scans.
constexpr int filter_width = 3;
constexpr int filter_height = 3;
constexpr int filter_depth = 3;
constexpr int thresholds[2] = {12, 24};  // weight sum a cell must exceed (mode % 2)

template <class Pred>
void remove_beams_if(radar_scan& scan, Pred pred) {
  auto& b = scan.beams;
  b.erase(std::remove_if(b.begin(), b.end(), pred), b.end());
}

}  // namespace

void exclude_beams(radar_scan& scan, std::span<int const> beams) {
  if (beams.empty()) return;
  remove_beams_if(scan, [&](radar_beam const& b) { return std::find(beams.begin(), beams.end(), b.bm) != beams.end(); });
}

void exclude_out_of_scan(radar_scan& scan) {
  remove_beams_if(scan, [](radar_beam const& b) { return b.scan < 0; });
}

void exclude_ranges(radar_scan& scan, range_limits const& limits) {
  bool const by_slant = limits.min_slant_km != -1 || limits.max_slant_km != -1;
  for (auto& b : scan.beams) {
    if (b.bm == -1) continue;
    auto const nrang = static_cast<int>(b.sct.size());
    if (by_slant) {
      for (int g = 0; g < nrang; ++g) {
        double const r = geo::slant_range_km(b.frang, b.rsep, b.rxrise, g + 1);
        if (limits.min_slant_km != -1 && r < limits.min_slant_km) b.sct[static_cast<std::size_t>(g)] = 0;
        if (limits.max_slant_km != -1 && r > limits.max_slant_km) b.sct[static_cast<std::size_t>(g)] = 0;
      }
      continue;
    }
    // RST writes past the gate arrays when minrng exceeds nrang; the limits are clamped here.
    if (limits.min_gate != -1)
      for (int g = 0; g < std::min(limits.min_gate, nrang); ++g) b.sct[static_cast<std::size_t>(g)] = 0;
    if (limits.max_gate != -1)
      for (int g = std::max(limits.max_gate, 0); g < nrang; ++g) b.sct[static_cast<std::size_t>(g)] = 0;
  }
}

void exclude_scatter_type(radar_scan& scan, int mode) {
  for (auto& b : scan.beams)
    for (std::size_t g = 0; g < b.sct.size(); ++g)
      if (b.sct[g] != 0 && b.rng[g].gsct == mode) b.sct[g] = 0;
}

void exclude_out_of_bounds(radar_scan& scan, value_bounds const& lim) {
  for (auto& b : scan.beams) {
    for (std::size_t g = 0; g < b.sct.size(); ++g) {
      if (b.sct[g] == 0) continue;
      auto const& c = b.rng[g];
      // Each test on its own, like FilterBound: a NaN value fails none of them and stays.
      if (std::fabs(c.v) < lim.min[0] || std::fabs(c.v) > lim.max[0] || c.p_l < lim.min[1] || c.p_l > lim.max[1] ||
          c.w_l < lim.min[2] || c.w_l > lim.max[2] || c.v_e < lim.min[3] || c.v_e > lim.max[3])
        b.sct[g] = 0;
    }
  }
}

bool operating_parameters_agree(std::span<radar_scan const> slots, int fmax) {
  std::array<radar_scan const*, filter_depth> p{};
  for (std::size_t i = 0; i < std::min(slots.size(), p.size()); ++i) p[i] = &slots[i];
  return operating_parameters_agree(std::span<radar_scan const* const>(p.data(), std::min(slots.size(), p.size())), fmax);
}

bool operating_parameters_agree(std::span<radar_scan const* const> slots, int fmax) {
  int const depth = static_cast<int>(slots.size());
  auto const& centre = *slots[static_cast<std::size_t>(depth / 2)];
  for (int s = 0; s < depth; ++s) {
    if (s == depth / 2) continue;
    for (auto const& cb : centre.beams) {
      for (auto const& ob : slots[static_cast<std::size_t>(s)]->beams) {
        if (ob.bm != cb.bm) continue;
        if (ob.frang != cb.frang || ob.rsep != cb.rsep) return false;
        if (fmax != 0 && std::fabs(static_cast<double>(ob.freq - cb.freq)) > fmax) return false;
      }
    }
  }
  return true;
}

namespace {

/** The four parameters the filter takes medians of (prm = 15), in RST's order. */
struct parameter {
  double radar_cell::*value;
  double radar_cell::*error;
};
constexpr parameter parameters[] = {
    {&radar_cell::v, &radar_cell::v_e},
    {&radar_cell::p_l, &radar_cell::p_l_e},
    {&radar_cell::w_l, &radar_cell::w_l_e},
    {&radar_cell::p_0, &radar_cell::p_0_e},
};

/** Reused between calls so that filtering a scan allocates nothing once warmed up. */
struct filter_workspace {
  std::vector<std::array<std::vector<radar_beam const*>, filter_depth>> beams_of;
  std::vector<int> weighted;  // [beam][gate]: soundings with scatter, the middle scan counted twice
  std::vector<int> gate_triples;  // [beam][gate]: weighted summed over gate - 1 .. gate + 1
  std::vector<std::uint8_t> nan_triples;  // [beam][gate]: a NaN velocity in gate - 1 .. gate + 1
  // The soundings with scatter of each (beam, gate) in scan-then-sounding order: block b holds
  // entries[block_begin[b] .. block_begin[b + 1]). A window is nine blocks back to back.
  std::vector<detail::gate_entry> entries;  // the first block_begin.back() are in use
  std::vector<std::uint32_t> block_begin;
  std::vector<std::uint8_t> block_has_nan;  // a NaN velocity in the block
  std::vector<detail::window_entries> windows;  // windows for the batched step
  std::vector<radar_cell*> window_cell;         // their output cells
  std::vector<detail::window_medians> medians;  // their results
  std::vector<radar_cell const*> cells;
  std::vector<radar_cell const*> kept;
  std::vector<radar_cell const*> scratch;
};

/**
 * Workspaces are kept from one window to the next so that filtering allocates nothing once warmed
 * up; a vector that an unusually large window (many beams, gates or soundings) grew beyond this
 * lets its memory go instead of holding it for the rest of the run. Real windows need well under
 * 1 MB.
 */
constexpr std::size_t workspace_keep_bytes = std::size_t{8} << 20;

template <class V>
void release_if_large(V& v) noexcept {
  if (v.capacity() * sizeof(typename V::value_type) > workspace_keep_bytes) V().swap(v);
}

/** Mean and variance over values in the given order (the order fixes the rounding). */
template <class Values>
void mean_variance(std::size_t n, Values value, double& mean, double& variance) {
  mean = 0;
  for (std::size_t c = 0; c < n; ++c) mean += value(c);
  mean = mean / static_cast<double>(n);
  variance = 0;
  for (std::size_t c = 0; c < n; ++c) variance += (value(c) - mean) * (value(c) - mean);
  variance = variance / static_cast<double>(n);
}

/**
 * One parameter of one cell, as FilterRadarScan computes it: drop cells more than 2σ from the
 * mean, sort the rest (by `key`), take the upper-middle element, and the spread of the kept values
 * summed in sorted order.
 */
void median_by_sorting(std::span<radar_cell const* const> cells, double radar_cell::*value, double radar_cell::*key,
                       filter_workspace& ws, double& median, double& spread) {
  double mean = 0, variance = 0;
  mean_variance(cells.size(), [&](std::size_t c) { return cells[c]->*value; }, mean, variance);
  double const sigma = variance > 0 ? std::sqrt(variance) : 0.0;
  ws.kept.clear();
  for (auto const* c : cells)
    if (!(std::fabs(c->*value - mean) > 2 * sigma)) ws.kept.push_back(c);
  ws.scratch.resize(ws.kept.size());
  detail::rst_merge_sort(std::span<radar_cell const*>(ws.kept), std::span<radar_cell const*>(ws.scratch),
                         [key](radar_cell const* a, radar_cell const* b) { return a->*key < b->*key; });
  median = ws.kept[ws.kept.size() / 2]->*value;
  mean_variance(ws.kept.size(), [&](std::size_t c) { return ws.kept[c]->*value; }, mean, variance);
  spread = variance > 0 ? std::sqrt(variance) : 0.0;
}

}  // namespace

void median_filter(std::span<radar_scan const> slots, int depth, int newest, median_options const& opt,
                   radar_scan& out) {
  std::array<radar_scan const*, filter_depth> p{};
  for (std::size_t i = 0; i < std::min(slots.size(), p.size()); ++i) p[i] = &slots[i];
  median_filter(std::span<radar_scan const* const>(p.data(), std::min(slots.size(), p.size())), depth, newest, opt, out);
}

void median_filter(std::span<radar_scan const* const> slots, int depth, int newest, median_options const& opt,
                   radar_scan& out) {
  thread_local filter_workspace ws;
  depth = std::min(depth, filter_depth);
  int maxbeam = 0;
  int maxrange = 1000;  // RST's starting value: the filter works on the *fewest* gates of any beam
  for (int i = 0; i < depth; ++i) {
    for (auto const& b : slots[static_cast<std::size_t>(i)]->beams) {
      maxbeam = std::max(maxbeam, b.bm);
      maxrange = std::min(maxrange, b.nrang);
    }
  }
  ++maxbeam;
  maxrange = std::max(maxrange, 0);
  auto const nbeam = static_cast<std::size_t>(maxbeam);
  auto const ngate = static_cast<std::size_t>(maxrange);

  // Soundings of beam b in temporal slot z (oldest first), in scan order.
  if (ws.beams_of.size() < nbeam) ws.beams_of.resize(nbeam);
  for (std::size_t b = 0; b < nbeam; ++b)
    for (auto& list : ws.beams_of[b]) list.clear();
  for (int z = 0; z < depth; ++z) {
    int i = newest - (depth - 1) + z;
    if (i < 0) i += depth;
    for (auto const& b : slots[static_cast<std::size_t>(i)]->beams)
      if (b.bm >= 0) ws.beams_of[static_cast<std::size_t>(b.bm)][static_cast<std::size_t>(z)].push_back(&b);
  }
  auto const& beams_of = ws.beams_of;

  int centre_slot = newest - 1;
  if (centre_slot < 0) centre_slot += depth;
  auto const& centre = *slots[static_cast<std::size_t>(centre_slot)];
  out.stid = centre.stid;
  out.version_major = centre.version_major;
  out.version_minor = centre.version_minor;
  out.st_time = centre.st_time;
  out.ed_time = centre.ed_time;
  out.beams.resize(nbeam);
  for (auto& b : out.beams) {
    b = radar_beam{.bm = -1, .sct = std::move(b.sct), .rng = std::move(b.rng)};
    b.sct.resize(ngate);  // every gate is written below
    b.rng.resize(ngate);
  }

  if ((opt.mode & 4) == 4) {  // operating parameters of the first sounding on the centre scan
    for (int bm = 0; bm < maxbeam; ++bm) {
      auto const& list = beams_of[static_cast<std::size_t>(bm)][static_cast<std::size_t>(depth / 2)];
      if (list.empty()) continue;
      auto const& src = *list.front();
      auto& dst = out.beams[static_cast<std::size_t>(bm)];
      dst.bm = bm;
      dst.cpid = src.cpid;
      dst.time = src.time;
      dst.intt_sc = src.intt_sc;
      dst.intt_us = src.intt_us;
      dst.nave = src.nave;
      dst.frang = src.frang;
      dst.rsep = src.rsep;
      dst.rxrise = src.rxrise;
      dst.freq = src.freq;
      dst.noise = src.noise;
      dst.atten = src.atten;
      dst.channel = src.channel;
      dst.nrang = maxrange;
    }
  } else {  // integer averages over every sounding of the beam number, as RST computes them
    for (auto& dst : out.beams) {
      dst.cpid = -1;
      dst.channel = -1;
      dst.nrang = -1;
    }
    for (int z = 0; z < depth; ++z) {
      for (int bm = 0; bm < maxbeam; ++bm) {
        auto& dst = out.beams[static_cast<std::size_t>(bm)];
        for (auto const* src : beams_of[static_cast<std::size_t>(bm)][static_cast<std::size_t>(z)]) {
          dst.bm = bm;
          if (dst.cpid == -1) dst.cpid = src->cpid;
          // int sums, as in RST: values from the file may overflow them (wrapping, as RST's binary does).
          dst.time += src->time;
          dst.intt_sc = wrapping_add(dst.intt_sc, src->intt_sc);
          dst.intt_us = wrapping_add(dst.intt_us, src->intt_us);
          if (dst.intt_us > 1e6) {
            dst.intt_sc = wrapping_add(dst.intt_sc, 1);
            dst.intt_us -= 1000000;
          }
          dst.nave = wrapping_add(dst.nave, src->nave);
          dst.frang = wrapping_add(dst.frang, src->frang);
          dst.rsep = wrapping_add(dst.rsep, src->rsep);
          dst.rxrise = wrapping_add(dst.rxrise, src->rxrise);
          dst.freq = wrapping_add(dst.freq, src->freq);
          dst.noise = wrapping_add(dst.noise, src->noise);
          dst.atten = wrapping_add(dst.atten, src->atten);
          if (dst.channel == 0) dst.channel = src->channel;  // never true: channel starts at -1
          if (dst.nrang == -1) dst.nrang = maxrange;
        }
      }
    }
    for (int bm = 0; bm < maxbeam; ++bm) {
      int count = 0;
      for (int z = 0; z < depth; ++z)
        count += static_cast<int>(beams_of[static_cast<std::size_t>(bm)][static_cast<std::size_t>(z)].size());
      if (count == 0) continue;
      auto& dst = out.beams[static_cast<std::size_t>(bm)];
      dst.time = dst.time / count;
      dst.intt_us = dst.intt_us / count;
      double us = (1e6 * dst.intt_sc) / count;
      dst.intt_sc = dst.intt_sc / count;
      us = us - 1e6 * dst.intt_sc;
      dst.intt_us = x86_double_to_int(dst.intt_us + us);
      dst.nave /= count;
      dst.frang /= count;
      dst.rsep /= count;
      dst.rxrise /= count;
      dst.freq /= count;
      dst.noise /= count;
      dst.atten /= count;
    }
  }

  // The window weight of a cell is Σ weight[x][y][z] over soundings with scatter, with weights
  // (1 + centre cell)·(1 + middle scan). Summing "(1 + middle scan) × soundings with scatter" per
  // gate first gives the same integer: the window sum of that table plus its centre entry again.
  ws.weighted.resize(nbeam * ngate);  // every block is written below
  ws.block_begin.resize(nbeam * ngate + 1);
  ws.block_has_nan.resize(nbeam * ngate);
  std::size_t soundings = 0;
  for (std::size_t b = 0; b < nbeam; ++b)
    for (int z = 0; z < depth; ++z) soundings += beams_of[b][static_cast<std::size_t>(z)].size();
  // Every gate of every sounding is written and only those with scatter are kept (the next one
  // overwrites the others): no branch on the scatter flags, which follow no pattern.
  if (ws.entries.size() < soundings * ngate) ws.entries.resize(soundings * ngate);  // never shrunk: no refill
  std::size_t kept = 0;
  for (std::size_t b = 0; b < nbeam; ++b)
    for (std::size_t g = 0; g < ngate; ++g) {
      std::size_t const block = b * ngate + g;
      ws.block_begin[block] = static_cast<std::uint32_t>(kept);
      int weight = 0;
      bool nan = false;
      for (int z = 0; z < depth; ++z) {
        int const scan_weight = 1 + ((z != 0) & (z != filter_depth - 1));  // FILTER_DEPTH, even when depth < 3
        for (auto const* sounding : beams_of[b][static_cast<std::size_t>(z)]) {
          bool const scatter = sounding->sct[g] != 0;
          auto const& c = sounding->rng[g];
          ws.entries[kept] = {{c.v, c.p_l, c.w_l, c.p_0}, &c};
          weight += scatter ? scan_weight : 0;
          nan |= scatter & std::isnan(c.v);
          kept += scatter;
        }
      }
      ws.weighted[block] = weight;
      ws.block_has_nan[block] = nan;
    }
  ws.block_begin[nbeam * ngate] = static_cast<std::uint32_t>(kept);
  // Each block's weight and NaN flag combined with its neighbours' along the beam (a window's gates).
  ws.gate_triples.resize(nbeam * ngate);
  ws.nan_triples.resize(nbeam * ngate);
  for (std::size_t b = 0; b < nbeam; ++b)
    for (std::size_t g = 0; g < ngate; ++g) {
      std::size_t const block = b * ngate + g;
      ws.gate_triples[block] = (g > 0 ? ws.weighted[block - 1] : 0) + ws.weighted[block] +
                               (g + 1 < ngate ? ws.weighted[block + 1] : 0);
      ws.nan_triples[block] = (g > 0 ? ws.block_has_nan[block - 1] : 0) | ws.block_has_nan[block] |
                              (g + 1 < ngate ? ws.block_has_nan[block + 1] : 0);
    }

  // Each beam of the output depends only on the input scans: beams are filtered in parallel.
  // (`ws` is thread_local: inside the lambda it would name the worker's own copy, hence this name.)
  std::vector<int> const& weighted = ws.weighted;
  std::vector<int> const& gate_triples = ws.gate_triples;
  std::vector<detail::gate_entry> const& entries = ws.entries;
  std::vector<std::uint32_t> const& block_begin = ws.block_begin;
  std::size_t const np = opt.values == filtered_values::velocity ? 1 : opt.values == filtered_values::all ? 4 : 3;
  std::vector<std::uint8_t> const& nan_triples = ws.nan_triples;
  auto filter_beams = [&](std::int64_t first, std::int64_t last) {
    thread_local filter_workspace local;
    local.windows.clear();
    local.window_cell.clear();
    for (auto bm = static_cast<int>(first); bm < static_cast<int>(last); ++bm) {
      for (int gate = 0; gate < maxrange; ++gate) {
        int const bmin = std::max(bm - filter_width / 2, 0);
        int const bmax = std::min(bm + filter_width / 2, maxbeam - 1);
        int const gmin = std::max(gate - filter_height / 2, 0);
        int const gmax = std::min(gate + filter_height / 2, maxrange - 1);
        auto const block = static_cast<std::size_t>(bm) * ngate + static_cast<std::size_t>(gate);
        auto& dst = out.beams[static_cast<std::size_t>(bm)];
        dst.sct[static_cast<std::size_t>(gate)] = 0;
        auto& cell = dst.rng[static_cast<std::size_t>(gate)];
        cell = radar_cell{};
        int w = weighted[block];
        for (int x = bmin; x <= bmax; ++x) w += gate_triples[static_cast<std::size_t>(x) * ngate + static_cast<std::size_t>(gate)];
        if (w == 0) continue;  // every weight is at least 1: no sounding with scatter in the window
        if (bm == 0 || bm == maxbeam - 1) w = static_cast<int>(w * 1.5);  // edge beams see fewer cells
        if (w <= thresholds[opt.mode % 2]) continue;

        // The window's soundings in FilterRadarScan's order: beam, gate, scan, sounding. A beam's
        // gates gmin..gmax are adjacent blocks, so each beam of the window is one range of entries.
        detail::window_entries window;
        bool nan_velocity = false;
        for (int x = bmin; x <= bmax; ++x) {
          auto const row = static_cast<std::size_t>(x) * ngate;
          detail::entry_range const r{block_begin[row + static_cast<std::size_t>(gmin)],
                                      block_begin[row + static_cast<std::size_t>(gmax) + 1]};
          window.range[window.ranges++] = r;
          window.size += r.end - r.begin;
          nan_velocity |= nan_triples[row + static_cast<std::size_t>(gate)] != 0;
        }
        dst.sct[static_cast<std::size_t>(gate)] = 1;
        if (!opt.isort && !nan_velocity) {  // these go through the batched step together
          local.windows.push_back(window);
          local.window_cell.push_back(&cell);
          continue;
        }
        local.cells.clear();
        for (std::uint32_t i = 0; i < window.ranges; ++i)
          for (auto e = window.range[i].begin; e < window.range[i].end; ++e) local.cells.push_back(entries[e].cell);
        for (std::size_t k = 0; k < np; ++k) {
          auto const& p = parameters[k];
          double radar_cell::*const key = opt.isort ? p.value : &radar_cell::v;
          median_by_sorting(local.cells, p.value, key, local, cell.*p.value, cell.*p.error);
        }
      }
    }
    if (!local.windows.empty()) {
      local.medians.resize(local.windows.size());
      detail::medians_by_velocity(local.windows, entries.data(), static_cast<int>(np), local.medians.data());
      for (std::size_t i = 0; i < local.windows.size(); ++i) {
        radar_cell& cell = *local.window_cell[i];
        for (std::size_t k = 0; k < np; ++k) {
          cell.*parameters[k].value = local.medians[i].median[k];
          cell.*parameters[k].error = local.medians[i].spread[k];
        }
      }
    }
    release_if_large(local.windows);
    release_if_large(local.window_cell);
    release_if_large(local.medians);
    release_if_large(local.cells);
  };
  if (opt.pool != nullptr && opt.pool->size() > 1 && maxbeam > 1)
    opt.pool->parallel_for(maxbeam, 1, filter_beams);
  else
    filter_beams(0, maxbeam);
  release_if_large(ws.entries);
  release_if_large(ws.weighted);
  release_if_large(ws.gate_triples);
  release_if_large(ws.nan_triples);
  release_if_large(ws.block_begin);
  release_if_large(ws.block_has_nan);
}

}  // namespace rstx::grid
