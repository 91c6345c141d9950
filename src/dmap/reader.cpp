#include "rstx/dmap/reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <thread>
#include <utility>
#include <unistd.h>

#include <fmt/format.h>

#include "detail/bzip2_parallel.hpp"
#include "detail/source.hpp"
#include "rstx/dmap/codec.hpp"

namespace rstx::dmap {

std::string_view to_string(compression c) noexcept {
  switch (c) {
    case compression::none: return "none";
    case compression::bzip2: return "bzip2";
    case compression::gzip: return "gzip";
    case compression::zstd: return "zstd";
  }
  return "?";
}

compression detect_compression(std::span<std::byte const> h) noexcept {
  auto at = [&](std::size_t i) { return i < h.size() ? static_cast<unsigned char>(h[i]) : 0u; };
  if (at(0) == 'B' && at(1) == 'Z' && at(2) == 'h' && at(3) >= '1' && at(3) <= '9') return compression::bzip2;
  if (at(0) == 0x1f && at(1) == 0x8b) return compression::gzip;
  if (at(0) == 0x28 && at(1) == 0xb5 && at(2) == 0x2f && at(3) == 0xfd) return compression::zstd;
  // A zstd skippable frame (magic 0x184D2A50-5F): pzstd starts its output with one.
  if ((at(0) & 0xf0) == 0x50 && at(1) == 0x2a && at(2) == 0x4d && at(3) == 0x18) return compression::zstd;
  return compression::none;
}

namespace {
constexpr std::size_t read_chunk = std::size_t{1} << 17;
constexpr std::byte sync_pattern[4] = {std::byte{0x01}, std::byte{0x00}, std::byte{0x01}, std::byte{0x00}};
// Decompressors emit a block before checking its checksum, so a damaged block first shows up as
// nonsense records; reading this far past a failed record brings the checksum failure to light.
constexpr std::size_t compressed_block_reach = std::size_t{1} << 20;  // bzip2 blocks are at most 900 kB

/** Window capacity for n bytes from the read position: room for n plus a quarter more (at least a
 *  read chunk), so that moving the unread bytes to the front costs at most 4x the bytes consumed. */
constexpr std::size_t window_for(std::size_t n) noexcept { return n + std::max(read_chunk, n / 4); }
}  // namespace

struct reader::impl {
  std::string name;
  reader_options opt;
  std::unique_ptr<detail::byte_source> src;
  compression comp = compression::none;

  // Read window: bytes [beg, end) of `win` are the stream from offset `pos` on.
  std::vector<std::byte> win;
  std::size_t beg = 0;
  std::size_t end = 0;
  bool eof = false;
  std::int64_t pos = 0;

  std::int64_t index = 0;
  std::int64_t last_offset = -1;
  bool source_failed = false;  // I/O or decompression error: there is nothing to resynchronise on
  std::vector<skipped_region> skipped;  // not yet taken; at most opt.max_pending_skips
  skip_totals totals;
  std::optional<error> sticky;

  [[nodiscard]] std::size_t avail() const noexcept { return end - beg; }

  /**
   * Makes at least n bytes available from beg, unless the input ends first. The window grows for
   * a large n and shrinks back once a smaller one will do, so a single large record (or the reach
   * after a damaged one) does not keep its memory for the rest of the run.
   */
  result<void> fill(std::size_t n) {
    if (avail() >= n || eof) return {};
    if (win.size() - beg < n) {
      if (avail() > 0) std::memmove(win.data(), win.data() + beg, avail());
      end -= beg;
      beg = 0;
      std::size_t const want = window_for(n);
      if (win.size() < n || win.size() > 2 * want) {
        win.resize(want);
        win.shrink_to_fit();
      }
    }
    while (avail() < n && !eof) {
      auto got = src->read(win.data() + end, win.size() - end);
      if (!got) {
        source_failed = true;
        return unexpected(std::move(got.error()));
      }
      if (*got == 0) eof = true;
      end += *got;
    }
    return {};
  }

  void advance(std::size_t n) noexcept {
    beg += n;
    pos += static_cast<std::int64_t>(n);
  }

  [[nodiscard]] std::span<std::byte const> at_hand(std::size_t n) const noexcept {
    return {win.data() + beg, std::min(n, avail())};
  }

