// FileRoots: the folders under which a server-side path named in a request may lie (upload.file,
// table/bind/path, model/export.path, download targets). A path is resolved first (symlinks followed,
// "." and ".." folded; for a path that does not exist yet, its deepest existing ancestor), so neither a
// symlink nor a "../" climbs out. Used by the server where requests name paths and by the workers that
// read them (the upload component), so both refuse the same paths. Immutable; thread-safe.
#pragma once
#include <string>
#include <vector>

namespace flowstone::net {

class FileRoots {
 public:
  FileRoots() = default;
  explicit FileRoots(const std::vector<std::string>& roots);  // each resolved once, here

  // Resolves `path` (absolute) into *resolved. Returns "" when it lies under a root, else why not.
  std::string Confine(const std::string& path, std::string* resolved) const;
  // True if the resolved `path` is one of the roots or lies under one.
  bool Contains(const std::string& path) const;

  const std::vector<std::string>& roots() const { return roots_; }
  std::string Describe() const;  // "[/a, /b]" for error messages

 private:
  std::vector<std::string> roots_;
};

// `path` with its symlinks followed and "."/".." folded (the deepest existing ancestor resolved, the rest
// appended); "" if it cannot be resolved.
std::string resolve_path(const std::string& path);

}  // namespace flowstone::net
