#include "apps/flowstone/job_history.hpp"

#include <cstdio>
#include <iostream>
#include <string>

#include "apps/flowstone/client.hpp"

namespace flowstone::cli {
namespace {

// Milliseconds shown after the local time: events of one job are often milliseconds apart.
std::string event_time(int64_t ms) {
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d", static_cast<int>(ms % 1000));
  return local_time(ms) + millis;
}

// The job id every command here needs: false (with the usage said) when -j is missing.
bool has_job_id(const Flags& flags, const char* command) {
  if (flags.count("job_id")) return true;
  std::cerr << "job " << command << " needs -j <job_id>\n";
  return false;
}

}  // namespace

int job_history(const Flags& flags) {
  if (!has_job_id(flags, "history")) return 1;
  std::string error;
  const Address server = server_address(flags);
  auto reply = call(server, "GET", "job/history/query", query_of(flags, {"job_id"}), {}, &error);
  if (flags.count("json") || !reply || reply->value("code", -1) != 0 || !(*reply)["data"].is_array())
    return print(reply, error);
  const Json& events = (*reply)["data"];
  std::cout << "job " << flags.at("job_id") << ": " << events.size() << " events at " << server.host << ":"
            << server.port << "\n";
  std::printf("%-23s %5s  %-26s %-20s %s\n", "TIME", "#", "EVENT", "BY", "WHAT");
  for (const Json& e : events)
    std::printf("%-23s %5lld  %-26s %-20s %s\n", event_time(e.value("at", int64_t{0})).c_str(),
                static_cast<long long>(e.value("version", int64_t{0})), e.value("kind", "").c_str(),
                e.value("actor", "").c_str(), e.value("what", "").c_str());
  return 0;
}

int job_resubmit(const Flags& flags) {
  if (!has_job_id(flags, "resubmit")) return 1;
  std::string error;
  const Address server = server_address(flags);
  auto rows = call(server, "GET", "job/query", query_of(flags, {"job_id", "role", "party_id"}), {}, &error);
  if (!rows || rows->value("code", -1) != 0 || !(*rows)["data"].is_array() || (*rows)["data"].empty())
    return print(rows, error);
  Json schema = (*rows)["data"][0].value("dag", Json());
  if (!schema.is_object() || !schema.contains("dag")) {
    std::cerr << "job " << flags.at("job_id") << " has no recorded DAG here\n";
    return 1;
  }
  // What the server added at the first submit is the new job's own: its initiator and model ids.
  if (schema["dag"].contains("conf") && schema["dag"]["conf"].is_object())
    for (const char* key : {"initiator_party_id", "model_id", "model_version"})
      schema["dag"]["conf"].erase(key);
  auto submitted = call(server, "POST", "job/submit", {}, Json{{"dag_schema", schema}}, &error);
  const int code = print(submitted, error);
  if (code == 0)
    std::cerr << "resubmitted job " << flags.at("job_id") << " as " << submitted->value("job_id", "") << "\n";
  return code;
}

int job_replay(const Flags& flags) {
  if (!has_job_id(flags, "replay")) return 1;
  if (!flags.count("until")) {
    std::cerr << "job replay needs --until N (an event number from `flowstone job history`)\n";
    return 1;
  }
  std::string error;
  const Address server = server_address(flags);
  auto reply = call(server, "GET", "job/replay/query", query_of(flags, {"job_id", "until"}), {}, &error);
  if (flags.count("json") || !reply || reply->value("code", -1) != 0 || !(*reply)["data"].is_object())
    return print(reply, error);
  const Json& data = (*reply)["data"];
  const Json& event = data["event"];
  std::cout << "job " << flags.at("job_id") << " as it was after event " << data.value("until", 0) << " of "
            << data.value("events", 0) << ": " << event_time(event.value("at", int64_t{0})) << " "
            << event.value("kind", "") << ": " << event.value("what", "") << "\n";
  for (const Json& job : data["jobs"])
    std::cout << "  " << job.value("role", "") << " " << job.value("party_id", "") << ": job "
              << job.value("status", "") << ", progress " << job.value("progress", 0) << "%"
              << (job.value("status_reason", "").empty() ? "" : " (" + job.value("status_reason", "") + ")")
              << "\n";
  std::printf("  %-16s %3s %-8s %-8s %-9s %-9s %s\n", "TASK", "V", "ROLE", "PARTY", "STATUS", "HERE",
              "ERROR");
  for (const Json& task : data["tasks"])
    std::printf("  %-16s %3d %-8s %-8s %-9s %-9s %s\n", task.value("task_name", "").c_str(),
                task.value("task_version", 0), task.value("role", "").c_str(),
                task.value("party_id", "").c_str(), task.value("status", "").c_str(),
                task.value("party_status", "").c_str(),
                task["error_report"].is_string() ? task["error_report"].get<std::string>().c_str() : "");
  return 0;
}

}  // namespace flowstone::cli
