#include "rstx/cuda/device.hpp"

namespace rstx::cuda {

bool compiled_with_cuda() noexcept { return false; }

result<std::vector<device_info>> devices() {
  return fail(errc::unsupported, "this build of rstx has no CUDA support (rebuild with nvcc available)");
}

}  // namespace rstx::cuda
