// A device self-test: launches a small kernel and checks its result, proving that a device can
// actually run work (a driver can list a device whose context then fails). No fmt here: nvcc
// cannot compile fmt's compile-time format checks.
#include <cuda_runtime.h>

#include <string>
#include <vector>

#include "detail/cuda_error.hpp"
#include "rstx/cuda/device.hpp"

namespace rstx::cuda {

namespace {

using detail::cuda_error;

__global__ void self_test_kernel(int n, int* out) {
  int const i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = i * i + 1;
}


}  // namespace

result<void> self_test(int device) {
  constexpr int n = 1000;
  if (cudaError_t rc = cudaSetDevice(device); rc != cudaSuccess) return unexpected(cuda_error("cudaSetDevice", rc));
  cudaStream_t stream = nullptr;
  if (cudaError_t rc = cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking); rc != cudaSuccess)
    return unexpected(cuda_error("cudaStreamCreate", rc));
  int* d_out = nullptr;
  std::vector<int> host(n, 0);
  result<void> outcome;
  auto check = [&](char const* call, cudaError_t rc) {
    if (rc != cudaSuccess && outcome) outcome = unexpected(cuda_error(call, rc));
    return rc == cudaSuccess;
  };
  if (check("cudaMallocAsync", cudaMallocAsync(reinterpret_cast<void**>(&d_out), n * sizeof(int), stream))) {
    self_test_kernel<<<(n + 255) / 256, 256, 0, stream>>>(n, d_out);
    if (check("self_test_kernel launch", cudaGetLastError()) &&
        check("cudaMemcpyAsync", cudaMemcpyAsync(host.data(), d_out, n * sizeof(int), cudaMemcpyDeviceToHost, stream)))
      check("cudaStreamSynchronize", cudaStreamSynchronize(stream));
    check("cudaFreeAsync", cudaFreeAsync(d_out, stream));
  }
  cudaStreamSynchronize(stream);
  cudaStreamDestroy(stream);
  if (!outcome) return outcome;
  for (int i = 0; i < n; ++i)
    if (host[i] != i * i + 1)
      return fail(errc::cuda, "self-test kernel produced wrong values at element " + std::to_string(i));
  return {};
}

}  // namespace rstx::cuda
