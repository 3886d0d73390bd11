# Part of pycemit: cmake-modules/PycEmit.cmake, installed with the PycEmit CMake package.

#[=======================================================================[.rst:
PycEmit
-------

Compile Python sources into reproducible bytecode (``.pyc``) in the build
tree with ``pycemit``, and install the result (guide: ``docs/cmake.md`` in
pycemit's sources).

Load it with the package (``pycemit`` installed, or this repository added with
:command:`add_subdirectory` or :module:`FetchContent`):

.. code-block:: cmake

  find_package(PycEmit CONFIG REQUIRED)   # not needed after add_subdirectory/FetchContent

Commands
^^^^^^^^

.. command:: add_python_bytecode

  .. code-block:: cmake

    add_python_bytecode(<target>
                        SOURCES <file>...
                        [SOURCE_ROOT <dir>]
                        [PYTHON <executable>|<imported target>]
                        [INVALIDATION_MODE CHECKED_HASH|UNCHECKED_HASH|TIMESTAMP]
                        [OPTIMIZE <level>...]
                        [LAYOUT PYCACHE|SOURCELESS|PREFIX]
                        [PYCACHE_PREFIX <dir>]
                        [INSTALL_DESTINATION <dir> [COMPONENT <component>]]
                        [HARDLINK_DUPES]
                        [OUTPUTS_VAR <variable>]
                        [ALL])

  Adds a custom target ``<target>`` that writes the pycs of ``SOURCES`` into
  ``${CMAKE_CURRENT_BINARY_DIR}/pycemit/<target>/``, every pyc a declared
  output. With Ninja, one command runs one ``pycemit compile`` for the whole
  target (its outputs: every pyc; its inputs: every source), in the job pool
  ``PYCEMIT_JOB_POOL``; pycemit rewrites the pycs of changed sources only and
  Ninja restats the others. Make has no restat, so Makefile generators get one
  command per source. Either way the pycs of an edited source are rewritten
  and nothing else, and a build with nothing changed does nothing. With ``INSTALL_DESTINATION``, :command:`install`
  rules place the pycs (and the sources, unless ``SOURCELESS``) there, and the
  path embedded in every pyc (``co_filename``, what tracebacks show) is the
  installed path ``${CMAKE_INSTALL_PREFIX}/<dir>/<path relative to SOURCE_ROOT>``:
  never the build tree, never ``DESTDIR``.

  The output names come from ``pycemit plan``, run once per call at configure
  time with the target interpreter: nothing about pyc names, cache tags or
  layouts is computed in CMake language.

  ``SOURCES <file>...``
    Python sources (``.py``, ``.pyw``), relative to
    :variable:`CMAKE_CURRENT_SOURCE_DIR` or absolute, all below
    ``SOURCE_ROOT``. Files, not directories: list them, or collect them with
    ``file(GLOB_RECURSE ... CONFIGURE_DEPENDS ...)``. A source written at build
    time must have the :prop_sf:`GENERATED` property (outputs of
    :command:`add_custom_command` have it); if another target writes it, add
    ``add_dependencies(<target> <that target>)``.

  ``SOURCE_ROOT <dir>``
    The directory the installed tree mirrors: a source ``<dir>/pkg/mod.py`` is
    installed as ``<INSTALL_DESTINATION>/pkg/mod.py``. Default:
    :variable:`CMAKE_CURRENT_SOURCE_DIR`.

  ``PYTHON <executable>|<imported target>``
    The interpreter the pycs are for (CPython 3.8 or later): a path, a name
    looked up with :command:`find_program`, or an imported executable target.
    Default: ``Python3::Interpreter``, from
    ``find_package(Python3 COMPONENTS Interpreter)`` when not yet found (so
    ``-DPython3_EXECUTABLE=...`` selects it). Its cache tag names the pycs.

  ``INVALIDATION_MODE CHECKED_HASH|UNCHECKED_HASH|TIMESTAMP``
    PEP 552 mode. Default ``CHECKED_HASH``: reproducible, and an edited
    installed source makes the interpreter ignore its stale pyc.
    ``UNCHECKED_HASH`` is for read-only installs; ``TIMESTAMP`` records the
    source's mtime and size (:command:`install` keeps the mtime, so the pycs
    stay valid after installation, but are only reproducible when mtimes are).

  ``OPTIMIZE <level>...``
    Optimization levels, each ``0``, ``1`` or ``2`` (``-O``, ``-OO``); one pyc
    per level (``.opt-1``, ``.opt-2`` names). Default ``0``.

  ``LAYOUT PYCACHE|SOURCELESS|PREFIX``
    ``PYCACHE`` (default): ``<dir>/__pycache__/<stem>.<tag>[.opt-N].pyc``
    beside the installed sources. ``SOURCELESS``: ``<dir>/<stem>.pyc`` instead
    of the source, which is not installed (one ``OPTIMIZE`` level only).
    ``PREFIX``: a ``PYTHONPYCACHEPREFIX`` tree under ``PYCACHE_PREFIX``,
    named after the installed location of each source.

  ``PYCACHE_PREFIX <dir>``
    The absolute run-time pycache prefix, required by (and only allowed with)
    ``LAYOUT PREFIX``. The pycs install under ``$ENV{DESTDIR}<dir>/...``.

  ``INSTALL_DESTINATION <dir>``
    Where :command:`install` puts the tree: relative to
    :variable:`CMAKE_INSTALL_PREFIX` (for example
    ``${CMAKE_INSTALL_LIBDIR}/python3.12/site-packages``) or absolute. Without
    it nothing is installed and the embedded path is the path relative to
    ``SOURCE_ROOT`` (``pkg/mod.py``), so the pycs never name the build machine.

  ``COMPONENT <component>``
    Installation component of the install rules (needs
    ``INSTALL_DESTINATION``).

  ``HARDLINK_DUPES``
    Levels whose pycs are identical are hard links of one file, in the build
    tree and in the installed tree.

  ``OUTPUTS_VAR <variable>``
    Sets ``<variable>`` to the list of the pycs written in the build tree.

  ``ALL``
    Adds ``<target>`` to the default build target. Without it, build
    ``<target>`` (or something in the default build that depends on it) before
    installing: the install rules name its outputs.

  The target also gets the properties ``PYCEMIT_OUTPUTS`` (the list above),
  ``PYCEMIT_OUTPUT_DIR`` and ``PYCEMIT_CACHE_TAG``.

  Invalid arguments stop the configuration with an error naming the argument.
  A source that does not compile fails the build with pycemit's
  ``file:line:col: SyntaxError: message``.

  The embedded paths are computed for the :variable:`CMAKE_INSTALL_PREFIX` of
  the configuration; ``cmake --install --prefix <other>`` installs them
  elsewhere with a warning (``__pycache__`` pycs still load there, but
  ``PREFIX`` ones are found only at the configured location).

