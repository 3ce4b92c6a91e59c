#include "store/retention.hpp"

#include <map>
#include <set>

#include "events.capnp.h"
#include "events/common/json.hpp"
#include "events/common/status.hpp"
#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "store/codec/capnp_bytes.hpp"
#include "store/codec/job_codec.hpp"

namespace flowstone::store {
namespace {

std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}
std::string bytes(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}
capnp::Data::Reader data(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

// The jobs every copy of which ended before `before_ms`, owing no party its end: job_id -> last end.
std::map<std::string, int64_t> jobs_past(EventLog& log, int64_t before_ms) {
  std::map<std::string, int64_t> last_end;
  std::set<std::string> kept;
  log.ScanView(domain::kJobsView, "", [&](const std::string&, const std::string& value) {
    Json row = Json::parse(value, nullptr, false);
    const std::string job_id = row.value("job_id", "");
    auto status = domain::parse_status(row.value("status", ""));
    const int64_t end = row["end_time"].is_number_integer() ? row["end_time"].get<int64_t>() : 0;
    if (!status || !domain::is_end(*status) || end == 0 || end >= before_ms ||
        row.value("end_undelivered", false))
      kept.insert(job_id);
    last_end[job_id] = std::max(last_end[job_id], end);
    return true;
  });
  for (const auto& job_id : kept) last_end.erase(job_id);
  return last_end;
}

}  // namespace

std::string encode_compacted_job(const CompactedJob& job) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::JobCompacted>();
  root.setAtMs(job.at_ms);
  root.setJobId(job.job_id);
  root.setEndTime(job.end_time);
  root.setKeepDays(job.keep_days);
  root.setEvents(job.events);
  auto rows = root.initRows(static_cast<unsigned>(job.rows.size()));
  for (unsigned i = 0; i < job.rows.size(); ++i) {
    rows[i].setFamily(job.rows[i].family);
    rows[i].setKey(data(job.rows[i].key));
    rows[i].setValue(data(job.rows[i].value));
  }
  return message_bytes(message);
}

std::optional<CompactedJob> decode_compacted_job(std::string_view encoded, std::string* error) {
  return read_message<schema::JobCompacted>(
      encoded, "retention event", error,
      [&](schema::JobCompacted::Reader root) -> std::optional<CompactedJob> {
        CompactedJob job;
        job.at_ms = root.getAtMs();
        job.job_id = text(root.getJobId());
        job.end_time = root.getEndTime();
        job.keep_days = root.getKeepDays();
        job.events = root.getEvents();
        for (auto r : root.getRows())
          job.rows.push_back({text(r.getFamily()), bytes(r.getKey()), bytes(r.getValue())});
        return job;
      });
}

Status CompactJobs(EventLog& log, int keep_days, int64_t now_ms, CompactReport* report) {
  if (keep_days < 0) return Status::InvalidArgument("--keep-days must be 0 or more");
  for (const auto& [job_id, end_time] : jobs_past(log, now_ms - keep_days * kDayMs)) {
    const std::string stream = "job:" + job_id;
    std::vector<StoredEvent> events;
    Status s = log.ReadStream(stream, 1, &events);
    if (!s.ok() || events.empty()) {
      report->errors.push_back(job_id + ": its stream cannot be read (" + s.ToString() + "), kept");
      continue;
    }
    domain::JobState state;
    bool decoded = true;
    for (const StoredEvent& stored : events) {
      std::string error;
      auto event = decode_job_event(stored.payload, &error);
      if (!event) {
        report->errors.push_back(job_id + ": event " + std::to_string(stored.version) + " does not decode (" +
                                 error + "), kept");
        decoded = false;
        break;
      }
      domain::apply(state, *event);
    }
    if (!decoded) continue;
    CompactedJob record{now_ms, job_id, end_time, keep_days, events.size(), {}};
    for (auto& row : domain::job_views(state))
      record.rows.push_back({row.family, std::move(row.key), std::move(row.value)});
    AppendRequest request;
    request.stream = kRetentionStream;
    request.expected_version = log.StreamVersion(kRetentionStream);
    request.events.push_back(encode_compacted_job(record));
    request.remove_streams.push_back(stream);
    AppendResult result = log.Append(std::move(request));
    if (!result.status.ok()) return result.status;
    ++report->jobs;
    report->events += events.size();
    report->kept_rows += record.rows.size();
  }
  return Status::OK();
}

}  // namespace flowstone::store
