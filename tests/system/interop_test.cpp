// Interop: a Flowstone party takes the place of one FATE-Flow 2.2 site in the conversation recorded
// between two real FATE-Flow sites (guest 9999 = scheduler, host 10000) for one 2-task job
// (tests/system/fate_stub.hpp: the recording, the stub that plays the other site, the fixture). The
// Flowstone side is a real `flowstone serve` process with real launchers and workers.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/system/fate_stub.hpp"

namespace flowstone::systest {
namespace {

const std::vector<std::string> kReportKeys = {"job_id", "party_id", "role",
                                              "status", "task_id",  "task_version"};

// A report as recorded: POST /v2/scheduler/task/report through the route of party 9999, headers
// dest-party-id 9999, service fateflow, initiator-party-id "" and a JSON body with the recorded keys.
// Flowstone may add keys FATE-Flow ignores: `error` (only when the run has one).
void expect_recorded_report(const Received& r, const std::string& job_id) {
  SCOPED_TRACE(r.path + " " + r.body.dump());
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v2/scheduler/task/report");
  EXPECT_EQ(header(r, "dest-party-id"), "9999");
  EXPECT_EQ(header(r, "service"), "fateflow");
  EXPECT_EQ(header(r, "initiator-party-id"), "");
  EXPECT_EQ(header(r, "content-type").rfind("application/json", 0), 0u) << header(r, "content-type");
  for (const auto& key : kReportKeys) EXPECT_TRUE(r.body.contains(key)) << "missing " << key;
  EXPECT_EQ(r.body.value("job_id", ""), job_id);
  EXPECT_EQ(r.body.value("party_id", Json()), Json("10000"));
  EXPECT_EQ(r.body.value("role", ""), "host");
  EXPECT_EQ(r.body.value("task_version", Json()), Json(0));
  for (const auto& [key, value] : r.body.items()) {
    bool recorded = std::find(kReportKeys.begin(), kReportKeys.end(), key) != kReportKeys.end();
    EXPECT_TRUE(recorded || key == "error")
        << "a key FATE-Flow's report does not have: " << key << " = " << value.dump();
  }
}

// 1 -----------------------------------------------------------------------------------------------------

// 1 -----------------------------------------------------------------------------------------------------
// Flowstone as the host: every recorded request to 10000 is replayed in seq order; where the recording
// shows the host's reports before a request, that request waits for Flowstone's reports (FATE-Flow's
// scheduler only moves on after them).
TEST_F(Interop, FlowstoneTakesTheHostsPlace) {
  ASSERT_NO_FATAL_FAILURE(start("10000", "9999", fate_scheduler()));
  const std::string job_id = fresh_job_id(1);

  // Host reports recorded since the last request to the host: (task_id, status).
  std::vector<std::pair<std::string, std::string>> awaited;
  for (const Recorded& r : recording) {
    if (is_host_report(r) && r.response.value("code", -1) == 0) {
      awaited.emplace_back(with_job_id(r.request["task_id"], job_id).get<std::string>(),
                           r.request["status"].get<std::string>());
      continue;
    }
    if (r.dest_party_id != "10000") continue;
    for (const auto& [task_id, status] : awaited)
      ASSERT_TRUE(poll_until([&] { return has_report(*stub, task_id, status); }, 30s))
          << "before seq " << r.seq << " " << r.path << ": no host report " << status << " for " << task_id
          << "; the stub got:" << describe(stub->received()) << server->diagnostics(job_id);
    awaited.clear();
    Json reply = replay(r, with_job_id(r.request, job_id));
    EXPECT_EQ(reply.value("code", -1), r.response.value("code", -2))
        << "seq " << r.seq << " " << r.path << ": " << reply.dump() << server->diagnostics(job_id);
  }

  auto job = server->wait_job(
      job_id, [](const Json& row) { return row.value("status", "") == "success"; }, 30s, "host");
  EXPECT_TRUE(job.met) << job.row.dump() << server->diagnostics(job_id);
  auto tasks = server->task_rows(job_id, "host");
  ASSERT_EQ(tasks.size(), 2u) << server->diagnostics(job_id);
  for (const char* task : {"a_0", "b_0"}) {
    EXPECT_EQ(tasks[task].value("status", ""), "success") << tasks[task].dump();
    EXPECT_EQ(tasks[task].value("party_status", ""), "success") << tasks[task].dump();
  }

  // Every request the stub got is a report as recorded; per task exactly running, then success (a
  // Flowstone party reports the statuses its run passes through, once each), a_0's before b_0's.
  std::vector<Received> got = stub->received();
  EXPECT_EQ(got.size(), 4u) << describe(got);
  for (const auto& r : got) expect_recorded_report(r, job_id);
  std::vector<std::string> order;
  for (const auto& r : got) order.push_back(r.body.value("task_id", "") + ":" + r.body.value("status", ""));
  EXPECT_EQ(order, (std::vector<std::string>{job_id + "_a_0:running", job_id + "_a_0:success",
                                             job_id + "_b_0:running", job_id + "_b_0:success"}))
      << describe(got);
}

// 2 -----------------------------------------------------------------------------------------------------
// Flowstone as the guest and scheduler; the stub answers like the recorded FATE-Flow host: 0 to every
// partner route, and after partner/task/start it reports running then success (from its own thread),
// and after partner/task/stop success again, as FATE-Flow's host does (the scheduler answers 2002).
TEST_F(Interop, FlowstoneTakesTheGuestsPlace) {
  auto guest_port = std::make_shared<std::atomic<uint16_t>>(0);
  auto report_codes = std::make_shared<std::vector<std::string>>();  // "<task_id>:<status>:<code>"
  auto post_report = [guest_port, report_codes](StubSite& stub, const Json& call, const std::string& status) {
    int code = post_fate_report(guest_port->load(), call, status);
    stub.locked([&] {
      report_codes->push_back(call.value("task_id", "") + ":" + status + ":" + std::to_string(code));
      return 0;
    });
  };
  ASSERT_NO_FATAL_FAILURE(start("9999", "10000", [post_report](const Received& r, StubSite& stub) -> Json {
    if (r.path == "/v2/partner/task/start") {
      Json call = r.body;
      stub.later([post_report, call, &stub] {
        post_report(stub, call, "running");
        post_report(stub, call, "success");
      });
    } else if (r.path == "/v2/partner/task/stop") {
      Json call = r.body;
      stub.later([post_report, call, &stub] { post_report(stub, call, "success"); });
    }
    return success();
  }));
  guest_port->store(server->port());

  // What a user submits: the dag FATE-Flow's client sent (seq 1), with the conf a user writes.
  const Recorded& create = recording.front();
  ASSERT_EQ(create.path, "/v2/scheduler/job/create");
  Json dag = create.request["dag"];
  dag["conf"] = Json{{"scheduler_party_id", "9999"}, {"sync_type", "callback"}};
  Json reply;
  const std::string job_id =
      server->submit(Json{{"dag", dag}, {"schema_version", create.request["schema_version"]}}, &reply);
  ASSERT_FALSE(job_id.empty()) << reply.dump() << server->diagnostics();

  auto job = server->wait_job_status(job_id, "success", 30s);
  EXPECT_TRUE(job.met) << job.row.dump() << "\nthe stub host got:" << describe(stub->received())
                       << server->diagnostics(job_id);
  auto tasks = server->task_rows(job_id);
  for (const char* task : {"a_0", "b_0"}) EXPECT_EQ(tasks[task].value("status", ""), "success") << task;

  // The job/stop is the last call; once it arrived, everything before it did (one call at a time).
  ASSERT_TRUE(poll_until(
      [&] {
        auto got = stub->received();
        return !got.empty() && got.back().path == "/v2/partner/job/stop";
      },
      30s))
      << describe(stub->received());
  // The stub's reports are sent from its own thread: wait for the last one's answer.
  ASSERT_TRUE(poll_until([&] { return stub->locked([&] { return report_codes->size(); }) == 6u; }, 30s));

  // partner/task/collect is what a Flowstone scheduler asks a party it has not heard of for a while
  // (callback mode, flowstone.federation.reconcile_after_ms); FATE-Flow hosts answer it, and it is not
  // part of the recorded callback conversation, so it is left out of the comparison.
  std::vector<Received> got;
  for (auto& r : stub->received())
    if (r.path != "/v2/partner/task/collect") got.push_back(r);
  std::vector<Recorded> expected = to_host();
  std::vector<std::string> got_paths, expected_paths;
  for (const auto& r : got) got_paths.push_back(r.path);
  for (const auto& r : expected) expected_paths.push_back(r.path);
  ASSERT_EQ(got_paths, expected_paths) << describe(got);

  for (size_t i = 0; i < expected.size(); ++i) {
    const Recorded& want = expected[i];
    const Received& is = got[i];
    SCOPED_TRACE("call " + std::to_string(i) + " (recorded seq " + std::to_string(want.seq) + ") " +
                 want.path + " " + is.body.dump().substr(0, 300));
    EXPECT_EQ(is.method, "POST");
    EXPECT_EQ(header(is, "dest-party-id"), "10000");
    EXPECT_EQ(header(is, "service"), "fateflow");
    EXPECT_EQ(header(is, "initiator-party-id"), want.headers.value("initiator-party-id", ""));
    Json recorded = with_job_id(want.request, job_id);
    for (const auto& [key, value] : recorded.items()) {
      ASSERT_TRUE(is.body.contains(key)) << "missing " << key;
      if (key == "dag") continue;
      if (value.is_number())
        EXPECT_DOUBLE_EQ(is.body[key].get<double>(), value.get<double>()) << key;
      else
        EXPECT_EQ(is.body[key], value) << key;
    }
    EXPECT_EQ(is.body.value("job_id", ""), job_id);
    if (want.path == "/v2/partner/job/create") {
      const Json& sent = is.body["dag"];
      EXPECT_EQ(sent["conf"].value("scheduler_party_id", Json()), Json("9999")) << sent["conf"].dump();
      EXPECT_EQ(sent["conf"].value("initiator_party_id", Json()), Json("9999")) << sent["conf"].dump();
      EXPECT_EQ(sent["conf"].value("sync_type", Json()), Json("callback")) << sent["conf"].dump();
      EXPECT_TRUE(sent["tasks"].contains("a_0") && sent["tasks"].contains("b_0")) << sent.dump();
      EXPECT_EQ(sent["parties"], recorded["dag"]["parties"]);
    }
  }

  // The scheduler took both reports of each task and answered the repeated success with 2002.
  auto codes = stub->locked([&] { return *report_codes; });
  EXPECT_EQ(codes, (std::vector<std::string>{job_id + "_a_0:running:0", job_id + "_a_0:success:0",
                                             job_id + "_a_0:success:2002", job_id + "_b_0:running:0",
                                             job_id + "_b_0:success:0", job_id + "_b_0:success:2002"}));
}

// 3 -----------------------------------------------------------------------------------------------------
// Poll mode (dag.conf.sync_type poll): FATE-Flow's scheduler sends no partner/task/status/update and
// collects each run with partner/task/collect until its party_status ends; the host reports nothing.
TEST_F(Interop, PollModeAnswersCollectLikeFateFlow) {
  ASSERT_NO_FATAL_FAILURE(start("10000", "9999", fate_scheduler()));
  const std::string job_id = fresh_job_id(3);
  const std::set<std::string> collect_keys = {
      "job_id",     "task_id",     "task_version", "role",    "party_id", "status", "party_status",
      "start_time", "update_time", "end_time",     "elapsed", "error"};  // `error`: Flowstone's addition

  for (const Recorded& r : to_host()) {
    if (r.path == "/v2/partner/task/status/update") continue;  // not sent in poll mode
    Json body = with_job_id(r.request, job_id);
    if (r.path == "/v2/partner/job/create") body["dag"]["conf"]["sync_type"] = "poll";
    Json reply = replay(r, body);
    EXPECT_EQ(reply.value("code", -1), r.response.value("code", -2))
        << "seq " << r.seq << " " << r.path << ": " << reply.dump() << server->diagnostics(job_id);
    if (r.path != "/v2/partner/task/start") continue;

    Json collect{{"job_id", job_id},
                 {"party_id", "10000"},
                 {"role", "host"},
                 {"task_id", body["task_id"]},
                 {"task_version", 0}};
    Headers headers{{"dest-party-id", "10000"}, {"service", "fateflow"}, {"initiator-party-id", ""}};
    Json last;
    bool ended = poll_until(
        [&] {
          last = server->post("partner/task/collect", collect, headers);
          EXPECT_EQ(last.value("code", -1), 0) << last.dump();
          const Json& data = last.value("data", Json());
          if (!data.is_object()) return last.value("code", -1) != 0;
          std::set<std::string> keys;
          for (const auto& [key, value] : data.items()) keys.insert(key);
          EXPECT_EQ(keys, collect_keys) << data.dump();
          EXPECT_EQ(data.value("job_id", ""), job_id);
          EXPECT_EQ(data.value("task_id", Json()), body["task_id"]);
          EXPECT_EQ(data.value("task_version", Json()), Json(0));
          EXPECT_EQ(data.value("role", ""), "host");
          EXPECT_EQ(data.value("party_id", Json()), Json("10000"));
          return data.value("party_status", "") == "success" || ::testing::Test::HasFailure();
        },
        30s);
    ASSERT_TRUE(ended) << "collect never showed success: " << last.dump() << server->diagnostics(job_id);
    ASSERT_FALSE(::testing::Test::HasFailure()) << last.dump();
    const Json& data = last["data"];
    EXPECT_EQ(data.value("party_status", ""), "success");
    for (const char* t : {"start_time", "update_time", "end_time", "elapsed"})
      EXPECT_TRUE(data[t].is_number_integer()) << t << " in " << data.dump();
  }

  auto job = server->wait_job(
      job_id, [](const Json& row) { return row.value("status", "") == "success"; }, 30s, "host");
  EXPECT_TRUE(job.met) << job.row.dump() << server->diagnostics(job_id);
  auto tasks = server->task_rows(job_id, "host");
  for (const char* task : {"a_0", "b_0"}) EXPECT_EQ(tasks[task].value("party_status", ""), "success") << task;
  // In callback mode the reports would have gone out right after each run's status changed, many
  // round trips ago; in poll mode the host calls the scheduler for nothing.
  EXPECT_TRUE(stub->received().empty()) << describe(stub->received());
}

// 4 -----------------------------------------------------------------------------------------------------
// The host's part of the recorded stop: partner/job/stop {job_id, role, party_id} without a status while
// a task runs. FATE-Flow's JobController.stop_jobs() then uses failed. This host reaches the scheduler
// through an nginx-style proxy (federation.nginx), as the recorded sites did.
TEST_F(Interop, StopLikeFateFlow) {
  ASSERT_NO_FATAL_FAILURE(start("10000", "9999", fate_scheduler(), /*via_proxy=*/true));
  const std::string job_id = fresh_job_id(4);
  const std::string a_0 = job_id + "_a_0";

  for (const Recorded& r : to_host()) {
    Json body = with_job_id(r.request, job_id);
    if (r.path == "/v2/partner/job/create") body["dag"]["tasks"]["a_0"]["parameters"]["sleep"] = 30;
    Json reply = replay(r, body);
    EXPECT_EQ(reply.value("code", -1), 0) << "seq " << r.seq << " " << r.path << ": " << reply.dump();
    if (r.path == "/v2/partner/task/start") break;  // a_0 runs
  }
  ASSERT_TRUE(poll_until([&] { return has_report(*stub, a_0, "running"); }, 30s))
      << describe(stub->received()) << server->diagnostics(job_id);
  pid_t worker = server->wait_pid_file(server->task_dir(job_id, "a_0", 0, "host"), "worker.pid");
  ASSERT_GT(worker, 0) << server->diagnostics(job_id);

  Json reply =
      server->post("partner/job/stop", Json{{"job_id", job_id}, {"role", "host"}, {"party_id", "10000"}},
                   {{"dest-party-id", "10000"}, {"service", "fateflow"}, {"initiator-party-id", ""}});
  EXPECT_EQ(reply.value("code", -1), 0) << reply.dump();

  auto job = server->wait_job(
      job_id, [](const Json& row) { return row.value("status", "") == "failed"; }, 30s, "host");
  EXPECT_TRUE(job.met) << job.row.dump() << server->diagnostics(job_id);
  auto tasks = server->task_rows(job_id, "host");
  EXPECT_EQ(tasks["a_0"].value("party_status", ""), "failed") << tasks["a_0"].dump();
  // As in the recorded stop: only party_status changes, the federated status stays running.
  EXPECT_EQ(tasks["a_0"].value("status", ""), "running") << tasks["a_0"].dump();
  EXPECT_EQ(tasks["b_0"].value("party_status", ""), "waiting") << tasks["b_0"].dump();

  std::vector<pid_t> left;
  EXPECT_TRUE(poll_until(
      [&] {
        left = task_processes(*server);
        return left.empty();
      },
      30s))
      << left.size() << " processes left, first " << (left.empty() ? 0 : left[0]);
  EXPECT_FALSE(pid_running(worker));

  ASSERT_TRUE(poll_until([&] { return has_report(*stub, a_0, "failed"); }, 30s))
      << describe(stub->received());
  EXPECT_EQ(reported(*stub, a_0), (std::vector<std::string>{"running", "failed"}));
  for (const auto& r : stub->received()) expect_recorded_report(r, job_id);
}

}  // namespace
}  // namespace flowstone::systest
