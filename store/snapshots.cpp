#include "store/snapshots.hpp"

namespace flowstone::store {

// A row is the version (8 bytes, big-endian) followed by the state's bytes.
ViewWrite snapshot_write(const std::string& stream, uint64_t version, std::string_view bytes) {
  std::string value(8, '\0');
  for (int i = 7; i >= 0; --i, version >>= 8) value[i] = static_cast<char>(version & 0xff);
  value.append(bytes.data(), bytes.size());
  return ViewWrite{kSnapshotsFamily, stream, std::move(value)};
}

Status ReadSnapshot(EventLog& log, const std::string& stream, Snapshot* out) {
  std::string value;
  Status s = log.GetView(kSnapshotsFamily, stream, &value);
  if (!s.ok()) return s;
  if (value.size() < 8) return Status::Corruption("snapshot of " + stream + " is too short");
  uint64_t version = 0;
  for (int i = 0; i < 8; ++i) version = (version << 8) | static_cast<unsigned char>(value[i]);
  out->version = version;
  out->bytes = value.substr(8);
  return Status::OK();
}

}  // namespace flowstone::store
