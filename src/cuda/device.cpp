#include <cuda_runtime.h>

#include <fmt/format.h>

#include "rstx/cuda/device.hpp"

namespace rstx::cuda {

bool compiled_with_cuda() noexcept { return true; }

result<std::vector<device_info>> devices() {
  int count = 0;
  cudaError_t const rc = cudaGetDeviceCount(&count);
  if (rc == cudaErrorNoDevice || rc == cudaErrorInsufficientDriver) {
    (void)cudaGetLastError();  // clear the sticky state of a failed probe
    return std::vector<device_info>{};
  }
  if (rc != cudaSuccess)
    return fail(errc::cuda, fmt::format("cudaGetDeviceCount: {}", cudaGetErrorString(rc)));
  std::vector<device_info> out;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaError_t const e = cudaGetDeviceProperties(&prop, i); e != cudaSuccess)
      return fail(errc::cuda, fmt::format("cudaGetDeviceProperties({}): {}", i, cudaGetErrorString(e)));
    out.push_back({i, prop.name, prop.major, prop.minor, prop.totalGlobalMem, prop.multiProcessorCount});
  }
  return out;
}

}  // namespace rstx::cuda
