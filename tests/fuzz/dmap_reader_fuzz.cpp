// The streaming reader (every compression, strict and recover mode) and the product views on
// arbitrary bytes: no crash, no hang, errors carry a location inside the input.
#include <cstdlib>
#include <span>

#include "rstx/dmap/products.hpp"
#include "rstx/dmap/reader.hpp"

namespace {
void read_all(std::span<std::byte const> in, bool recover) {
  rstx::dmap::reader_options opt;
  opt.recover = recover;
  opt.max_record_bytes = std::size_t{1} << 22;
  auto rd = rstx::dmap::reader::from_memory(in, "<fuzz>", opt);
  if (!rd) return;
  rstx::dmap::record r;
  for (int i = 0; i < 100000; ++i) {
    auto got = rd->next(r);
    if (!got) {
      if (got.error().record < 0 || got.error().source != "<fuzz>") std::abort();
      return;
    }
    if (!*got) return;
    for (auto mode : {rstx::dmap::strictness::strict, rstx::dmap::strictness::lenient}) {
      (void)rstx::dmap::validate_record(r, mode);
      (void)rstx::dmap::decode_radar_parms(r, mode);
    }
  }
  std::abort();  // more records than the input can hold: the reader is looping
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::span<std::byte const> const in(reinterpret_cast<std::byte const*>(data), size);
  read_all(in, false);
  read_all(in, true);
  return 0;
}
