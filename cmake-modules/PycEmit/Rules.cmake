# Part of pycemit: cmake-modules/PycEmit/Rules.cmake, a helper of PycEmit.cmake (the
# documented front door; include that, not this). The build rules: with Ninja one
# command per target, one pycemit run writing every pyc of it; with generators without
# restat (Make) that run in a target of its own, then one command per source for the
# pycs it left older than their sources. Why: docs/cmake.md, "Builds".
include_guard(GLOBAL)

# The Ninja job pool of the commands (PYCEMIT_JOB_POOL): defined with depth 1 unless
# the project's JOB_POOLS already has it. Sets ${out_var} to "JOB_POOL;<name>" or "".
function(_pycemit_job_pool out_var)
  set(pool "")
  if(PYCEMIT_JOB_POOL)
    set(pool JOB_POOL "${PYCEMIT_JOB_POOL}")
    get_property(pools GLOBAL PROPERTY JOB_POOLS)
    set(defined FALSE)
    foreach(entry IN LISTS pools)
      string(FIND "${entry}" "${PYCEMIT_JOB_POOL}=" at)
      if(at EQUAL 0)
        set(defined TRUE)
      endif()
    endforeach()
    if(NOT defined)
      set_property(GLOBAL APPEND PROPERTY JOB_POOLS "${PYCEMIT_JOB_POOL}=1")
    endif()
  endif()
  set(${out_var} "${pool}" PARENT_SCOPE)
endfunction()

# The commands writing `outputs` (every pyc of the target) from `sources` (absolute,
# listed in `source_list`, one a line). `options` are pycemit's settings; each command
# also depends on `settings_file`. The per-source outputs are the caller's
# `_pycemit_outputs_<MD5 of the relative path>` (Plan.cmake).
function(_pycemit_add_build_rules target pycemit cache_tag source_root options settings_file
         source_list sources outputs hardlink)
  set(flags "")
  if(PYCEMIT_VERBOSE)
    list(APPEND flags -v)
  else()
    list(APPEND flags -q)
  endif()
  if(hardlink)
    list(APPEND flags --hardlink-dupes)
  endif()

  if(CMAKE_GENERATOR MATCHES "Ninja")
    # One command for the whole target, one pycemit run: its outputs are every pyc,
    # its inputs every source. pycemit rewrites the pycs of changed sources only and
    # leaves the others (and their mtimes) alone; CMake marks custom commands
    # `restat = 1` for Ninja, so Ninja sees the untouched outputs as up to date and
    # records that. One run compiles on every core (PYCEMIT_JOBS), so the runs of
    # all targets share one job pool.
    _pycemit_job_pool(pool)
    list(LENGTH sources count)
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND "${pycemit}" compile ${flags} --jobs ${PYCEMIT_JOBS} ${options} --source-root "${source_root}"
              "@${source_list}"
      DEPENDS ${sources} "${source_list}" "${settings_file}" "${pycemit}"
      COMMENT "Compiling Python bytecode (${cache_tag}) for ${target}: ${count} sources"
      ${pool}
      VERBATIM)
    return()
  endif()

  # Make has no restat: an output pycemit left alone stays older than its edited
  # neighbour's source, so one command for all would run on every build (or touch
  # every pyc). So two steps. First one pycemit run for the whole target, in a target
  # of its own (<target>_pycemit_run) whose output is a stamp: it compiles what is
  # stale, on every core, and leaves the rest alone. Then one command per source,
  # run only where a pyc is still older than its source (a source touched but not
  # changed): pycemit finds it up to date (no interpreter) and the command touches
  # its outputs, so that Make sees them up to date too.
  if(TARGET ${target}_pycemit_run)
    message(FATAL_ERROR "add_python_bytecode(${target}): a target named ${target}_pycemit_run already exists "
                        "(with this generator, add_python_bytecode adds it for the pycemit run)")
  endif()
  list(LENGTH sources count)
  set(stamp "${source_list}.stamp")
  add_custom_command(
    OUTPUT "${stamp}"
    COMMAND "${pycemit}" compile ${flags} --jobs ${PYCEMIT_JOBS} ${options} --source-root "${source_root}"
            "@${source_list}"
    COMMAND "${CMAKE_COMMAND}" -E touch "${stamp}"
    DEPENDS ${sources} "${source_list}" "${settings_file}" "${pycemit}"
    COMMENT "Compiling Python bytecode (${cache_tag}) for ${target}: ${count} sources"
    VERBATIM)
  add_custom_target(${target}_pycemit_run DEPENDS "${stamp}")

  string(LENGTH "${source_root}/" root_length)
  if(source_root STREQUAL "/")
    set(root_length 1)
  endif()
  foreach(source IN LISTS sources)
    string(SUBSTRING "${source}" ${root_length} -1 rel)
    string(MD5 key "${rel}")
    set(outs "${_pycemit_outputs_${key}}")
    add_custom_command(
      OUTPUT ${outs}
      COMMAND "${pycemit}" compile ${flags} --jobs 1 ${options} --source-root "${source_root}" "${source}"
      COMMAND "${CMAKE_COMMAND}" -E touch_nocreate ${outs}
      DEPENDS "${source}" "${settings_file}" "${pycemit}"
      COMMENT "Checking Python bytecode (${cache_tag}) of ${rel}"
      VERBATIM)
  endforeach()
endfunction()
