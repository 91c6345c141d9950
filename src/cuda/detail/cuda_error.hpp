#pragma once
// A CUDA runtime error as an rstx error. The errors that leave the context unusable (a kernel's
// illegal address, say) are errc::cuda_fatal: every later call in the process fails too.
#include <cuda_runtime.h>

#include <string>

#include "rstx/core/error.hpp"

namespace rstx::cuda::detail {

inline error cuda_error(char const* call, cudaError_t rc) {
  bool const sticky = rc == cudaErrorIllegalAddress || rc == cudaErrorLaunchFailure ||
                      rc == cudaErrorHardwareStackError || rc == cudaErrorIllegalInstruction ||
                      rc == cudaErrorMisalignedAddress;
  return error(sticky ? errc::cuda_fatal : errc::cuda, std::string(call) + ": " + cudaGetErrorString(rc));
}

}  // namespace rstx::cuda::detail
