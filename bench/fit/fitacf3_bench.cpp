// FITACF 3.0 stage by stage, in process, with Google Benchmark: DMAP decode, from_dmap, the fit on
// one thread and on all, to_dmap + encode. Input: --file RAWACF (plain or compressed; default the
// 2-hour synthetic file, `python3 ../shared/tools/gen_rawacf.py --hours 2 -o /tmp/synth_2h.rawacf`).
// Counters: records/s (and ranges/s for the fit). The end-to-end comparison with RST's make_fit,
// run in the same session, is make_fit_bench.cpp.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "rstx/fit/fitacf3.hpp"
#include "rstx/fit/from_dmap.hpp"
#include "fixture.hpp"
#include "rstx/fit/to_dmap.hpp"

namespace {

std::string g_file = "/tmp/synth_2h.rawacf";

rstx::bench::rawacf_fixture const& data() { return rstx::bench::load_rawacf_fixture(g_file); }

void set_rate(benchmark::State& state, std::size_t records) {
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsIterationInvariantRate);
}

void decode(benchmark::State& state) {
  auto bytes = std::vector<std::byte>();
  {
    auto const& d = data();
    auto enc = rstx::dmap::encode_all(d.records);
    bytes = std::move(*enc);
  }
  for (auto _ : state) {
    auto rd = rstx::dmap::reader::from_memory(bytes);
    rstx::dmap::record r;
    while (*rd->next(r)) benchmark::DoNotOptimize(r);
  }
  set_rate(state, data().records.size());
}

void from_dmap(benchmark::State& state) {
  auto const& d = data();
  rstx::fit::thread_pool pool(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto b = rstx::fit::from_dmap(d.records, {}, {}, d.site, {}, {}, rstx::fit::exec_context::cpu(&pool));
    benchmark::DoNotOptimize(b);
  }
  set_rate(state, d.records.size());
}

void fitacf3(benchmark::State& state) {
  auto const& d = data();
  rstx::fit::thread_pool pool(static_cast<int>(state.range(0)));
  auto const view = d.batch.acf.view();
  for (auto _ : state) {
    auto out = rstx::fit::fitacf3(view, {}, rstx::fit::exec_context::cpu(&pool));
    benchmark::DoNotOptimize(out);
  }
  set_rate(state, d.records.size());
  state.counters["ranges/s"] =
      benchmark::Counter(static_cast<double>(view.n_ranges), benchmark::Counter::kIsIterationInvariantRate);
}

void to_dmap(benchmark::State& state) {
  auto const& d = data();
  auto const out = rstx::fit::fitacf3(d.batch.acf.view(), {});
  rstx::fit::origin_info origin{1, "Mon Nov 23 21:18:06 2026", "make_fit -fitacf3 bench"};
  rstx::dmap::record rec;
  std::vector<std::byte> bytes;
  for (auto _ : state) {
    bytes.clear();
    for (std::size_t i = 0; i < d.batch.prm.size(); ++i) {
      rstx::fit::to_dmap(d.batch.prm[i], *out, static_cast<std::int32_t>(i), origin, rec);
      (void)rec.encode_to(bytes);
    }
    benchmark::DoNotOptimize(bytes);
  }
  set_rate(state, d.records.size());
}

int const all_threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));

BENCHMARK(decode)->Unit(benchmark::kMillisecond);
BENCHMARK(from_dmap)->Arg(1)->Arg(all_threads)->ArgName("threads")->Unit(benchmark::kMillisecond);
BENCHMARK(fitacf3)->Arg(1)->Arg(all_threads)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(to_dmap)->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string const a = argv[i];
    if (a.rfind("--file=", 0) == 0) {
      g_file = a.substr(7);
    } else if (a == "--file" && i + 1 < argc) {
      g_file = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!std::filesystem::exists(g_file)) {
    fmt::print(stderr, "fitacf3_bench: {} not found (--file RAWACF)\n", g_file);
    return 1;
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
