# Part of pycemit: cmake-modules/PycEmit/Plan.cmake, a helper of PycEmit.cmake (the
# documented front door; include that, not this). Configure time: `pycemit plan` names
# every output, and checks every option, in one run per call; its errors are told in
# add_python_bytecode()'s keywords. Nothing here is per source but reading the plan,
# one line a source.
include_guard(GLOBAL)

# Runs `pycemit plan --format lines` on the sources listed in `source_list` (one path
# a line); sets ${out_var} to its output. pycemit checks the options (levels, mode,
# layout, prefix, roots, sources below SOURCE_ROOT, the interpreter); a refusal stops
# the configuration with its message, under the keywords it is about and their values
# as given (the caller's `arg_<KEYWORD>` variables).
function(_pycemit_plan fn pycemit source_root options source_list out_var)
  execute_process(
    COMMAND "${pycemit}" plan --format lines ${options} --source-root "${source_root}" "@${source_list}"
    OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(rc EQUAL 0)
    set(${out_var} "${text}" PARENT_SCOPE)
    return()
  endif()
  # What pycemit's messages name, and the keyword each comes from.
  set(keywords "")
  if(rc EQUAL 3)
    list(APPEND keywords PYTHON)
  endif()
  foreach(pair IN ITEMS "--python>PYTHON" "--invalidation-mode>INVALIDATION_MODE" "--optimize>OPTIMIZE"
                        "optimization level>OPTIMIZE" "--layout>LAYOUT" "--pycache-prefix>PYCACHE_PREFIX"
                        "--install-root>INSTALL_DESTINATION" "source root>SOURCE_ROOT")
    string(FIND "${pair}" ">" at)
    string(SUBSTRING "${pair}" 0 ${at} said)
    math(EXPR at "${at} + 1")
    string(SUBSTRING "${pair}" ${at} -1 keyword)
    string(FIND "${err}" "${said}" found)
    if(found GREATER -1 AND NOT keyword IN_LIST keywords)
      list(APPEND keywords ${keyword})
    endif()
  endforeach()
  if(NOT keywords)
    list(APPEND keywords SOURCES)
  endif()
  set(given "")
  foreach(keyword IN LISTS keywords)
    if(DEFINED arg_${keyword})
      list(JOIN arg_${keyword} " " values)
      string(APPEND given " ${keyword} ${values}")
    endif()
  endforeach()
  if(given)
    set(given "\n(given:${given})")
  endif()
  list(JOIN keywords ", " named)
  string(STRIP "${err}" err)
  message(FATAL_ERROR "${fn}: ${named}: ${err}${given}")
endfunction()

# Reads the output of `pycemit plan --format lines` in one pass (a macro: it sets the
# caller's variables): `cache_tag`, and for each source
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
