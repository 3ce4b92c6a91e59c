// The schedule logs: LOG_DIR/<job_id>/fate_flow_schedule.log, one line per event of the job at this party,
// and fate_flow_schedule_error.log with the lines that report trouble (the schedule_error log type). A job
// actor hands its lines over once they are durable; one detached writer appends them, so no job actor
// waits for a file, and it keeps only a few files open (the least recently written are closed), so
// thousands of jobs never run the server out of file descriptors.
#pragma once
#include <caf/all.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace flowstone::actors {

struct ScheduleLine {
  int64_t at_ms = 0;  // when the event happened
  bool trouble = false;
  std::string text;
};
struct ScheduleLogMsg {
  std::string job_id;
  std::vector<ScheduleLine> lines;
};

using schedule_log_actor = caf::typed_actor<caf::reacts_to<ScheduleLogMsg>>;

schedule_log_actor spawn_schedule_log(caf::actor_system& system, std::string log_dir, size_t open_files = 32);

}  // namespace flowstone::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ScheduleLogMsg)
