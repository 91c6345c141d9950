#include "rstx/dmap/codec.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace rstx::dmap {

namespace {

// The smallest encodings: a scalar is at least name NUL + type + 1 value byte; an array at least
// name NUL + type + ndim + one extent. Used to reject counts that cannot fit before allocating.
constexpr std::int64_t min_scalar_bytes = 3;
constexpr std::int64_t min_array_bytes = 10;

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    auto const u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) out += c;
    else out += fmt::format("\\x{:02x}", u);
  }
  if (s.size() > 64) out += "...";
  return out;
}

/**
 * Cursor over one record's bytes; every read is bounds-checked first.
 *
 * The record is `declared` bytes long, of which the first `b.size()` are at hand. Structural
 * limits (how much a field may claim) are checked against the declared size; a read that needs
 * bytes not yet at hand sets `incomplete()` and fails, so a prefix of a record can be checked
 * before the rest of it has been read (the reader's resynchronisation does that).
 */
class parser {
 public:
  parser(std::span<std::byte const> b, std::size_t declared, std::int64_t base)
      : b_(b), declared_(declared), base_(base) {}

  [[nodiscard]] std::size_t pos() const noexcept { return pos_; }
  /** Bytes of the record after the cursor (declared, not necessarily at hand). */
  [[nodiscard]] std::size_t left() const noexcept { return declared_ - pos_; }
  [[nodiscard]] std::int64_t abs(std::size_t p) const noexcept { return base_ + static_cast<std::int64_t>(p); }
  /** The last failure was only that the bytes at hand ran out (the record is not all there). */
  [[nodiscard]] bool incomplete() const noexcept { return incomplete_; }

  // Reads a NUL-terminated name; returns its offset and length.
  result<std::pair<std::uint32_t, std::uint32_t>> name(char const* what, std::size_t index) {
    auto const end = terminator();
    if (!end)
      return missing_terminator(fmt::format("the name of {} {} has no terminator before the end of the record", what, index));
    auto const off = static_cast<std::uint32_t>(pos_);
    auto const len = static_cast<std::uint32_t>(*end - pos_);
    pos_ += len + 1;
    return std::pair{off, len};
  }

  result<type> type_code(std::string_view field) {
    if (left() < 1)
      return fail(errc::size_mismatch, fmt::format("field '{}' has no type byte before the end of the record",
                                                   printable(field)), abs(pos_));
    if (auto r = at_hand(1); !r) return unexpected(std::move(r.error()));
    auto const code = static_cast<std::uint8_t>(b_[pos_]);
    auto const t = type_from_code(code);
    if (!t)
      return fail(errc::bad_type, fmt::format("field '{}' has unknown type code {}", printable(field), code),
                  abs(pos_));
    ++pos_;
    return *t;
  }

