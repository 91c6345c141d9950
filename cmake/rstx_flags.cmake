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
