#include "detail/source.hpp"

#include <bzlib.h>
#include <cerrno>
#include <cstring>
#include <optional>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <fmt/format.h>

namespace rstx::dmap::detail {

namespace {

constexpr std::size_t compressed_chunk = std::size_t{1} << 18;

class fd_source final : public byte_source {
 public:
  fd_source(int fd, bool owned) : fd_(fd), owned_(owned) {}
  ~fd_source() override {
    if (owned_) ::close(fd_);
  }
  fd_source(fd_source const&) = delete;
  fd_source& operator=(fd_source const&) = delete;

  result<std::size_t> read(std::byte* dst, std::size_t n) override {
    for (;;) {
      ssize_t const got = ::read(fd_, dst, n);
      if (got >= 0) return static_cast<std::size_t>(got);
      if (errno == EINTR) continue;
      return unexpected(os_failure("read failed", errno));
    }
  }

 private:
  int fd_;
  bool owned_;
};

class memory_source final : public byte_source {
 public:
  explicit memory_source(std::span<std::byte const> b) : b_(b) {}
  result<std::size_t> read(std::byte* dst, std::size_t n) override {
    std::size_t const k = std::min(n, b_.size() - pos_);
    if (k != 0) std::memcpy(dst, b_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::span<std::byte const> b_;
  std::size_t pos_ = 0;
};

class prefixed_source final : public byte_source {
 public:
  prefixed_source(std::vector<std::byte> head, std::unique_ptr<byte_source> rest)
      : head_(std::move(head)), rest_(std::move(rest)) {}
  result<std::size_t> read(std::byte* dst, std::size_t n) override {
    if (pos_ < head_.size()) {
      std::size_t const k = std::min(n, head_.size() - pos_);
      std::memcpy(dst, head_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return rest_->read(dst, n);
  }

 private:
  std::vector<std::byte> head_;
  std::size_t pos_ = 0;
  std::unique_ptr<byte_source> rest_;
};

/** Input buffer of compressed bytes shared by the decompressors; tracks the compressed offset. */
class compressed_input {
 public:
  explicit compressed_input(std::unique_ptr<byte_source> src) : src_(std::move(src)), buf_(compressed_chunk) {}

  /** Makes more input available when none is left; false at the end of the input. */
  result<bool> refill() {
    if (avail_ != 0) return true;
    if (eof_) return false;
    auto got = src_->read(buf_.data(), buf_.size());
    if (!got) return unexpected(std::move(got.error()));
    if (*got == 0) {
      eof_ = true;
      return false;
    }
    next_ = 0;
    avail_ = *got;
    return true;
  }
  /** Peeks up to `want` bytes (may be fewer at the end of input). */
  result<std::span<std::byte const>> peek(std::size_t want) {
    if (avail_ < want && !eof_) {
      if (avail_ > 0) std::memmove(buf_.data(), buf_.data() + next_, avail_);
      next_ = 0;
      while (avail_ < want && !eof_) {
        auto got = src_->read(buf_.data() + avail_, buf_.size() - avail_);
        if (!got) return unexpected(std::move(got.error()));
        if (*got == 0) eof_ = true;
        avail_ += *got;
      }
    }
    return std::span<std::byte const>(buf_.data() + next_, std::min(want, avail_));
  }
  std::byte* data() noexcept { return buf_.data() + next_; }
  [[nodiscard]] std::size_t avail() const noexcept { return avail_; }
  void consume(std::size_t n) noexcept {
    next_ += n;
    avail_ -= n;
    consumed_ += n;
  }
  [[nodiscard]] std::int64_t consumed() const noexcept { return static_cast<std::int64_t>(consumed_); }
  [[nodiscard]] bool at_end() const noexcept { return eof_ && avail_ == 0; }

 private:
  std::unique_ptr<byte_source> src_;
  std::vector<std::byte> buf_;
  std::size_t next_ = 0;
  std::size_t avail_ = 0;
  std::uint64_t consumed_ = 0;
  bool eof_ = false;
};

bool starts_with_magic(std::span<std::byte const> s, compression c) {
  return s.size() >= 4 && detect_compression(s) == c;
}

/**
 * Shared driver: decompressors differ only in how they start a stream and step through it.
 * Concatenated streams (pbzip2, multi-member gzip) are decoded one after the other. Anything
 * after the last stream that is not another stream is an error, as is input that ends mid-stream.
 */
template <class Codec>
class decompressor final : public byte_source {
 public:
  explicit decompressor(std::unique_ptr<byte_source> src) : in_(std::move(src)) {}
  ~decompressor() override { codec_.end(); }
  decompressor(decompressor const&) = delete;
  decompressor& operator=(decompressor const&) = delete;

  result<std::size_t> read(std::byte* dst, std::size_t n) override {
    if (pending_) return unexpected(*pending_);
    std::size_t produced = 0;
    auto failed = [&](error e) -> result<std::size_t> {
      // Deliver what was decoded before the damage; report the damage on the next call.
      pending_ = std::move(e);
      if (produced > 0) return produced;
      return unexpected(*pending_);
    };
    while (produced < n) {
      if (!active_) {
        auto head = in_.peek(4);
        if (!head) return failed(std::move(head.error()));
        if (head->empty()) break;  // clean end after a complete stream
        if (!starts_with_magic(*head, Codec::kind) && streams_ > 0)
          return failed(error(errc::decompress,
                              fmt::format("unexpected data after the end of the {} stream at compressed byte {}",
                                          to_string(Codec::kind), in_.consumed())));
        if (auto s = codec_.begin(); !s) return failed(std::move(s.error()));
        active_ = true;
        ++streams_;
      }
      if (in_.avail() == 0) {
        // With no input left the codec may still hold output; it gets one call to flush it.
        if (auto more = in_.refill(); !more) return failed(std::move(more.error()));
      }
      std::size_t used = 0;
      std::size_t out = 0;
      auto step = codec_.step(in_.data(), in_.avail(), dst + produced, n - produced, used, out);
      in_.consume(used);
      produced += out;
      if (!step)
        return failed(error(step.error().code,  // decompress, or internal when the decoder ran out of memory
                            fmt::format("{} near compressed byte {}", step.error().what, in_.consumed())));
      if (*step) {  // end of this stream
        codec_.end();
        active_ = false;
      } else if (used == 0 && out == 0 && in_.at_end()) {
        return failed(error(errc::truncated,
                            fmt::format("the {} stream ends unexpectedly after {} compressed bytes (file cut short?)",
                                        to_string(Codec::kind), in_.consumed())));
      }
    }
    return produced;
  }

 private:
  compressed_input in_;
  Codec codec_;
  std::optional<error> pending_;
  bool active_ = false;
  std::size_t streams_ = 0;
};

struct bzip2_codec {
  static constexpr compression kind = compression::bzip2;
  bz_stream s{};
  bool live = false;

  result<void> begin() {
    s = bz_stream{};
    if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return fail(errc::internal, "out of memory: cannot start the bzip2 decoder");
    live = true;
    return {};
  }
  void end() {
    if (live) BZ2_bzDecompressEnd(&s);
    live = false;
  }
  // Returns true at the end of the stream.
  result<bool> step(std::byte* in, std::size_t in_n, std::byte* out, std::size_t out_n, std::size_t& used,
                    std::size_t& produced) {
    auto const in_cap = static_cast<unsigned>(std::min<std::size_t>(in_n, 1u << 30));
    auto const out_cap = static_cast<unsigned>(std::min<std::size_t>(out_n, 1u << 30));
    s.next_in = reinterpret_cast<char*>(in);
    s.avail_in = in_cap;
    s.next_out = reinterpret_cast<char*>(out);
    s.avail_out = out_cap;
    int const rc = BZ2_bzDecompress(&s);
    used = in_cap - s.avail_in;
    produced = out_cap - s.avail_out;
    if (rc == BZ_STREAM_END) return true;
    if (rc == BZ_OK) return false;
    if (rc == BZ_MEM_ERROR) return fail(errc::internal, "out of memory in the bzip2 decoder");
    return fail(errc::decompress, rc == BZ_DATA_ERROR_MAGIC ? "not a bzip2 stream"
                                                            : "corrupt bzip2 data (checksum or block error)");
  }
};

struct gzip_codec {
  static constexpr compression kind = compression::gzip;
  z_stream s{};
  bool live = false;

  result<void> begin() {
    s = z_stream{};
    if (inflateInit2(&s, 15 + 16) != Z_OK) return fail(errc::internal, "out of memory: cannot start the gzip decoder");
    live = true;
    return {};
  }
  void end() {
    if (live) inflateEnd(&s);
    live = false;
  }
  result<bool> step(std::byte* in, std::size_t in_n, std::byte* out, std::size_t out_n, std::size_t& used,
                    std::size_t& produced) {
    auto const in_cap = static_cast<uInt>(std::min<std::size_t>(in_n, 1u << 30));
    auto const out_cap = static_cast<uInt>(std::min<std::size_t>(out_n, 1u << 30));
    s.next_in = reinterpret_cast<Bytef*>(in);
    s.avail_in = in_cap;
    s.next_out = reinterpret_cast<Bytef*>(out);
    s.avail_out = out_cap;
    int const rc = inflate(&s, Z_NO_FLUSH);
    used = in_cap - s.avail_in;
    produced = out_cap - s.avail_out;
    if (rc == Z_STREAM_END) return true;
    if (rc == Z_OK || rc == Z_BUF_ERROR) return false;
    if (rc == Z_MEM_ERROR) return fail(errc::internal, "out of memory in the gzip decoder");
    return fail(errc::decompress, fmt::format("corrupt gzip data ({})", s.msg != nullptr ? s.msg : "inflate error"));
  }
};

struct zstd_codec {
  static constexpr compression kind = compression::zstd;
  ZSTD_DCtx* ctx = nullptr;

  zstd_codec() = default;
  zstd_codec(zstd_codec const&) = delete;
  zstd_codec& operator=(zstd_codec const&) = delete;
  ~zstd_codec() { ZSTD_freeDCtx(ctx); }

  result<void> begin() {
    if (ctx == nullptr) ctx = ZSTD_createDCtx();
    if (ctx == nullptr) return fail(errc::internal, "out of memory: cannot start the zstd decoder");
    // Bound the decoder's window so that a hostile frame header cannot demand gigabytes.
    ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, 27);
    ZSTD_DCtx_reset(ctx, ZSTD_reset_session_only);
    return {};
  }
  void end() {}
  result<bool> step(std::byte* in, std::size_t in_n, std::byte* out, std::size_t out_n, std::size_t& used,
                    std::size_t& produced) {
    ZSTD_inBuffer ib{in, in_n, 0};
    ZSTD_outBuffer ob{out, out_n, 0};
    std::size_t const rc = ZSTD_decompressStream(ctx, &ob, &ib);
    used = ib.pos;
    produced = ob.pos;
    if (ZSTD_isError(rc)) {
      if (ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation) return fail(errc::internal, "out of memory in the zstd decoder");
      return fail(errc::decompress, fmt::format("corrupt zstd data ({})", ZSTD_getErrorName(rc)));
    }
    return rc == 0;  // 0: a frame is complete
  }
};

}  // namespace

std::unique_ptr<byte_source> make_fd_source(int fd, bool owned) { return std::make_unique<fd_source>(fd, owned); }

std::unique_ptr<byte_source> make_memory_source(std::span<std::byte const> bytes) {
  return std::make_unique<memory_source>(bytes);
}

std::unique_ptr<byte_source> make_prefixed_source(std::vector<std::byte> head, std::unique_ptr<byte_source> rest) {
  return std::make_unique<prefixed_source>(std::move(head), std::move(rest));
}

std::unique_ptr<byte_source> make_decompressor(compression c, std::unique_ptr<byte_source> compressed) {
  switch (c) {
    case compression::bzip2: return std::make_unique<decompressor<bzip2_codec>>(std::move(compressed));
    case compression::gzip: return std::make_unique<decompressor<gzip_codec>>(std::move(compressed));
    case compression::zstd: return std::make_unique<decompressor<zstd_codec>>(std::move(compressed));
    case compression::none: break;
  }
  return compressed;
}

}  // namespace rstx::dmap::detail
