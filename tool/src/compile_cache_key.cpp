// The compile cache key (compile_cache_entry.h, docs/cache.md).
#include "pycemit/compile_cache_entry.h"
#include "pycemit/manifest.h"

namespace pycemit {
namespace {

std::string release_form(int major, int minor, int micro, const std::string& level, int serial) {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro) + " " + level + " " +
         std::to_string(serial);
}

}  // namespace

std::string compile_cache_key_text(const InterpreterInfo& interpreter, int optimize, std::string_view embedded_path,
                                   std::string_view source_sha256_hex) {
  std::string text = "pycemit compile cache\n";
  const auto line = [&](const char* name, const std::string& value) {
    text += name;
    text += ' ';
    text += value;
    text += '\n';
  };
  line("cache-format", std::to_string(kCompileCacheFormatVersion));
  line("canonical-marshal", std::to_string(marshal::kCanonicalFormatVersion));
  line("implementation", interpreter.implementation);
  line("version", release_form(interpreter.major, interpreter.minor, interpreter.micro, interpreter.release_level,
                               interpreter.serial));
  line("implementation-version", interpreter.implementation_version);
  line("free-threaded", interpreter.free_threaded ? "1" : "0");
  line("cache-tag", interpreter.cache_tag.value_or("None"));
  line("magic-number", std::to_string(interpreter.magic_number()));
  line("marshal-version", std::to_string(interpreter.marshal_version));
  line("optimization-level", std::to_string(optimize));
  line("embedded-path", std::to_string(embedded_path.size()) + " " + std::string(embedded_path));
  line("source-sha256", std::string(source_sha256_hex));
  return text;
}

std::string compile_cache_key(const InterpreterInfo& interpreter, int optimize, std::string_view embedded_path,
                              std::string_view source_sha256_hex) {
  return sha256_hex(compile_cache_key_text(interpreter, optimize, embedded_path, source_sha256_hex));
}

}  // namespace pycemit
