# Part of pycemit: cmake-modules/PycEmit.cmake, installed with the PycEmit CMake package.
# The documented front door (reference below); the helpers it includes are in
# PycEmit/ beside it: Tool.cmake (the pycemit program and the interpreter),
# Plan.cmake (`pycemit plan` and its errors), Rules.cmake (build rules) and
# Install.cmake (install rules).

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
  Ninja restats the others. Make has no restat: with Makefile (and other
  non-Ninja) generators the same run is the command of a target of its own,
  ``<target>_pycemit_run``, followed by one command per source that only runs
  (and touches its pycs) where a pyc is still older than its source. Either
  way the pycs of an edited source are rewritten and nothing else, and a build
  with nothing changed does nothing. With ``INSTALL_DESTINATION``, :command:`install`
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
  The values of the options (levels, mode, layout, prefix, roots, sources below
  ``SOURCE_ROOT``, the interpreter) are checked by ``pycemit plan``, whose
  message is shown under the keywords it is about and their values as given.
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

include("${CMAKE_CURRENT_LIST_DIR}/PycEmit/Tool.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/PycEmit/Plan.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/PycEmit/Rules.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/PycEmit/Install.cmake")

function(add_python_bytecode target)
  set(flags HARDLINK_DUPES ALL)
  set(one SOURCE_ROOT PYTHON INVALIDATION_MODE LAYOUT PYCACHE_PREFIX INSTALL_DESTINATION COMPONENT OUTPUTS_VAR)
  set(multi SOURCES OPTIMIZE)
  cmake_parse_arguments(PARSE_ARGV 1 arg "${flags}" "${one}" "${multi}")
  set(fn "add_python_bytecode(${target})")

  # ---- The call ---------------------------------------------------------------
  # What only CMake knows is checked here; the values of the options are pycemit's
  # to check (`pycemit plan`, Plan.cmake), in CMake's spelling translated to its.
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
  if(DEFINED arg_COMPONENT AND NOT DEFINED arg_INSTALL_DESTINATION)
    message(FATAL_ERROR "${fn}: COMPONENT needs INSTALL_DESTINATION (nothing is installed without it)")
  endif()

  if(NOT DEFINED arg_INVALIDATION_MODE)
    set(arg_INVALIDATION_MODE CHECKED_HASH)
  endif()
  string(TOLOWER "${arg_INVALIDATION_MODE}" mode)  # CHECKED_HASH -> checked-hash
  string(REPLACE "_" "-" mode "${mode}")
  if(NOT DEFINED arg_OPTIMIZE)
    set(arg_OPTIMIZE 0)
  endif()
  if(NOT DEFINED arg_LAYOUT)
    set(arg_LAYOUT PYCACHE)
  endif()
  string(TOUPPER "${arg_LAYOUT}" layout)
  string(TOLOWER "${layout}" layout_option)

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

  # Sources: absolute files, existing or GENERATED (what CMake knows about them).
  # Linear in their number: duplicates are found through one variable per source.
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
      # Planned through a stand-in below SOURCE_ROOT's mirror, so it must be below SOURCE_ROOT.
      cmake_path(IS_PREFIX source_root "${source}" NORMALIZE inside)
      if(NOT inside)
        message(FATAL_ERROR "${fn}: SOURCES ${given} is not below SOURCE_ROOT ${source_root}")
      endif()
      list(APPEND generated "${source}")
    endif()
    list(APPEND sources "${source}")
  endforeach()
  if(sources MATCHES "[][\n\t]")
    message(FATAL_ERROR "${fn}: SOURCES: a path holding a bracket, tab or newline cannot be passed "
                        "through CMake lists and pycemit's path lists")
  endif()

  # Run-time location of SOURCE_ROOT: the embedded path's base and what the prefix
  # layout is named after.
  set(install_root "")
  if(DEFINED arg_INSTALL_DESTINATION)
    if(IS_ABSOLUTE "${arg_INSTALL_DESTINATION}")
      set(install_root "${arg_INSTALL_DESTINATION}")
    else()
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
  set(options --python "${python}" --invalidation-mode "${mode}" --layout "${layout_option}")
  foreach(level IN LISTS arg_OPTIMIZE)
    list(APPEND options -O "${level}")
  endforeach()
  if(DEFINED arg_PYCACHE_PREFIX)
    list(APPEND options --pycache-prefix "${arg_PYCACHE_PREFIX}")
  endif()
  if(install_root)
    list(APPEND options --install-root "${install_root}")
  endif()
  list(APPEND options --output-root "${output_root}")

  # The sources go to pycemit as a path list (@FILE, one path a line): no command
  # line grows with their number. Rewritten only when the list changes.
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
  if(layout STREQUAL "PREFIX")  # checked by pycemit: absolute
    cmake_path(SET pycache_prefix NORMALIZE "${arg_PYCACHE_PREFIX}")
    string(REGEX REPLACE "(.)/$" "\\1" pycache_prefix "${pycache_prefix}")
  endif()

  # Every source's outputs in the order of SOURCES, and where they are installed:
  # one group per destination directory (consecutive outputs mostly share theirs).
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
    foreach(out IN LISTS outs)
      cmake_path(GET out PARENT_PATH out_dir)
      if(NOT out_dir STREQUAL last_out_dir)
        set(last_out_dir "${out_dir}")
        cmake_path(RELATIVE_PATH out_dir BASE_DIRECTORY "${output_root}" OUTPUT_VARIABLE out_rel_dir)
        if(layout STREQUAL "PREFIX")
          _pycemit_install_group(dest_key "${pycache_prefix}/${out_rel_dir}")
        else()
          _pycemit_install_group(dest_key "${arg_INSTALL_DESTINATION}/${out_rel_dir}")
        endif()
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

  # ---- Build rules ------------------------------------------------------------
  # Every setting in one file that the commands depend on, rewritten only when its
  # content changes. Ninja and Make already rerun a command whose line changed; this
  # also covers what no command line shows: the interpreter's real path (a
  # re-pointed python3 symlink).
  set(settings_file "${work}/${target}.settings")
  string(REPLACE ";" "\n" settings "pycemit=${pycemit};source-root=${source_root};${options}")
  file(REAL_PATH "${python}" python_real)
  _pycemit_write_if_changed("${settings_file}" "${settings}\ninterpreter=${python_real}\n")
  # Re-plan when the interpreter is replaced (an upgrade may change the cache tag).
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${python_real}")

  _pycemit_add_build_rules("${target}" "${pycemit}" "${cache_tag}" "${source_root}" "${options}"
                           "${settings_file}" "${source_list}" "${sources}" "${all_outputs}" "${arg_HARDLINK_DUPES}")
  if(arg_ALL)
    set(all ALL)
  else()
    set(all "")
  endif()
  add_custom_target(${target} ${all} DEPENDS ${all_outputs})
  if(NOT CMAKE_GENERATOR MATCHES "Ninja")  # the one pycemit run before the per-source checks
    add_dependencies(${target} ${target}_pycemit_run)
  endif()
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
    _pycemit_add_install_rules("${target}" "${arg_INSTALL_DESTINATION}" "${install_root}" "${component}")
    if(link_sets)
      _pycemit_install_hardlinks("${output_root}" "${layout}" "${arg_INSTALL_DESTINATION}"
                                 "${pycache_prefix}" "${link_sets}" "${component}")
    endif()
  endif()
endfunction()
