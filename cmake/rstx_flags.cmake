# Compiler flags shared by every rstx target, through the interface target rstx::flags.
#
# Floating point: RST is built with gcc -O3 on x86-64 (SSE2, no FMA). Bit-identical results need
# the same rounding of every operation, so contraction into FMA and fast-math are off everywhere.

add_library(rstx_flags INTERFACE)
add_library(rstx::flags ALIAS rstx_flags)

target_compile_options(rstx_flags INTERFACE
  $<$<COMPILE_LANGUAGE:C,CXX>:-ffp-contract=off -fno-fast-math -fno-finite-math-only>
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
                            -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${RSTX_WERROR}>>:-Werror>
  $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CONFIG:Release>>:-O3>
)

if(RSTX_SANITIZE)
  target_compile_options(rstx_flags INTERFACE
    $<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=address,undefined -fno-sanitize-recover=all
                                -fno-omit-frame-pointer -g>)
  target_link_options(rstx_flags INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all)
endif()

if(RSTX_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "RSTX_FUZZ needs clang (CC=clang CXX=clang++)")
  endif()
  # Everything is instrumented for coverage; the fuzz executables add -fsanitize=fuzzer at link.
  target_compile_options(rstx_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g)
  target_link_options(rstx_flags INTERFACE -fsanitize=address,undefined)
endif()

# Start-up: a program that loads libfmt.so, and through it libstdc++.so, spends about 1 ms more in
# the dynamic loader before main (relocations and symbol lookups: `make_grid --version` takes
# 2.3 ms with them, 1.5 ms without; about 2 % of make_grid's run on the 2-hour file). Debian ships
# no static libfmt, so with RSTX_STATIC_RUNTIME fmt is used header-only and the pipeline programs
# link the C++ runtime statically. Sanitizer and fuzz builds keep the shared runtime (their
# interceptors expect it).
if(RSTX_SANITIZE OR RSTX_FUZZ)
  set(RSTX_STATIC_RUNTIME OFF)
endif()

# For programs whose every C++ dependency is static or header-only (not for those that load a
# shared C++ library such as Google Benchmark's: two copies of the runtime would then meet).
function(rstx_static_runtime target)
  if(RSTX_STATIC_RUNTIME)
    target_link_options(${target} PRIVATE $<$<LINK_LANGUAGE:CXX>:-static-libstdc++ -static-libgcc>)
  endif()
endfunction()

# make_grid's whole run on the 2-hour file is about 20 ms, of which loading libc, libm and the
# compression libraries took 0.5 ms (`make_grid --version` 1.7 ms dynamic, 1.15-1.25 ms static), so
# it is linked fully static. Not make_fit: its CUDA backend loads the driver library at run time, which a
# static program cannot do. make_grid resolves no users or hosts (no NSS), which static glibc lacks.
function(rstx_static_program target)
  rstx_static_runtime(${target})
  if(RSTX_STATIC_RUNTIME)
    target_link_options(${target} PRIVATE $<$<LINK_LANGUAGE:CXX>:-static>)
  endif()
endfunction()