  /** The declared size of the record starting here, once its header has been checked. */
  result<std::size_t> record_size() {
    if (auto f = fill(header_size); !f) return unexpected(std::move(f.error()));
    if (avail() < header_size)
      return fail(errc::truncated,
                  fmt::format("input ends {} bytes into a record header (16 bytes)", avail()), pos);
    auto const h = read_header(at_hand(header_size));
    if (h.size < static_cast<std::int32_t>(header_size))
      return fail(errc::bad_header, fmt::format("record size field is {} (at least 16 expected)", h.size), pos + 4);
    if (static_cast<std::uint64_t>(h.size) > opt.max_record_bytes)
      return fail(errc::too_large,
                  fmt::format("record size field is {} bytes, above the limit of {} bytes", h.size,
                              opt.max_record_bytes),
                  pos + 4);
    return static_cast<std::size_t>(h.size);
  }

  /** Decodes the record of `size` bytes starting here (all of them must be at hand). */
  result<bool> take_record(record& out, std::size_t size) {
    if (avail() < size)
      return fail(errc::truncated,
                  fmt::format("record declares {} bytes but the input ends after {}", size, avail()), pos);
    if (auto d = decode_into(out, at_hand(size), pos); !d) return unexpected(std::move(d.error()));
    last_offset = pos;
    advance(size);
    ++index;
    return true;
  }

  /** Tries to read one record at the current position without skipping anything. */
  result<bool> read_here(record& out) {
    if (auto f = fill(header_size); !f) return unexpected(std::move(f.error()));
    if (avail() == 0) return false;
    auto const size = record_size();
    if (!size) return unexpected(std::move(size.error()));
    if (auto f = fill(*size); !f) return unexpected(std::move(f.error()));
    return take_record(out, *size);
  }

  /**
   * Recover mode: whether a valid record starts at this sync pattern. Its fields are checked where
   * they lie as they arrive (the bytes at hand first, then twice as many each round), so that a
   * candidate with a large declared size but nonsense fields costs a few bytes of checking and no
   * reading ahead or copying. Only a record that checks out whole is decoded.
   */
  result<bool> read_candidate(record& out) {
    auto const size = record_size();
    if (!size) return unexpected(std::move(size.error()));
    std::size_t have = std::min(*size, avail());
    for (;;) {
      if (auto bad = check_record_start(at_hand(have), pos)) return unexpected(std::move(*bad));
      if (have == *size) break;
      std::size_t const more = std::min(*size, std::max(2 * have, have + read_chunk));
      if (auto f = fill(more); !f) return unexpected(std::move(f.error()));
      if (avail() < more)
        return fail(errc::truncated,
                    fmt::format("record declares {} bytes but the input ends after {}", *size, avail()), pos);
      have = more;
    }
    return take_record(out, *size);
  }

  void note_skipped(skipped_region region) {
    ++totals.stretches;
    totals.bytes += region.length;
    if (skipped.size() < opt.max_pending_skips) skipped.push_back(std::move(region));
    else ++totals.dropped;
  }

  /** Recover mode: after a failure at the current position, finds the next valid record. */
  result<bool> resync(record& out, error reason) {
    skipped_region region;
    region.offset = pos;
    region.reason = std::move(reason).at(name, index);
    if (avail() > 0) advance(1);
    for (;;) {
      if (auto f = fill(4); !f) return fail_sticky(std::move(f.error()));
      if (avail() < 4) {
        advance(avail());
        region.length = pos - region.offset;
        region.next_record = index;
        note_skipped(std::move(region));
        return false;
      }
      auto const* first = win.data() + beg;
      auto const* last = win.data() + end;
      auto const* hit = std::search(first, last, std::begin(sync_pattern), std::end(sync_pattern));
      if (hit == last) {  // keep the last 3 bytes: a pattern may straddle the window end
        advance(avail() - 3);
        if (eof) {
          advance(avail());
          continue;
        }
        if (auto f = fill(avail() + 1); !f) return fail_sticky(std::move(f.error()));
        continue;
      }
      advance(static_cast<std::size_t>(hit - first));
      auto const candidate = pos;
      auto got = read_candidate(out);
      if (got && *got) {
        region.length = candidate - region.offset;
        region.next_record = index - 1;
        note_skipped(std::move(region));
        return true;
      }
      if (!got && source_failed) return fail_sticky(std::move(got.error()));
      advance(1);
    }
  }

