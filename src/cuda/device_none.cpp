#include "rstx/cuda/device.hpp"
#include "rstx/cuda/fitacf3.hpp"

namespace rstx::cuda {

namespace {
constexpr char const* no_cuda = "this build of rstx has no CUDA support (rebuild with nvcc available)";
}

bool compiled_with_cuda() noexcept { return false; }

result<std::vector<device_info>> devices() { return fail(errc::unsupported, no_cuda); }

result<void> self_test(int /*device*/) { return fail(errc::unsupported, no_cuda); }

result<std::unique_ptr<fitacf3_device>> open_fitacf3(fitacf3_device_options const& /*opt*/) {
  return fail(errc::unsupported, no_cuda);
}

}  // namespace rstx::cuda
