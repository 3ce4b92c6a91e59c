#include "store/projections.hpp"

#include <filesystem>
#include <map>

#include "events/catalog/catalog.hpp"
#include "events/job/views.hpp"
#include "store/codec/access_codec.hpp"
#include "store/codec/catalog_codec.hpp"
#include "store/codec/job_codec.hpp"
#include "store/retention.hpp"
#include "store/snapshots.hpp"

namespace flowstone::store {
namespace {

// Replays one of the server's single streams, handing each decoded event to `apply` and counting it in the
// report; stops at an event that does not decode and names it.
template <class Decode, class Apply>
void replay_singleton(EventLog& log, const char* stream, Decode decode, Apply apply,
                      ProjectionReport* report) {
  std::vector<StoredEvent> events;
  Status s = log.ReadStream(stream, 1, &events);
  if (!s.ok()) report->errors.push_back(std::string(stream) + ": " + s.ToString());
  if (!events.empty()) ++report->streams;
  for (const StoredEvent& stored : events) {
    std::string error;
    auto event = decode(stored.payload, &error);
    if (!event) {
      report->errors.push_back(std::string(stream) + " event " + std::to_string(stored.version) + ": " +
                               error);
      return;
    }
    apply(*event);
    ++report->events;
  }
}

const char* kJobStreamPrefix = "job:";

using Rows = std::map<std::string, std::map<std::string, std::string>>;  // family -> key -> value

Status replay_all(EventLog& log, Rows* rows, ProjectionReport* report) {
  std::vector<std::string> streams;
  Status s = log.ListStreams(&streams);
  if (!s.ok()) return s;
  for (const std::string& stream : streams) {
    if (stream.rfind(kJobStreamPrefix, 0) != 0) continue;
    ++report->streams;
    std::vector<StoredEvent> events;
    s = log.ReadStream(stream, 1, &events);
    if (!s.ok()) {
      report->errors.push_back(stream + ": " + s.ToString());
      continue;
    }
    domain::JobState state;
    for (const StoredEvent& stored : events) {
      std::string error;
      auto event = decode_job_event(stored.payload, &error);
      if (!event) {
        report->errors.push_back(stream + " event " + std::to_string(stored.version) + ": " + error);
        break;
      }
      domain::apply(state, *event);
      ++report->events;
    }
    // The ledger's invariant: a copy in an end status holds no resources.
    for (const auto& copy : state.copies)
      if (copy.resource_in_use && domain::is_end(copy.status))
        report->differences.push_back("resources " + state.job_id + "/" + copy.party.role + "/" +
                                      copy.party.party_id + ": ended " +
                                      std::string(domain::to_string(copy.status)) + " but still holds " +
                                      std::to_string(copy.cores) + " cores");
    // Every model an event names is on disk at its recorded size (files are named by content).
    if (!state.cleaned)
      for (const auto& record : state.tracking.models) {
        std::error_code ec;
        auto size = std::filesystem::file_size(record.model.file, ec);
        if (ec || static_cast<int64_t>(size) != record.model.size)
          report->differences.push_back("model " + record.model.storage_key + ": " + record.model.file +
                                        (ec ? " is missing" : " has another size than recorded"));
      }
    for (auto& row : domain::job_views(state)) (*rows)[row.family][row.key] = std::move(row.value);
  }
  // Jobs compacted past their retention: their rows as they stood when their stream was removed.
  replay_singleton(
      log, kRetentionStream, decode_compacted_job,
      [&](CompactedJob& job) {
        for (auto& row : job.rows) (*rows)[row.family][row.key] = std::move(row.value);
      },
      report);
  // The catalog (tables, providers, imported models) and the access stream (apps, roles, grants: no views,
  // but a stream that does not decode is reported as the job streams are).
  domain::CatalogState catalog;
  replay_singleton(
      log, kCatalogStream, decode_catalog_event, [&](const auto& e) { domain::apply(catalog, e); }, report);
  domain::AccessState access;
  replay_singleton(
      log, kAccessStream, decode_access_event, [&](const auto& e) { domain::apply(access, e); }, report);
  for (auto& row : domain::catalog_views(catalog)) (*rows)[row.family][row.key] = std::move(row.value);
  for (const auto& family : job_view_families()) report->rows += (*rows)[family].size();
  return Status::OK();
}

std::string printable(const std::string& key) {
  std::string out = key;
  for (char& c : out)
    if (c == '\0') c = '/';
  return out;
}

}  // namespace

std::vector<std::string> job_view_families() {
  return {domain::kJobsView,           domain::kTasksView,   domain::kExecutionsView,
          domain::kResourcesView,      domain::kMetricsView, domain::kDataOutputsView,
          domain::kModelsView,         domain::kTablesView,  domain::kProvidersView,
          domain::kImportedModelsView, domain::kServersView, domain::kServicesView};
}

std::vector<std::string> log_families() {
  std::vector<std::string> families = job_view_families();
  families.push_back(kSnapshotsFamily);
  return families;
}

Status RebuildViews(EventLog& log, ProjectionReport* report) {
  Rows rows;
  Status s = replay_all(log, &rows, report);
  if (!s.ok()) return s;
  for (const auto& family : job_view_families()) {
    std::vector<std::pair<std::string, std::string>> list(rows[family].begin(), rows[family].end());
    s = log.ReplaceView(family, list);
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status VerifyViews(EventLog& log, ProjectionReport* report) {
  Rows rebuilt;
  Status s = replay_all(log, &rebuilt, report);
  if (!s.ok()) return s;
  for (const auto& family : job_view_families()) {
    std::map<std::string, std::string> stored;
    s = log.ScanView(family, "", [&](const std::string& key, const std::string& value) {
      stored[key] = value;
      return true;
    });
    if (!s.ok()) return s;
    const auto& expected = rebuilt[family];
    for (const auto& [key, value] : expected) {
      auto it = stored.find(key);
      if (it == stored.end())
        report->differences.push_back(family + " " + printable(key) + ": missing from the stored view");
      else if (it->second != value)
        report->differences.push_back(family + " " + printable(key) + ": stored row differs from the log");
    }
    for (const auto& [key, value] : stored)
      if (!expected.count(key))
        report->differences.push_back(family + " " + printable(key) + ": stored row has no events behind it");
  }
  return Status::OK();
}

}  // namespace flowstone::store
