#include "store/export.hpp"

#include <kj/encoding.h>

#include <istream>
#include <ostream>

#include "events/common/json.hpp"
#include "store/projections.hpp"

namespace flowstone::store {
namespace {

std::string base64(const std::string& bytes) {
  kj::String text = kj::encodeBase64(
      kj::arrayPtr(reinterpret_cast<const kj::byte*>(bytes.data()), bytes.size()), /*breakLines=*/false);
  return std::string(text.cStr(), text.size());
}

bool unbase64(const std::string& text, std::string* bytes) {
  auto decoded = kj::decodeBase64(kj::arrayPtr(text.data(), text.size()));
  if (decoded.hadErrors) return false;
  bytes->assign(reinterpret_cast<const char*>(decoded.begin()), decoded.size());
  return true;
}

}  // namespace

Status ExportLog(EventLog& log, std::ostream& out, size_t* events) {
  size_t count = 0;
  Status s = log.ReadGlobal(1, [&](const StoredEvent& e) {
    out << Json{{"stream", e.stream},
                {"version", e.version},
                {"global_seq", e.global_seq},
                {"payload", base64(e.payload)}}
               .dump()
        << '\n';
    ++count;
    return static_cast<bool>(out);
  });
  if (events) *events = count;
  if (s.ok() && !out) return Status::IOError("export: the output could not be written");
  return s;
}

Status ImportLog(EventLog& log, std::istream& in, size_t* events) {
  if (log.LastGlobalSeq() != 0) return Status::InvalidArgument("import: the log is not empty");
  size_t count = 0, line_no = 0;
  AppendRequest batch;  // consecutive events of one stream go in one append
  auto flush = [&]() -> Status {
    if (batch.events.empty()) return Status::OK();
    size_t n = batch.events.size();
    AppendResult r = log.Append(std::move(batch));
    batch = AppendRequest{};
    if (!r.status.ok()) return r.status;
    count += n;
    return Status::OK();
  };
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const std::string where = "import line " + std::to_string(line_no) + ": ";
    Json record = Json::parse(line, nullptr, false);
    if (!record.is_object() || !record["stream"].is_string() || !record["version"].is_number_unsigned() ||
        !record["payload"].is_string())
      return Status::Corruption(where + "not an exported event");
    const std::string stream = record["stream"].get<std::string>();
    const uint64_t version = record["version"].get<uint64_t>();
    std::string payload;
    if (!unbase64(record["payload"].get<std::string>(), &payload))
      return Status::Corruption(where + "the payload is not base64");
    if (stream != batch.stream) {
      if (Status s = flush(); !s.ok()) return s;
      batch.stream = stream;
      batch.expected_version = log.StreamVersion(stream);
    }
    if (version != batch.expected_version + batch.events.size() + 1)
      return Status::Corruption(where + "stream " + stream + " version " + std::to_string(version) +
                                " out of order");
    batch.events.push_back(std::move(payload));
  }
  Status s = flush();
  if (events) *events = count;
  return s;
}

Status DumpViews(EventLog& log, std::ostream& out, size_t* rows) {
  size_t count = 0;
  for (const std::string& family : job_view_families()) {
    Status s = log.ScanView(family, "", [&](const std::string& key, const std::string& value) {
      out << Json{{"family", family}, {"key", key}, {"value", value}}.dump() << '\n';
      ++count;
      return true;
    });
    if (!s.ok()) return s;
  }
  if (rows) *rows = count;
  return out ? Status::OK() : Status::IOError("views: the output could not be written");
}

}  // namespace flowstone::store
