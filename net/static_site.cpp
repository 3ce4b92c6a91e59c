// StaticSite: see static_site.hpp.
#include "net/static_site.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace flowstone::net {
namespace {

namespace fs = std::filesystem;

constexpr size_t kFileLimit = size_t{32} << 20;  // a page's file larger than this is not a page's

std::string content_type_of(const fs::path& path) {
  static const std::map<std::string, std::string> types = {{".html", "text/html; charset=utf-8"},
                                                           {".js", "text/javascript; charset=utf-8"},
                                                           {".mjs", "text/javascript; charset=utf-8"},
                                                           {".css", "text/css; charset=utf-8"},
                                                           {".json", "application/json"},
                                                           {".svg", "image/svg+xml"},
                                                           {".png", "image/png"},
                                                           {".ico", "image/x-icon"},
                                                           {".woff2", "font/woff2"},
                                                           {".map", "application/json"},
                                                           {".txt", "text/plain; charset=utf-8"}};
  auto it = types.find(path.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

}  // namespace

std::unique_ptr<StaticSite> StaticSite::Load(const std::string& root, std::string* error) {
  std::error_code ec;
  fs::path base = fs::canonical(root, ec);
  if (ec) {
    *error = root + ": " + ec.message();
    return nullptr;
  }
  auto site = std::unique_ptr<StaticSite>(new StaticSite());
  for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->file_size(ec) > kFileLimit) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream body;
    body << in.rdbuf();
    if (!in) {
      *error = it->path().string() + ": cannot be read";
      return nullptr;
    }
    std::string path = "/" + fs::relative(it->path(), base).generic_string();
    site->files_[path] = File{content_type_of(it->path()), body.str()};
  }
  if (ec) {
    *error = root + ": " + ec.message();
    return nullptr;
  }
  if (!site->files_.count("/index.html")) {
    *error = root + " has no index.html";
    return nullptr;
  }
  return site;
}

std::optional<HttpResponse> StaticSite::Serve(const HttpRequest& request) const {
  if (request.method != "GET" && request.method != "HEAD") return std::nullopt;
  auto it = files_.find(request.path == "/" ? "/index.html" : request.path);
  if (it == files_.end()) return std::nullopt;
  HttpResponse response;
  response.content_type = it->second.content_type;
  response.body = it->second.body;
  bool hashed = request.path.rfind("/assets/", 0) == 0;
  response.headers.emplace_back("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return response;
}

}  // namespace flowstone::net