  /** Reads an int32; `what` (called only on failure) names it in the error. */
  template <class Describe>
  result<std::int32_t> int32(Describe const& what) {
    if (left() < 4)
      return fail(errc::size_mismatch, fmt::format("{} runs past the end of the record", what()), abs(pos_));
    if (auto r = at_hand(4); !r) return unexpected(std::move(r.error()));
    std::int32_t v;
    std::memcpy(&v, b_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }

  // Skips one NUL-terminated string value; returns its length (without the NUL).
  result<std::uint32_t> string_value(std::string_view field) {
    auto const end = terminator();
    if (!end)
      return missing_terminator(fmt::format("string value of '{}' has no terminator before the end of the record",
                                            printable(field)));
    auto const len = static_cast<std::uint32_t>(*end - pos_);
    pos_ += len + 1;
    return len;
  }

  result<void> skip(std::uint64_t n, std::string_view field) {
    if (n > left())
      return fail(errc::size_mismatch,
                  fmt::format("value of '{}' needs {} bytes but only {} remain in the record", printable(field), n,
                              left()), abs(pos_));
    if (auto r = at_hand(static_cast<std::size_t>(n)); !r) return r;
    pos_ += n;
    return {};
  }

  /** Reads the start of a field, its name and type code, into a new entry. */
  result<detail::field_entry> field_start(char const* kind, std::size_t index) {
    detail::field_entry e;
    e.chunk_off = static_cast<std::uint32_t>(pos_);
    auto nm = name(kind, index);
    if (!nm) return unexpected(std::move(nm.error()));
    std::tie(e.name_off, e.name_len) = *nm;
    auto t = type_code(text(e.name_off, e.name_len));
    if (!t) return unexpected(std::move(t.error()));
    e.t = *t;
    return e;
  }

  [[nodiscard]] std::string_view text(std::uint32_t off, std::uint32_t len) const noexcept {
    return {reinterpret_cast<char const*>(b_.data() + off), len};
  }

 private:
  /** Position of the next NUL within the record, or nullopt (incomplete() tells whether the
   *  record simply is not all at hand yet). */
  std::optional<std::size_t> terminator() {
    auto const* start = b_.data() + pos_;
    auto const* nul = static_cast<std::byte const*>(std::memchr(start, 0, b_.size() - pos_));
    if (nul != nullptr) return static_cast<std::size_t>(nul - b_.data());
    incomplete_ = b_.size() < declared_;
    return std::nullopt;
  }
  unexpected missing_terminator(std::string what) const { return fail(errc::bad_string, std::move(what), abs(pos_)); }
  /** n more bytes must be at hand (they are within the record: checked by the caller). */
  result<void> at_hand(std::size_t n) {
    if (n <= b_.size() - pos_) return {};
    incomplete_ = true;
    return fail(errc::truncated, "the record is not all at hand", abs(pos_));
  }

  std::span<std::byte const> b_;
  std::size_t declared_;
  std::int64_t base_;
  std::size_t pos_ = 0;
  bool incomplete_ = false;
};

/** Checks a record's header: its size, and field counts that its size can hold. */
result<void> check_header(record_header const& h, std::int64_t base_offset) {
  if (h.size < static_cast<std::int32_t>(header_size))
    return fail(errc::bad_header, fmt::format("record size field is {} (at least 16 expected)", h.size), base_offset + 4);
  std::int64_t const body = h.size - static_cast<std::int64_t>(header_size);
  if (h.num_scalars < 0 || h.num_arrays < 0)
    return fail(errc::bad_header,
                fmt::format("negative field count ({} scalars, {} arrays)", h.num_scalars, h.num_arrays),
                base_offset + 8);
  if (h.num_scalars * min_scalar_bytes + h.num_arrays * min_array_bytes > body)
    return fail(errc::bad_header,
                fmt::format("{} scalars and {} arrays cannot fit in a record of {} bytes", h.num_scalars,
                            h.num_arrays, h.size),
                base_offset + 8);
  if (std::int64_t{h.num_scalars} + h.num_arrays > max_record_fields)
    return fail(errc::too_large,
                fmt::format("{} scalars and {} arrays: more than the {} fields a record may have", h.num_scalars,
                            h.num_arrays, max_record_fields),
                base_offset + 8);
  return {};
}

/** Receives the fields of a record as they are parsed (or nothing, when only checking). */
struct field_sink {
  std::vector<detail::field_entry>* scalars = nullptr;
  std::vector<detail::field_entry>* arrays = nullptr;
};

/** Parses the fields of a record whose header `h` has been checked, with `p` at its start. */
result<void> parse_fields(record_header const& h, field_sink sink, parser& p) {
  auto const past_header = p.skip(header_size, {});
  if (!past_header) return past_header;

  for (std::int32_t i = 0; i < h.num_scalars; ++i) {
    auto start = p.field_start("scalar", static_cast<std::size_t>(i));
    if (!start) return unexpected(std::move(start.error()));
    detail::field_entry e = *start;
    auto const field = p.text(e.name_off, e.name_len);
    e.data_off = static_cast<std::uint32_t>(p.pos());
    if (e.t == type::string) {
      auto len = p.string_value(field);
      if (!len) return unexpected(std::move(len.error()));
      e.data_len = *len;
    } else {
      if (auto s = p.skip(type_size(e.t), field); !s) return unexpected(std::move(s.error()));
      e.data_len = static_cast<std::uint32_t>(type_size(e.t));
    }
    e.chunk_len = static_cast<std::uint32_t>(p.pos()) - e.chunk_off;
    if (sink.scalars != nullptr) sink.scalars->push_back(e);
  }

  for (std::int32_t i = 0; i < h.num_arrays; ++i) {
    auto start = p.field_start("array", static_cast<std::size_t>(i));
    if (!start) return unexpected(std::move(start.error()));
    detail::field_entry e = *start;
    auto const field = p.text(e.name_off, e.name_len);
    auto const ndim_pos = p.pos();
    auto ndim = p.int32([&] { return fmt::format("dimension count of '{}'", printable(field)); });
    if (!ndim) return unexpected(std::move(ndim.error()));
    if (*ndim < 1 || *ndim > max_array_dims)
      return fail(errc::bad_dims,
                  fmt::format("array '{}' has {} dimensions (allowed 1..{})", printable(field), *ndim, max_array_dims),
                  p.abs(ndim_pos));
    if (static_cast<std::uint64_t>(*ndim) * 4 > p.left())
      return fail(errc::size_mismatch,
                  fmt::format("the {} extents of array '{}' run past the end of the record", *ndim, printable(field)),
                  p.abs(p.pos()));
    e.ndim = static_cast<std::uint32_t>(*ndim);
    e.dims_off = static_cast<std::uint32_t>(p.pos());
    // The product of the extents may not exceed what the rest of the record can hold, which also
    // rules out overflow: each step is checked against that limit before multiplying.
    std::uint64_t const elem = e.t == type::string ? 1 : type_size(e.t);
    std::uint64_t const limit = (p.left() - 4 * e.ndim) / elem;
    std::uint64_t count = 1;
    bool zero = false;
    for (std::uint32_t d = 0; d < e.ndim; ++d) {
      auto const dim_pos = p.pos();
      auto extent = p.int32([] { return std::string("extent"); });  // within the record: checked above
      if (!extent) return unexpected(std::move(extent.error()));       // (but perhaps not at hand yet)
      if (*extent < 0)
        return fail(errc::bad_dims,
                    fmt::format("array '{}' has negative extent {} in dimension {}", printable(field), *extent, d),
                    p.abs(dim_pos));
      if (*extent == 0) zero = true;
      if (!zero && static_cast<std::uint64_t>(*extent) > limit / count)
        return fail(errc::bad_dims,
                    fmt::format("array '{}' declares more elements than its record can hold (extent {} in "
                                "dimension {})", printable(field), *extent, d),
                    p.abs(dim_pos));
      if (!zero) count *= static_cast<std::uint64_t>(*extent);
    }
    e.count = zero ? 0 : count;
    e.data_off = static_cast<std::uint32_t>(p.pos());
    if (e.t == type::string) {
      for (std::uint64_t k = 0; k < e.count; ++k) {
        auto len = p.string_value(field);
        if (!len) return unexpected(std::move(len.error()));
      }
    } else {
      if (auto s = p.skip(e.count * elem, field); !s) return unexpected(std::move(s.error()));
    }
    e.data_len = static_cast<std::uint32_t>(p.pos()) - e.data_off;
    e.chunk_len = static_cast<std::uint32_t>(p.pos()) - e.chunk_off;
    if (sink.arrays != nullptr) sink.arrays->push_back(e);
  }

  if (p.left() != 0)
    return fail(errc::size_mismatch,
                fmt::format("record declares {} bytes but its {} scalars and {} arrays end after {}", h.size,
                            h.num_scalars, h.num_arrays, p.pos()),
                p.abs(p.pos()));
  return {};
}

}  // namespace

