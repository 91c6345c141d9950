// The streaming reader on long streams made from short inputs, the way a hostile file is made: a
// few kB of zstd that expand to hundreds of MB of repeated candidates, damaged stretches or tiny
// fields. The input is a program of runs, each some bytes repeated many times; a thread writes the
// expansion (plain or zstd-compressed, as the first byte says) into a pipe that the reader reads in
// recover mode. The stream is never held in memory, so the fuzzer's memory limit (-rss_limit_mb)
// measures the reader itself, and its time limit catches work that grows faster than the stream.
//
// Input: [mode] then runs of [repeat: u16 little-endian][length: u8][length bytes]; mode bit 0
// selects zstd. At most 256 MB of stream in all.
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <thread>
#include <vector>

#include <zstd.h>

#include "rstx/dmap/reader.hpp"

namespace {

constexpr std::size_t max_stream_bytes = std::size_t{256} << 20;

struct run {
  std::span<std::uint8_t const> bytes;
  std::size_t repeat = 0;
};

std::vector<run> parse_program(std::span<std::uint8_t const> in) {
  std::vector<run> runs;
  std::size_t total = 0;
  std::size_t i = 0;
  while (i + 3 <= in.size()) {
    std::size_t const repeat = in[i] | (static_cast<std::size_t>(in[i + 1]) << 8);
    std::size_t const len = in[i + 2];
    i += 3;
    if (len == 0 || i + len > in.size()) break;
    std::size_t const n = std::min(repeat + 1, (max_stream_bytes - total) / len);
    if (n == 0) break;
    runs.push_back({in.subspan(i, len), n});
    total += n * len;
    i += len;
  }
  return runs;
}

bool write_all(int fd, void const* p, std::size_t n) {
  auto const* b = static_cast<char const*>(p);
  while (n > 0) {
    ssize_t const k = ::write(fd, b, n);
    if (k <= 0) return false;  // the reader stopped (EPIPE): nothing more to do
    b += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

/** Writes the expansion of `runs` to fd, zstd-compressed or not, until done or the reader leaves. */
void produce(int fd, std::vector<run> const& runs, bool zstd) {
  std::vector<char> block;
  ZSTD_CCtx* cctx = zstd ? ZSTD_createCCtx() : nullptr;
  if (cctx != nullptr) ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
  std::vector<char> out(ZSTD_CStreamOutSize());
  auto emit = [&](char const* p, std::size_t n, bool last) {
    if (cctx == nullptr) return write_all(fd, p, n);
    ZSTD_inBuffer in{p, n, 0};
    for (;;) {
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      std::size_t const rc = ZSTD_compressStream2(cctx, &ob, &in, last ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_isError(rc) || !write_all(fd, out.data(), ob.pos)) return false;
      if (last ? rc == 0 : in.pos == in.size) return true;
    }
  };
  bool ok = true;
  for (auto const& r : runs) {
    // Blocks of about 64 kB of whole repetitions keep the writes few.
    std::size_t const per_block = std::max<std::size_t>(1, 65536 / r.bytes.size());
    block.clear();
    for (std::size_t k = 0; k < std::min(per_block, r.repeat); ++k) block.insert(block.end(), r.bytes.begin(), r.bytes.end());
    for (std::size_t done = 0; ok && done < r.repeat; done += per_block) {
      std::size_t const n = std::min(per_block, r.repeat - done) * r.bytes.size();
      ok = emit(block.data(), n, false);
    }
    if (!ok) break;
  }
  if (ok) (void)emit(nullptr, 0, true);
  ZSTD_freeCCtx(cctx);
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  static bool const sigpipe_ignored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();
  (void)sigpipe_ignored;
  if (size < 1) return 0;
  bool const zstd = (data[0] & 1) != 0;
  auto const runs = parse_program(std::span<std::uint8_t const>(data + 1, size - 1));
  int fds[2];
  if (::pipe(fds) != 0) std::abort();
  std::thread writer(produce, fds[1], std::cref(runs), zstd);
  {
    rstx::dmap::reader_options opt;
    opt.recover = true;
    auto rd = rstx::dmap::reader::from_fd(fds[0], "<fuzz>", opt);
    if (rd) {
      rstx::dmap::record r;
      for (;;) {
        auto got = rd->next(r);
        (void)rd->take_skipped();
        if (!got) {
          if (got.error().source != "<fuzz>") std::abort();
          break;
        }
        if (!*got) break;
      }
    }
  }
  ::close(fds[0]);  // a writer still writing gets EPIPE and stops
  writer.join();
  return 0;
}
