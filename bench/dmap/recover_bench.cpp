// Recover mode on damaged streams: reading time must grow linearly with the stream, however the
// damage is made. Each kind of damage is built in memory at three sizes (N, 2N, 4N units) and read
// in recover mode; the figures are the time per MB and the ratio of the 4N time to the N time
// (4.0 is linear; the quadratic paths fixed for issue 14 gave 16 and more). The baseline, measured
// in the same run, is a clean stream of the same records at the largest size.
#include <cstring>
#include <functional>

#include <fmt/format.h>

#include "rstx/dmap/codec.hpp"
#include "rstx/dmap/reader.hpp"
#include "timing.hpp"

using rstx::bench::timing;
using bytes = std::vector<std::byte>;

namespace {

void append(bytes& to, bytes const& more) { to.insert(to.end(), more.begin(), more.end()); }

bytes encoded_header(std::int32_t size, std::int32_t scalars, std::int32_t arrays) {
  std::int32_t const h[4] = {0x00010001, size, scalars, arrays};
  bytes b(sizeof h);
  std::memcpy(b.data(), h, sizeof h);
  return b;
}

bytes good_record() {
  rstx::dmap::record r;
  r.add_scalar<std::int16_t>("stid", 66).add_array<float>("data", std::vector<float>(2000, 1.0F));
  return *rstx::dmap::encode(r);
}

/** The kinds of damage, each as a function from a unit count to a stream. */
struct damage {
  char const* name;
  std::function<bytes(int)> make;
};

std::vector<damage> const kinds = {
    {"100 damaged bytes after each record",
     [](int n) {
       bytes s;
       auto const good = good_record();
       for (int i = 0; i < n; ++i) {
         append(s, good);
         s.insert(s.end(), 100, std::byte{0xA5});
       }
       return s;
     }},
    {"sync patterns declaring 7 MiB records",
     [](int n) {
       bytes s;
       auto const unit = encoded_header(7 << 20, 1, 0);
       for (int i = 0; i < n * 500; ++i) append(s, unit);
       s.insert(s.end(), std::size_t{8} << 20, std::byte{0});
       return s;
     }},
    {"one damaged byte after each empty record",
     [](int n) {
       bytes s;
       auto const empty = encoded_header(16, 0, 0);
       for (int i = 0; i < n * 500; ++i) {
         append(s, empty);
         s.push_back(std::byte{0xFF});
       }
       return s;
     }},
};

double read_seconds(bytes const& stream, int runs) {
  rstx::dmap::reader_options opt;
  opt.recover = true;
  return rstx::bench::time_function(runs, [&] {
           auto rd = rstx::dmap::reader::from_memory(stream, "<bench>", opt);
           rstx::dmap::record r;
           while (true) {
             auto got = rd->next(r);
             (void)rd->take_skipped();
             if (!got || !*got) break;
           }
         })
      .median_s;
}

}  // namespace

int main(int argc, char** argv) try {
  int const runs = std::stoi(rstx::bench::option(argc, argv, "runs", "5"));
  int const n = std::stoi(rstx::bench::option(argc, argv, "units", "2000"));
  bytes clean;
  auto const good = good_record();
  for (int i = 0; i < 4 * n; ++i) append(clean, good);
  double const clean_s = read_seconds(clean, runs);
  fmt::print("recover mode, median of {} runs; baseline: a clean stream of {} records ({:.1f} MB) in {:.4f} s, "
             "{:.1f} MB/s\n",
             runs, 4 * n, static_cast<double>(clean.size()) / 1e6, clean_s,
             static_cast<double>(clean.size()) / 1e6 / clean_s);
  for (auto const& k : kinds) {
    double seconds[3] = {};
    double mb[3] = {};
    for (int i = 0; i < 3; ++i) {
      auto const stream = k.make(n << i);
      mb[i] = static_cast<double>(stream.size()) / 1e6;
      seconds[i] = read_seconds(stream, runs);
    }
    fmt::print("{:<44} {:7.1f} MB: {:.4f} s ({:.1f} MB/s, {:.2f}x the clean stream's time per MB); "
               "4x the stream: {:.2f}x the time\n",
               k.name, mb[2], seconds[2], mb[2] / seconds[2], (seconds[2] / mb[2]) / (clean_s / (static_cast<double>(clean.size()) / 1e6)),
               seconds[2] / seconds[0]);
  }
  return 0;
} catch (std::exception const& e) {
  fmt::print(stderr, "recover_bench: {}\n", e.what());
  return 1;
}
