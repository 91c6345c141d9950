#pragma once
// Parallel bzip2 without changing the format: one ordinary bzip2 stream in, one out.
//
// A bzip2 stream is "BZh" + level digit, then blocks, each starting with the 48-bit magic
// 0x314159265359 at any bit offset and carrying its own CRC, then the 48-bit end-of-stream magic
// 0x177245385090 and the combined CRC of the blocks. Blocks are independent, so:
//
// - decoding finds every place where a magic appears (at any bit offset), cuts the input there,
//   and decodes the pieces on several threads, each handed to libbz2 as a one-block stream made
//   up on the spot. A magic can also occur by chance inside a block's data: the piece before it
//   then fails to decode, and is decoded again joined with the following pieces. Every block is
//   checked by its CRC, every stream by its combined CRC, and the bytes come out in order, with
//   a bounded number of blocks in flight.
// - encoding cuts the input exactly where bzip2 itself ends its blocks (the same run-length
//   accounting libbz2 does), compresses the pieces on several threads as one-block streams, and
//   joins their blocks bit by bit into one stream with the combined CRC. The result is
//   byte-identical to `bzip2 -N` of the same data, whatever the thread count.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "source.hpp"
#include "rstx/core/error.hpp"

namespace rstx::dmap::detail {

struct bzip2_parallel_options {
  int threads = 2;       ///< decoding threads (blocks in flight: this many)
  bool recover = false;  ///< skip a block that cannot be decoded instead of failing
  /** Test hook: extra cut points (absolute bit offsets) treated like magics found in the data. */
  std::vector<std::int64_t> forced_cuts;
};

/** Decodes the bzip2 stream(s) of `compressed` (positioned at the first "BZh"), in parallel. */
[[nodiscard]] std::unique_ptr<byte_source> make_parallel_bzip2_source(std::unique_ptr<byte_source> compressed,
                                                                      bzip2_parallel_options options);

/** Compresses into one standard bzip2 stream on several threads (see above). */
class parallel_bzip2_encoder {
 public:
  parallel_bzip2_encoder(int level, int threads);
  ~parallel_bzip2_encoder();
  parallel_bzip2_encoder(parallel_bzip2_encoder const&) = delete;
  parallel_bzip2_encoder& operator=(parallel_bzip2_encoder const&) = delete;

  /** Takes `in`; appends whatever compressed bytes are ready to `out`; `finish` ends the stream. */
  [[nodiscard]] result<void> put(std::span<std::byte const> in, bool finish, std::vector<std::byte>& out);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace rstx::dmap::detail
