// FITACF 2.5 with Google Benchmark: the fit of a whole file in process (one thread and all
// threads, records/s and ranges/s), and the programs end to end in the same session: rstx's
// make_fit -fitacf2 and, with --rst PATH, RST's make_fit -fitacf2 on the same file.
//
// Input: --file RAWACF (plain or compressed; default the 2-hour synthetic file,
// `python3 ../shared/tools/gen_rawacf.py --hours 2 -o /tmp/synth_2h.rawacf`). The tables for the
// programs come from SD_RADAR / SD_HDWPATH / SD_TDIFFPATH, or from --tables DIR (../shared/tables).
//   rstx_bench_fitacf25 --file /tmp/synth_2h.rawacf --rst /tmp/rst-build/bin/make_fit
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "rstx/dmap/reader.hpp"
#include "rstx/fit/fitacf25.hpp"
#include "rstx/fit/from_dmap.hpp"
#include "fixture.hpp"

namespace {

namespace fs = std::filesystem;

std::string g_file = "/tmp/synth_2h.rawacf";
std::string g_rst;        // RST's make_fit, if given
std::string g_make_fit;   // rstx's make_fit (beside this program by default)

rstx::bench::rawacf_fixture const& data() { return rstx::bench::load_rawacf_fixture(g_file); }

void set_rates(benchmark::State& state, double records, double ranges) {
  state.counters["records/s"] = benchmark::Counter(records, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ranges/s"] = benchmark::Counter(ranges, benchmark::Counter::kIsIterationInvariantRate);
}

void fitacf25(benchmark::State& state) {
  auto const& d = data();
  rstx::fit::thread_pool pool(static_cast<int>(state.range(0)));
  auto const view = d.batch.acf.view();
  for (auto _ : state) {
    auto out = rstx::fit::fitacf25(view, {}, rstx::fit::exec_context::cpu(&pool));
    if (!out) state.SkipWithError(out.error().message().c_str());
    benchmark::DoNotOptimize(out);
  }
  set_rates(state, view.n_rec, static_cast<double>(view.n_ranges));
}

/** Runs a shell command per iteration (the programs end to end, output to /dev/null). */
void command(benchmark::State& state, std::string const& cmd) {
  for (auto _ : state) {
    if (std::system(cmd.c_str()) != 0) {
      state.SkipWithError(("failed: " + cmd).c_str());
      break;
    }
  }
  set_rates(state, static_cast<double>(data().records.size()), static_cast<double>(data().batch.acf.n_ranges()));
}

void make_fit_rstx(benchmark::State& state) {
  command(state, fmt::format("'{}' -fitacf2 --threads {} '{}' > /dev/null", g_make_fit, state.range(0), g_file));
}

void make_fit_rst(benchmark::State& state) { command(state, fmt::format("'{}' -fitacf2 '{}' > /dev/null", g_rst, g_file)); }

int const all_threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));

}  // namespace

int main(int argc, char** argv) {
  std::string tables = RSTX_SHARED_TABLES;
  g_make_fit = (fs::path(argv[0]).parent_path() / "make_fit").string();
  std::vector<char*> rest;
  auto value = [&](int& i, std::string const& a, std::string const& name, std::string& out) {
    if (a.rfind(name + "=", 0) == 0) {
      out = a.substr(name.size() + 1);
      return true;
    }
    if (a == name && i + 1 < argc) {
      out = argv[++i];
      return true;
    }
    return false;
  };
  for (int i = 0; i < argc; ++i) {
    std::string const a = argv[i];
    if (!value(i, a, "--file", g_file) && !value(i, a, "--rst", g_rst) && !value(i, a, "--tables", tables) &&
        !value(i, a, "--make-fit", g_make_fit)) {
      rest.push_back(argv[i]);
    }
  }
  if (!fs::exists(g_file)) {
    fmt::print(stderr, "fitacf25_bench: {} not found (--file RAWACF)\n", g_file);
    return 1;
  }
  // The programs need the tables (RST's variables; existing values win).
  ::setenv("SD_RADAR", (fs::path(tables) / "radar.dat").c_str(), 0);
  ::setenv("SD_HDWPATH", ((fs::path(tables) / "hdw").string() + "/").c_str(), 0);
  ::setenv("SD_TDIFFPATH", ((fs::path(tables) / "tdiff").string() + "/").c_str(), 0);

  benchmark::RegisterBenchmark("fitacf25", fitacf25)
      ->Arg(1)
      ->Arg(all_threads)
      ->ArgName("threads")
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  if (fs::exists(g_make_fit)) {
    benchmark::RegisterBenchmark("make_fit_rstx", make_fit_rstx)
        ->Arg(1)
        ->Arg(all_threads)
        ->ArgName("threads")
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(5);
  }
  if (!g_rst.empty()) {
    benchmark::RegisterBenchmark("make_fit_rst", make_fit_rst)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