Variables
^^^^^^^^^

``PycEmit_EXECUTABLE``
  The ``pycemit`` program to run. Set by ``find_package(PycEmit)``; after
  :command:`add_subdirectory` of pycemit's sources, a host copy is built at
  configure time unless this is set; else looked up on ``PATH``.

``PYCEMIT_HOST_CMAKE_ARGS``
  Extra arguments for configuring that host copy (for example
  ``-DCMAKE_CXX_COMPILER_LAUNCHER=ccache`` or ``-DOPENSSL_ROOT_DIR=...``).

``PYCEMIT_JOBS``
  Interpreter processes of each pycemit run (cache variable; default ``0``:
  one per usable core).

``PYCEMIT_JOB_POOL``
  The Ninja job pool of the commands (cache variable; default ``pycemit``,
  added to the global :prop_gbl:`JOB_POOLS` with depth 1 unless it is there
  already; empty: no pool). At most that many pycemit runs at once, each on
  ``PYCEMIT_JOBS`` cores.

``PYCEMIT_VERBOSE``
  Cache option (default ``OFF``): the commands name every output and what
  happened to it (``wrote``, ``unchanged``) in the build's log.
#]=======================================================================]

if(CMAKE_VERSION VERSION_LESS 3.20)
  message(FATAL_ERROR "PycEmit.cmake needs CMake 3.20 or later (cmake_path), "
                      "this is ${CMAKE_VERSION}")
endif()
include_guard(GLOBAL)
# include() gave this file its own policy scope; the functions below keep these settings:
# NEW behaviour for every policy up to CMake 4.3 (or the running version, if older), the
# versions tested (3.25 and 4.3; tests/integration/test_cmake*.py).
cmake_policy(VERSION 3.20...4.3)

set(PYCEMIT_JOBS 0 CACHE STRING
    "Interpreter processes of each pycemit run of add_python_bytecode (0: one per usable core)")
set(PYCEMIT_JOB_POOL pycemit CACHE STRING
    "Ninja job pool of the add_python_bytecode commands (defined with depth 1 unless JOB_POOLS has it; empty: none)")
option(PYCEMIT_VERBOSE "add_python_bytecode commands name every output and what happened to it" OFF)

# The pycemit program for planning (configure time) and compiling (build time):
# one absolute path, so plan and compile always agree. Sets ${out_var}.
function(_pycemit_executable out_var)
  if(PycEmit_EXECUTABLE)
    set(exe "${PycEmit_EXECUTABLE}")
  elseif(TARGET PycEmit::pycemit)
    get_target_property(imported PycEmit::pycemit IMPORTED)
    if(imported)
      get_target_property(exe PycEmit::pycemit IMPORTED_LOCATION)
    endif()
  endif()
  if(NOT exe)
    get_property(host_source GLOBAL PROPERTY PYCEMIT_HOST_SOURCE_DIR)
    if(host_source)
      _pycemit_build_host_tool(exe)
    endif()
  endif()
  if(NOT exe)
    find_program(PycEmit_EXECUTABLE pycemit DOC "The pycemit program")
    set(exe "${PycEmit_EXECUTABLE}")
  endif()
  if(NOT exe OR NOT EXISTS "${exe}" OR IS_DIRECTORY "${exe}")
    message(FATAL_ERROR "add_python_bytecode: no pycemit program (found '${exe}'): use "
                        "find_package(PycEmit CONFIG REQUIRED), add pycemit's sources with "
                        "add_subdirectory/FetchContent, or set PycEmit_EXECUTABLE")
  endif()
  set(${out_var} "${exe}" PARENT_SCOPE)
