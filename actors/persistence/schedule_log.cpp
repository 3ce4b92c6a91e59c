#include "actors/persistence/schedule_log.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <list>
#include <map>
#include <memory>

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;

// The line as spdlog wrote it before: "[YYYY-mm-dd HH:MM:SS.mmm] [job-<id>] [info] text".
std::string format_line(const std::string& job_id, const ScheduleLine& line) {
  std::time_t seconds = static_cast<std::time_t>(line.at_ms / 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d", static_cast<int>(line.at_ms % 1000));
  return std::string("[") + stamp + millis + "] [job-" + job_id + "] [" + (line.trouble ? "warning" : "info") +
         "] " + line.text + "\n";
}

struct OpenLog {
  std::ofstream schedule, errors;
};

struct ScheduleLogState {
  std::string log_dir;
  size_t capacity = 32;
  std::list<std::string> recent;  // job ids, most recently written first
  std::map<std::string, std::pair<std::unique_ptr<OpenLog>, std::list<std::string>::iterator>> open;
  static inline const char* name = "flowstone.schedule_log";
};

OpenLog& log_of(ScheduleLogState& st, const std::string& job_id) {
  if (auto it = st.open.find(job_id); it != st.open.end()) {
    st.recent.splice(st.recent.begin(), st.recent, it->second.second);
    return *it->second.first;
  }
  if (st.open.size() >= st.capacity) {  // the least recently written job's files are closed
    st.open.erase(st.recent.back());
    st.recent.pop_back();
  }
  const std::string dir = st.log_dir + "/" + job_id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  auto log = std::make_unique<OpenLog>();
  log->schedule.open(dir + "/fate_flow_schedule.log", std::ios::app);
  log->errors.open(dir + "/fate_flow_schedule_error.log", std::ios::app);
  st.recent.push_front(job_id);
  auto& slot = st.open[job_id];
  slot = {std::move(log), st.recent.begin()};
  return *slot.first;
}

schedule_log_actor::behavior_type schedule_log_impl(schedule_log_actor::stateful_pointer<ScheduleLogState> self,
                                                    std::string log_dir, size_t open_files) {
  self->state.log_dir = std::move(log_dir);
  self->state.capacity = std::max<size_t>(open_files, 1);
  return {
      [self](const ScheduleLogMsg& msg) {
        OpenLog& log = log_of(self->state, msg.job_id);
        for (const ScheduleLine& line : msg.lines) {
          const std::string text = format_line(msg.job_id, line);
          log.schedule << text;
          if (line.trouble) log.errors << text;
        }
        log.schedule.flush();
        log.errors.flush();
      },
  };
}

}  // namespace

schedule_log_actor spawn_schedule_log(caf::actor_system& system, std::string log_dir, size_t open_files) {
  return system.spawn<caf::detached>(schedule_log_impl, std::move(log_dir), open_files);
}

}  // namespace flowstone::actors
