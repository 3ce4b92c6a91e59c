// StaticSite: the files of a built web page (the dashboard), read into memory once, answered for GET and
// HEAD. "/" is index.html; content types follow the file's extension; files under assets/ (named by their
// content hash by the bundler) may be cached for a year, the rest is revalidated.
//
// Thread rules: Load reads the disk (call it at start, not on an I/O thread); Serve only reads memory and
// is safe from any thread.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "net/http_server.hpp"

namespace flowstone::net {

class StaticSite {
 public:
  // Every regular file under `root` (a symbolic link to a file is read as that file; the paths served are
  // only those found under root); null with why when root has no index.html or cannot be read.
  static std::unique_ptr<StaticSite> Load(const std::string& root, std::string* error);

  // The file the request names, or nullopt when it names none (other handlers may answer).
  std::optional<HttpResponse> Serve(const HttpRequest& request) const;

  size_t files() const { return files_.size(); }

 private:
  struct File {
    std::string content_type;
    std::string body;
  };
  std::map<std::string, File> files_;  // by path from the root, "/index.html"
};

}  // namespace flowstone::net