record_header read_header(std::span<std::byte const> bytes) noexcept {
  RSTX_ASSERT(bytes.size() >= header_size);
  record_header h;
  std::memcpy(&h.code, bytes.data(), 4);
  std::memcpy(&h.size, bytes.data() + 4, 4);
  std::memcpy(&h.num_scalars, bytes.data() + 8, 4);
  std::memcpy(&h.num_arrays, bytes.data() + 12, 4);
  return h;
}

std::optional<error> check_record_start(std::span<std::byte const> prefix, std::int64_t base_offset) {
  if (prefix.size() < header_size) return std::nullopt;
  auto const h = read_header(prefix);
  if (auto c = check_header(h, base_offset); !c) return std::move(c.error());
  auto const declared = static_cast<std::size_t>(h.size);
  parser p(prefix.first(std::min(prefix.size(), declared)), declared, base_offset);
  auto parsed = parse_fields(h, {}, p);
  if (parsed || p.incomplete()) return std::nullopt;
  return std::move(parsed.error());
}

result<void> decode_into(record& out, std::span<std::byte const> bytes, std::int64_t base_offset) {
  out.clear();
  if (bytes.size() < header_size)
    return fail(errc::truncated, fmt::format("record has {} bytes, fewer than its 16-byte header", bytes.size()),
                base_offset);
  auto const h = read_header(bytes);
  if (h.size >= static_cast<std::int32_t>(header_size) && static_cast<std::uint64_t>(h.size) != bytes.size())
    return fail(errc::bad_header,
                fmt::format("record size field says {} bytes but the record holds {}", h.size, bytes.size()),
                base_offset + 4);
  if (auto c = check_header(h, base_offset); !c) return c;

  // The fields are checked where the bytes are, and the bytes copied only once they all are valid
  // (a resynchronising reader tries many candidates that fail).
  out.scalars_.reserve(static_cast<std::size_t>(h.num_scalars));
  out.arrays_.reserve(static_cast<std::size_t>(h.num_arrays));
  parser p(bytes, bytes.size(), base_offset);
  if (auto parsed = parse_fields(h, {&out.scalars_, &out.arrays_}, p); !parsed) {
    out.clear();
    return parsed;
  }
  out.store_.assign(bytes.begin(), bytes.end());
  out.code_ = h.code;
  return {};
}

