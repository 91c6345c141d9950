// FITACF 3.0 kernels and the device fitter behind rstx/cuda/fitacf3.hpp. No fmt here (nvcc cannot
// compile its compile-time format checks).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "detail/fitacf3_range.hpp"
#include "detail/cuda_error.hpp"
#include "rstx/cuda/device.hpp"
#include "rstx/cuda/fitacf3.hpp"
#include "rstx/fit/fitacf3.hpp"

namespace rstx::cuda {

namespace {

using detail::cuda_error;

namespace m = fit::detail::fitacf3;

constexpr int block_threads = 128;  // ranges of a record in flight; records have 75-300 ranges

/**
 * One block per record of [first, first + gridDim.x): the noise from the ranks of pwr0 (a thread
 * per range), the record plan (thread 0), then a thread per range runs fit_range. Unfitted ranges
 * get zeros, as a fresh host batch has.
 */
__global__ void __launch_bounds__(block_threads)
    fitacf3_kernel(fit::acf_batch_view in, fit::fit_batch_view out, double const* noise_correction,
                   fit::elevation_method method, std::int32_t first) {
  // No constructors run for __shared__ objects: the plan is raw storage that plan_record fills.
  __shared__ alignas(m::record_plan) unsigned char plan_storage[sizeof(m::record_plan)];
  __shared__ float pwr0[fit::max_ranges];
  __shared__ double lowest[fit::max_ranges / 3];
  __shared__ int fitted;
  auto& plan = *reinterpret_cast<m::record_plan*>(plan_storage);
  std::int32_t const i = first + static_cast<std::int32_t>(blockIdx.x);
  fit::record_params const& p = in.rec[i];
  auto const t = static_cast<std::int32_t>(threadIdx.x);
  auto const step = static_cast<std::int32_t>(blockDim.x);

  for (std::int32_t r = t; r < p.nrang; r += step) {
    std::int64_t const g = p.range_begin + r;
    pwr0[r] = in.pwr0[g];
    out.qflg[g] = 0;
    out.gflg[g] = 0;
    out.nlag[g] = 0;
    for (int c = 0; c <= static_cast<int>(fit::fit_column::x_sd_phi); ++c) out.col[c][g] = 0.0F;
  }
  if (t == 0) fitted = 0;
  __syncthreads();
  std::int32_t const third = p.nrang / 3;
  if (p.nave > 0)
    for (std::int32_t r = t; r < p.nrang; r += step)
      if (auto const rank = m::rank_of(pwr0, p.nrang, r); rank < third) lowest[rank] = pwr0[r];
  __syncthreads();
  if (t == 0) {
    double const noise = p.nave > 0 ? m::noise_from_lowest(lowest, third, noise_correction[i], p.noise_search) : 1.0;
    m::plan_record(p, noise, plan);
  }
  __syncthreads();
  int mine = 0;
  for (std::int32_t r = t; r < p.nrang; r += step) mine += m::fit_range(in, p, plan, r, method, out) ? 1 : 0;
  if (mine != 0) atomicAdd(&fitted, mine);
  __syncthreads();
  if (t == 0) out.rec[i] = m::record_result_of(p, plan.noise_pwr, fitted);
}


#define RSTX_CUDA_TRY(call)                                        \
  do {                                                             \
    if (cudaError_t const rc_ = (call); rc_ != cudaSuccess)        \
      return unexpected(cuda_error(#call, rc_));                   \
  } while (false)

/** Grow-only memory: device (cudaMalloc) or pinned host (cudaMallocHost). */
template <bool Pinned>
class arena {
 public:
  arena() = default;
  arena(arena const&) = delete;
  arena& operator=(arena const&) = delete;
  ~arena() { release(); }

  result<void> reserve(std::size_t bytes) {
    if (bytes <= size_) return {};
    release();
    bytes = std::max(bytes, size_ + size_ / 2);
    void* p = nullptr;
    cudaError_t const rc = Pinned ? cudaMallocHost(&p, bytes) : cudaMalloc(&p, bytes);
    if (rc != cudaSuccess) return unexpected(cuda_error(Pinned ? "cudaMallocHost" : "cudaMalloc", rc));
    data_ = static_cast<unsigned char*>(p);
    size_ = bytes;
    return {};
  }
  [[nodiscard]] unsigned char* data() const noexcept { return data_; }

 private:
  void release() noexcept {
    if (data_ != nullptr) {
      if (Pinned) cudaFreeHost(data_);
      else cudaFree(data_);
    }
    data_ = nullptr;
    size_ = 0;
  }
  unsigned char* data_ = nullptr;
  std::size_t size_ = 0;
};

/** Where each array of a batch sits in the arenas (the same offsets on the host and the device). */
struct batch_layout {
  std::size_t rec = 0, correction = 0, pwr0 = 0, acf = 0, xcf = 0, in_bytes = 0;
  std::size_t out_rec = 0, pwr0_db = 0, qflg = 0, gflg = 0, nlag = 0, cols = 0, out_bytes = 0;

  static std::size_t align(std::size_t n) { return (n + 255) & ~std::size_t{255}; }
  batch_layout(std::int64_t n_rec, std::int64_t n_ranges, std::int32_t lag_stride) {
    auto const nr = static_cast<std::size_t>(n_rec), ng = static_cast<std::size_t>(n_ranges);
    std::size_t at = 0;
    auto place = [&](std::size_t& where, std::size_t bytes) {
      where = at;
      at = align(at + bytes);
    };
    place(rec, nr * sizeof(fit::record_params));
    place(correction, nr * sizeof(double));
    place(pwr0, ng * sizeof(float));
    place(acf, ng * static_cast<std::size_t>(lag_stride) * 2 * sizeof(float));
    place(xcf, ng * static_cast<std::size_t>(lag_stride) * 2 * sizeof(float));
    in_bytes = at;
    at = 0;
    place(out_rec, nr * sizeof(fit::record_result));
    place(pwr0_db, ng * sizeof(float));
    place(qflg, ng);
    place(gflg, ng);
    place(nlag, ng * sizeof(std::int16_t));
    place(cols, ng * sizeof(float) * fitacf3_columns);
    out_bytes = at;
  }
  /** FITACF 3.0 writes the columns p_l .. x_sd_phi (the first 19). */
  static constexpr std::size_t fitacf3_columns = static_cast<std::size_t>(fit::fit_column::x_sd_phi) + 1;
};

class device_fitter_impl final : public fitacf3_device {
 public:
  ~device_fitter_impl() override {
    for (auto& s : slots_) {
      for (auto* e : {s.start, s.copied_in, s.fitted, s.copied_out})
        if (e != nullptr) cudaEventDestroy(e);
    }
    for (auto* s : streams_)
      if (s != nullptr) cudaStreamDestroy(s);
  }

  static result<std::unique_ptr<fitacf3_device>> open(fitacf3_device_options const& opt) {
    auto list = devices();
    if (!list) return unexpected(std::move(list.error()));
    if (list->empty()) return fail(errc::cuda, "no CUDA device found (no NVIDIA driver, or it reports no device)");
    auto const found = std::find_if(list->begin(), list->end(), [&](device_info const& d) { return d.index == opt.device; });
    if (found == list->end())
      return fail(errc::cuda, "no CUDA device " + std::to_string(opt.device) + " (this machine has " +
                                  std::to_string(list->size()) + ")");
    if (auto t = self_test(opt.device); !t) return unexpected(std::move(t.error()));
    auto fitter = std::unique_ptr<device_fitter_impl>(new device_fitter_impl(opt, *found));
    RSTX_CUDA_TRY(cudaSetDevice(opt.device));
    for (auto& s : fitter->streams_) RSTX_CUDA_TRY(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return std::unique_ptr<fitacf3_device>(std::move(fitter));
  }

  std::string describe() const override {
    return "CUDA device " + std::to_string(info_.index) + ": " + info_.name + ", sm_" +
           std::to_string(info_.compute_major) + std::to_string(info_.compute_minor) + ", " +
           std::to_string(info_.memory_bytes >> 20) + " MiB";
  }

  fitacf3_device_stats stats() const override { return stats_; }

  result<fit::host_fit_batch> fitacf3(fit::acf_batch_view const& in, fit::elevation_method elevation,
                                      fit::host_fit_batch reuse) override {
    auto const started = std::chrono::steady_clock::now();
    fit::host_fit_batch result = std::move(reuse);
    result.reset(in, fit::fit_algorithm::fitacf3);
    if (in.n_rec == 0) return result;
    for (std::int32_t i = 0; i < in.n_rec; ++i)  // the kernel holds a record's pwr0 in shared memory
      if (in.rec[i].nrang > fit::max_ranges)
        return fail(errc::invalid_argument, "batch record " + std::to_string(i) + ": nrang " +
                                                std::to_string(in.rec[i].nrang) + " above " +
                                                std::to_string(fit::max_ranges));
    RSTX_CUDA_TRY(cudaSetDevice(info_.index));
    batch_layout const at(in.n_rec, in.n_ranges, in.lag_stride);
    if (auto r = device_in_.reserve(at.in_bytes); !r) return unexpected(std::move(r.error()));
    if (auto r = device_out_.reserve(at.out_bytes); !r) return unexpected(std::move(r.error()));
    if (auto r = pinned_in_.reserve(at.in_bytes); !r) return unexpected(std::move(r.error()));
    if (auto r = pinned_out_.reserve(at.out_bytes); !r) return unexpected(std::move(r.error()));
    correction_.resize(static_cast<std::size_t>(in.n_rec));
    fit::detail::noise_corrections(in, correction_.data());

    // Device views of the whole batch; each slice's kernel touches only its records and ranges.
    auto* din = device_in_.data();
    auto* dout = device_out_.data();
    fit::acf_batch_view dev_in = in;
    dev_in.rec = reinterpret_cast<fit::record_params const*>(din + at.rec);
    dev_in.pwr0 = reinterpret_cast<float const*>(din + at.pwr0);
    dev_in.acf = reinterpret_cast<float const*>(din + at.acf);
    dev_in.xcf = reinterpret_cast<float const*>(din + at.xcf);
    fit::fit_batch_view dev_out;
    dev_out.n_rec = in.n_rec;
    dev_out.n_ranges = in.n_ranges;
    dev_out.rec = reinterpret_cast<fit::record_result*>(dout + at.out_rec);
    dev_out.pwr0_db = reinterpret_cast<float*>(dout + at.pwr0_db);
    dev_out.qflg = reinterpret_cast<std::int8_t*>(dout + at.qflg);
    dev_out.gflg = reinterpret_cast<std::int8_t*>(dout + at.gflg);
    dev_out.nlag = reinterpret_cast<std::int16_t*>(dout + at.nlag);
    auto const n_ranges = static_cast<std::size_t>(in.n_ranges);
    for (std::size_t c = 0; c < batch_layout::fitacf3_columns; ++c)
      dev_out.col[c] = reinterpret_cast<float*>(dout + at.cols) + c * n_ranges;
    auto const* dev_correction = reinterpret_cast<double const*>(din + at.correction);

    // Slices of whole records.
    int const wanted = std::max(1, std::min(opt_.slices, in.n_rec / std::max(1, opt_.min_slice_records)));
    // Never shrinks: the slots own their events.
    if (slots_.size() < static_cast<std::size_t>(wanted)) slots_.resize(static_cast<std::size_t>(wanted));
    double stage = 0;
    std::int32_t begin = 0;
    for (int s = 0; s < wanted; ++s) {
      std::int32_t const end = (s + 1 == wanted) ? in.n_rec : begin + (in.n_rec - begin) / (wanted - s);
      auto& slot = slots_[static_cast<std::size_t>(s)];
      slot.first = begin;
      slot.last = end;
      if (auto r = enqueue_slice(in, at, dev_in, dev_out, dev_correction, elevation, slot, streams_[s % 2], stage); !r)
        return unexpected(std::move(r.error()));
      begin = end;
    }
    for (int s = 0; s < wanted; ++s) {
      auto const& slot = slots_[static_cast<std::size_t>(s)];
      RSTX_CUDA_TRY(cudaEventSynchronize(slot.copied_out));
      float ms = 0;
      RSTX_CUDA_TRY(cudaEventElapsedTime(&ms, slot.start, slot.copied_in));
      stats_.copy_in_seconds += ms / 1e3;
      RSTX_CUDA_TRY(cudaEventElapsedTime(&ms, slot.copied_in, slot.fitted));
      stats_.kernel_seconds += ms / 1e3;
      RSTX_CUDA_TRY(cudaEventElapsedTime(&ms, slot.fitted, slot.copied_out));
      stats_.copy_out_seconds += ms / 1e3;
    }
    stage += unstage(in, at, result.view());
    stats_.stage_seconds += stage;
    stats_.batches += 1;
    stats_.records += in.n_rec;
    stats_.ranges += in.n_ranges;
    stats_.wall_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  }

 private:
  struct slice {
    std::int32_t first = 0, last = 0;
    cudaEvent_t start = nullptr, copied_in = nullptr, fitted = nullptr, copied_out = nullptr;
  };

  device_fitter_impl(fitacf3_device_options const& opt, device_info info) : opt_(opt), info_(std::move(info)) {}

  /** Stages one slice's inputs (host copies into pinned memory), then enqueues its copy in, kernel and
   *  copy out on `stream`. */
  result<void> enqueue_slice(fit::acf_batch_view const& in, batch_layout const& at, fit::acf_batch_view const& dev_in,
                             fit::fit_batch_view const& dev_out, double const* dev_correction,
                             fit::elevation_method elevation, slice& slot, cudaStream_t stream, double& stage) {
    for (auto* e : {&slot.start, &slot.copied_in, &slot.fitted, &slot.copied_out})
      if (*e == nullptr) RSTX_CUDA_TRY(cudaEventCreate(e));
    auto const r0 = static_cast<std::size_t>(slot.first), r1 = static_cast<std::size_t>(slot.last);
    auto const g0 = static_cast<std::size_t>(in.rec[slot.first].range_begin);
    auto const g1 = static_cast<std::size_t>(in.rec[slot.last - 1].range_begin + in.rec[slot.last - 1].nrang);
    auto const lag_floats = static_cast<std::size_t>(in.lag_stride) * 2;
    struct piece {
      std::size_t offset;
      void const* host;
      std::size_t bytes;
    };
    piece const inputs[] = {
        {at.rec + r0 * sizeof(fit::record_params), in.rec + r0, (r1 - r0) * sizeof(fit::record_params)},
        {at.correction + r0 * sizeof(double), correction_.data() + r0, (r1 - r0) * sizeof(double)},
        {at.pwr0 + g0 * sizeof(float), in.pwr0 + g0, (g1 - g0) * sizeof(float)},
        {at.acf + g0 * lag_floats * sizeof(float), in.acf + g0 * lag_floats, (g1 - g0) * lag_floats * sizeof(float)},
        {at.xcf + g0 * lag_floats * sizeof(float), in.xcf + g0 * lag_floats, (g1 - g0) * lag_floats * sizeof(float)},
    };
    auto const staged = std::chrono::steady_clock::now();
    for (auto const& p : inputs) std::memcpy(pinned_in_.data() + p.offset, p.host, p.bytes);
    stage += std::chrono::duration<double>(std::chrono::steady_clock::now() - staged).count();
    RSTX_CUDA_TRY(cudaEventRecord(slot.start, stream));
    for (auto const& p : inputs) {
      RSTX_CUDA_TRY(cudaMemcpyAsync(device_in_.data() + p.offset, pinned_in_.data() + p.offset, p.bytes,
                                    cudaMemcpyHostToDevice, stream));
      stats_.bytes_to_device += static_cast<std::int64_t>(p.bytes);
    }
    RSTX_CUDA_TRY(cudaEventRecord(slot.copied_in, stream));
    fitacf3_kernel<<<static_cast<unsigned>(r1 - r0), block_threads, 0, stream>>>(dev_in, dev_out, dev_correction,
                                                                                  elevation, slot.first);
    RSTX_CUDA_TRY(cudaGetLastError());
    RSTX_CUDA_TRY(cudaEventRecord(slot.fitted, stream));
    for (auto const& p : output_pieces(at, static_cast<std::size_t>(in.n_ranges), r0, r1, g0, g1)) {
      RSTX_CUDA_TRY(cudaMemcpyAsync(pinned_out_.data() + p.first, device_out_.data() + p.first, p.second,
                                    cudaMemcpyDeviceToHost, stream));
      stats_.bytes_from_device += static_cast<std::int64_t>(p.second);
    }
    RSTX_CUDA_TRY(cudaEventRecord(slot.copied_out, stream));
    return {};
  }

  /** (offset, bytes) of each output array's part for records [r0, r1) and ranges [g0, g1) of ng. */
  static std::vector<std::pair<std::size_t, std::size_t>> output_pieces(batch_layout const& at, std::size_t ng,
                                                                        std::size_t r0, std::size_t r1, std::size_t g0,
                                                                        std::size_t g1) {
    std::vector<std::pair<std::size_t, std::size_t>> out = {
        {at.out_rec + r0 * sizeof(fit::record_result), (r1 - r0) * sizeof(fit::record_result)},
        {at.pwr0_db + g0 * sizeof(float), (g1 - g0) * sizeof(float)},
        {at.qflg + g0, g1 - g0},
        {at.gflg + g0, g1 - g0},
        {at.nlag + g0 * sizeof(std::int16_t), (g1 - g0) * sizeof(std::int16_t)}};
    for (std::size_t c = 0; c < batch_layout::fitacf3_columns; ++c)
      out.emplace_back(at.cols + (c * ng + g0) * sizeof(float), (g1 - g0) * sizeof(float));
    return out;
  }

  /** Copies the results out of pinned memory into the host batch; returns the seconds it took. */
  double unstage(fit::acf_batch_view const& in, batch_layout const& at, fit::fit_batch_view const& out) const {
    auto const started = std::chrono::steady_clock::now();
    auto const* src = pinned_out_.data();
    auto const nr = static_cast<std::size_t>(in.n_rec), ng = static_cast<std::size_t>(in.n_ranges);
    std::memcpy(out.rec, src + at.out_rec, nr * sizeof(fit::record_result));
    std::memcpy(out.pwr0_db, src + at.pwr0_db, ng * sizeof(float));
    std::memcpy(out.qflg, src + at.qflg, ng);
    std::memcpy(out.gflg, src + at.gflg, ng);
    std::memcpy(out.nlag, src + at.nlag, ng * sizeof(std::int16_t));
    for (std::size_t c = 0; c < batch_layout::fitacf3_columns; ++c)
      std::memcpy(out.col[c], src + at.cols + c * ng * sizeof(float), ng * sizeof(float));
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }

  fitacf3_device_options opt_;
  device_info info_;
  cudaStream_t streams_[2] = {nullptr, nullptr};
  arena<false> device_in_, device_out_;
  arena<true> pinned_in_, pinned_out_;
  std::vector<double> correction_;
  std::vector<slice> slots_;
  fitacf3_device_stats stats_;
};

}  // namespace

result<std::unique_ptr<fitacf3_device>> open_fitacf3(fitacf3_device_options const& opt) {
  try {
    return device_fitter_impl::open(opt);
  } catch (std::bad_alloc const&) {
    return fail(errc::internal, "out of memory opening the CUDA device");
  }
}

}  // namespace rstx::cuda
