#include "pycemit/naming.h"

#include <cctype>
#include <stdexcept>

namespace pycemit {

std::string to_string(Layout layout) {
  switch (layout) {
    case Layout::Pycache: return "pycache";
    case Layout::Prefix: return "prefix";
    case Layout::Sourceless: return "sourceless";
  }
  return "?";
}

std::optional<Layout> parse_layout(std::string_view text) {
  for (auto layout : kLayouts) {
    if (text == to_string(layout)) return layout;
  }
  return std::nullopt;
}

std::string cached_file_name(std::string_view source_name, std::string_view cache_tag, int optimize) {
  // base, sep, rest = tail.rpartition('.'); (base or rest) + sep + tag
  std::string name;
  const auto dot = source_name.rfind('.');
  if (dot == std::string_view::npos) {
    name = std::string(source_name);  // base = sep = "", rest = the whole name
  } else if (dot == 0) {
    name = std::string(source_name.substr(1)) + ".";  // base = "", rest after the dot
  } else {
    name = std::string(source_name.substr(0, dot)) + ".";
  }
  name += cache_tag;
  if (optimize != 0) name += ".opt-" + std::to_string(optimize);
  return name + ".pyc";
}

std::string sourceless_file_name(std::string_view source_name) {
  const auto dot = source_name.rfind('.');
  return std::string(dot == std::string_view::npos || dot == 0 ? source_name : source_name.substr(0, dot)) + ".pyc";
}

std::string path_join(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  if (out.back() != '/') out += '/';
  out += b;
  return out;
}

std::string_view path_dirname(std::string_view path) {
  const auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  if (slash == 0) return path.substr(0, 1);
  return path.substr(0, slash);
}

std::string_view path_basename(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string runtime_pyc_path(std::string_view runtime_source, Layout layout, std::string_view cache_tag, int optimize,
                             std::string_view pycache_prefix) {
  if (runtime_source.empty() || runtime_source.front() != '/') {
    throw std::invalid_argument("run-time source path is not absolute: " + std::string(runtime_source));
  }
  const std::string_view head = path_dirname(runtime_source);
  const std::string_view tail = path_basename(runtime_source);
  switch (layout) {
    case Layout::Pycache: return path_join(path_join(head, "__pycache__"), cached_file_name(tail, cache_tag, optimize));
    case Layout::Sourceless: return path_join(head, sourceless_file_name(tail));
    case Layout::Prefix: {
      if (pycache_prefix.empty() || pycache_prefix.front() != '/') {
        throw std::invalid_argument("pycache prefix is not absolute: " + std::string(pycache_prefix));
      }
      // _path_join(sys.pycache_prefix, head.lstrip(path_separators), filename)
      return path_join(path_join(pycache_prefix, head), cached_file_name(tail, cache_tag, optimize));
    }
  }
  throw std::invalid_argument("unknown layout");
}

std::optional<CachedName> parse_cached_file_name(std::string_view name) {
  constexpr std::string_view kSuffix = ".pyc";
  if (name.size() <= kSuffix.size() || name.substr(name.size() - kSuffix.size()) != kSuffix) return std::nullopt;
  name.remove_suffix(kSuffix.size());
  CachedName result;
  auto last_dot = name.rfind('.');
  if (last_dot != std::string_view::npos && name.substr(last_dot + 1).starts_with("opt-")) {
    const auto level = name.substr(last_dot + 5);
    if (level.empty() || level.size() > 2) return std::nullopt;
    for (char c : level) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    }
    result.optimize = std::stoi(std::string(level));
    name = name.substr(0, last_dot);
    last_dot = name.rfind('.');
  }
  if (last_dot == std::string_view::npos || last_dot == 0 || last_dot + 1 == name.size()) return std::nullopt;
  result.stem = std::string(name.substr(0, last_dot));
  result.cache_tag = std::string(name.substr(last_dot + 1));
  return result;
}

}  // namespace pycemit
