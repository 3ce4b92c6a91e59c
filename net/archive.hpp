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

// How much an archive may hold once inflated: checked while inflating, so a small archive that inflates
// to gigabytes (a "zip bomb") is refused after at most max_bytes were held in memory.
struct ArchiveLimits {
  size_t max_bytes = size_t{256} << 20;  // the sum of every member's inflated size
  size_t max_entries = 10000;            // members of any type
};

// Reads every regular file of a tar, tar.gz or zip (detected from its bytes). Rejects anything that is
// not an archive, entry names that are absolute or climb out with "..", and archives past `limits`
// (the message then starts with kArchiveTooLarge). Error message or empty.
std::string read_archive(const std::string& bytes, std::vector<ArchiveEntry>* out,
                         const ArchiveLimits& limits = ArchiveLimits{});
inline constexpr const char* kArchiveTooLarge = "archive too large: ";

// Adds every regular file under `dir` (recursively) as entries named `prefix` + relative path.
std::string add_directory(const std::string& dir, const std::string& prefix,
                          std::vector<ArchiveEntry>* entries);

}  // namespace flowstone::net