endfunction()

# After add_subdirectory/FetchContent of pycemit's sources, the `pycemit` target
# is not built yet when add_python_bytecode must plan its outputs. So pycemit is
# built for the build host (no toolchain file: it runs during the build) into
# its own tree once per configure, and that one program both plans and compiles.
# Its incremental rebuild is quick when nothing changed.
function(_pycemit_build_host_tool out_var)
  get_property(done GLOBAL PROPERTY PYCEMIT_HOST_EXECUTABLE)
  if(done)
    set(${out_var} "${done}" PARENT_SCOPE)
    return()
  endif()
  get_property(source GLOBAL PROPERTY PYCEMIT_HOST_SOURCE_DIR)
  get_property(binary GLOBAL PROPERTY PYCEMIT_HOST_BINARY_DIR)
  set(prefix "${binary}/install")
  set(log "${binary}/build.log")
  # Lists and paths with spaces survive an initial-cache script.
  set(cache "")
  foreach(var IN ITEMS CMAKE_PREFIX_PATH CMAKE_PROGRAM_PATH OPENSSL_ROOT_DIR OpenSSL_ROOT
                       nlohmann_json_DIR CLI11_DIR CMAKE_MAKE_PROGRAM)
    if(DEFINED ${var} AND NOT "${${var}}" STREQUAL "")
      string(APPEND cache "set(${var} [==[${${var}}]==] CACHE STRING \"\")\n")
    endif()
  endforeach()
  if(NOT CMAKE_CROSSCOMPILING AND CMAKE_CXX_COMPILER)
    string(APPEND cache "set(CMAKE_CXX_COMPILER [==[${CMAKE_CXX_COMPILER}]==] CACHE FILEPATH \"\")\n")
  endif()
  set(configure_args -S "${source}" -B "${binary}/build" -G "${CMAKE_GENERATOR}"
                     -C "${binary}/initial-cache.cmake" -DCMAKE_BUILD_TYPE=Release
                     -DCMAKE_CONFIGURATION_TYPES=Release -DPYCEMIT_BUILD_TESTS=OFF -DPYCEMIT_INSTALL=ON
                     -DCMAKE_INSTALL_BINDIR=bin ${PYCEMIT_HOST_CMAKE_ARGS})
  string(APPEND cache "# configured with: ${configure_args}\n")
  set(reconfigure TRUE)
  if(EXISTS "${binary}/build/CMakeCache.txt" AND EXISTS "${binary}/initial-cache.cmake")
    file(READ "${binary}/initial-cache.cmake" old_cache)
    if(old_cache STREQUAL cache)
      set(reconfigure FALSE)  # its build step re-runs CMake itself when pycemit's CMake files change
    endif()
  endif()
  _pycemit_write_if_changed("${binary}/initial-cache.cmake" "${cache}")
  message(STATUS "PycEmit: building the pycemit host tool in ${binary} (log: ${log})")
  file(WRITE "${log}" "")
  if(reconfigure)
    _pycemit_host_step("${log}" "${CMAKE_COMMAND}" ${configure_args})
  endif()
  _pycemit_host_step("${log}" "${CMAKE_COMMAND}" --build "${binary}/build" --config Release --target pycemit)
  _pycemit_host_step("${log}" "${CMAKE_COMMAND}" --install "${binary}/build" --config Release
                     --prefix "${prefix}" --component PycEmit)
  set(exe "${prefix}/bin/pycemit${CMAKE_EXECUTABLE_SUFFIX}")
  set_property(GLOBAL PROPERTY PYCEMIT_HOST_EXECUTABLE "${exe}")
  set(${out_var} "${exe}" PARENT_SCOPE)
endfunction()

# Runs one step of the host tool's build, appending its output to `log`.
function(_pycemit_host_step log)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
  file(APPEND "${log}" "${out}")
  if(NOT rc EQUAL 0)
    string(LENGTH "${out}" n)
    if(n GREATER 4000)
      math(EXPR start "${n} - 4000")
      string(SUBSTRING "${out}" ${start} -1 out)
    endif()
    list(JOIN ARGN " " shown)
    message(FATAL_ERROR "PycEmit: building the pycemit host tool failed (${shown}):\n${out}\n"
                        "Full log: ${log}. Or set PycEmit_EXECUTABLE to an installed pycemit.")
  endif()
endfunction()

