#include "net/archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "net/json_io.hpp"

namespace flowstone::net {
namespace {

namespace fs = std::filesystem;

struct WriterDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ReaderDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct EntryDeleter {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t append_to_string(archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

bool safe_name(const std::string& name) {
  if (name.empty() || name.front() == '/') return false;
  for (const auto& part : fs::path(name))
    if (part == "..") return false;
  return true;
}

// libarchive's message for its last error, which it may not have.
std::string archive_error(archive* a) {
  const char* message = archive_error_string(a);
  return message ? message : "unknown error";
}

}  // namespace

std::string write_archive(ArchiveFormat format, const std::vector<ArchiveEntry>& entries, std::string* out) {
  std::unique_ptr<archive, WriterDeleter> a(archive_write_new());
  int rc = ARCHIVE_OK;
  switch (format) {
    case ArchiveFormat::tar:
      rc = archive_write_set_format_pax_restricted(a.get());
      break;
    case ArchiveFormat::tar_gz:
      rc = archive_write_set_format_pax_restricted(a.get());
      if (rc == ARCHIVE_OK) rc = archive_write_add_filter_gzip(a.get());
      break;
    case ArchiveFormat::zip:
      rc = archive_write_set_format_zip(a.get());
      break;
  }
  if (rc != ARCHIVE_OK) return archive_error(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);  // no padding to 10 KiB blocks
  out->clear();
  if (archive_write_open(a.get(), out, nullptr, append_to_string, nullptr) != ARCHIVE_OK)
    return archive_error(a.get());
  for (const ArchiveEntry& item : entries) {
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), item.name.c_str());
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(item.data.size()));
    archive_entry_set_filetype(entry.get(), AE_IFREG);
    archive_entry_set_perm(entry.get(), 0644);
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) return archive_error(a.get());
    if (!item.data.empty() && archive_write_data(a.get(), item.data.data(), item.data.size()) < 0)
      return archive_error(a.get());
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return archive_error(a.get());
  return "";
}

namespace {

std::string read_entries(archive* a, std::vector<ArchiveEntry>* out, const ArchiveLimits& limits) {
  archive_entry* entry = nullptr;
  size_t entries = 0, inflated = 0;
  while (true) {
    int rc = archive_read_next_header(a, &entry);
    if (rc == ARCHIVE_EOF) return "";
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return "not a tar or zip archive: " + archive_error(a);
    if (++entries > limits.max_entries)
      return kArchiveTooLarge + std::string("more than ") + std::to_string(limits.max_entries) + " members";
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    ArchiveEntry item;
    const char* name = archive_entry_pathname(entry);
    item.name = name ? name : "";
    if (!valid_utf8(item.name)) return "an archive entry's name is not UTF-8";
    if (!safe_name(item.name)) return "archive entry '" + item.name + "' has an unsafe path";
    char buffer[16384];
    la_ssize_t n;
    while ((n = archive_read_data(a, buffer, sizeof buffer)) > 0) {
      inflated += static_cast<size_t>(n);
      if (inflated > limits.max_bytes)
        return kArchiveTooLarge + std::string("it inflates past ") + std::to_string(limits.max_bytes >> 20) +
               " MiB";
      item.data.append(buffer, n);
    }
    if (n < 0) return "archive is damaged: " + archive_error(a);
    out->push_back(std::move(item));
  }
}

}  // namespace

std::string read_archive(const std::string& bytes, std::vector<ArchiveEntry>* out,
                         const ArchiveLimits& limits) {
  std::unique_ptr<archive, ReaderDeleter> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_zip(a.get());
  out->clear();
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    return "not a tar or zip archive: " + archive_error(a.get());
  std::string error = read_entries(a.get(), out, limits);
  if (!error.empty()) out->clear();  // refused whole
  return error;
}

std::string add_directory(const std::string& dir, const std::string& prefix,
                          std::vector<ArchiveEntry>* entries) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return dir + " is not a directory";
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream data;
    data << in.rdbuf();
    entries->push_back({prefix + fs::relative(it->path(), dir).generic_string(), data.str()});
  }
  return ec ? dir + ": " + ec.message() : "";
}

}  // namespace flowstone::net