  result<bool> next(record& out) {
    if (sticky) return unexpected(*sticky);
    auto got = read_here(out);
    if (got) {
      if (!*got && opt.reject_empty && index == 0 && totals.stretches == 0)
        return fail_sticky(error(errc::truncated, "the input is empty (no records)", 0));
      return *got;
    }
    if (source_failed) return fail_sticky(std::move(got.error()));
    if (comp != compression::none) {
      if (auto f = fill(compressed_block_reach); !f)
        return fail_sticky(error(f.error().code, f.error().what, pos));
    }
    if (!opt.recover) return fail_sticky(std::move(got.error()));
    return resync(out, std::move(got.error()));
  }

  result<bool> fail_sticky(error e) {
    e = std::move(e).at(name, index).at_offset(pos);
    sticky = e;
    return unexpected(std::move(e));
  }
};

reader::reader(std::unique_ptr<impl> p) noexcept : impl_(std::move(p)) {}
reader::reader(reader&&) noexcept = default;
reader& reader::operator=(reader&&) noexcept = default;
reader::~reader() = default;

result<reader> reader::from_source(std::unique_ptr<detail::byte_source> raw, std::string name,
                                   reader_options const& opt) {
  auto p = std::make_unique<impl>();
  p->name = std::move(name);
  p->opt = opt;
  // Detect compression from the first bytes, then replay them to the chosen decoder.
  std::vector<std::byte> head(4);
  std::size_t have = 0;
  while (have < head.size()) {
    auto got = raw->read(head.data() + have, head.size() - have);
    if (!got) return unexpected(std::move(got.error()).at(p->name));
    if (*got == 0) break;
    have += *got;
  }
  head.resize(have);
  p->comp = detect_compression(head);
  int const threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (p->comp == compression::bzip2 && (threads > 1 || !opt.bzip2_forced_cuts.empty()))
    p->src = detail::make_parallel_bzip2_source(detail::make_prefixed_source(std::move(head), std::move(raw)),
                                                {threads, opt.recover, opt.bzip2_forced_cuts});
  else
    p->src = detail::make_decompressor(p->comp, detail::make_prefixed_source(std::move(head), std::move(raw)));
  return reader(std::move(p));
}

result<reader> reader::from_fd(int fd, std::string name, reader_options const& opt) {
  return from_source(detail::make_fd_source(fd, false), std::move(name), opt);
}

result<reader> reader::from_memory(std::span<std::byte const> bytes, std::string name, reader_options const& opt) {
  return from_source(detail::make_memory_source(bytes), std::move(name), opt);
}

result<reader> reader::open(std::string const& path, reader_options const& opt) {
  if (path == "-") return from_fd(STDIN_FILENO, "<stdin>", opt);
  int const fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return unexpected(os_failure("cannot open", errno).at(path));
  return from_source(detail::make_fd_source(fd, true), path, opt);
}

result<bool> reader::next(record& out) { return impl_->next(out); }

result<std::optional<record>> reader::next() {
  record r;
  auto got = impl_->next(r);
  if (!got) return unexpected(std::move(got.error()));
  if (!*got) return std::optional<record>{};
  return std::optional<record>(std::move(r));
}

std::int64_t reader::records_read() const noexcept { return impl_->index; }
std::int64_t reader::offset() const noexcept { return impl_->pos; }
std::int64_t reader::last_record_offset() const noexcept { return impl_->last_offset; }
compression reader::input_compression() const noexcept { return impl_->comp; }
std::string const& reader::source_name() const noexcept { return impl_->name; }
std::span<skipped_region const> reader::skipped() const noexcept { return impl_->skipped; }
std::vector<skipped_region> reader::take_skipped() { return std::exchange(impl_->skipped, {}); }
skip_totals reader::skipped_totals() const noexcept { return impl_->totals; }

result<std::vector<record>> read_file(std::string const& path, reader_options const& opt) {
  auto rd = reader::open(path, opt);
  if (!rd) return unexpected(std::move(rd.error()));
  std::vector<record> out;
  for (;;) {
    record r;
    auto got = rd->next(r);
    if (!got) return unexpected(std::move(got.error()));
    if (!*got) break;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace rstx::dmap
