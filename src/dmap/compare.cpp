#include "rstx/dmap/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace rstx::dmap {

namespace {

constexpr std::size_t max_mismatches_kept = 50;

/** How far a difference goes beyond its tolerance (> 1: outside). Used to rank differences. */
double severity(value_difference const& d, compare_options const& opt) {
  double const tol = opt.atol + opt.rtol * std::abs(d.b);
  if (tol == 0.0) return d.abs_diff == 0.0 ? 0.0 : INFINITY;
  return d.abs_diff / tol;
}

class comparer {
 public:
  comparer(std::int64_t record, compare_options const& opt, compare_result& out)
      : record_(record), opt_(opt), out_(out) {}

  void exact_mismatch(std::string_view field, std::string what) {
    ++out_.exact_mismatches;
    if (out_.mismatches.size() < max_mismatches_kept)
      out_.mismatches.push_back({record_, std::string(field), std::move(what)});
  }

  void floats(std::string_view field, std::uint64_t index, double a, double b, bool bit_identical) {
    auto& st = out_.fields[std::string(field)];
    ++st.values;
    ++out_.values;
    ++out_.float_values;
    if (bit_identical) return;
    ++st.not_identical;
    ++out_.not_identical;
    bool const both_nan = std::isnan(a) && std::isnan(b);
    double const diff = both_nan ? 0.0 : (a == b ? 0.0 : std::abs(a - b));  // inf - inf is nan: equal infs give 0
    bool within = both_nan || a == b ||
                  (std::isfinite(a) && std::isfinite(b) && diff <= opt_.atol + opt_.rtol * std::abs(b));
    double const rel = b != 0.0 ? diff / std::abs(b) : (diff == 0.0 ? 0.0 : INFINITY);
    double const shown_diff = (std::isnan(a) != std::isnan(b) || std::isinf(a) != std::isinf(b)) ? INFINITY : diff;
    if (!within) {
      ++st.beyond_tolerance;
      ++out_.beyond_tolerance;
    }
    st.max_abs_diff = std::max(st.max_abs_diff, shown_diff);
    st.max_rel_diff = std::max(st.max_rel_diff, shown_diff == INFINITY ? INFINITY : rel);
    keep({record_, std::string(field), index, a, b, shown_diff, shown_diff == INFINITY ? INFINITY : rel, within});
  }

  void exact(std::string_view field) {
    ++out_.fields[std::string(field)].values;
    ++out_.values;
  }

 private:
  void keep(value_difference d) {
    auto& v = out_.largest;
    if (opt_.keep_largest == 0) return;
    double const s = severity(d, opt_);
    if (v.size() < opt_.keep_largest) {
      v.push_back(std::move(d));
    } else {
      auto weakest = std::min_element(v.begin(), v.end(), [&](auto const& x, auto const& y) {
        return severity(x, opt_) < severity(y, opt_);
      });
      if (severity(*weakest, opt_) >= s) return;
      *weakest = std::move(d);
    }
    std::stable_sort(v.begin(), v.end(),
                     [&](auto const& x, auto const& y) { return severity(x, opt_) > severity(y, opt_); });
  }

