// Retention: removing the streams of jobs that ended long ago while keeping what users read about them.
// A job is compacted when every copy of it here has ended before the cut-off and its scheduler owes no
// party its end. Its stream is replayed one last time, the rows of its views as they stand go into a
// JobCompacted event of the "retention" stream, and the stream's events are removed in the same atomic
// batch. The views stay; a rebuild from the log restores them from that event (projections.cpp). Commands
// for a compacted job are refused; its history is gone. Blocking: run with the server stopped (`flowstone
// store compact --keep-days N`).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/event_log.hpp"

namespace flowstone::store {

inline constexpr const char* kRetentionStream = "retention";

struct CompactedJob {
  int64_t at_ms = 0;
  std::string job_id;
  int64_t end_time = 0;
  int keep_days = 0;
  uint64_t events = 0;
  struct Row {
    std::string family, key, value;
  };
  std::vector<Row> rows;
};
std::string encode_compacted_job(const CompactedJob& job);
std::optional<CompactedJob> decode_compacted_job(std::string_view bytes, std::string* error);

struct CompactReport {
  size_t jobs = 0;    // streams removed
  size_t events = 0;  // events removed with them
  size_t kept_rows = 0;
  std::vector<std::string> errors;  // jobs left as they were, and why
};

// Compacts the jobs whose last end is before now_ms - keep_days days.
Status CompactJobs(EventLog& log, int keep_days, int64_t now_ms, CompactReport* report);

}  // namespace flowstone::store
