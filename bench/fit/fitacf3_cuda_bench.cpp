// FITACF 3.0 on a CUDA device against the CPU backend, in process, on the same batches:
//   - the fitting alone: the CPU on one thread and on all, the device per call (staging, copies and
//     kernels, host clock) and its kernels alone (CUDA events), in records/s and range gates/s;
//   - where the device's time goes (staging, copies in, kernels, copies out) and how much overlaps;
//   - how many output floats are bit-identical to the CPU's (docs/cuda.md).
// Batches of --chunk records (make_fit's 1024 on a GPU) and the whole file as one batch. Without a
// usable device it times the CPU only and says why. --json FILE writes the figures.
//   rstx_bench_fitacf3_cuda --file RAWACF [--runs 5] [--chunk 1024] [--json FILE]
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "fixture.hpp"
#include "rstx/cuda/device.hpp"
#include "rstx/cuda/fitacf3.hpp"
#include "rstx/fit/fitacf3.hpp"
#include "timing.hpp"

namespace {

using namespace rstx;
using json = nlohmann::json;

/** The fixture's batch cut into batches of `chunk` records (copies, made before any timing). */
std::vector<fit::host_acf_batch> cut(fit::host_acf_batch const& all, std::int32_t chunk) {
  std::vector<fit::host_acf_batch> out;
  auto const n = static_cast<std::int32_t>(all.rec.size());
  auto const lag_floats = static_cast<std::size_t>(all.lag_stride) * 2;
  for (std::int32_t first = 0; first < n; first += chunk) {
    std::int32_t const last = std::min(n, first + chunk);
    fit::host_acf_batch b;
    b.lag_stride = all.lag_stride;
    auto const g0 = static_cast<std::size_t>(all.rec[first].range_begin);
    auto const g1 = static_cast<std::size_t>(all.rec[last - 1].range_begin + all.rec[last - 1].nrang);
    for (std::int32_t i = first; i < last; ++i) {
      b.rec.push_back(all.rec[i]);
      b.rec.back().range_begin -= static_cast<std::int64_t>(g0);
    }
    b.pwr0.assign(all.pwr0.begin() + static_cast<std::ptrdiff_t>(g0), all.pwr0.begin() + static_cast<std::ptrdiff_t>(g1));
    b.acf.assign(all.acf.begin() + static_cast<std::ptrdiff_t>(g0 * lag_floats),
                 all.acf.begin() + static_cast<std::ptrdiff_t>(g1 * lag_floats));
    b.xcf.assign(all.xcf.begin() + static_cast<std::ptrdiff_t>(g0 * lag_floats),
                 all.xcf.begin() + static_cast<std::ptrdiff_t>(g1 * lag_floats));
    out.push_back(std::move(b));
  }
  return out;
}

struct agreement {
  std::int64_t floats = 0, identical = 0, flags_differ = 0;
  double worst_relative = 0;
};

void compare(fit::host_fit_batch const& cpu, fit::host_fit_batch const& gpu, agreement& a) {
  for (std::int64_t r = 0; r < cpu.n_ranges(); ++r) {
    if (cpu.qflg(r) != gpu.qflg(r) || cpu.gflg(r) != gpu.gflg(r) || cpu.nlag(r) != gpu.nlag(r)) ++a.flags_differ;
    if (cpu.qflg(r) != 1 || gpu.qflg(r) != 1) continue;
    for (int c = 0; c <= static_cast<int>(fit::fit_column::x_sd_phi); ++c) {
      float const x = cpu.value(static_cast<fit::fit_column>(c), r), y = gpu.value(static_cast<fit::fit_column>(c), r);
      ++a.floats;
      if (std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y) || (std::isnan(x) && std::isnan(y))) {
        ++a.identical;
        continue;
      }
      a.worst_relative = std::max(a.worst_relative, std::fabs(double{x} - double{y}) / std::max(std::fabs(double{x}), std::fabs(double{y})));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  auto const file = bench::option(argc, argv, "file", "build/bench-data/synth_2h.rawacf");
  int const runs = std::stoi(bench::option(argc, argv, "runs", "5"));
  auto const chunk = static_cast<std::int32_t>(std::stoi(bench::option(argc, argv, "chunk", "1024")));
  auto const json_path = bench::option(argc, argv, "json", "");
  auto const& fixture = bench::load_rawacf_fixture(file);
  auto const& whole = fixture.batch.acf;
  auto const chunks = cut(whole, chunk);
  auto const n_rec = static_cast<std::int64_t>(whole.rec.size());
  auto const n_ranges = whole.n_ranges();
  int const cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  fmt::print("input: {} ({} records, {} range gates), batches of {} records, {} runs\n", file, n_rec, n_ranges, chunk, runs);

  json figures = json::object();
  auto report = [&](std::string const& name, bench::timing const& t) {
    fmt::print("  {:<34} {:9.4f} s  {:>10.0f} records/s  {:>12.0f} range gates/s\n", name, t.median_s,
               static_cast<double>(n_rec) / t.median_s, static_cast<double>(n_ranges) / t.median_s);
    figures[name] = {{"median_s", t.median_s}, {"min_s", t.min_s}, {"max_s", t.max_s},
                     {"records_per_s", static_cast<double>(n_rec) / t.median_s},
                     {"range_gates_per_s", static_cast<double>(n_ranges) / t.median_s}};
  };
  auto fit_all = [&](fit::exec_context const& ctx) {
    for (auto const& b : chunks) {
      auto out = fit::fitacf3(b.view(), {}, ctx);
      if (!out) throw std::runtime_error(out.error().message());
    }
  };

  fit::thread_pool one(1), all(cores);
  auto const cpu1 = bench::time_function(runs, [&] { fit_all(fit::exec_context::cpu(&one)); });
  report("cpu_1_thread", cpu1);
  auto const cpu_all = bench::time_function(runs, [&] { fit_all(fit::exec_context::cpu(&all)); });
  report(fmt::format("cpu_{}_threads", cores), cpu_all);

  json result = {{"file", file}, {"records", n_rec}, {"range_gates", n_ranges}, {"chunk_records", chunk}, {"runs", runs},
                 {"cores", cores}};
  auto device = cuda::open_fitacf3();
  if (!device) {
    fmt::print("no CUDA timing: {}\n", device.error().message());
    result["device"] = nullptr;
    result["device_reason"] = device.error().message();
  } else {
    auto& dev = **device;
    fmt::print("device: {}\n", dev.describe());
    result["device"] = dev.describe();
    auto const before = dev.stats();
    auto const gpu = bench::time_function(runs, [&] { fit_all(fit::exec_context::cuda(&dev)); });
    auto const after = dev.stats();
    report("cuda_per_call", gpu);
    double const calls = runs + 1.0;  // time_function's warm-up run is in the stats too
    double const kernel = (after.kernel_seconds - before.kernel_seconds) / calls;
    report("cuda_kernels_only", {kernel, kernel, kernel});
    double const copy_in = (after.copy_in_seconds - before.copy_in_seconds) / calls;
    double const copy_out = (after.copy_out_seconds - before.copy_out_seconds) / calls;
    double const stage = (after.stage_seconds - before.stage_seconds) / calls;
    double const wall = (after.wall_seconds - before.wall_seconds) / calls;
    double const mib_in = static_cast<double>(after.bytes_to_device - before.bytes_to_device) / calls / (1 << 20);
    double const mib_out = static_cast<double>(after.bytes_from_device - before.bytes_from_device) / calls / (1 << 20);
    fmt::print("  per file: staging {:.4f} s, copies in {:.4f} s ({:.0f} MiB, {:.1f} GB/s), kernels {:.4f} s, copies out "
               "{:.4f} s ({:.0f} MiB); wall {:.4f} s, so {:.0f}% of the device work overlapped\n",
               stage, copy_in, mib_in, mib_in * (1 << 20) / copy_in / 1e9, kernel, copy_out, mib_out, wall,
               100.0 * std::max(0.0, (stage + copy_in + kernel + copy_out) - wall) / (stage + copy_in + kernel + copy_out));
    result["transfer"] = {{"stage_s", stage},   {"copy_in_s", copy_in}, {"kernel_s", kernel}, {"copy_out_s", copy_out},
                          {"wall_s", wall},     {"mib_to_device", mib_in}, {"mib_from_device", mib_out}};
    auto const whole_gpu = bench::time_function(runs, [&] {
      auto out = fit::fitacf3(whole.view(), {}, fit::exec_context::cuda(&dev));
      if (!out) throw std::runtime_error(out.error().message());
    });
    report("cuda_whole_file_one_batch", whole_gpu);
    fmt::print("speed-ups: device per call over 1 CPU thread {:.1f}x, over {} threads {:.1f}x; kernels alone over 1 "
               "thread {:.1f}x\n", cpu1.median_s / gpu.median_s, cores, cpu_all.median_s / gpu.median_s, cpu1.median_s / kernel);
    agreement a;
    for (auto const& b : chunks) {
      auto c = fit::fitacf3(b.view(), {}, fit::exec_context::cpu(&all));
      auto g = fit::fitacf3(b.view(), {}, fit::exec_context::cuda(&dev));
      if (c && g) compare(*c, *g, a);
    }
    fmt::print("agreement: {} of {} fitted floats bit-identical ({:.6f}), largest relative difference {:.3g}, {} ranges "
               "with other flags\n", a.identical, a.floats, static_cast<double>(a.identical) / static_cast<double>(a.floats),
               a.worst_relative, a.flags_differ);
    result["agreement"] = {{"floats", a.floats}, {"identical", a.identical}, {"worst_relative", a.worst_relative},
                           {"ranges_with_other_flags", a.flags_differ}};
  }
  result["figures"] = figures;
  if (!json_path.empty()) std::ofstream(json_path) << result.dump(2) << "\n";
  return 0;
}