  std::int64_t record_;
  compare_options const& opt_;
  compare_result& out_;
};

bool bytes_equal(std::span<std::byte const> a, std::span<std::byte const> b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

void compare_scalar(scalar_ref const& a, scalar_ref const& b, comparer& c) {
  auto const name = a.name();
  if (a.type() != b.type()) {
    c.exact_mismatch(name, fmt::format("type {} vs {}", type_name(a.type()), type_name(b.type())));
    return;
  }
  if (a.type() == type::string) {
    c.exact(name);
    if (a.as_string() != b.as_string())
      c.exact_mismatch(name, fmt::format("\"{}\" vs \"{}\"", a.as_string(), b.as_string()));
    return;
  }
  if (is_floating(a.type())) {
    c.floats(name, 0, a.to_double(), b.to_double(), bytes_equal(a.bytes(), b.bytes()));
    return;
  }
  c.exact(name);
  if (a.to_int64() != b.to_int64()) c.exact_mismatch(name, fmt::format("{} vs {}", a.to_int64(), b.to_int64()));
}

void compare_array(array_ref const& a, array_ref const& b, comparer& c) {
  auto const name = a.name();
  if (a.type() != b.type()) {
    c.exact_mismatch(name, fmt::format("type {} vs {}", type_name(a.type()), type_name(b.type())));
    return;
  }
  if (a.dims() != b.dims()) {
    c.exact_mismatch(name, fmt::format("dimensions [{}] vs [{}]", fmt::join(a.dims(), ","), fmt::join(b.dims(), ",")));
    return;
  }
  if (a.type() == type::string) {
    auto const sa = a.strings(), sb = b.strings();
    for (std::size_t i = 0; i < sa.size(); ++i) {
      c.exact(name);
      if (sa[i] != sb[i]) c.exact_mismatch(name, fmt::format("[{}] \"{}\" vs \"{}\"", i, sa[i], sb[i]));
    }
    return;
  }
  std::size_t const size = type_size(a.type());
  auto const ba = a.bytes(), bb = b.bytes();
  for (std::uint64_t i = 0; i < a.count(); ++i) {
    if (is_floating(a.type())) {
      bool const same = std::memcmp(ba.data() + i * size, bb.data() + i * size, size) == 0;
      c.floats(name, i, a.to_double(i), b.to_double(i), same);
    } else {
      c.exact(name);
      if (a.to_int64(i) != b.to_int64(i))
        c.exact_mismatch(name, fmt::format("[{}] {} vs {}", i, a.to_int64(i), b.to_int64(i)));
    }
  }
}

/** Pairs the fields of A and B by (name, occurrence) and compares each pair. */
template <class Ref, class GetA, class GetB, class Cmp>
void pair_fields(std::size_t na, std::size_t nb, GetA get_a, GetB get_b, compare_options const& opt, comparer& c,
                 Cmp compare_one, char const* kind) {
  std::unordered_map<std::string_view, std::vector<std::size_t>> in_b;
  for (std::size_t i = 0; i < nb; ++i) in_b[get_b(i).name()].push_back(i);
  std::unordered_map<std::string_view, std::size_t> used;
  for (std::size_t i = 0; i < na; ++i) {
    Ref const fa = get_a(i);
    if (is_ignored(fa.name(), opt.ignore)) continue;
    auto it = in_b.find(fa.name());
    std::size_t const k = used[fa.name()]++;
    if (it == in_b.end() || k >= it->second.size()) {
      c.exact_mismatch(fa.name(), fmt::format("{} only in the first input", kind));
      continue;
    }
    compare_one(fa, get_b(it->second[k]), c);
  }
  for (auto const& [name, idx] : in_b) {
    if (is_ignored(name, opt.ignore)) continue;
    std::size_t const k = used.count(name) ? used[name] : 0;
    for (std::size_t j = k; j < idx.size(); ++j)
      c.exact_mismatch(name, fmt::format("{} only in the second input", kind));
  }
}

}  // namespace

bool is_ignored(std::string_view name, std::vector<std::string> const& patterns) noexcept {
  for (auto const& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (name.substr(0, p.size() - 1) == std::string_view(p).substr(0, p.size() - 1)) return true;
    } else if (name == p) {
      return true;
    }
  }
  return false;
}

void compare_records(record const& a, record const& b, std::int64_t index, compare_options const& opt,
                     compare_result& out) {
  comparer c(index, opt, out);
  pair_fields<scalar_ref>(
      a.num_scalars(), b.num_scalars(), [&](std::size_t i) { return a.scalar(i); },
      [&](std::size_t i) { return b.scalar(i); }, opt, c, compare_scalar, "scalar");
  pair_fields<array_ref>(
      a.num_arrays(), b.num_arrays(), [&](std::size_t i) { return a.array(i); },
      [&](std::size_t i) { return b.array(i); }, opt, c, compare_array, "array");
}

}  // namespace rstx::dmap
