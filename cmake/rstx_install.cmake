# What `make install` and `make package` deliver, in the usual FHS places under the prefix:
#   bin/make_fit, bin/make_grid, bin/rstx         the programs (they find their tables through ../share)
#   bin/rst-processor                              the processing service (when its libraries were found)
#   share/rstx/rst-processor.toml                  its settings, every key documented with its default
#   share/rstx/tables/                             rstx's own tables (tables/README.md; CMakeLists.txt)
#   share/man/man1/{make_fit,make_grid,rstx}.1.gz  man pages made from the programs' own --help (help2man)
#   share/doc/rstx/                                README.md, tables-README.md, the docs
# Tests and benchmarks are never installed.
include(GNUInstallDirs)

set(RSTX_PROGRAMS make_fit make_grid rstx)
if(TARGET rst-processor)
  list(APPEND RSTX_PROGRAMS rst-processor)
  install(FILES deploy/rst-processor.toml DESTINATION ${CMAKE_INSTALL_DATADIR}/rstx)
  install(DIRECTORY deploy/systemd deploy/prometheus deploy/logrotate DESTINATION ${CMAKE_INSTALL_DATADIR}/rstx/deploy)
endif()
install(TARGETS ${RSTX_PROGRAMS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES tables/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME tables-README.md)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Man pages from --help and --version, so that they say what the programs do (Debian's help2man;
# without it there are no man pages, and the install says so).
find_program(RSTX_HELP2MAN help2man)
if(RSTX_HELP2MAN)
  set(rstx_man_make_fit "fit SuperDARN rawacf records with FITACF 3.0 or 2.5 (RST-compatible, rstx)")
  set(rstx_man_make_grid "grid fitted SuperDARN scans in AACGM-v2 coordinates (RST-compatible, rstx)")
  set(rstx_man_rstx "inspect, check, compare, convert and simulate SuperDARN DMAP files")
  set(rstx_man_rst-processor "the rstx processing service: rawacf files in, fitacf files and daily grids out")
  set(rstx_man_pages)
  foreach(program ${RSTX_PROGRAMS})
    # Compressed, as Debian installs man pages (man reads them either way).
    set(page ${PROJECT_BINARY_DIR}/man/${program}.1.gz)
    add_custom_command(OUTPUT ${page}
                       COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
                       COMMAND ${RSTX_HELP2MAN} --no-info --no-discard-stderr "--name=${rstx_man_${program}}"
                               --output=${PROJECT_BINARY_DIR}/man/${program}.1 $<TARGET_FILE:${program}>
                       COMMAND gzip -9nf ${PROJECT_BINARY_DIR}/man/${program}.1
                       DEPENDS ${program} rstx_builtin_tables
                       COMMENT "Man page ${program}.1 (help2man)"
                       VERBATIM)
    list(APPEND rstx_man_pages ${page})
  endforeach()
  add_custom_target(rstx_man_pages ALL DEPENDS ${rstx_man_pages})
  install(FILES ${rstx_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  install(CODE "message(WARNING \"help2man was not found when rstx was configured: no man pages\")")
endif()

# `make package`: a Debian package (apt-get install ./rstx_*.deb). Its dependencies are computed
# from the programs themselves by dpkg-shlibdeps (the programs carry their C++ runtime and the
# compression libraries, so only the C library remains).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rstx)
set(CPACK_PACKAGE_VENDOR "rstx")
set(CPACK_PACKAGE_CONTACT "rstx developers <rstx@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SuperDARN RST processing chain (make_fit, make_grid, rst-processor), fast and checked")
set(CPACK_PACKAGE_DESCRIPTION
    "make_fit (FITACF 3.0 and 2.5) and make_grid giving RST 5.0's answers, with the radar, AACGM-v2 and IGRF tables they need, and rst-processor, the service that turns every arriving rawacf file into fitacf files and daily grids.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
# rstx bench trends draws with matplotlib; rstx bench --rst-bin pipes through bzip2.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3-matplotlib, bzip2")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/SuperDARN/rst")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/package)
include(CPack)
