// DMAP read throughput on a long rawacf (default: the 2-hour file from `rstx sim`), plain and bzip2,
// each next to its baseline measured in the same run: `cat FILE > /dev/null` for the plain file and
// `bzip2 -dc FILE.bz2 > /dev/null` for the compressed one. rstx reads every record (decoded, every
// field located and bounds-checked) on one core.
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "rstx/dmap/reader.hpp"
#include "timing.hpp"

namespace fs = std::filesystem;
using rstx::bench::timing;

namespace {

struct pass {
  std::int64_t records = 0;
  std::int64_t bytes = 0;
};

pass read_all(std::string const& path) {
  auto rd = rstx::dmap::reader::open(path);
  if (!rd) throw std::runtime_error(rd.error().message());
  rstx::dmap::record r;
  for (;;) {
    auto got = rd->next(r);
    if (!got) throw std::runtime_error(got.error().message());
    if (!*got) break;
  }
  return {rd->records_read(), rd->offset()};
}

void row(char const* what, timing const& t, double bytes, double records, timing const* base) {
  double const mb_s = bytes / t.median_s / 1e6;
  fmt::print("{:<34} {:>8.4f} s  [{:.4f} .. {:.4f}]  {:>9.1f} MB/s  {:>10.0f} records/s", what, t.median_s, t.min_s,
             t.max_s, mb_s, records / t.median_s);
  if (base != nullptr && base->median_s > 0) fmt::print("   {:.2f}x the baseline's speed", base->median_s / t.median_s);
  fmt::print("\n");
}

}  // namespace

int main(int argc, char** argv) try {
  std::string const file = rstx::bench::option(argc, argv, "file", "");
  int const runs = std::stoi(rstx::bench::option(argc, argv, "runs", "7"));
  if (file.empty() || !fs::exists(file)) {
    fmt::print(stderr, "usage: {} --file RAWACF [--runs N]   (plain file; a .bz2 copy is made beside it)\n", argv[0]);
    return 1;
  }
  std::string const bz2 = file + ".bz2";
  if (!fs::exists(bz2)) {
    std::string const cmd = fmt::format("bzip2 -9 -k -c '{}' > '{}'", file, bz2);
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("cannot make " + bz2);
  }
  auto const info = read_all(file);
  double const bytes = static_cast<double>(info.bytes);
  double const records = static_cast<double>(info.records);
  fmt::print("file: {} ({} records, {:.1f} MB; bzip2 copy {:.1f} MB); median of {} runs [min .. max]\n", file,
             info.records, bytes / 1e6, static_cast<double>(fs::file_size(bz2)) / 1e6, runs);

  auto const cat = rstx::bench::time_command({"cat", file}, runs);
  auto const plain = rstx::bench::time_function(runs, [&] { read_all(file); });
  row("baseline: cat FILE > /dev/null", cat, bytes, records, nullptr);
  row("rstx: read plain (1 core)", plain, bytes, records, &cat);

  int const bz_runs = std::max(1, runs / 2);
  auto const bunzip = rstx::bench::time_command({"bzip2", "-dc", bz2}, bz_runs);
  auto const packed = rstx::bench::time_function(bz_runs, [&] { read_all(bz2); });
  row("baseline: bzip2 -dc FILE.bz2", bunzip, bytes, records, nullptr);
  row("rstx: read bzip2 (1 core)", packed, bytes, records, &bunzip);

  double const gb_s = bytes / plain.median_s / 1e9;
  fmt::print("uncompressed parse: {:.2f} GB/s on one core (goal >= 1 GB/s: {})\n", gb_s, gb_s >= 1.0 ? "met" : "NOT met");
  return 0;
} catch (std::exception const& e) {
  fmt::print(stderr, "read_bench: {}\n", e.what());
  return 2;
}
