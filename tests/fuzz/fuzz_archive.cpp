// libFuzzer target: the archive reader (model tars a worker uploads, model import zips). Any bytes are
// either read or refused; what is read never has an absolute name or a name that climbs out with "..",
// and never holds more than the limits allow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "net/archive.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  flowstone::net::ArchiveLimits limits;
  limits.max_bytes = 1 << 20;
  limits.max_entries = 64;
  std::vector<flowstone::net::ArchiveEntry> entries;
  std::string error =
      flowstone::net::read_archive(std::string(reinterpret_cast<const char*>(data), size), &entries, limits);
  if (!error.empty()) return 0;
  size_t held = 0;
  for (const auto& entry : entries) {
    if (entry.name.empty() || entry.name[0] == '/') std::abort();
    if (entry.name == ".." || entry.name.rfind("../", 0) == 0 ||
        entry.name.find("/../") != std::string::npos ||
        (entry.name.size() >= 3 && entry.name.compare(entry.name.size() - 3, 3, "/..") == 0))
      std::abort();
    held += entry.data.size();
  }
  if (held > limits.max_bytes || entries.size() > limits.max_entries) std::abort();
  return 0;
}