# The interpreter's path, for the configure-time plan and the build commands.
function(_pycemit_python given out_var)
  if(given STREQUAL "")
    if(NOT TARGET Python3::Interpreter)
      find_package(Python3 COMPONENTS Interpreter QUIET)
    endif()
    if(NOT TARGET Python3::Interpreter)
      message(FATAL_ERROR "add_python_bytecode: PYTHON not given and find_package(Python3 COMPONENTS "
                          "Interpreter) found none: give PYTHON <executable> or set Python3_EXECUTABLE")
    endif()
    set(given Python3::Interpreter)
  endif()
  if(TARGET "${given}")
    get_target_property(imported "${given}" IMPORTED)
    get_target_property(type "${given}" TYPE)
    if(NOT imported OR NOT type STREQUAL "EXECUTABLE")
      message(FATAL_ERROR "add_python_bytecode: PYTHON ${given} is not an imported executable target "
                          "(the interpreter must exist at configure time): give its path")
    endif()
    get_target_property(exe "${given}" IMPORTED_LOCATION)
    if(NOT exe)
      get_target_property(configs "${given}" IMPORTED_CONFIGURATIONS)
      foreach(config IN LISTS configs)
        string(TOUPPER "${config}" config)
        get_target_property(exe "${given}" IMPORTED_LOCATION_${config})
        if(exe)
          break()
        endif()
      endforeach()
    endif()
  elseif(IS_ABSOLUTE "${given}")
    set(exe "${given}")
  else()
    string(MAKE_C_IDENTIFIER "${given}" id)
    find_program(PYCEMIT_PYTHON_${id} NAMES "${given}" NO_CACHE)
    set(exe "${PYCEMIT_PYTHON_${id}}")
  endif()
  if(NOT exe OR NOT EXISTS "${exe}" OR IS_DIRECTORY "${exe}")
    message(FATAL_ERROR "add_python_bytecode: PYTHON ${given}: no such interpreter ('${exe}')")
  endif()
  set(${out_var} "${exe}" PARENT_SCOPE)
endfunction()

