#include "rstx/dmap/record.hpp"

#include <limits>

namespace rstx::dmap {

namespace {

double widen(type t, std::byte const* p) noexcept {
  switch (t) {
    case type::char_: return detail::load<std::int8_t>(p);
    case type::short_: return detail::load<std::int16_t>(p);
    case type::int_: return detail::load<std::int32_t>(p);
    case type::float_: return detail::load<float>(p);
    case type::double_: return detail::load<double>(p);
    case type::long_: return static_cast<double>(detail::load<std::int64_t>(p));
    case type::uchar: return detail::load<std::uint8_t>(p);
    case type::ushort: return detail::load<std::uint16_t>(p);
    case type::uint: return detail::load<std::uint32_t>(p);
    case type::ulong: return static_cast<double>(detail::load<std::uint64_t>(p));
    case type::string: break;
  }
  RSTX_ASSERT(false && "to_double on a string");
  return 0.0;
}

std::int64_t widen_int(type t, std::byte const* p) noexcept {
  switch (t) {
    case type::char_: return detail::load<std::int8_t>(p);
    case type::short_: return detail::load<std::int16_t>(p);
    case type::int_: return detail::load<std::int32_t>(p);
    case type::long_: return detail::load<std::int64_t>(p);
    case type::uchar: return detail::load<std::uint8_t>(p);
    case type::ushort: return detail::load<std::uint16_t>(p);
    case type::uint: return detail::load<std::uint32_t>(p);
    case type::ulong: return static_cast<std::int64_t>(detail::load<std::uint64_t>(p));
    case type::float_: case type::double_: case type::string: break;
  }
  RSTX_ASSERT(false && "to_int64 on a non-integer");
  return 0;
}

}  // namespace

double scalar_ref::to_double() const noexcept { return widen(t_, data_); }
std::int64_t scalar_ref::to_int64() const noexcept { return widen_int(t_, data_); }

std::vector<std::int32_t> array_ref::dims() const {
  std::vector<std::int32_t> d(ndim_);
  for (std::size_t i = 0; i < ndim_; ++i) d[i] = dim(i);
  return d;
}

double array_ref::to_double(std::size_t i) const noexcept {
  RSTX_ASSERT(i < count_);
  return widen(t_, data_ + i * type_size(t_));
}

std::int64_t array_ref::to_int64(std::size_t i) const noexcept {
  RSTX_ASSERT(i < count_);
  return widen_int(t_, data_ + i * type_size(t_));
}

std::vector<std::string_view> array_ref::strings() const {
  RSTX_ASSERT(t_ == type::string);
  std::vector<std::string_view> out;
  out.reserve(count_);
  auto const* p = reinterpret_cast<char const*>(data_);
  auto const* const end = p + len_;
  for (std::uint64_t i = 0; i < count_; ++i) {
    std::size_t const n = std::char_traits<char>::length(p);  // terminator guaranteed by decode/build
    RSTX_ASSERT(p + n < end);
    out.emplace_back(p, n);
    p += n + 1;
  }
  return out;
}

scalar_ref record::scalar(std::size_t i) const noexcept {
  RSTX_ASSERT(i < scalars_.size());
  auto const& e = scalars_[i];
  scalar_ref s;
  s.name_ = {reinterpret_cast<char const*>(store_.data() + e.name_off), e.name_len};
  s.data_ = store_.data() + e.data_off;
  s.len_ = e.data_len;
  s.t_ = e.t;
  return s;
}

array_ref record::array(std::size_t i) const noexcept {
  RSTX_ASSERT(i < arrays_.size());
  auto const& e = arrays_[i];
  array_ref a;
  a.name_ = {reinterpret_cast<char const*>(store_.data() + e.name_off), e.name_len};
  a.dims_ = store_.data() + e.dims_off;
  a.data_ = store_.data() + e.data_off;
  a.ndim_ = e.ndim;
  a.count_ = e.count;
  a.len_ = e.data_len;
  a.t_ = e.t;
  return a;
}

namespace {
bool name_is(std::vector<std::byte> const& store, detail::field_entry const& e, std::string_view name) noexcept {
  return e.name_len == name.size() &&
         (name.empty() || std::memcmp(store.data() + e.name_off, name.data(), name.size()) == 0);
}
}  // namespace

std::optional<scalar_ref> record::find_scalar(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < scalars_.size(); ++i)
    if (name_is(store_, scalars_[i], name)) return scalar(i);
  return std::nullopt;
}

std::optional<array_ref> record::find_array(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < arrays_.size(); ++i)
    if (name_is(store_, arrays_[i], name)) return array(i);
  return std::nullopt;
}

std::optional<scalar_ref> record::find_scalar_last(std::string_view name, type t) const noexcept {
  for (std::size_t i = scalars_.size(); i-- > 0;)
    if (scalars_[i].t == t && name_is(store_, scalars_[i], name)) return scalar(i);
  return std::nullopt;
}

std::optional<array_ref> record::find_array_last(std::string_view name, type t) const noexcept {
  for (std::size_t i = arrays_.size(); i-- > 0;)
    if (arrays_[i].t == t && name_is(store_, arrays_[i], name)) return array(i);
  return std::nullopt;
}

