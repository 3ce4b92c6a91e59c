// Task resources beside FATE-Flow sites (spec 5.4): whichever side schedules, a party never runs more task
// cores than the job has there. As a host beside a FATE scheduler, Flowstone grants partner/task/resource/
// apply only within the job's cores (2004 otherwise); as the scheduler beside FATE hosts, it starts a task
// only once every party granted it, returns the grants on a refusal and asks again. The FATE sites are stubs
// (tests/system/fate_stub.hpp) that keep FATE's task ledger; the Flowstone side is a real server.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/system/fate_stub.hpp"

namespace flowstone::systest {
namespace {

// Beside a FATE scheduler that applies for two independent tasks at once: the Flowstone host grants the
// second only when the first's cores are back, answers 2004 as FATE's host does, and keeps its grants across
// a restart (they are events of the job).
TEST_F(Interop, TaskResourcesAreGrantedOnlyWithinTheJobsCores) {
  ASSERT_NO_FATAL_FAILURE(start("10000", "9999", fate_scheduler()));
  const std::string job_id = fresh_job_id(5);
  for (const Recorded& r : to_host()) {
    Json body = with_job_id(r.request, job_id);
    if (r.path == "/v2/partner/job/create") {  // two independent tasks of 4 cores in a job of 4 cores
      Json noop = {{"component_ref", "noop"}, {"parameters", {{"sleep", 0}}}};
      body["dag"]["tasks"] = {{"a_0", noop}, {"b_0", noop}};
      body["dag"]["conf"]["cores"] = 4;
      body["dag"]["conf"]["task"] = {{"engine_run", {{"cores", 4}}}};
    }
    if (r.path == "/v2/partner/task/resource/apply") break;
    Json reply = replay(r, body);
    ASSERT_EQ(reply.value("code", -1), 0)
        << "seq " << r.seq << " " << r.path << ": " << reply.dump() << server->diagnostics(job_id);
  }
  const Headers headers = {{"dest-party-id", "10000"}, {"service", "fateflow"}, {"initiator-party-id", ""}};
  auto task_call = [&](const std::string& route, const std::string& task) {
    return server->post(route,
                        Json{{"job_id", job_id},
                             {"role", "host"},
                             {"party_id", "10000"},
                             {"task_id", job_id + "_" + task},
                             {"task_version", 0}},
                        headers);
  };
  EXPECT_EQ(code_of(task_call("partner/task/resource/apply", "a_0")), 0);
  Json refused = task_call("partner/task/resource/apply", "b_0");
  EXPECT_EQ(code_of(refused), 2004) << refused.dump();
  EXPECT_TRUE(contains(refused.value("message", ""), "Task resource exception")) << refused.dump();
  EXPECT_EQ(code_of(task_call("partner/task/resource/return", "a_0")), 0);
  EXPECT_EQ(code_of(task_call("partner/task/resource/apply", "b_0")), 0);

  // The grant is durable: after a crash and restart a_0 still finds the job's cores taken by b_0.
  server->kill9();
  ASSERT_EQ(server->restart(), "") << server->diagnostics(job_id);
  EXPECT_EQ(code_of(task_call("partner/task/resource/apply", "a_0")), 2004);
  EXPECT_EQ(code_of(task_call("partner/task/resource/apply", "b_0")), 0) << "a repeated grant";
  Json history = server->get("job/history/query", {{"job_id", job_id}});
  std::string kinds = history.dump();
  EXPECT_TRUE(contains(kinds, "TaskResourcesApplied")) << kinds;
  EXPECT_TRUE(contains(kinds, "TaskResourcesReturned")) << kinds;
}

// FATE-Flow hosts as a FATE scheduler meets them, each keeping FATE's task ledger (spec 5.4): the job has
// `job_cores` at the party and every task takes 4; an apply takes them (2004 when too few are left, or when
// the run holds them already), a return gives them back, and so does the run's end. A started run reports
// running at once and success only when the test lets it finish.
struct FateHosts {
  std::map<std::string, int> left;                       // party -> job cores left
  std::set<std::string> held;                            // party/task_id holding its cores
  std::map<std::string, std::set<std::string>> running;  // party -> task ids started and not finished
  std::map<std::string, size_t> most_running;            // party -> the most runs it ever had at once
  std::vector<std::string> applies;                      // "party task_id code", in order
  std::map<std::string, Json> started;                   // party/task_id -> the partner/task/start body
};

constexpr int kTaskCores = 4;

StubSite::Answer fate_hosts(std::shared_ptr<FateHosts> hosts, std::shared_ptr<uint16_t> scheduler_port) {
  return [hosts, scheduler_port](const Received& r, StubSite& stub) -> Json {
    const std::string party = r.body.value("party_id", "");
    const std::string task = r.body.value("task_id", "");
    const std::string key = party + "/" + task;
    if (r.path == "/v2/partner/task/resource/apply") {
      return stub.locked([&] {
        int code = 0;
        if (hosts->held.count(key) || hosts->left[party] < kTaskCores) code = 2004;
        hosts->applies.push_back(party + " " + task + " " + std::to_string(code));
        if (code != 0)
          return Json{{"code", 2004},
                      {"message", "Task resource exception: job_id[" + r.body.value("job_id", "") +
                                      "],role[host]"
                                      ",party_id[" +
                                      party + "],task_id[" + task + "]"}};
        hosts->left[party] -= kTaskCores;
        hosts->held.insert(key);
        return success();
      });
    }
    if (r.path == "/v2/partner/task/resource/return") {
      stub.locked([&] {
        if (hosts->held.erase(key)) hosts->left[party] += kTaskCores;
        return 0;
      });
    } else if (r.path == "/v2/partner/task/start") {
      stub.locked([&] {
        hosts->running[party].insert(task);
        hosts->most_running[party] = std::max(hosts->most_running[party], hosts->running[party].size());
        hosts->started[key] = r.body;
        return 0;
      });
      Json call = r.body;
      stub.later([call, scheduler_port] { post_fate_report(*scheduler_port, call, "running"); });
    }
    return success();
  };
}

// The test lets `task_id` finish at every FATE host that runs it: its cores go back (FATE returns them when
// the end status is written), then it reports success.
void finish(StubSite& stub, const std::shared_ptr<FateHosts>& hosts, uint16_t scheduler_port,
            const std::string& task_id) {
  std::vector<Json> calls = stub.locked([&] {
    std::vector<Json> out;
    for (auto& [party, tasks] : hosts->running)
      if (tasks.erase(task_id)) {
        if (hosts->held.erase(party + "/" + task_id)) hosts->left[party] += kTaskCores;
        out.push_back(hosts->started[party + "/" + task_id]);
      }
    return out;
  });
  for (const Json& call : calls)
    stub.later([call, scheduler_port] { post_fate_report(scheduler_port, call, "success"); });
}

std::vector<Received> calls_for(const StubSite& stub, const std::string& path, const std::string& task_id) {
  std::vector<Received> out;
  for (auto& r : stub.received())
    if (r.path == path && r.body.value("task_id", "") == task_id) out.push_back(r);
  return out;
}

// Flowstone schedules two independent tasks over two FATE hosts. Host 10001's job has cores for one task at
// a time; host 10000's for two. b_0 is refused at 10001 while a_0 runs there: the scheduler returns what
// 10000 granted, keeps b_0 waiting with the reason, and starts it only once a_0 ended at 10001 and 10001
// granted. No FATE host ever runs more tasks than its job's cores allow.
TEST_F(Interop, AsSchedulerATaskStartsOnlyWhenEveryFateHostGrantedIt) {
  auto hosts = std::make_shared<FateHosts>();
  hosts->left = {{"10000", 2 * kTaskCores}, {"10001", kTaskCores}};
  auto port = std::make_shared<uint16_t>(0);
  ASSERT_NO_FATAL_FAILURE(start("9999", std::vector<std::string>{"10000", "10001"}, fate_hosts(hosts, port)));
  *port = server->port();

  Json noop = {{"component_ref", "noop"}, {"parameters", {{"sleep", 0}}}};
  Json dag = {
      {"parties", Json::array({party("guest", "9999"),
                               Json{{"role", "host"}, {"party_id", Json::array({"10000", "10001"})}}})},
      {"conf",
       {{"scheduler_party_id", "9999"}, {"cores", 8}, {"task", {{"engine_run", {{"cores", kTaskCores}}}}}}},
      {"tasks", {{"a_0", noop}, {"b_0", noop}}}};
  Json reply;
  const std::string job_id = server->submit(Json{{"dag", dag}, {"schema_version", "2.1.0"}}, &reply);
  ASSERT_FALSE(job_id.empty()) << reply.dump() << server->diagnostics();
  const std::string a_0 = job_id + "_a_0", b_0 = job_id + "_b_0";

  // a_0 runs at both hosts; b_0 is refused at 10001 and what 10000 granted comes back.
  ASSERT_TRUE(
      poll_until([&] { return calls_for(*stub, "/v2/partner/task/resource/return", b_0).size() > 0; }, 30s))
      << describe(stub->received()) << server->diagnostics(job_id);
  for (const auto& r : calls_for(*stub, "/v2/partner/task/resource/return", b_0))
    EXPECT_EQ(r.body.value("party_id", ""), "10000") << "only what was granted goes back";
  EXPECT_EQ(stub->locked([&] { return hosts->running["10001"].size(); }), 1u);
  EXPECT_TRUE(calls_for(*stub, "/v2/partner/task/start", b_0).empty()) << describe(stub->received());
  EXPECT_TRUE(calls_for(*stub, "/v2/partner/task/status/update", b_0).empty()) << describe(stub->received());

  // The guest says why b_0 waits, naming the party: in its job row and in b_0's task row.
  Json row;
  EXPECT_TRUE(poll_until(
      [&] {
        row = server->job_row(job_id);
        return contains(row.value("pending_reason", ""), "host:10001");
      },
      10s))
      << row.dump();
  EXPECT_TRUE(contains(row.value("pending_reason", ""), "b_0")) << row.dump();
  auto tasks = server->task_rows(job_id);
  EXPECT_EQ(tasks["b_0"].value("status", ""), "waiting") << tasks["b_0"].dump();
  EXPECT_TRUE(contains(tasks["b_0"].value("pending_reason", ""), "Task resource exception"))
      << tasks["b_0"].dump();

  // a_0 ends at the hosts: b_0 is granted everywhere and starts, then ends too.
  finish(*stub, hosts, *port, a_0);
  ASSERT_TRUE(poll_until([&] { return calls_for(*stub, "/v2/partner/task/start", b_0).size() == 2; }, 30s))
      << describe(stub->received()) << server->diagnostics(job_id);
  finish(*stub, hosts, *port, b_0);
  auto job = server->wait_job_status(job_id, "success", 30s);
  EXPECT_TRUE(job.met) << job.row.dump() << describe(stub->received()) << server->diagnostics(job_id);
  EXPECT_EQ(job.row.value("pending_reason", "?"), "");

  auto [most, applies, left] =
      stub->locked([&] { return std::make_tuple(hosts->most_running, hosts->applies, hosts->left); });
  EXPECT_EQ(most["10001"], 1u) << "10001's job has cores for one task at a time";
  EXPECT_EQ(left["10000"], 2 * kTaskCores) << "every grant came back";
  EXPECT_EQ(left["10001"], kTaskCores) << "every grant came back";
  // Every start at a host followed a grant of that task there.
  for (const auto& r : stub->received()) {
    if (r.path != "/v2/partner/task/start") continue;
    const std::string granted = r.body.value("party_id", "") + " " + r.body.value("task_id", "") + " 0";
    EXPECT_NE(std::find(applies.begin(), applies.end(), granted), applies.end()) << granted;
  }
  // The audit history shows the negotiation.
  std::string history = server->get("job/history/query", {{"job_id", job_id}}).dump();
  for (const char* kind : {"TaskAdmissionStarted", "TaskResourcesAnswered", "TaskAdmissionEnded"})
    EXPECT_TRUE(contains(history, kind)) << kind;
  EXPECT_TRUE(contains(history, "refused (2004")) << history.substr(0, 2000);
}

}  // namespace
}  // namespace flowstone::systest