result<record> decode(std::span<std::byte const> bytes, std::int64_t base_offset) {
  record r;
  if (auto s = decode_into(r, bytes, base_offset); !s) return unexpected(std::move(s.error()));
  return r;
}

result<std::vector<record>> decode_all(std::span<std::byte const> bytes) {
  std::vector<record> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    auto const index = static_cast<std::int64_t>(out.size());
    if (bytes.size() - pos < header_size)
      return unexpected(error(errc::truncated,
                              fmt::format("input ends {} bytes into a record header", bytes.size() - pos),
                              static_cast<std::int64_t>(pos))
                            .at("<memory>", index));
    auto const h = read_header(bytes.subspan(pos));
    if (h.size < static_cast<std::int32_t>(header_size))
      return unexpected(error(errc::bad_header, fmt::format("record size field is {}", h.size),
                              static_cast<std::int64_t>(pos + 4))
                            .at("<memory>", index));
    if (static_cast<std::uint64_t>(h.size) > bytes.size() - pos)
      return unexpected(error(errc::truncated,
                              fmt::format("record declares {} bytes but the input ends after {}", h.size,
                                          bytes.size() - pos),
                              static_cast<std::int64_t>(pos))
                            .at("<memory>", index));
    auto r = decode(bytes.subspan(pos, static_cast<std::size_t>(h.size)), static_cast<std::int64_t>(pos));
    if (!r) return unexpected(std::move(r.error()).at("<memory>", index));
    out.push_back(std::move(*r));
    pos += static_cast<std::size_t>(h.size);
  }
  return out;
}

result<std::vector<std::byte>> encode(record const& r) {
  std::vector<std::byte> out;
  out.reserve(r.encoded_size());
  if (auto s = r.encode_to(out); !s) return unexpected(std::move(s.error()));
  return out;
}

result<std::vector<std::byte>> encode_all(std::span<record const> records) {
  std::vector<std::byte> out;
  for (auto const& r : records)
    if (auto s = r.encode_to(out); !s) return unexpected(std::move(s.error()));
  return out;
}

bool bitwise_equal(record const& a, record const& b) noexcept {
  if (a.code() != b.code() || a.num_scalars() != b.num_scalars() || a.num_arrays() != b.num_arrays())
    return false;
  for (std::size_t i = 0; i < a.num_scalars(); ++i) {
    auto const x = a.scalar(i), y = b.scalar(i);
    if (x.name() != y.name() || x.type() != y.type() || x.bytes().size() != y.bytes().size() ||
        std::memcmp(x.bytes().data(), y.bytes().data(), x.bytes().size()) != 0)
      return false;
  }
  for (std::size_t i = 0; i < a.num_arrays(); ++i) {
    auto const x = a.array(i), y = b.array(i);
    if (x.name() != y.name() || x.type() != y.type() || x.dims() != y.dims() ||
        x.bytes().size() != y.bytes().size() ||
        std::memcmp(x.bytes().data(), y.bytes().data(), x.bytes().size()) != 0)
      return false;
  }
  return true;
}

}  // namespace rstx::dmap