std::uint32_t record::append(void const* p, std::size_t n) {
  RSTX_ASSERT(store_.size() + n <= std::numeric_limits<std::uint32_t>::max());
  auto const off = static_cast<std::uint32_t>(store_.size());
  if (n == 0) return off;
  auto const* bytes = static_cast<std::byte const*>(p);
  store_.insert(store_.end(), bytes, bytes + n);  // one pass (resize would zero the bytes first)
  return off;
}

detail::field_entry record::begin_field(std::string_view name, type t) {
  RSTX_ASSERT(name.find('\0') == std::string_view::npos);
  detail::field_entry e;
  e.chunk_off = static_cast<std::uint32_t>(store_.size());
  e.name_off = append(name.data(), name.size());
  e.name_len = static_cast<std::uint32_t>(name.size());
  std::byte const tail[2] = {std::byte{0}, static_cast<std::byte>(t)};
  append(tail, 2);
  e.t = t;
  return e;
}

record& record::add_scalar_raw(std::string_view name, type t, void const* value, std::size_t len) {
  auto e = begin_field(name, t);
  e.data_off = append(value, len);
  e.data_len = static_cast<std::uint32_t>(len);
  e.chunk_len = static_cast<std::uint32_t>(store_.size()) - e.chunk_off;
  scalars_.push_back(e);
  return *this;
}

record& record::add_string(std::string_view name, std::string_view value) {
  RSTX_ASSERT(value.find('\0') == std::string_view::npos);
  auto e = begin_field(name, type::string);
  e.data_off = append(value.data(), value.size());
  e.data_len = static_cast<std::uint32_t>(value.size());
  std::byte const nul{0};
  append(&nul, 1);
  e.chunk_len = static_cast<std::uint32_t>(store_.size()) - e.chunk_off;
  scalars_.push_back(e);
  return *this;
}

record& record::add_array_raw(std::string_view name, type t, std::span<std::int32_t const> dims,
                              void const* data, std::size_t count, std::size_t bytes) {
  RSTX_ASSERT(!dims.empty() && dims.size() <= static_cast<std::size_t>(max_array_dims));
  std::uint64_t product = 1;
  for (auto d : dims) {
    RSTX_ASSERT(d >= 0);
    product *= static_cast<std::uint64_t>(d);
  }
  RSTX_ASSERT(product == count);
  auto e = begin_field(name, t);
  auto const ndim = static_cast<std::int32_t>(dims.size());
  append(&ndim, 4);
  e.dims_off = append(dims.data(), dims.size_bytes());
  e.ndim = static_cast<std::uint32_t>(dims.size());
  e.data_off = append(data, bytes);
  e.data_len = static_cast<std::uint32_t>(bytes);
  e.count = count;
  e.chunk_len = static_cast<std::uint32_t>(store_.size()) - e.chunk_off;
  arrays_.push_back(e);
  return *this;
}

record& record::add_string_array(std::string_view name, std::span<std::int32_t const> dims,
                                 std::span<std::string const> strings) {
  std::string joined;
  for (auto const& s : strings) {
    RSTX_ASSERT(s.find('\0') == std::string::npos);
    joined += s;
    joined += '\0';
  }
  return add_array_raw(name, type::string, dims, joined.data(), strings.size(), joined.size());
}

record& record::add_copy(scalar_ref const& s) {
  if (s.type() == type::string) return add_string(s.name(), s.as_string());
  return add_scalar_raw(s.name(), s.type(), s.bytes().data(), s.bytes().size());
}

record& record::add_copy(array_ref const& a) {
  auto const d = a.dims();
  return add_array_raw(a.name(), a.type(), d, a.bytes().data(), a.count(), a.bytes().size());
}

void record::clear() noexcept {
  store_.clear();
  code_ = record_code;
  scalars_.clear();
  arrays_.clear();
}

std::uint64_t record::encoded_size() const noexcept {
  std::uint64_t n = header_size;
  for (auto const& e : scalars_) n += e.chunk_len;
  for (auto const& e : arrays_) n += e.chunk_len;
  return n;
}

result<void> record::encode_to(std::vector<std::byte>& out) const {
  std::uint64_t const size = encoded_size();
  if (size > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max()))
    return fail(errc::too_large, "record would be larger than the 2 GiB a DMAP size field can hold");
  std::int32_t const header[4] = {code_, static_cast<std::int32_t>(size),
                                  static_cast<std::int32_t>(scalars_.size()),
                                  static_cast<std::int32_t>(arrays_.size())};
  std::size_t pos = out.size();
  out.resize(pos + size);
  std::memcpy(out.data() + pos, header, sizeof header);
  pos += sizeof header;
  for (auto const* list : {&scalars_, &arrays_}) {
    for (auto const& e : *list) {
      std::memcpy(out.data() + pos, store_.data() + e.chunk_off, e.chunk_len);
      pos += e.chunk_len;
    }
  }
  return {};
}

}  // namespace rstx::dmap
