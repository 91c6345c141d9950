#include "rstx/grid/detail/median_windows.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <limits>
#include <new>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Lanes are GCC/clang vector extensions passed between inline functions of one build only;
// src/grid/CMakeLists.txt turns off the note (-Wpsabi) that wide vectors would cross object files
// differently with AVX.

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RSTX_MEDIAN_WIDE_BUILDS 1
#endif

namespace rstx::grid::detail {

namespace {

/** Storage for lanes, 64-byte aligned. Not std::vector: outside a build with AVX-512, GCC gives the
 *  64-byte lane type an alignment of 16, so its allocator hands out memory that the AVX-512
 *  build's aligned loads fault on. Contents are not kept across a resize. */
template <class T>
class lane_buffer {
 public:
  lane_buffer() = default;
  lane_buffer(lane_buffer const&) = delete;
  lane_buffer& operator=(lane_buffer const&) = delete;
  ~lane_buffer() { std::free(data_); }
  void resize(std::size_t n) {
    if (n <= capacity_) return;
    constexpr std::size_t alignment = 64;
    std::size_t const bytes = (n * sizeof(T) + alignment - 1) / alignment * alignment;
    void* const p = std::aligned_alloc(alignment, bytes);
    if (p == nullptr) throw std::bad_alloc();
    std::free(data_);
    data_ = static_cast<T*>(p);
    capacity_ = n;
  }
  T* data() noexcept { return data_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }

 private:
  T* data_ = nullptr;
  std::size_t capacity_ = 0;
};

/** order = the indices of `windows` by increasing size (a counting sort). */
void by_size(std::span<window_entries const> windows, std::vector<std::uint32_t>& count,
             std::vector<std::uint32_t>& order) {
  std::uint32_t largest = 0;
  for (auto const& w : windows) largest = std::max(largest, w.size);
  count.assign(largest + 2, 0);
  for (auto const& w : windows) ++count[w.size + 1];
  for (std::size_t s = 1; s < count.size(); ++s) count[s] += count[s - 1];
  order.resize(windows.size());
  for (std::size_t i = 0; i < windows.size(); ++i) order[count[windows[i].size]++] = static_cast<std::uint32_t>(i);
}

}  // namespace

// The builds: baseline x86-64 (SSE2, two windows per group), x86-64-v2 (SSE4.2, whose 64-bit
// integer comparisons the lane masks and counters need; two windows), AVX2 (four) and AVX-512
// (eight).
namespace median_baseline {
namespace {
#define RSTX_MEDIAN_LANES 2
#include "median_group.inc"
}  // namespace
}  // namespace median_baseline

#if defined(RSTX_MEDIAN_WIDE_BUILDS)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("sse4.2"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("sse4.2")
#endif
namespace median_sse42 {
namespace {
#define RSTX_MEDIAN_LANES 2
#include "median_group.inc"
}  // namespace
}  // namespace median_sse42
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2")
#endif
namespace median_avx2 {
namespace {
#define RSTX_MEDIAN_LANES 4
#include "median_group.inc"
}  // namespace
}  // namespace median_avx2
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl")
#endif
namespace median_avx512 {
namespace {
#define RSTX_MEDIAN_LANES 8
#include "median_group.inc"
}  // namespace
}  // namespace median_avx512
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

namespace {

using windows_step = void (*)(std::span<window_entries const>, gate_entry const*, int, window_medians*);

#if defined(RSTX_MEDIAN_WIDE_BUILDS)
bool has_avx512() noexcept {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl");
}
#endif

windows_step step_for(median_code_path path) noexcept {
#if defined(RSTX_MEDIAN_WIDE_BUILDS)
  switch (path) {
    case median_code_path::best:
      for (auto widest : {median_code_path::avx512, median_code_path::avx2, median_code_path::sse42})
        if (auto const step = step_for(widest)) return step;
      return median_baseline::all_windows;
    case median_code_path::avx512: return has_avx512() ? median_avx512::all_windows : nullptr;
    case median_code_path::sse42: return __builtin_cpu_supports("sse4.2") ? median_sse42::all_windows : nullptr;
    case median_code_path::avx2: return __builtin_cpu_supports("avx2") ? median_avx2::all_windows : nullptr;
    case median_code_path::baseline: return median_baseline::all_windows;
  }
  return nullptr;
#else
  return path == median_code_path::best || path == median_code_path::baseline ? median_baseline::all_windows
                                                                               : nullptr;
#endif
}

}  // namespace

bool median_code_path_available(median_code_path path) noexcept { return step_for(path) != nullptr; }

void medians_by_velocity(std::span<window_entries const> windows, gate_entry const* entries, int values,
                         window_medians* out, median_code_path path) {
  windows_step const step = step_for(path);
  (step != nullptr ? step : median_baseline::all_windows)(windows, entries, values, out);
}

}  // namespace rstx::grid::detail
