// Files the server keeps beside the event log (model tars, uploaded CSVs), written so that an event or a
// job never names a file that a crash left half-written. Blocking; call from a detached actor.
#pragma once
#include <string>

namespace flowstone::store {

// Writes `data` to `path` durably: the parent folders, a temporary file, fsync, rename, fsync of the
// folder. Returns an error message, empty on success.
std::string WriteFileDurably(const std::string& path, const std::string& data);

}  // namespace flowstone::store
