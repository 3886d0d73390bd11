# Install rules and the CMake package of pycemit, included by the top-level
# CMakeLists.txt after add_subdirectory(tool).
#
#   cmake --install <build> [--prefix P]   installs bin/pycemit, bin/pycemit-python (a symlink),
#     <libdir>/cmake/PycEmit/{PycEmitConfig,PycEmitConfigVersion,PycEmit}.cmake and
#     PycEmit.cmake's helpers, <libdir>/cmake/PycEmit/PycEmit/*.cmake,
#     so that find_package(PycEmit CONFIG REQUIRED) works from P (component "PycEmit").
#   add_subdirectory(pycemit) / FetchContent_MakeAvailable(pycemit) gives the
#     consuming project add_python_bytecode() directly (see PycEmit.cmake).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(PYCEMIT_INSTALL "Install pycemit and its CMake package (find_package(PycEmit))" ${PROJECT_IS_TOP_LEVEL})
set(PYCEMIT_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/PycEmit"
    CACHE STRING "Where PycEmitConfig.cmake and PycEmit.cmake are installed, relative to the prefix")

if(PYCEMIT_INSTALL)
  install(TARGETS pycemit RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT PycEmit)
  # bin/pycemit-python -> pycemit: the drop-in for `python -m compileall|py_compile` (docs/compileall.md).
  install(CODE "execute_process(COMMAND \"\${CMAKE_COMMAND}\" -E create_symlink pycemit
                  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/pycemit-python\")"
          COMPONENT PycEmit)

  set(PYCEMIT_CONFIG_BINDIR "${CMAKE_INSTALL_BINDIR}")
  configure_package_config_file(
    "${CMAKE_CURRENT_LIST_DIR}/PycEmitConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/cmake-package/PycEmitConfig.cmake"
    INSTALL_DESTINATION "${PYCEMIT_INSTALL_CMAKEDIR}"
    PATH_VARS PYCEMIT_CONFIG_BINDIR)
  # A 0.x minor version may change the interface. The package is a build-host
  # tool: a consumer building for another architecture can use it.
  if(PROJECT_VERSION_MAJOR EQUAL 0)
    set(pycemit_compatibility SameMinorVersion)
  else()
    set(pycemit_compatibility SameMajorVersion)
  endif()
  write_basic_package_version_file(
    "${PROJECT_BINARY_DIR}/cmake-package/PycEmitConfigVersion.cmake"
    VERSION "${PROJECT_VERSION}" COMPATIBILITY ${pycemit_compatibility} ARCH_INDEPENDENT)
  install(FILES "${PROJECT_BINARY_DIR}/cmake-package/PycEmitConfig.cmake"
                "${PROJECT_BINARY_DIR}/cmake-package/PycEmitConfigVersion.cmake"
                "${CMAKE_CURRENT_LIST_DIR}/PycEmit.cmake"
          DESTINATION "${PYCEMIT_INSTALL_CMAKEDIR}" COMPONENT PycEmit)
  # PycEmit.cmake's helpers, which it includes from its own directory.
  install(FILES "${CMAKE_CURRENT_LIST_DIR}/PycEmit/Install.cmake"
                "${CMAKE_CURRENT_LIST_DIR}/PycEmit/Plan.cmake"
                "${CMAKE_CURRENT_LIST_DIR}/PycEmit/Rules.cmake"
                "${CMAKE_CURRENT_LIST_DIR}/PycEmit/Tool.cmake"
          DESTINATION "${PYCEMIT_INSTALL_CMAKEDIR}/PycEmit" COMPONENT PycEmit)
endif()

if(NOT PROJECT_IS_TOP_LEVEL)
  # Used as a subproject: add_python_bytecode() plans its outputs at configure
  # time, before the `pycemit` target is built, so PycEmit.cmake builds a host
  # copy of these sources on first use (unless PycEmit_EXECUTABLE is set).
  set_property(GLOBAL PROPERTY PYCEMIT_HOST_SOURCE_DIR "${PROJECT_SOURCE_DIR}")
  set_property(GLOBAL PROPERTY PYCEMIT_HOST_BINARY_DIR "${PROJECT_BINARY_DIR}/pycemit-host")
  if(NOT TARGET PycEmit::pycemit)
    add_executable(PycEmit::pycemit ALIAS pycemit)
  endif()
  # The consuming project's default build need not build the tool a second time
  # (unless it installs it).
  if(NOT PYCEMIT_INSTALL)
    foreach(tool_target IN ITEMS pycemit pycemit_core pycemit_marshal)
      if(TARGET ${tool_target})
        set_property(TARGET ${tool_target} PROPERTY EXCLUDE_FROM_ALL TRUE)
      endif()
    endforeach()
  endif()
  include("${CMAKE_CURRENT_LIST_DIR}/PycEmit.cmake")
endif()
