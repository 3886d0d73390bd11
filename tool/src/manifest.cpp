#include "pycemit/manifest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "pycemit/discover.h"
#include "pycemit/file_io.h"
#include "pycemit/naming.h"

namespace pycemit {
namespace {

std::vector<unsigned char> sha256(std::string_view data) {
  std::vector<unsigned char> digest(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr);
  digest.resize(len);
  return digest;
}

// One RECORD line split into its CSV fields (RFC 4180 quoting, as Python's csv).
std::vector<std::string> parse_csv_line(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

std::string csv_field(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// `path` relative to `base` (both absolute, normal), with ".." where needed.
std::string relative_with_parents(const std::string& path, std::string base) {
  std::string ups;
  while (true) {
    if (auto rel = relative_to(path, base)) return ups + *rel;
    base = std::string(path_dirname(base));
    ups += "../";
  }
}

}  // namespace

std::string sha256_hex(std::string_view data) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : sha256(data)) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

std::string record_hash(std::string_view data) {
  const auto digest = sha256(data);
  std::string b64(4 * ((digest.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), digest.data(), static_cast<int>(digest.size()));
  b64.resize(static_cast<std::size_t>(n));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  std::replace(b64.begin(), b64.end(), '+', '-');
  std::replace(b64.begin(), b64.end(), '/', '_');
  return "sha256=" + b64;
}

void write_manifest(const std::string& manifest_path, std::vector<OutputRecord> outputs,
                    std::vector<SkippedRecord> skipped) {
  std::sort(outputs.begin(), outputs.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  std::sort(skipped.begin(), skipped.end(), [](const auto& a, const auto& b) { return a.source < b.source; });
  // Paths are file-system bytes; the manifest is UTF-8 JSON, so undecodable
  // bytes are written as Python would show them (surrogate escapes are not JSON):
  // replaced by U+FFFD via nlohmann's error handler.
  nlohmann::json out_list = nlohmann::json::array();
  for (const auto& o : outputs) {
    out_list.push_back({{"source", o.source},
                        {"path", o.path},
                        {"runtime_path", o.runtime_path},
                        {"cache_tag", o.cache_tag},
                        {"optimization_level", o.optimize},
                        {"invalidation_mode", to_string(o.mode)},
                        {"size", o.size},
                        {"sha256", o.sha256},
                        {"status", o.status}});
  }
  nlohmann::json skip_list = nlohmann::json::array();
  for (const auto& s : skipped) skip_list.push_back({{"source", s.source}, {"reason", s.reason}});
  const nlohmann::json doc = {{"pycemit_manifest", 1}, {"outputs", out_list}, {"skipped", skip_list}};
  const std::string text = doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const std::string dir(path_dirname(absolute_path(manifest_path)));
  make_directories(dir);
  write_file_atomically(manifest_path, text, 0644);
}

std::vector<std::string> read_manifest_outputs(const std::string& manifest_path) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(read_file(manifest_path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(manifest_path + ": not JSON: " + e.what());
  }
  if (!doc.is_object() || doc.value("pycemit_manifest", 0) != 1 || !doc.contains("outputs")) {
    throw std::runtime_error(manifest_path + ": not a pycemit manifest");
  }
  std::vector<std::string> paths;
  for (const auto& output : doc["outputs"]) paths.push_back(output.at("path").get<std::string>());
  return paths;
}

void update_record(const std::string& record_path, const std::vector<OutputRecord>& outputs) {
  const std::string record_abs = absolute_path(record_path);
  const std::string site_dir(path_dirname(path_dirname(record_abs)));
  const std::string own_name = relative_with_parents(record_abs, site_dir);

  std::vector<std::string> lines;
  const std::string existing = read_file(record_path);
  std::size_t start = 0;
  while (start < existing.size()) {
    auto end = existing.find('\n', start);
    if (end == std::string::npos) end = existing.size();
    std::string line = existing.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) lines.push_back(line);
    start = end + 1;
  }

  auto own_line =
      std::find_if(lines.begin(), lines.end(), [&](const std::string& l) { return parse_csv_line(l)[0] == own_name; });
  std::vector<std::string> added;
  for (const auto& o : outputs) {
    const std::string rel = relative_with_parents(absolute_path(o.path), site_dir);
    const std::string data = read_file(o.path);
    const std::string line = csv_field(rel) + "," + record_hash(data) + "," + std::to_string(data.size());
    auto it =
        std::find_if(lines.begin(), lines.end(), [&](const std::string& l) { return parse_csv_line(l)[0] == rel; });
    if (it != lines.end()) {
      *it = line;
    } else {
      added.push_back(line);
    }
  }
  if (own_line != lines.end()) {
    const auto pos = own_line - lines.begin();
    lines.insert(lines.begin() + pos, added.begin(), added.end());
  } else {
    lines.insert(lines.end(), added.begin(), added.end());
  }
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  auto st = stat_path(record_path);
  write_file_atomically(record_path, text, st ? st->st_mode & 0777 : 0644);
}

}  // namespace pycemit
