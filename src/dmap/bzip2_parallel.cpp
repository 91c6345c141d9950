// Parallel bzip2 decoding and encoding of ordinary single- or multi-stream files; the design is in
// detail/bzip2_parallel.hpp. Format facts used here (bzip2 1.0.x, as libbz2 writes it): bits are
// packed most significant first; a stream is "BZh" + '1'..'9', blocks, the end-of-stream magic, the
// combined CRC (c = rotl(c, 1) ^ block_crc over the blocks, starting at 0) and zero bits up to a
// byte boundary; a block starts with its magic and its CRC.
#include "detail/bzip2_parallel.hpp"

#include <algorithm>
#include <array>
#include <bzlib.h>
#include <chrono>
#include <cstring>
#include <deque>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <optional>
#include <system_error>

#include <fmt/format.h>

namespace rstx::dmap::detail {

namespace {

constexpr std::uint64_t block_magic = 0x314159265359ULL;
constexpr std::uint64_t end_magic = 0x177245385090ULL;
constexpr std::uint64_t mask48 = (std::uint64_t{1} << 48) - 1;
constexpr std::size_t read_chunk = std::size_t{1} << 20;
/** Largest output accepted from one block: 900 000 bytes can expand 51-fold through bzip2's
 *  first run-length stage at most; anything beyond is corrupt. */
constexpr std::size_t max_block_output = std::size_t{900000} * 51 + 4096;

// ---- bits -------------------------------------------------------------------------------------

/** Up to 57 bits starting at bit `bit` of `p` (size `n` bytes; missing bytes read as zero). */
std::uint64_t bits_at(std::uint8_t const* p, std::size_t n, std::int64_t bit, int count) {
  std::size_t const byte = static_cast<std::size_t>(bit >> 3);
  std::uint64_t w = 0;
  if (byte + 8 <= n) {
    std::memcpy(&w, p + byte, 8);
    w = __builtin_bswap64(w);
  } else {
    for (std::size_t i = 0; i < 8; ++i) w = (w << 8) | (byte + i < n ? p[byte + i] : 0u);
  }
  int const skip = static_cast<int>(bit & 7);
  return (w << skip) >> (64 - count);
}

/** Appends bits, most significant first. */
class bit_writer {
 public:
  void put(std::uint64_t value, int count) {  // count <= 32
    acc_ = (acc_ << count) | (value & ((std::uint64_t{1} << count) - 1));
    fill_ += count;
    while (fill_ >= 8) {
      fill_ -= 8;
      bytes_.push_back(static_cast<std::uint8_t>(acc_ >> fill_));
    }
  }
  /** Appends `count` bits of `p` starting at bit `from`. */
  void put_bits(std::uint8_t const* p, std::size_t n, std::int64_t from, std::int64_t count) {
    if (fill_ == 0 && count >= 8) {  // whole output bytes: a copy, or each byte from two input bytes
      std::size_t const whole = static_cast<std::size_t>(count >> 3);
      std::size_t const at = static_cast<std::size_t>(from >> 3);
      int const shift = static_cast<int>(from & 7);
      std::size_t const base = bytes_.size();
      bytes_.resize(base + whole);
      std::uint8_t* out = bytes_.data() + base;
      if (shift == 0) {
        std::memcpy(out, p + at, whole);
      } else {
        std::uint8_t const* in = p + at;
        std::size_t const safe = at + whole + 1 <= n ? whole : whole - 1;  // in[k + 1] must exist
        for (std::size_t k = 0; k < safe; ++k)
          out[k] = static_cast<std::uint8_t>((in[k] << shift) | (in[k + 1] >> (8 - shift)));
        for (std::size_t k = safe; k < whole; ++k)
          out[k] = static_cast<std::uint8_t>(bits_at(p, n, from + static_cast<std::int64_t>(k) * 8, 8));
      }
      from += static_cast<std::int64_t>(whole) * 8;
      count -= static_cast<std::int64_t>(whole) * 8;
    }
    bytes_.reserve(bytes_.size() + static_cast<std::size_t>(count / 8) + 8);
    while (count >= 32) {
      put(bits_at(p, n, from, 32), 32);
      from += 32;
      count -= 32;
    }
    if (count > 0) put(bits_at(p, n, from, static_cast<int>(count)), static_cast<int>(count));
  }
  /** Pads with zero bits to a byte boundary. */
  void pad() {
    if (fill_ > 0) put(0, 8 - fill_);
  }
  [[nodiscard]] std::int64_t bit_count() const noexcept { return static_cast<std::int64_t>(bytes_.size()) * 8 + fill_; }
  std::vector<std::uint8_t>& bytes() noexcept { return bytes_; }
  /** Moves the complete bytes out (the partial byte stays). */
  void drain_into(std::vector<std::byte>& out) {
    auto const* b = reinterpret_cast<std::byte const*>(bytes_.data());
    out.insert(out.end(), b, b + bytes_.size());
    bytes_.clear();
  }

