#include "net/file_roots.hpp"

#include <filesystem>

namespace flowstone::net {
namespace fs = std::filesystem;

std::string resolve_path(const std::string& path) {
  if (path.empty() || path.find('\0') != std::string::npos) return "";
  std::error_code ec;
  fs::path resolved = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? "" : resolved.string();
}

FileRoots::FileRoots(const std::vector<std::string>& roots) {
  for (const std::string& root : roots)
    if (std::string resolved = resolve_path(root); !resolved.empty()) roots_.push_back(resolved);
}

bool FileRoots::Contains(const std::string& path) const {
  for (const std::string& root : roots_) {
    if (path == root) return true;
    const std::string prefix = root.back() == '/' ? root : root + "/";
    if (path.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

std::string FileRoots::Confine(const std::string& path, std::string* resolved) const {
  if (path.empty()) return "is empty";
  if (!fs::path(path).is_absolute()) return "'" + path + "' is not an absolute path";
  *resolved = resolve_path(path);
  if (resolved->empty()) return "'" + path + "' cannot be resolved";
  if (!Contains(*resolved))
    return "'" + path + "' (" + *resolved + ") is outside the allowed folders " + Describe() +
           " (flowstone.file_roots)";
  return "";
}

std::string FileRoots::Describe() const {
  std::string out = "[";
  for (size_t i = 0; i < roots_.size(); ++i) out += (i ? ", " : "") + roots_[i];
  return out + "]";
}

}  // namespace flowstone::net
