// A temporary directory for a test, removed afterwards, with helpers to fill it.
#pragma once

#include <string>

namespace pycemit::testing {

class TempTree {
 public:
  TempTree();   // mkdtemp under $TMPDIR or /tmp, with a space in its name
  ~TempTree();  // rm -rf
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }
  // Writes `content` to `rel`, creating parent directories.
  std::string write(const std::string& rel, const std::string& content) const;
  std::string mkdir(const std::string& rel) const;

 private:
  std::string path_;
};

}  // namespace pycemit::testing
