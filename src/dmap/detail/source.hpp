#pragma once
// Byte sources behind the DMAP reader: raw (descriptor, memory) and decompressing ones.
// A parallel decompressor can be added later as one more byte_source.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rstx/core/error.hpp"
#include "rstx/dmap/reader.hpp"

namespace rstx::dmap::detail {

class byte_source {
 public:
  virtual ~byte_source() = default;
  /** Reads up to n bytes into dst; returns 0 only at the end of the input. */
  [[nodiscard]] virtual result<std::size_t> read(std::byte* dst, std::size_t n) = 0;
};

/** Reads a descriptor; closes it on destruction when `owned`. */
[[nodiscard]] std::unique_ptr<byte_source> make_fd_source(int fd, bool owned);
/** Reads bytes in memory (not copied). */
[[nodiscard]] std::unique_ptr<byte_source> make_memory_source(std::span<std::byte const> bytes);
/** Replays `head` (bytes already read for detection), then continues with `rest`. */
[[nodiscard]] std::unique_ptr<byte_source> make_prefixed_source(std::vector<std::byte> head,
                                                                std::unique_ptr<byte_source> rest);
/** Decompresses `compressed` (which must start at the beginning of the compressed stream). */
[[nodiscard]] std::unique_ptr<byte_source> make_decompressor(compression c, std::unique_ptr<byte_source> compressed);

}  // namespace rstx::dmap::detail
