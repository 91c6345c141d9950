// Decoding arbitrary bytes as back-to-back records must never crash, over-read or allocate beyond
// the input; whatever decodes must re-encode to the same bytes and decode to the same records.
#include <cstdlib>
#include <span>

#include "rstx/dmap/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::span<std::byte const> const in(reinterpret_cast<std::byte const*>(data), size);
  auto records = rstx::dmap::decode_all(in);
  if (!records) return 0;
  auto bytes = rstx::dmap::encode_all(*records);
  if (!bytes || !std::equal(bytes->begin(), bytes->end(), in.begin(), in.end())) std::abort();
  auto again = rstx::dmap::decode_all(*bytes);
  if (!again || again->size() != records->size()) std::abort();
  for (std::size_t i = 0; i < records->size(); ++i)
    if (!rstx::dmap::bitwise_equal((*again)[i], (*records)[i])) std::abort();
  return 0;
}