 private:
  std::vector<std::uint8_t> bytes_;
  std::uint64_t acc_ = 0;
  int fill_ = 0;
};

/**
 * For the 16-bit value at bytes i+1, i+2: which of the 8 bit offsets of each magic starting in
 * byte i can be there (bit k: block magic at offset k; bit 8 + k: end magic at offset k).
 */
struct magic_filter {
  std::array<std::uint16_t, 65536> table{};
  magic_filter() {
    for (int k = 0; k < 8; ++k) {
      table[(block_magic >> (24 + k)) & 0xffff] |= static_cast<std::uint16_t>(1u << k);
      table[(end_magic >> (24 + k)) & 0xffff] |= static_cast<std::uint16_t>(1u << (8 + k));
    }
  }
};
magic_filter const& filter() {
  static magic_filter const f;
  return f;
}

// ---- one block --------------------------------------------------------------------------------

/** A stretch of compressed bits: [start, end) in absolute bit offsets, held in `bytes`. */
struct bit_span {
  std::shared_ptr<std::vector<std::uint8_t> const> owner;  // keeps `data` alive
  std::uint8_t const* data = nullptr;                       // bytes that no one writes any more
  std::size_t size = 0;
  std::int64_t bytes_bit0 = 0;  // absolute bit offset of data[0]
  std::int64_t start = 0;
  std::int64_t end = 0;
};

struct decoded_block {
  std::vector<std::byte> data;
  std::uint32_t crc = 0;
};

/**
 * Decodes the bits of `spans` (consecutive) as one bzip2 block of a stream of `level`, by giving
 * libbz2 a one-block stream: header, the block, the end magic and the block's CRC as the stream's.
 */
result<decoded_block> decode_block(std::vector<bit_span> const& spans, int level, bool unterminated = false) {
  std::int64_t total = 0;
  for (auto const& s : spans) total += s.end - s.start;
  if (total < 80)
    return fail(unterminated ? errc::truncated : errc::decompress, "a bzip2 block too short to hold its header");
  auto const& first = spans.front();
  auto const crc = static_cast<std::uint32_t>(
      bits_at(first.data, first.size, first.start - first.bytes_bit0 + 48, 32));
  bit_writer w;
  w.put(('B' << 16) | ('Z' << 8) | 'h', 24);
  w.put(static_cast<std::uint64_t>('0' + level), 8);
  for (auto const& s : spans) w.put_bits(s.data, s.size, s.start - s.bytes_bit0, s.end - s.start);
  if (!unterminated) {  // unterminated: the bits as they are, to tell a cut-short block from a damaged one
    w.put(end_magic >> 24, 24);
    w.put(end_magic & 0xffffff, 24);
    w.put(crc, 32);
  }
  w.pad();
  auto& in = w.bytes();

  bz_stream s{};
  if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return fail(errc::internal, "out of memory: cannot start the bzip2 decoder");
  decoded_block out;
  out.crc = crc;
  out.data.resize(static_cast<std::size_t>(level) * 100000 + 4096);
  s.next_in = reinterpret_cast<char*>(in.data());
  s.avail_in = static_cast<unsigned>(in.size());
  std::size_t produced = 0;
  int rc = BZ_OK;
  for (;;) {
    if (produced == out.data.size()) {
      if (out.data.size() >= max_block_output) {
        rc = BZ_DATA_ERROR;
        break;
      }
      out.data.resize(std::min(out.data.size() * 2, max_block_output));
    }
    s.next_out = reinterpret_cast<char*>(out.data.data() + produced);
    s.avail_out = static_cast<unsigned>(out.data.size() - produced);
    rc = BZ2_bzDecompress(&s);
    produced = out.data.size() - s.avail_out;
    if (rc != BZ_OK) break;
    if (s.avail_in == 0 && s.avail_out != 0) {  // wants more input than the block has: cut short
      rc = BZ_UNEXPECTED_EOF;
      break;
    }
  }
  BZ2_bzDecompressEnd(&s);
  if (rc == BZ_MEM_ERROR) return fail(errc::internal, "out of memory in the bzip2 decoder");
  if (rc == BZ_UNEXPECTED_EOF) return fail(errc::truncated, "the bzip2 block ends before its end");
  if (rc != BZ_STREAM_END) return fail(errc::decompress, "corrupt bzip2 block (checksum or block error)");
  out.data.resize(produced);
  return out;
}

// ---- the decoder ------------------------------------------------------------------------------

/** More bits than any block of this level can take (its data can grow a little when compressed). */
constexpr std::int64_t longest_block_bits(int level) {
  return static_cast<std::int64_t>(level) * 100000 * 8 * 5 / 4 + 65536;
}

/** What follows an end-of-stream magic. */
struct stream_trailer {
  enum kind_t { unknown, next_stream, end_of_file, garbage, cut_short } kind = unknown;
  std::int64_t next_first_block = 0;  // next_stream: bit offset where its first block must start
  int next_level = 9;
  std::int64_t header_byte = 0;  // where the next stream's header is, or was expected
};

/**
 * The decoding threads: pieces are queued as soon as they are planned and taken by whichever
 * thread is free, so no thread waits while there is planned work. Queued pieces that are no longer
 * wanted are dropped when the pool goes.
 */
class decode_pool {
 public:
  explicit decode_pool(int threads) {
    try {
      for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
    } catch (std::system_error const&) {  // fewer threads than asked: those that started will do
    }
  }
  ~decode_pool() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
      queue_.clear();
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  decode_pool(decode_pool const&) = delete;
  decode_pool& operator=(decode_pool const&) = delete;

