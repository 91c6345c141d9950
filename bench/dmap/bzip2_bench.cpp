// Parallel bzip2 (src/dmap/bzip2_parallel.cpp) against the bzip2 program and against RST's way of
// reading .bz2 files, in the same interleaved rounds (timing.hpp):
//   1. decompression: `bzip2 -dc F.bz2` against the DMAP reader on 1, 2, ... cores (every record read);
//   2. compression: `bzip2 -9 -c F` against the DMAP writer on 1, 2, ... cores (the same bytes out);
//   3. make_fit end to end: RST's `bzip2 -dc F.bz2 | make_fit -fitacf3` (and `| bzip2` for a .bz2
//      output) against `make_fit -fitacf3 F.bz2` (and `-o out.fitacf.bz2`) on all cores.
// The peak memory column shows that memory stays bounded: a few blocks per thread.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "rstx/dmap/reader.hpp"
#include "rstx/dmap/writer.hpp"
#include "timing.hpp"

namespace fs = std::filesystem;
using rstx::bench::contender;

namespace {

/** --decode FILE --threads N: read every record (the mode the contenders run). */
int decode(std::string const& file, int threads) {
  auto rd = rstx::dmap::reader::open(file, {.threads = threads});
  if (!rd) return 2;
  rstx::dmap::record r;
  for (;;) {
    auto got = rd->next(r);
    if (!got) {
      fmt::print(stderr, "{}\n", got.error().message());
      return 2;
    }
    if (!*got) return 0;
  }
}

/** --encode FILE --out OUT --threads N: copy the records into a .bz2. */
int encode(std::string const& file, std::string const& out, int threads) {
  auto rd = rstx::dmap::reader::open(file);
  auto w = rstx::dmap::writer::create(out, {.comp = rstx::dmap::compression::bzip2, .threads = threads});
  if (!rd || !w) return 2;
  rstx::dmap::record r;
  for (;;) {
    auto got = rd->next(r);
    if (!got) return 2;
    if (!*got) break;
    if (!w->write(r)) return 2;
  }
  return w->commit() ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) try {
  using rstx::bench::option;
  if (std::string const f = option(argc, argv, "decode", ""); !f.empty())
    return decode(f, std::stoi(option(argc, argv, "threads", "1")));
  if (std::string const f = option(argc, argv, "encode", ""); !f.empty())
    return encode(f, option(argc, argv, "out", ""), std::stoi(option(argc, argv, "threads", "1")));

  std::string const file = option(argc, argv, "file", "");
  int const runs = std::max(1, std::stoi(option(argc, argv, "runs", "3")));
  std::string const rst = option(argc, argv, "rst", "");  // RST's make_fit (or a wrapper)
  fs::path const self = fs::read_symlink("/proc/self/exe");
  fs::path const make_fit = option(argc, argv, "make-fit", (self.parent_path() / "make_fit").string());
  int const cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (file.empty() || !fs::exists(file)) {
    fmt::print(stderr, "usage: {} --file RAWACF [--runs N] [--rst RST_MAKE_FIT]   (a .bz2 copy is made beside it)\n", argv[0]);
    return 1;
  }
  std::string const bz2 = file + ".bz2";
  if (!fs::exists(bz2) && std::system(fmt::format("bzip2 -9 -c '{}' > '{}'", file, bz2).c_str()) != 0)
    throw std::runtime_error("cannot make " + bz2);
  auto const tmp = fs::temp_directory_path();
  auto const out = (tmp / "rstx_bzip2_bench.out").string();
  double const mb = static_cast<double>(fs::file_size(file)) / 1e6;
  fmt::print("file: {} ({:.1f} MB; .bz2 {:.1f} MB); {} cores; median of {} interleaved runs\n", file, mb,
             static_cast<double>(fs::file_size(bz2)) / 1e6, cores, runs);

  std::vector<int> thread_counts{1};
  for (int t = 2; t <= cores; t *= 2) thread_counts.push_back(t);
  if (thread_counts.back() != cores) thread_counts.push_back(cores);

  fmt::print("\n== decompression: MB of rawacf per second\n");
  std::vector<contender> dec{{"bzip2 -dc F.bz2 (baseline)", {"bzip2", "-dc", bz2}}};
  for (int t : thread_counts)
    dec.emplace_back(fmt::format("rstx reader, {} thread(s)", t),
                     std::vector<std::string>{self.string(), "--decode", bz2, "--threads", std::to_string(t)});
  if (auto failed = rstx::bench::run_interleaved(dec, runs); !failed.empty()) throw std::runtime_error(failed + " failed");
  rstx::bench::print_contenders(dec, static_cast<std::int64_t>(mb), "MB", 0);

  fmt::print("\n== compression (level 9, one standard stream): MB of rawacf per second\n");
  std::vector<contender> enc{{"bzip2 -9 -c F (baseline)", {"bzip2", "-9", "-c", file}, out}};
  for (int t : thread_counts)
    enc.emplace_back(fmt::format("rstx writer, {} thread(s)", t),
                     std::vector<std::string>{self.string(), "--encode", file, "--out", out + ".bz2", "--threads", std::to_string(t)});
  if (auto failed = rstx::bench::run_interleaved(enc, runs); !failed.empty()) throw std::runtime_error(failed + " failed");
  rstx::bench::print_contenders(enc, static_cast<std::int64_t>(mb), "MB", 0);

  fmt::print("\n== make_fit -fitacf3 end to end on the .bz2 file: MB of rawacf per second\n");
  std::vector<contender> fit;
  int base = -1;
  if (!rst.empty()) {
    fit.emplace_back("RST: bzip2 -dc | make_fit (baseline)",
                     std::vector<std::string>{"sh", "-c", fmt::format("bzip2 -dc '{}' | '{}' -fitacf3", bz2, rst)}, out);
    base = 0;
  }
  fit.emplace_back("rstx make_fit --threads 1 F.bz2",
                   std::vector<std::string>{make_fit.string(), "-fitacf3", "--threads", "1", bz2}, out);
  fit.emplace_back(fmt::format("rstx make_fit --threads {} F.bz2", cores),
                   std::vector<std::string>{make_fit.string(), "-fitacf3", "--threads", std::to_string(cores), bz2}, out);
  if (auto failed = rstx::bench::run_interleaved(fit, runs); !failed.empty()) throw std::runtime_error(failed + " failed");
  rstx::bench::print_contenders(fit, static_cast<std::int64_t>(mb), "MB", base >= 0 ? base : 0);

  fmt::print("\n== the same with a .fitacf.bz2 output\n");
  std::vector<contender> fitz;
  if (!rst.empty())
    fitz.emplace_back("RST: bzip2 -dc | make_fit | bzip2 (baseline)",
                      std::vector<std::string>{"sh", "-c", fmt::format("bzip2 -dc '{}' | '{}' -fitacf3 | bzip2", bz2, rst)}, out);
  fitz.emplace_back("rstx make_fit --threads 1 -o F.fitacf.bz2",
                    std::vector<std::string>{make_fit.string(), "-fitacf3", "--threads", "1", bz2, "-o", out + ".fitacf.bz2"});
  fitz.emplace_back(fmt::format("rstx make_fit --threads {} -o F.fitacf.bz2", cores),
                    std::vector<std::string>{make_fit.string(), "-fitacf3", "--threads", std::to_string(cores), bz2, "-o",
                                             out + ".fitacf.bz2"});
  if (auto failed = rstx::bench::run_interleaved(fitz, runs); !failed.empty()) throw std::runtime_error(failed + " failed");
  rstx::bench::print_contenders(fitz, static_cast<std::int64_t>(mb), "MB", 0);
  std::error_code ec;
  for (auto const& p : {out, out + ".bz2", out + ".fitacf.bz2"}) fs::remove(p, ec);
  return 0;
} catch (std::exception const& e) {
  fmt::print(stderr, "bzip2_bench: {}\n", e.what());
  return 2;
}
