# rstx version string: the project version plus, inside a git checkout, the commit it was built from.
set(RSTX_GIT_DESCRIBE "")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=10
                  WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                  OUTPUT_VARIABLE RSTX_GIT_DESCRIBE OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(RSTX_GIT_DESCRIBE)
  set(RSTX_VERSION_STRING "${PROJECT_VERSION}+${RSTX_GIT_DESCRIBE}")
else()
  set(RSTX_VERSION_STRING "${PROJECT_VERSION}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/version.hpp.in
               ${PROJECT_BINARY_DIR}/generated/rstx/core/version.hpp @ONLY)
