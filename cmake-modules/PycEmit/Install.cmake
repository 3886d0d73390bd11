# Part of pycemit: cmake-modules/PycEmit/Install.cmake, a helper of PycEmit.cmake (the
# documented front door; include that, not this). The install rules: one
# install(FILES) per destination directory, naming every pyc and source, a warning
# for another prefix than the configured one, and the hard links of HARDLINK_DUPES.
include_guard(GLOBAL)

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

# The install rules of `target`, from the caller's groups (_pycemit_install_group);
# `component` is empty or "COMPONENT;<name>".
function(_pycemit_add_install_rules target destination install_root component)
  # The pycs embed paths under the configured prefix: say so when installed elsewhere.
  if(NOT IS_ABSOLUTE "${destination}")
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
endfunction()


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
