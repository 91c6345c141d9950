// The parallel bzip2 decoder (block finder, joiner, trailer handling) on arbitrary bytes: no crash,
// no hang, and the same verdict as libbz2's own streaming decoder: where one decodes the input,
// the other gives the same bytes. The first input byte also picks cut points forced into the data
// (the chance magics of detail/bzip2_parallel.hpp), which must change nothing.
#include <cstdlib>
#include <span>
#include <vector>

#include "detail/bzip2_parallel.hpp"
#include "detail/source.hpp"

namespace {
using namespace rstx::dmap;

struct outcome {
  std::vector<std::byte> data;
  bool ok = true;
};

outcome drain(std::unique_ptr<detail::byte_source> src) {
  outcome o;
  std::vector<std::byte> buf(4096);
  for (int i = 0; i < 1 << 20; ++i) {
    auto got = src->read(buf.data(), buf.size());
    if (!got) {
      o.ok = false;
      return o;
    }
    if (*got == 0) return o;
    o.data.insert(o.data.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*got));
    if (o.data.size() > (std::size_t{256} << 20)) std::abort();  // more than any block can hold
  }
  std::abort();  // the decoder does not end
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size < 1) return 0;
  // Up to 3 cuts (a real block holds a chance magic about once in 2^48 bits; a few per file
  // exercise the joining, and the joining gives up after 15 pieces).
  std::vector<std::int64_t> cuts;
  for (int k = 1; data[0] % 2 == 1 && k <= 3; ++k) cuts.push_back(static_cast<std::int64_t>(size) * 8 * k / 4 + data[0]);
  std::span<std::byte const> const in(reinterpret_cast<std::byte const*>(data + 1), size - 1);
  auto seq = drain(detail::make_decompressor(compression::bzip2, detail::make_memory_source(in)));
  auto par = drain(detail::make_parallel_bzip2_source(detail::make_memory_source(in), {2, false, cuts}));
  if (seq.ok != par.ok) std::abort();
  if (seq.ok && seq.data != par.data) std::abort();
  (void)drain(detail::make_parallel_bzip2_source(detail::make_memory_source(in), {3, true, {}}));
  return 0;
}
