# Writes OUTPUT, a C++ file defining pycemit::bootstrap_source() with the text of INPUT.
file(READ "${INPUT}" text)
string(FIND "${text}" ")PYCEMIT_BOOT\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from tool/bootstrap/compiler.py by embed.cmake; do not edit.\n"
  "#include \"pycemit/bootstrap.h\"\n"
  "namespace pycemit {\n"
  "std::string_view bootstrap_source() {\n"
  "  return R\"PYCEMIT_BOOT(${text})PYCEMIT_BOOT\";\n"
  "}\n"
  "}  // namespace pycemit\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
