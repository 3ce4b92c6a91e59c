// Archives in memory, through libarchive: the tar a worker uploads as a model, the tar.gz of a task's
// output data or a job's logs, the zip of a model export. Entries are whole files held in memory (models,
// logs and samples are small next to the 64 MiB body limit). Thread-safe: no shared state.
#pragma once
#include <string>
#include <vector>

namespace flowstone::net {

struct ArchiveEntry {
  std::string name;  // path inside the archive, '/'-separated
  std::string data;
};

enum class ArchiveFormat { tar, tar_gz, zip };

// Writes `entries` as one archive. Returns an error message, empty on success.
std::string write_archive(ArchiveFormat format, const std::vector<ArchiveEntry>& entries, std::string* out);

// Reads every regular file of a tar, tar.gz or zip (detected from its bytes). Rejects anything that is
// not an archive, and entry names that are absolute or climb out with "..". Error message or empty.
std::string read_archive(const std::string& bytes, std::vector<ArchiveEntry>* out);

// Adds every regular file under `dir` (recursively) as entries named `prefix` + relative path.
std::string add_directory(const std::string& dir, const std::string& prefix,
                          std::vector<ArchiveEntry>* entries);

}  // namespace flowstone::net