function(add_python_bytecode target)
  set(flags HARDLINK_DUPES ALL)
  set(one SOURCE_ROOT PYTHON INVALIDATION_MODE LAYOUT PYCACHE_PREFIX INSTALL_DESTINATION COMPONENT OUTPUTS_VAR)
  set(multi SOURCES OPTIMIZE)
  cmake_parse_arguments(PARSE_ARGV 1 arg "${flags}" "${one}" "${multi}")
  set(fn "add_python_bytecode(${target})")

  # ---- Arguments --------------------------------------------------------------
  if(arg_UNPARSED_ARGUMENTS)
    list(GET arg_UNPARSED_ARGUMENTS 0 first)
    message(FATAL_ERROR "${fn}: unknown argument '${first}' (all unparsed: ${arg_UNPARSED_ARGUMENTS})")
  endif()
  foreach(keyword IN LISTS arg_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "${fn}: ${keyword} needs a value")
  endforeach()
  if(target STREQUAL "" OR target MATCHES "^(SOURCES|SOURCE_ROOT|PYTHON|OPTIMIZE|LAYOUT|ALL)$")
    message(FATAL_ERROR "add_python_bytecode: the first argument is the name of the target to add")
  endif()
  if(TARGET "${target}")
    message(FATAL_ERROR "${fn}: a target named ${target} already exists")
  endif()
  if("${arg_SOURCES}" STREQUAL "")
    message(FATAL_ERROR "${fn}: SOURCES is required (the Python files to compile)")
  endif()

  set(mode_CHECKED_HASH checked-hash)
  set(mode_UNCHECKED_HASH unchecked-hash)
  set(mode_TIMESTAMP timestamp)
  if(NOT DEFINED arg_INVALIDATION_MODE)
    set(arg_INVALIDATION_MODE CHECKED_HASH)
  endif()
  string(TOUPPER "${arg_INVALIDATION_MODE}" mode_key)
  if(NOT DEFINED mode_${mode_key})
    message(FATAL_ERROR "${fn}: INVALIDATION_MODE '${arg_INVALIDATION_MODE}' is not one of "
                        "CHECKED_HASH, UNCHECKED_HASH, TIMESTAMP")
  endif()
  set(mode "${mode_${mode_key}}")

  if(NOT DEFINED arg_OPTIMIZE)
    set(arg_OPTIMIZE 0)
  endif()
  set(levels "")
  foreach(level IN LISTS arg_OPTIMIZE)
    if(NOT level MATCHES "^[012]$")
      message(FATAL_ERROR "${fn}: OPTIMIZE '${level}' is not a level (0, 1 or 2)")
    endif()
    if(level IN_LIST levels)
      message(FATAL_ERROR "${fn}: OPTIMIZE ${level} is given twice")
    endif()
    list(APPEND levels ${level})
  endforeach()
  if("${levels}" STREQUAL "")
    message(FATAL_ERROR "${fn}: OPTIMIZE needs at least one level (0, 1 or 2)")
  endif()

  if(NOT DEFINED arg_LAYOUT)
    set(arg_LAYOUT PYCACHE)
  endif()
  string(TOUPPER "${arg_LAYOUT}" layout)
  if(NOT layout MATCHES "^(PYCACHE|SOURCELESS|PREFIX)$")
    message(FATAL_ERROR "${fn}: LAYOUT '${arg_LAYOUT}' is not one of PYCACHE, SOURCELESS, PREFIX")
  endif()
  string(TOLOWER "${layout}" layout_option)
  if(layout STREQUAL "SOURCELESS")
    list(LENGTH levels n)
    if(n GREATER 1)
      message(FATAL_ERROR "${fn}: LAYOUT SOURCELESS takes one OPTIMIZE level (a sourceless pyc's name "
                          "carries none), got: ${levels}")
    endif()
  endif()
  if(layout STREQUAL "PREFIX")
    if(NOT DEFINED arg_PYCACHE_PREFIX)
      message(FATAL_ERROR "${fn}: LAYOUT PREFIX needs PYCACHE_PREFIX <dir> (the run-time pycache prefix)")
    endif()
    if(NOT IS_ABSOLUTE "${arg_PYCACHE_PREFIX}")
      message(FATAL_ERROR "${fn}: PYCACHE_PREFIX '${arg_PYCACHE_PREFIX}' must be absolute (it is the "
                          "run-time PYTHONPYCACHEPREFIX)")
    endif()
    cmake_path(SET pycache_prefix NORMALIZE "${arg_PYCACHE_PREFIX}")
    string(REGEX REPLACE "(.)/$" "\\1" pycache_prefix "${pycache_prefix}")
  elseif(DEFINED arg_PYCACHE_PREFIX)
    message(FATAL_ERROR "${fn}: PYCACHE_PREFIX is only used with LAYOUT PREFIX (LAYOUT is ${layout})")
  endif()

  if(DEFINED arg_COMPONENT AND NOT DEFINED arg_INSTALL_DESTINATION)
    message(FATAL_ERROR "${fn}: COMPONENT needs INSTALL_DESTINATION (nothing is installed without it)")
  endif()

  if(DEFINED arg_SOURCE_ROOT)
    cmake_path(ABSOLUTE_PATH arg_SOURCE_ROOT BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE
               OUTPUT_VARIABLE source_root)
    if(EXISTS "${source_root}" AND NOT IS_DIRECTORY "${source_root}")
      message(FATAL_ERROR "${fn}: SOURCE_ROOT ${arg_SOURCE_ROOT} is not a directory")
    endif()
  else()
    cmake_path(SET source_root NORMALIZE "${CMAKE_CURRENT_SOURCE_DIR}")
  endif()
  string(REGEX REPLACE "(.)/$" "\\1" source_root "${source_root}")

  # Sources: absolute, below SOURCE_ROOT, existing or GENERATED. Linear in
  # their number: duplicates are found through one variable per source, not by
  # searching a list.
  set(sources "")
  set(generated "")
  set(existing "")
  foreach(given IN LISTS arg_SOURCES)
    cmake_path(ABSOLUTE_PATH given BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE
               OUTPUT_VARIABLE source)
    string(MD5 key "${source}")
    if(DEFINED _pycemit_seen_${key})
      continue()
    endif()
    set(_pycemit_seen_${key} TRUE)
    cmake_path(IS_PREFIX source_root "${source}" NORMALIZE inside)
    if(NOT inside OR source STREQUAL source_root)
      message(FATAL_ERROR "${fn}: SOURCES ${given} is not below SOURCE_ROOT ${source_root}")
    endif()
    if(IS_DIRECTORY "${source}")
      message(FATAL_ERROR "${fn}: SOURCES ${given} is a directory: list the files (for example with "
                          "file(GLOB_RECURSE ... CONFIGURE_DEPENDS ...))")
    endif()
    if(EXISTS "${source}")
      list(APPEND existing "${source}")
    else()
      get_source_file_property(is_generated "${source}" GENERATED)
      if(NOT is_generated)
        message(FATAL_ERROR "${fn}: SOURCES ${given} does not exist (a file written during the "
                            "build needs the GENERATED source file property)")
      endif()
      list(APPEND generated "${source}")
    endif()
    list(APPEND sources "${source}")
  endforeach()
  if(sources MATCHES "[][\n\t]")
    message(FATAL_ERROR "${fn}: SOURCES: a path holding a bracket, tab or newline cannot be passed "
                        "through CMake lists and pycemit's path lists")
  endif()

  # Run-time location of SOURCE_ROOT: the embedded path's base and what the
  # prefix layout is named after.
  set(install_root "")
  if(DEFINED arg_INSTALL_DESTINATION)
    if(IS_ABSOLUTE "${arg_INSTALL_DESTINATION}")
      set(install_root "${arg_INSTALL_DESTINATION}")
    else()
      if(NOT IS_ABSOLUTE "${CMAKE_INSTALL_PREFIX}")
        message(FATAL_ERROR "${fn}: INSTALL_DESTINATION is relative and CMAKE_INSTALL_PREFIX "
                            "'${CMAKE_INSTALL_PREFIX}' is not absolute")
      endif()
      set(install_root "${CMAKE_INSTALL_PREFIX}/${arg_INSTALL_DESTINATION}")
    endif()
    cmake_path(SET install_root NORMALIZE "${install_root}")
    string(REGEX REPLACE "(.)/$" "\\1" install_root "${install_root}")
  endif()

  _pycemit_python("${arg_PYTHON}" python)
  _pycemit_executable(pycemit)

  # ---- Plan (configure time) --------------------------------------------------
  set(work "${CMAKE_CURRENT_BINARY_DIR}/pycemit")
  set(output_root "${work}/${target}")
  set(options --python "${python}" --invalidation-mode ${mode} --layout ${layout_option})
  foreach(level IN LISTS levels)
    list(APPEND options -O ${level})
  endforeach()
  if(layout STREQUAL "PREFIX")
    list(APPEND options --pycache-prefix "${pycache_prefix}")
  endif()
  if(install_root)
    list(APPEND options --install-root "${install_root}")
  endif()
  list(APPEND options --output-root "${output_root}")

  # The sources go to pycemit as a path list (@FILE, one path a line): no
  # command-line length limit, whatever their number. Rewritten only when the
  # list changes, so that its mtime says when it did.
  set(source_list "${work}/${target}.sources")
  list(JOIN sources "\n" text)
  _pycemit_write_if_changed("${source_list}" "${text}\n")

  # Sources written during the build are planned as empty stand-ins at the same
  # relative path (names depend on the path only), then compiled for real.
  set(stand_in_root "${work}/${target}.stand-ins")
  if(EXISTS "${stand_in_root}")
    file(REMOVE_RECURSE "${stand_in_root}")
  endif()
  if(existing)
    set(plan_list "${source_list}")
    if(generated)
      set(plan_list "${work}/${target}.planned-sources")
      list(JOIN existing "\n" text)
      _pycemit_write_if_changed("${plan_list}" "${text}\n")
    endif()
    _pycemit_plan("${fn}" "${pycemit}" "${source_root}" "${options}" "${plan_list}" plan)
    _pycemit_read_plan("${plan}")
  endif()
  if(generated)
    set(stand_ins "")
    foreach(source IN LISTS generated)
      cmake_path(RELATIVE_PATH source BASE_DIRECTORY "${source_root}" OUTPUT_VARIABLE rel)
      file(WRITE "${stand_in_root}/${rel}" "")
      list(APPEND stand_ins "${stand_in_root}/${rel}")
    endforeach()
    list(JOIN stand_ins "\n" text)
    file(WRITE "${stand_in_root}.list" "${text}\n")
    # Where the real sources are at run time, so that every layout names the same outputs.
    set(stand_in_options "${options}")
    if(NOT install_root)
      list(APPEND stand_in_options --install-root "${source_root}")
    endif()
    _pycemit_plan("${fn}" "${pycemit}" "${stand_in_root}" "${stand_in_options}" "${stand_in_root}.list"
                  generated_plan)
    _pycemit_read_plan("${generated_plan}")
  endif()

  # ---- Build rules ------------------------------------------------------------
  # Every setting in one file that the commands depend on, rewritten only when
  # its content changes. Ninja and Make already rerun a command whose line
  # changed; this also covers what no command line shows: the interpreter's real
  # path (a re-pointed python3 symlink).
  set(settings_file "${work}/${target}.settings")
  string(REPLACE ";" "\n" settings "pycemit=${pycemit};source-root=${source_root};${options}")
  file(REAL_PATH "${python}" python_real)
  _pycemit_write_if_changed("${settings_file}" "${settings}\ninterpreter=${python_real}\n")
  # Re-plan when the interpreter is replaced (an upgrade may change the cache tag).
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${python_real}")

  set(compile_flags "")
  if(PYCEMIT_VERBOSE)
    list(APPEND compile_flags -v)
  else()
    list(APPEND compile_flags -q)
  endif()
  if(arg_HARDLINK_DUPES)
    list(APPEND compile_flags --hardlink-dupes)
  endif()

  # Every source's outputs, in the order of SOURCES; the install lists.
  set(all_outputs "")
  set(link_sets "")
  set(last_out_dir "")
  string(LENGTH "${source_root}/" root_length)
  if(source_root STREQUAL "/")
    set(root_length 1)
  endif()
  foreach(source IN LISTS sources)
    string(SUBSTRING "${source}" ${root_length} -1 rel)
    string(MD5 key "${rel}")
    if(NOT DEFINED _pycemit_outputs_${key})
      message(FATAL_ERROR "${fn}: pycemit planned nothing for SOURCES ${source} (is it a Python source?)")
    endif()
    set(outs "${_pycemit_outputs_${key}}")
    list(APPEND all_outputs ${outs})
    if(NOT DEFINED arg_INSTALL_DESTINATION)
      continue()
    endif()
    # Install locations, grouped by destination directory (one install(FILES)
    # per directory); consecutive outputs mostly share theirs.
    foreach(out IN LISTS outs)
      cmake_path(GET out PARENT_PATH out_dir)
      if(NOT out_dir STREQUAL last_out_dir)
        set(last_out_dir "${out_dir}")
        cmake_path(RELATIVE_PATH out_dir BASE_DIRECTORY "${output_root}" OUTPUT_VARIABLE out_rel_dir)
        if(layout STREQUAL "PREFIX")
          set(dest "${pycache_prefix}/${out_rel_dir}")
        else()
          set(dest "${arg_INSTALL_DESTINATION}/${out_rel_dir}")
        endif()
        _pycemit_install_group(dest_key "${dest}")
      endif()
      list(APPEND _pycemit_install_${dest_key} "${out}")
    endforeach()
    if(NOT layout STREQUAL "SOURCELESS")
      cmake_path(GET rel PARENT_PATH rel_dir)
      _pycemit_install_group(source_key "${arg_INSTALL_DESTINATION}/${rel_dir}")
      list(APPEND _pycemit_install_${source_key} "${source}")
    endif()
    if(arg_HARDLINK_DUPES)
      list(LENGTH outs n)
      if(n GREATER 1)
        list(APPEND link_sets "${outs}" "|")
      endif()
    endif()
  endforeach()

  if(CMAKE_GENERATOR MATCHES "Ninja")
    # One command for the whole target, one pycemit run: its outputs are every
    # pyc, it depends on every source. pycemit rewrites only the pycs of
    # changed sources and leaves the others (and their mtimes) alone; CMake
    # marks custom commands `restat = 1` for Ninja, so Ninja sees the untouched
    # outputs as up to date and records that. One run compiles on every core,
    # so the runs of all targets share one job pool (depth 1 by default).
    set(pool "")
    if(PYCEMIT_JOB_POOL)
      set(pool JOB_POOL "${PYCEMIT_JOB_POOL}")
      get_property(pools GLOBAL PROPERTY JOB_POOLS)
      if(NOT pools MATCHES "(^|;)${PYCEMIT_JOB_POOL}=")
        set_property(GLOBAL APPEND PROPERTY JOB_POOLS "${PYCEMIT_JOB_POOL}=1")
      endif()
    endif()
    list(LENGTH sources count)
    add_custom_command(
      OUTPUT ${all_outputs}
      COMMAND "${pycemit}" compile ${compile_flags} --jobs ${PYCEMIT_JOBS} ${options}
              --source-root "${source_root}" "@${source_list}"
      DEPENDS ${sources} "${source_list}" "${settings_file}" "${pycemit}"
      COMMENT "Compiling Python bytecode (${cache_tag}) for ${target}: ${count} sources"
      ${pool}
      VERBATIM)
  else()
    # Make has no restat: an output pycemit left alone stays older than its
    # edited neighbour's source, and one command for all would run on every
    # build. So one command per source, which touches its outputs.
    foreach(source IN LISTS sources)
      string(SUBSTRING "${source}" ${root_length} -1 rel)
      string(MD5 key "${rel}")
      set(outs "${_pycemit_outputs_${key}}")
      add_custom_command(
        OUTPUT ${outs}
        COMMAND "${pycemit}" compile ${compile_flags} --jobs 1 ${options} --source-root "${source_root}"
                "${source}"
        COMMAND "${CMAKE_COMMAND}" -E touch_nocreate ${outs}
        DEPENDS "${source}" "${settings_file}" "${pycemit}"
        COMMENT "Compiling Python bytecode (${cache_tag}) for ${rel}"
        VERBATIM)
    endforeach()
  endif()

  if(arg_ALL)
    set(all ALL)
  else()
    set(all "")
  endif()
  add_custom_target(${target} ${all} DEPENDS ${all_outputs})
  set_target_properties(${target} PROPERTIES PYCEMIT_OUTPUTS "${all_outputs}"
                                             PYCEMIT_OUTPUT_DIR "${output_root}"
                                             PYCEMIT_CACHE_TAG "${cache_tag}")
  if(arg_OUTPUTS_VAR)
    set(${arg_OUTPUTS_VAR} "${all_outputs}" PARENT_SCOPE)
  endif()

  # ---- Install rules ----------------------------------------------------------
  if(DEFINED arg_INSTALL_DESTINATION)
    set(component "")
    if(DEFINED arg_COMPONENT)
      set(component COMPONENT "${arg_COMPONENT}")
    endif()
    # The pycs embed paths under the configured prefix: say so when installed elsewhere.
    if(NOT IS_ABSOLUTE "${arg_INSTALL_DESTINATION}")
      install(CODE "
        if(NOT \"\${CMAKE_INSTALL_PREFIX}\" STREQUAL [==[${CMAKE_INSTALL_PREFIX}]==])
          message(WARNING [==[The pycs of ${target} name their sources under ${install_root} (computed for ]==]
                          [==[CMAKE_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX}) but are installed with prefix ]==]
                          \"\${CMAKE_INSTALL_PREFIX}\" [==[: configure with that prefix instead.]==])
        endif()" ${component})
    endif()
    foreach(key IN LISTS _pycemit_install_keys)
      install(FILES ${_pycemit_install_${key}} DESTINATION "${_pycemit_install_dest_${key}}" ${component})
    endforeach()
    if(link_sets)
      _pycemit_install_hardlinks("${output_root}" "${layout}" "${arg_INSTALL_DESTINATION}"
                                 "${pycache_prefix}" "${link_sets}" "${component}")
    endif()
  endif()
endfunction()

# Runs `pycemit plan --format lines` on the sources listed in `source_list`;
# sets ${out_var} to its output.
function(_pycemit_plan fn pycemit source_root options source_list out_var)
  execute_process(
    COMMAND "${pycemit}" plan --format lines ${options} --source-root "${source_root}" "@${source_list}"
    OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(rc EQUAL 3)
    message(FATAL_ERROR "${fn}: PYTHON: pycemit cannot use this interpreter:\n${err}")
  elseif(NOT rc EQUAL 0)
    string(REPLACE ";" " " shown "${options}")
    message(FATAL_ERROR "${fn}: pycemit plan failed (exit ${rc}) for SOURCES below ${source_root}:\n"
                        "${err}(settings: ${shown})")
  endif()
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

# Reads the output of `pycemit plan --format lines` in one pass (a macro: it
# sets the caller's variables): `cache_tag`, and for each source
# `_pycemit_outputs_<MD5 of its relative path>`, the list of its outputs.
macro(_pycemit_read_plan text)
  string(REPLACE "\n" ";" _pycemit_lines "${text}")
  foreach(_pycemit_line IN LISTS _pycemit_lines)
    string(REPLACE "\t" ";" _pycemit_fields "${_pycemit_line}")
    list(POP_FRONT _pycemit_fields _pycemit_rel)
    if(_pycemit_rel STREQUAL "cache_tag")
      set(cache_tag "${_pycemit_fields}")
    else()
      string(MD5 _pycemit_key "${_pycemit_rel}")
      set(_pycemit_outputs_${_pycemit_key} "${_pycemit_fields}")
    endif()
  endforeach()
endmacro()

# The key of the install group for destination `dest` (a macro: the groups are
# the caller's variables `_pycemit_install_keys`, `_pycemit_install_dest_<key>`
# and `_pycemit_install_<key>`, the files).
macro(_pycemit_install_group out_var dest)
  cmake_path(SET _pycemit_dest NORMALIZE "${dest}")
  string(REGEX REPLACE "(.)/$" "\\1" _pycemit_dest "${_pycemit_dest}")
  string(MD5 ${out_var} "${_pycemit_dest}")
  if(NOT DEFINED _pycemit_install_dest_${${out_var}})
    set(_pycemit_install_dest_${${out_var}} "${_pycemit_dest}")
    list(APPEND _pycemit_install_keys ${${out_var}})
  endif()
endmacro()

# install() copies files, so the hard links HARDLINK_DUPES made in the build tree
# would become copies: after the copy, identical installed levels of one source
# are linked again (the same rule pycemit applies: identical bytes).
function(_pycemit_install_hardlinks output_root layout destination pycache_prefix link_sets component)
  set(code "")
  set(set_files "")
  foreach(item IN LISTS link_sets)
    if(NOT item STREQUAL "|")
      cmake_path(RELATIVE_PATH item BASE_DIRECTORY "${output_root}" OUTPUT_VARIABLE rel)
      if(layout STREQUAL "PREFIX")
        list(APPEND set_files "${pycache_prefix}/${rel}")
      else()
        list(APPEND set_files "${destination}/${rel}")
      endif()
      continue()
    endif()
    string(APPEND code "_pycemit_link_same([==[${set_files}]==])\n")
    set(set_files "")
  endforeach()
  install(CODE "
    function(_pycemit_link_same files)
      foreach(file IN LISTS files)
        if(NOT IS_ABSOLUTE \"\${file}\")
          set(file \"\${CMAKE_INSTALL_PREFIX}/\${file}\")
        endif()
        set(file \"\$ENV{DESTDIR}\${file}\")
        file(SHA256 \"\${file}\" digest)
        if(DEFINED _pycemit_file_\${digest})
          file(CREATE_LINK \"\${_pycemit_file_\${digest}}\" \"\${file}\" RESULT result COPY_ON_ERROR)
        else()
          set(_pycemit_file_\${digest} \"\${file}\")
        endif()
      endforeach()
    endfunction()
    ${code}" ${component})
endfunction()

# Writes `content` to `path` unless it already holds exactly that (keeps the mtime).
function(_pycemit_write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()
