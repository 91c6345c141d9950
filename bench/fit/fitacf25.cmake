# FITACF 2.5 benchmark (include()d by bench/fit/CMakeLists.txt): rstx_bench_fitacf25.
add_executable(rstx_bench_fitacf25 ${CMAKE_CURRENT_LIST_DIR}/fitacf25_bench.cpp)
target_link_libraries(rstx_bench_fitacf25 PRIVATE rstx::fit rstx_bench_fit_fixture benchmark::benchmark fmt::fmt)
target_compile_definitions(rstx_bench_fitacf25 PRIVATE RSTX_SHARED_TABLES="${RSTX_SHARED_DIR}/tables")
if(TARGET make_fit)
  add_dependencies(rstx_bench_fitacf25 make_fit)
endif()
