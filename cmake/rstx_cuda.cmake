# CUDA settings. No FMA contraction and no fast-math, for the same reason as on the host
# (cmake/rstx_flags.cmake). The architectures are chosen in CMakeLists.txt (sm_90).
# CMake 3.25 does not know nvcc 13's C++20 flag; tell it, so that CUDA targets linking C++20
# libraries get the right dialect.
set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
set(CMAKE_CUDA_STANDARD 20)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
find_package(CUDAToolkit REQUIRED)
target_compile_options(rstx_flags INTERFACE
  $<$<COMPILE_LANGUAGE:CUDA>:--fmad=false -Xcompiler=-ffp-contract=off --expt-relaxed-constexpr>)