  std::shared_future<result<decoded_block>> submit(std::vector<bit_span> spans, int level) {
    std::packaged_task<result<decoded_block>()> task([spans = std::move(spans), level] { return decode_block(spans, level); });
    auto done = task.get_future().share();
    if (workers_.empty()) {  // no thread could be started: decode here
      task();
      return done;
    }
    {
      std::lock_guard lock(m_);
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return done;
  }

 private:
  void work() {
    for (;;) {
      std::packaged_task<result<decoded_block>()> task;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (stop_) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<result<decoded_block>()>> queue_;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

/** One item of the ordered plan the scanner builds: a piece to decode, or an end of stream. */
struct item {
  enum kind_t { piece, stream_end } kind = piece;
  bit_span bits;  // piece: [start, end); stream_end: start = the end magic's offset
  bool ends_at_eof = false;  // piece: no magic after it, the input ended
  int level = 9;
  std::uint32_t stored_crc = 0;  // stream_end
  stream_trailer trailer;        // stream_end
  std::shared_future<result<decoded_block>> job;  // piece
  bool launched = false;
};

class parallel_bzip2_source final : public byte_source {
 public:
  parallel_bzip2_source(std::unique_ptr<byte_source> src, bzip2_parallel_options opt)
      : src_(std::move(src)), opt_(std::move(opt)), pool_(std::make_unique<decode_pool>(std::max(1, opt_.threads))) {
    std::sort(opt_.forced_cuts.begin(), opt_.forced_cuts.end());
  }
  ~parallel_bzip2_source() override { pool_.reset(); }  // first: no thread may outlive the plan
  parallel_bzip2_source(parallel_bzip2_source const&) = delete;
  parallel_bzip2_source& operator=(parallel_bzip2_source const&) = delete;

  result<std::size_t> read(std::byte* dst, std::size_t n) override {
    if (pending_) return unexpected(*pending_);
    std::size_t produced = 0;
    while (produced < n) {
      if (out_pos_ < out_.size()) {
        std::size_t const k = std::min(n - produced, out_.size() - out_pos_);
        std::memcpy(dst + produced, out_.data() + out_pos_, k);
        out_pos_ += k;
        produced += k;
        continue;
      }
      if (finished_) break;
      if (auto step = next_block(); !step) {
        pending_ = std::move(step.error());
        if (produced > 0) return produced;
        return unexpected(*pending_);
      }
    }
    return produced;
  }

 private:
  // -- scanning: the compressed bytes, the magics in them, the plan ------------------------------

  /** Appends up to one chunk of input to the scan buffer (input_ended_ at the end). */
  result<void> read_chunk_in() {
    if (buf().size() + read_chunk > buf().capacity()) new_generation();
    std::size_t const old = buf().size();
    buf().resize(old + read_chunk);
    auto got = src_->read(reinterpret_cast<std::byte*>(buf().data() + old), read_chunk);
    if (!got) {
      buf().resize(old);
      return unexpected(std::move(got.error()));
    }
    buf().resize(old + *got);
    if (*got == 0) input_ended_ = true;
    return {};
  }

  /** Reads and scans one more chunk; false when the input had already ended. */
  result<bool> scan_more() {
    if (input_ended_) return false;
    if (auto r = read_chunk_in(); !r) return unexpected(std::move(r.error()));
    if (auto s = scan(); !s) return unexpected(std::move(s.error()));
    return true;
  }

  [[nodiscard]] std::int64_t buf_end_bit() const noexcept {
    return buf_bit0_ + static_cast<std::int64_t>(buf().size()) * 8;
  }

  /** Finds the magics in the newly read bytes and extends the plan. */
  result<void> scan() {
    auto const& table = filter().table;
    std::size_t const n = buf().size();
    // A magic starting in byte i needs bytes i..i+6; at the end of input the missing ones are zero.
    std::size_t const limit = input_ended_ ? n : (n >= 7 ? n - 6 : 0);
    std::size_t i = scan_next_;
    std::uint8_t const* p = buf().data();
    for (; i < limit; ++i) {
      unsigned const v = ((i + 1 < n ? p[i + 1] : 0u) << 8) | (i + 2 < n ? p[i + 2] : 0u);
      std::uint16_t const hit = table[v];
      if (hit == 0) continue;
      for (int k = 0; k < 8; ++k) {
        bool const b = (hit >> k) & 1u;
        bool const e = (hit >> (8 + k)) & 1u;
        if (!b && !e) continue;
        std::int64_t const bit = static_cast<std::int64_t>(i) * 8 + k;
        if (bit + 48 > static_cast<std::int64_t>(n) * 8) continue;
        std::uint64_t const w = bits_at(p, n, bit, 48) & mask48;
        if (b && w == block_magic) {
          if (auto r = on_magic(buf_bit0_ + bit, false); !r) return r;
        } else if (e && w == end_magic) {
          if (auto r = on_magic(buf_bit0_ + bit, true); !r) return r;
        }
      }
    }
    scan_next_ = i;
    // No magic for longer than any block can be: not bzip2 data. The stretch becomes a piece of its
    // own (it will fail to decode), so that memory stays bounded whatever follows.
    if (std::int64_t const here = buf_bit0_ + static_cast<std::int64_t>(scan_next_) * 8;
        open_start_ >= 0 && here - open_start_ > longest_block_bits(level_) && !input_ended_)
      close_piece(here, false);
    if (auto r = resolve_trailer(); !r) return r;
    if (input_ended_) finish_plan();
    return {};
  }

  /** Forced cuts (the test hook) that fall before `bit` become cuts of their own. */
  void forced_cuts_before(std::int64_t bit) {
    while (forced_next_ < opt_.forced_cuts.size() && opt_.forced_cuts[forced_next_] < bit) {
      std::int64_t const cut = opt_.forced_cuts[forced_next_++];
      if (open_start_ >= 0 && cut > open_start_) close_piece(cut, false);
    }
  }

  result<void> on_magic(std::int64_t bit, bool is_end) {
    forced_cuts_before(bit);
    if (trailer_at_ >= 0) {
      // After an end of stream, nothing counts until the next stream's first block (or its end).
      if (bit < first_block_at_) return {};
      if (auto r = resolve_trailer(); !r) return r;
      if (trailer_at_ >= 0) return {};  // not resolvable yet: the header bytes are not all read
    }
    if (open_start_ >= 0 && bit > open_start_) close_piece(bit, false);
    if (is_end) {
      item it;
      it.kind = item::stream_end;
      it.bits = span_of(bit, bit);
      it.level = level_;
      items_.push_back(std::move(it));
      trailer_at_ = bit;
      std::int64_t const header_byte = (bit + 80 + 7) / 8;
      first_block_at_ = header_byte * 8 + 32;
      open_start_ = -1;
      return resolve_trailer();
    }
    open_start_ = bit;
    return {};
  }

  /** After an end magic: is a stream header next, the end of the file, or something else? */
  result<void> resolve_trailer() {
    if (trailer_at_ < 0) return {};
    std::int64_t const header_byte = (trailer_at_ + 80 + 7) / 8;
    std::int64_t const have = buf_end_bit() / 8;  // absolute bytes read so far
    auto& it = last_stream_end();
    it.trailer.header_byte = header_byte;
    if (have >= header_byte)  // the stored combined CRC is all read
      it.stored_crc = static_cast<std::uint32_t>(bits_at(buf().data(), buf().size(), trailer_at_ - buf_bit0_ + 48, 32));
    if (input_ended_ && have < header_byte) {
      it.trailer.kind = stream_trailer::cut_short;
    } else if (input_ended_ && have == header_byte) {
      it.trailer.kind = stream_trailer::end_of_file;
    } else if (have < header_byte + 4 && !input_ended_) {
      return {};  // wait for more bytes
    } else if (have < header_byte + 4) {
      it.trailer.kind = stream_trailer::garbage;  // a few bytes after the last stream
    } else {
      auto const at = static_cast<std::size_t>(header_byte - buf_bit0_ / 8);
      bool const header = buf()[at] == 'B' && buf()[at + 1] == 'Z' && buf()[at + 2] == 'h' && buf()[at + 3] >= '1' &&
                          buf()[at + 3] <= '9';
      if (header) {
        it.trailer.kind = stream_trailer::next_stream;
        it.trailer.next_first_block = header_byte * 8 + 32;
        it.trailer.next_level = buf()[at + 3] - '0';
        level_ = it.trailer.next_level;
      } else {
        // Either data after the last stream, or an end magic that occurred by chance inside a
        // block: the bits from the magic on stay in the plan as a piece, for joining.
        it.trailer.kind = stream_trailer::garbage;
        open_start_ = trailer_at_;
      }
    }
    trailer_at_ = -1;
    return {};
  }

  item& last_stream_end() {
    for (auto it = items_.rbegin(); it != items_.rend(); ++it)
      if (it->kind == item::stream_end) return *it;
    return items_.back();  // unreachable: called only after a stream end was planned
  }

  void finish_plan() {
    if (plan_finished_) return;
    forced_cuts_before(buf_end_bit());
    if (open_start_ >= 0 && open_start_ < buf_end_bit()) close_piece(buf_end_bit(), true);
    open_start_ = -1;
    plan_finished_ = true;
  }

  void close_piece(std::int64_t end, bool at_eof) {
    item it;
    it.kind = item::piece;
    it.bits = span_of(open_start_, end);
    it.ends_at_eof = at_eof;
    it.level = level_;
    items_.push_back(std::move(it));
    open_start_ = at_eof ? -1 : end;
  }

  /** [start, end) in the scan buffer, shared, not copied: bytes already read are never written
   *  again (the buffer only grows within its capacity; a full one is replaced, see new_generation). */
  bit_span span_of(std::int64_t start, std::int64_t end) {
    return {gen_, buf().data(), buf().size(), buf_bit0_, start, end};
  }

  /**
   * Moves the bytes that pieces still to be planned can need into a fresh buffer, leaving the full
   * one to the pieces that share it (it is freed with the last of them).
   */
  void new_generation() {
    std::int64_t keep_from = scan_next_ > 8 ? buf_bit0_ / 8 + static_cast<std::int64_t>(scan_next_) - 8 : buf_bit0_ / 8;
    if (open_start_ >= 0) keep_from = std::min(keep_from, open_start_ / 8);
    if (trailer_at_ >= 0) keep_from = std::min(keep_from, trailer_at_ / 8);
    std::size_t const drop = static_cast<std::size_t>(std::max<std::int64_t>(0, keep_from - buf_bit0_ / 8));
    auto next = std::make_shared<std::vector<std::uint8_t>>();
    next->reserve(std::max(generation_bytes, buf().size() - drop + 2 * read_chunk));
    next->assign(buf().begin() + static_cast<std::ptrdiff_t>(drop), buf().end());
    gen_ = std::move(next);
    buf_bit0_ += static_cast<std::int64_t>(drop) * 8;
    scan_next_ -= drop;
  }

  // -- decoding: keep `threads` pieces in flight, take their bytes in order ----------------------

  void launch(item& it) {
    if (it.launched || it.kind != item::piece) return;
    it.job = pool_->submit({it.bits}, it.level);
    it.launched = true;
  }

  /** Scans until the plan holds `count` items past the front (or the input ended). */
  result<void> plan_ahead(std::size_t count) {
    while (items_.size() < count && !plan_finished_) {
      auto more = scan_more();
      if (!more) return unexpected(std::move(more.error()));
    }
    return {};
  }

  /** Queues the planned pieces near the front (about two per thread). */
  void launch_ahead() {
    std::size_t const window = static_cast<std::size_t>(std::max(1, opt_.threads)) * 2 + 2;
    for (std::size_t k = 0; k < items_.size() && k < window; ++k) launch(items_[k]);
  }

  [[nodiscard]] std::int64_t compressed_byte(std::int64_t bit) const noexcept { return bit / 8; }

  /** Decodes the next block into out_ (or handles an end of stream); sets finished_ at the end. */
  result<void> next_block() {
    for (;;) {
      if (auto r = plan_ahead(static_cast<std::size_t>(std::max(1, opt_.threads)) * 2 + 2); !r) return r;
      // Pieces that a join swallowed, or that lie before where the next block must start.
      while (!items_.empty() && items_.front().bits.start < expected_) items_.pop_front();
      if (items_.empty()) {
        if (!plan_finished_) continue;
        return fail(errc::truncated, fmt::format("the bzip2 stream ends unexpectedly after {} compressed bytes (file cut short?)",
                                                 buf_end_bit() / 8));
      }
      launch_ahead();
      item& it = items_.front();
      if (it.bits.start > expected_) {
        if (!opt_.recover)
          return fail(errc::decompress, fmt::format("corrupt bzip2 data near compressed byte {} (no block starts there)",
                                                    compressed_byte(expected_)));
        crc_known_ = false;  // skip to the next place where something starts
        expected_ = it.bits.start;
        continue;
      }
      if (it.kind == item::stream_end) {
        auto const trailer = it.trailer;
        if (trailer.kind == stream_trailer::unknown) {  // its header bytes are still to be read
          auto more = scan_more();
          if (!more) return unexpected(std::move(more.error()));
          if (!*more)  // cannot happen: the end of the input resolves every trailer
            return fail(errc::internal, "bzip2 stream end left undecided at the end of the input");
          continue;
        }
        if (trailer.kind == stream_trailer::cut_short)
          return fail(errc::truncated, fmt::format("the bzip2 stream ends unexpectedly after {} compressed bytes (file cut short?)",
                                                   buf_end_bit() / 8));
        if (crc_known_ && it.stored_crc != combined_)
          return fail(errc::decompress, fmt::format("bzip2 stream checksum mismatch at compressed byte {} (corrupt file)",
                                                    compressed_byte(it.bits.start)));
        items_.pop_front();
        switch (trailer.kind) {
          case stream_trailer::next_stream:
            expected_ = trailer.next_first_block;
            combined_ = 0;
            crc_known_ = true;
            continue;
          case stream_trailer::end_of_file:
            finished_ = true;
            return {};
          default:
            return fail(errc::decompress, fmt::format("unexpected data after the end of the bzip2 stream at compressed byte {}",
                                                      trailer.header_byte));
        }
      }
      // A piece: its block, or, when it does not decode, it joined with the pieces after it.
      launch(it);
      auto got = it.job.get();
      std::int64_t end = it.bits.end;
      bool const at_eof = it.ends_at_eof;
      if (!got) {
        if (got.error().code == errc::internal) return unexpected(got.error());
        auto joined = join_following(end);
        if (joined) {
          got = std::move(*joined);
        } else if (auto raw = at_eof ? decode_block({it.bits}, it.level, true) : got; at_eof && !raw && raw.error().code == errc::truncated) {
          // The input ends inside this block (the decoder ran out of bits, not into bad ones).
          return fail(errc::truncated, fmt::format("the bzip2 stream ends unexpectedly after {} compressed bytes (file cut short?)",
                                                   buf_end_bit() / 8));
        } else if (opt_.recover && !at_eof) {
          crc_known_ = false;  // the damaged block is skipped; the DMAP reader resynchronises
          expected_ = it.bits.end;
          continue;
        } else {
          return fail(errc::decompress, fmt::format("corrupt bzip2 data (checksum or block error) in the block at compressed byte {}",
                                                    compressed_byte(it.bits.start)));
        }
      }
      combined_ = ((combined_ << 1) | (combined_ >> 31)) ^ got->crc;
      out_ = std::move(got->data);
      out_pos_ = 0;
      expected_ = end;
      return {};
    }
  }

  /**
   * The front piece did not decode: a magic inside its block's data cut it short. Tries it joined
   * with the next pieces, one more at a time, up to the longest block bzip2 can write and at most
   * 15 more pieces. On success
   * `end` is where the joined block ends.
   */
  std::optional<decoded_block> join_following(std::int64_t& end) {
    auto const& front = items_.front();
    std::int64_t const longest = longest_block_bits(front.level);
    std::vector<bit_span> spans{front.bits};
    // At most 16 pieces: a real block holds a chance magic about once in 2^48 bits, so more than a
    // few in one block means damage (or a hostile file), and the joining must stay linear.
    for (std::size_t k = 1; k < 16; ++k) {
      if (items_.size() <= k && !plan_finished_) {
        if (auto r = plan_ahead(k + 1); !r) return std::nullopt;
      }
      if (items_.size() <= k) return std::nullopt;
      auto const& next = items_[k];
      spans.push_back(next.bits);
      spans.back().end = next.kind == item::piece ? next.bits.end : next.bits.start;
      if (spans.back().end - spans.front().start > longest) return std::nullopt;
      if (next.kind != item::piece) continue;  // an end magic inside the data: keep its bits, go on
      if (auto got = decode_block(spans, front.level)) {
        end = next.bits.end;
        return std::move(*got);
      }
    }
    return std::nullopt;
  }

  std::unique_ptr<byte_source> src_;
  bzip2_parallel_options opt_;
  std::size_t forced_next_ = 0;

  // scanning
  std::vector<std::uint8_t>& buf() noexcept { return *gen_; }
  [[nodiscard]] std::vector<std::uint8_t> const& buf() const noexcept { return *gen_; }
  static constexpr std::size_t generation_bytes = 8 * read_chunk;
  std::shared_ptr<std::vector<std::uint8_t>> gen_ = [] {
    auto v = std::make_shared<std::vector<std::uint8_t>>();
    v->reserve(generation_bytes);
    return v;
  }();
  std::int64_t buf_bit0_ = 0;     // absolute bit offset of buf()[0] (always a multiple of 8)
  std::size_t scan_next_ = 4;     // next byte of buf_ to look at (the first 4 are "BZh?")
  bool input_ended_ = false;
  bool plan_finished_ = false;
  int level_ = 9;
  std::int64_t open_start_ = 32;  // the piece being planned starts here; -1 when none
  std::int64_t trailer_at_ = -1;  // an end magic whose trailer is not yet resolved
  std::int64_t first_block_at_ = 0;
  std::deque<item> items_;

  // decoding
  std::int64_t expected_ = 32;  // where the next block (or end magic) must start
  std::uint32_t combined_ = 0;
  bool crc_known_ = true;
  std::vector<std::byte> out_;
  std::size_t out_pos_ = 0;
  bool finished_ = false;
  std::optional<error> pending_;
  std::unique_ptr<decode_pool> pool_;

 public:
  /** Reads the stream header; the level digit of the first stream. */
  result<void> start() {
    while (buf().size() < 4 && !input_ended_)
      if (auto r = read_chunk_in(); !r) return r;
    static constexpr char header[] = "BZh";
    if (buf().empty()) {  // no input at all: no stream, nothing to deliver (as libbz2's streaming reads it)
      finished_ = true;
      return {};
    }
    if (buf().size() < 4 && std::equal(buf().begin(), buf().end(), header))
      return fail(errc::truncated, fmt::format("the bzip2 stream ends unexpectedly after {} compressed bytes (file cut short?)",
                                               buf().size()));
    if (buf().size() < 4 || buf()[0] != 'B' || buf()[1] != 'Z' || buf()[2] != 'h' || buf()[3] < '1' || buf()[3] > '9')
      return fail(errc::decompress, "not a bzip2 stream");
    level_ = buf()[3] - '0';
    return scan();
  }
};

/** The source that reports a failure to start (no "BZh" header) on its first read. */
class failed_source final : public byte_source {
 public:
  explicit failed_source(error e) : e_(std::move(e)) {}
  result<std::size_t> read(std::byte*, std::size_t) override { return unexpected(e_); }

 private:
  error e_;
};

// ---- the encoder ------------------------------------------------------------------------------

struct encoded_block {
  std::vector<std::uint8_t> stream;  // the one-block stream libbz2 wrote
  std::int64_t block_bits = 0;       // the block: bits [32, 32 + block_bits)
  std::uint32_t crc = 0;
};

result<encoded_block> encode_chunk(std::vector<std::uint8_t> const& chunk, int level) {
  bz_stream s{};
  if (BZ2_bzCompressInit(&s, level, 0, 0) != BZ_OK) return fail(errc::internal, "out of memory: cannot start the bzip2 encoder");
  encoded_block out;
  out.stream.resize(chunk.size() + chunk.size() / 100 + 1024);
  s.next_in = const_cast<char*>(reinterpret_cast<char const*>(chunk.data()));
  s.avail_in = static_cast<unsigned>(chunk.size());
  std::size_t produced = 0;
  int rc = BZ_FINISH_OK;
  while (rc == BZ_FINISH_OK || rc == BZ_RUN_OK) {
    if (produced == out.stream.size()) out.stream.resize(out.stream.size() * 2);
    s.next_out = reinterpret_cast<char*>(out.stream.data() + produced);
    s.avail_out = static_cast<unsigned>(out.stream.size() - produced);
    rc = BZ2_bzCompress(&s, BZ_FINISH);
    produced = out.stream.size() - s.avail_out;
    if (rc == BZ_STREAM_END) break;
  }
  BZ2_bzCompressEnd(&s);
  if (rc != BZ_STREAM_END) return fail(errc::io, "bzip2 compression failed");
  out.stream.resize(produced);
  // The stream ends with the end magic, the combined CRC and 0..7 zero bits: find which.
  auto const* p = out.stream.data();
  std::size_t const n = out.stream.size();
  out.crc = static_cast<std::uint32_t>(bits_at(p, n, 80, 32));
  std::int64_t const total = static_cast<std::int64_t>(n) * 8;
  for (int pad = 0; pad < 8; ++pad) {
    std::int64_t const at = total - pad - 80;
    if (at < 32 + 80) break;
    if ((bits_at(p, n, at, 48) & mask48) == end_magic && bits_at(p, n, at + 48, 32) == out.crc) {
      out.block_bits = at - 32;
      return out;
    }
  }
  // A chunk that became two blocks (the combined CRC is then not the block's): never expected.
  return fail(errc::internal, "bzip2 chunk did not compress to exactly one block");
}

}  // namespace

std::unique_ptr<byte_source> make_parallel_bzip2_source(std::unique_ptr<byte_source> compressed,
                                                        bzip2_parallel_options options) {
  auto src = std::make_unique<parallel_bzip2_source>(std::move(compressed), std::move(options));
  if (auto s = src->start(); !s) return std::make_unique<failed_source>(std::move(s.error()));
  return src;
}

// The encoder's chunks end exactly where libbz2 ends a block: it counts the bytes its first
// run-length stage puts into the block (runs of 4..255 equal bytes take 5, shorter runs their
// length, a run pending when the block is full goes to the next block) and closes the block when
// that count reaches 100000 * level - 19.
struct parallel_bzip2_encoder::impl {
  int level;
  int threads;
  std::int64_t block_max;
  // libbz2's run state, carried from chunk to chunk as it carries it from block to block
  int run_char = 256;
  int run_length = 0;
  std::int64_t in_block = 0;
  std::vector<std::uint8_t> chunk;
  std::deque<std::future<result<encoded_block>>> jobs;
  bit_writer w;
  std::uint32_t combined = 0;
  bool header_written = false;

  impl(int l, int t) : level(std::clamp(l, 1, 9)), threads(std::max(1, t)), block_max(100000LL * level - 19) {}

  void launch_chunk(std::vector<std::uint8_t> c) {
    try {
      jobs.push_back(std::async(std::launch::async, [c = std::move(c), lv = level] { return encode_chunk(c, lv); }));
    } catch (std::system_error const&) {
      std::promise<result<encoded_block>> done;
      done.set_value(encode_chunk(c, level));
      jobs.push_back(done.get_future());
    }
  }

  result<void> append(encoded_block const& b) {
    w.put_bits(b.stream.data(), b.stream.size(), 32, b.block_bits);
    combined = ((combined << 1) | (combined >> 31)) ^ b.crc;
    return {};
  }

  /** Closes the full block: `chunk` goes to a thread, less its pending run (the last run_length
   *  bytes), which opens the next chunk. */
  void close_block() {
    std::size_t const keep = static_cast<std::size_t>(run_length);
    std::vector<std::uint8_t> next(chunk.end() - static_cast<std::ptrdiff_t>(keep), chunk.end());
    chunk.resize(chunk.size() - keep);
    launch_chunk(std::move(chunk));
    chunk = std::move(next);
    in_block = 0;
  }

  /** Joins finished blocks in order; waits while more than `keep` are in flight. */
  result<void> harvest(std::size_t keep) {
    while (!jobs.empty() &&
           (jobs.size() > keep || jobs.front().wait_for(std::chrono::seconds(0)) == std::future_status::ready)) {
      auto b = jobs.front().get();
      jobs.pop_front();
      if (!b) return unexpected(std::move(b.error()));
      if (auto a = append(*b); !a) return a;
    }
    return {};
  }

  result<void> put(std::span<std::byte const> in, bool finish, std::vector<std::byte>& out) {
    if (!header_written) {
      w.put(('B' << 16) | ('Z' << 8) | 'h', 24);
      w.put(static_cast<std::uint64_t>('0' + level), 8);
      header_written = true;
    }
    auto const* p = reinterpret_cast<std::uint8_t const*>(in.data());
    std::size_t const n = in.size();
    std::size_t from = 0;  // bytes of `in` not yet in `chunk`
    for (std::size_t i = 0; i < n; ++i) {
      if (in_block >= block_max) {
        // The block is full before byte i.
        chunk.insert(chunk.end(), p + from, p + i);
        close_block();
        from = i;
        if (auto h = harvest(static_cast<std::size_t>(threads)); !h) return h;
      }
      int const c = p[i];
      if (c != run_char && run_length == 1) {
        in_block += 1;
        run_char = c;
      } else if (c != run_char || run_length == 255) {
        if (run_char < 256) in_block += run_length < 4 ? run_length : 5;
        run_char = c;
        run_length = 1;
      } else {
        ++run_length;
      }
    }
    chunk.insert(chunk.end(), p + from, p + n);
    if (!finish && in_block >= block_max) {
      // libbz2 ends a full block as soon as a call without BZ_FINISH has filled it, pending run
      // aside; with BZ_FINISH the run goes into the last block instead. Do as it does.
      close_block();
    }
    if (finish) {
      if (!chunk.empty()) launch_chunk(std::move(chunk));
      chunk.clear();
      if (auto h = harvest(0); !h) return h;
      w.put(end_magic >> 24, 24);
      w.put(end_magic & 0xffffff, 24);
      w.put(combined, 32);
      w.pad();
    } else if (auto h = harvest(static_cast<std::size_t>(threads)); !h) {
      return h;
    }
    w.drain_into(out);
    return {};
  }
};

parallel_bzip2_encoder::parallel_bzip2_encoder(int level, int threads) : impl_(std::make_unique<impl>(level, threads)) {}
parallel_bzip2_encoder::~parallel_bzip2_encoder() {
  if (impl_)
    for (auto& j : impl_->jobs)
      if (j.valid()) j.wait();
}
result<void> parallel_bzip2_encoder::put(std::span<std::byte const> in, bool finish, std::vector<std::byte>& out) {
  return impl_->put(in, finish, out);
}

}  // namespace rstx::dmap::detail
