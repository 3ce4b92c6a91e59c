// Resources, all or nothing, end to end: real `flowstone serve` processes on 127.0.0.1 with small totals
// (computing.standalone.cores), real launchers and workers, driven only through the HTTP API, signals and
// what a user can see (job rows: status, pending_reason, resource_in_use, start and end times; the job's
// history; flowstone.log; `flowstone store verify`). Every wait polls for an outcome with a deadline.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

// A row that was never found reads as an empty object (failures are reported where the wait failed).
Json object_or_empty(const Json& row) {
  return row.is_object() ? row : Json::object();
}

// A task takes the default 4 cores, and a copy at least as many as its largest task: a job smaller than that
// gives its tasks its own cores.
Json task_conf(int job_cores) {
  return Json{{"engine_run", {{"cores", std::min(job_cores, 4)}}}};
}

// One task a_0 (noop, sleeping `sleep_s`) at guest 9999 and host 10000, scheduled by the guest.
Json two_party_dag(int cores, double sleep_s, const Json& conf_extra = Json::object()) {
  Json conf = {{"scheduler_party_id", kGuest}, {"cores", cores}, {"task", task_conf(cores)}};
  for (const auto& [key, value] : conf_extra.items()) conf[key] = value;
  Json params = sleep_s > 0 ? Json{{"sleep", sleep_s}} : Json::object();
  return make_dag(Json{{"a_0", noop_task(params)}}, conf, guest_and_host());
}

// One task a_0 at a single party (role guest) of `party_id`, scheduled there.
Json one_party_dag(const std::string& party_id, int cores, double sleep_s,
                   const Json& conf_extra = Json::object()) {
  Json conf = {{"cores", cores}, {"task", task_conf(cores)}};
  for (const auto& [key, value] : conf_extra.items()) conf[key] = value;
  Json params = sleep_s > 0 ? Json{{"sleep", sleep_s}} : Json::object();
  return make_dag(Json{{"a_0", noop_task(params)}}, conf, Json::array({party("guest", party_id)}));
}

class Resources : public SitesTest {
 protected:
  // As SitesTest::wait_end, but a row that was never found reads as an empty object.
  Json wait_end(PartyServer& server, const std::string& job_id, const std::string& role = "guest",
                std::chrono::milliseconds deadline = 60s) {
    return object_or_empty(SitesTest::wait_end(server, job_id, role, deadline));
  }

  Json wait_success(PartyServer& server, const std::string& job_id, const std::string& role = "guest") {
    Json row = wait_end(server, job_id, role);
    EXPECT_EQ(row.value("status", ""), "success")
        << role << ":" << server.party_id() << " " << row.dump(2) << diagnostics(job_id);
    return row;
  }

  Json wait_running(PartyServer& server, const std::string& job_id, const std::string& role = "guest") {
    auto waited = server.wait_job(
        job_id, [](const Json& row) { return row.value("status", "") == "running"; }, 30s, role);
    EXPECT_TRUE(waited.met) << job_id << " never ran at " << role << ":" << server.party_id() << ": "
                            << waited.row.dump(2) << diagnostics(job_id);
    return object_or_empty(waited.row);
  }

  // Waits until the job's row at the scheduler is waiting with a pending_reason containing every one of
  // `parts`, and (if `free_here`) this party holds no cores for it.
  Json wait_pending(PartyServer& server, const std::string& job_id, const std::vector<std::string>& parts,
                    bool free_here = false, const std::string& role = "guest") {
    auto waited = server.wait_job(
        job_id,
        [&](const Json& row) {
          if (row.value("status", "") != "waiting") return false;
          if (free_here && row.value("resource_in_use", true)) return false;
          std::string reason = row.value("pending_reason", "");
          for (const auto& part : parts)
            if (!contains(reason, part)) return false;
          return true;
        },
        30s, role);
    EXPECT_TRUE(waited.met) << job_id << " never waited for resources at " << server.party_id() << ": "
                            << waited.row.dump(2) << diagnostics(job_id);
    return object_or_empty(waited.row);
  }

  // Every copy of every job at `server` (/v2/job/list/query would page; job/query by id does not).
  std::vector<Json> copies(PartyServer& server, const std::vector<std::string>& job_ids) {
    std::vector<Json> out;
    for (const auto& job_id : job_ids) {
      Json q = server.get("job/query", {{"job_id", job_id}});
      if (q.value("code", -1) != 0 || !q["data"].is_array()) continue;
      for (const auto& row : q["data"]) out.push_back(row);
    }
    return out;
  }

  // Every copy of the jobs at `server` has ended and holds no cores.
  void expect_nothing_held(PartyServer& server, const std::vector<std::string>& job_ids) {
    std::vector<Json> rows = copies(server, job_ids);
    EXPECT_FALSE(rows.empty()) << "no copies at party " << server.party_id();
    for (const auto& row : rows) {
      EXPECT_TRUE(ended(row)) << "party " << server.party_id() << ": " << row.dump(2);
      EXPECT_EQ(row.value("resource_in_use", true), false)
          << "party " << server.party_id() << " still holds cores: " << row.dump(2);
    }
  }

  // Stops every one of `parties` (each in time, not killed), then `flowstone store verify` on each.
  void stop_and_verify(const std::vector<PartyServer*>& parties) {
    for (auto* s : parties) EXPECT_GT(s->stop(), -1) << "party " << s->party_id();
    for (auto* s : parties) EXPECT_TRUE(store_verifies(*s));
  }

  // The job's history at `server`: (kind, what) of every event, in order.
  std::vector<std::pair<std::string, std::string>> history(PartyServer& server, const std::string& job_id) {
    std::vector<std::pair<std::string, std::string>> out;
    Json h = server.history(job_id);
    if (!h.is_array()) return out;
    for (const auto& e : h) out.emplace_back(e.value("kind", ""), e.value("what", ""));
    return out;
  }
};

int64_t time_of(const Json& row, const char* key) {
  return row.contains(key) && row[key].is_number_integer() ? row[key].get<int64_t>() : 0;
}

// 1 -----------------------------------------------------------------------------------------------------
TEST_F(Resources, TwoJobsCompeteForEightCoresOnTwoParties) {
  PartyServer& guest = add(kGuest, 8);
  PartyServer& host = add(kHost, 8);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());

  // Each job needs 6 of the 8 cores at both parties: only one fits at a time.
  std::string first = submit_ok(guest, two_party_dag(6, 2));
  ASSERT_FALSE(first.empty());
  wait_running(guest, first);
  std::string second = submit_ok(guest, two_party_dag(6, 2));
  ASSERT_FALSE(second.empty());
  Json waiting = wait_pending(guest, second, {"waiting for resources at ", "6 cores needed, 2 of 8 free"});
  EXPECT_EQ(waiting.value("start_time", Json()).is_null(), true) << waiting.dump(2);

  Json first_row = wait_success(guest, first);
  Json second_row = wait_success(guest, second);
  wait_success(host, first, "host");
  wait_success(host, second, "host");
  // The second ran only after the first ended.
  EXPECT_GE(time_of(second_row, "start_time"), time_of(first_row, "end_time"))
      << first_row.dump(2) << second_row.dump(2);
  EXPECT_EQ(second_row.value("pending_reason", "?"), "") << second_row.dump(2);

  expect_nothing_held(guest, {first, second});
  expect_nothing_held(host, {first, second});
  stop_and_verify({&guest, &host});
}

// 2 -----------------------------------------------------------------------------------------------------
TEST_F(Resources, JobOverCapacityAtAPartnerFails1006) {
  PartyServer& guest = add(kGuest, 0);  // 32 cores by default
  PartyServer& host = add(kHost, 4);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());

  std::string job_id = submit_ok(guest, two_party_dag(6, 0));
  ASSERT_FALSE(job_id.empty());
  Json row = wait_end(guest, job_id);
  EXPECT_EQ(row.value("status", ""), "failed") << row.dump(2) << diagnostics(job_id);
  std::string reason = row.value("status_reason", "");
  EXPECT_TRUE(contains(reason, "host:10000")) << row.dump(2);
  EXPECT_TRUE(contains(reason, "6")) << row.dump(2);
  EXPECT_EQ(row.value("resource_in_use", true), false) << row.dump(2);
  // Nothing ran anywhere.
  auto tasks = guest.task_rows(job_id, "guest");
  ASSERT_TRUE(tasks.count("a_0")) << diagnostics(job_id);
  EXPECT_EQ(tasks["a_0"].value("party_status", ""), "waiting") << tasks["a_0"].dump(2);
  Json host_row = host.job_row(job_id, "host");
  if (!host_row.is_null()) {
    EXPECT_NE(host_row.value("status", ""), "running") << host_row.dump(2);
    EXPECT_EQ(host_row.value("resource_in_use", true), false) << host_row.dump(2);
  }
  stop_and_verify({&guest, &host});
}

// 3 -----------------------------------------------------------------------------------------------------
TEST_F(Resources, OnePartyRefusesAndTheOtherReturns) {
  PartyServer& guest = add(kGuest, 8);
  PartyServer& host = add(kHost, 8);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());

  // Job A, the host's own (it is its scheduler and its only party), takes all 8 host cores for 3 s.
  std::string a = submit_ok(host, one_party_dag(kHost, 8, 3));
  ASSERT_FALSE(a.empty());
  wait_running(host, a);

  // Job B needs 4 cores at each: the guest grants, the host refuses, so the guest gives them back.
  std::string b = submit_ok(guest, two_party_dag(4, 0));
  ASSERT_FALSE(b.empty());
  Json waiting = wait_pending(guest, b, {"host:10000", "4 cores needed, 0 of 8 free"}, /*free_here=*/true);
  EXPECT_EQ(waiting.value("resource_in_use", true), false) << waiting.dump(2);
  Json a_row = object_or_empty(host.job_row(a, "guest"));
  EXPECT_EQ(a_row.value("status", ""), "running") << "A ended before B was seen waiting: " << a_row.dump(2);

  // B runs after A.
  Json a_end = wait_success(host, a);
  Json b_guest = wait_success(guest, b);
  wait_success(host, b, "host");
  EXPECT_GE(time_of(b_guest, "start_time"), time_of(a_end, "end_time")) << a_end.dump(2) << b_guest.dump(2);
  // Every grant of the guest was given back: those of the refused attempts because the host refused,
  // the last one when B ended.
  int applied = 0, refused_returns = 0, end_returns = 0;
  for (const auto& [kind, what] : history(guest, b)) {
    if (kind == "CopyResourcesApplied") ++applied;
    if (kind == "CopyResourcesReturned" && contains(what, "another party refused")) ++refused_returns;
    if (kind == "CopyResourcesReturned" && contains(what, "job success")) ++end_returns;
  }
  EXPECT_GE(refused_returns, 1) << guest.history(b).dump(2);
  EXPECT_EQ(end_returns, 1) << guest.history(b).dump(2);
  EXPECT_EQ(applied, refused_returns + end_returns) << guest.history(b).dump(2);
  // The host granted once, when it had room, and that admitted B.
  int host_applied = 0;
  for (const auto& [kind, what] : history(host, b))
    if (kind == "CopyResourcesApplied") ++host_applied;
  EXPECT_EQ(host_applied, 1) << host.history(b).dump(2);
  expect_nothing_held(guest, {b});
  expect_nothing_held(host, {a, b});
}

// 4 -----------------------------------------------------------------------------------------------------
TEST_F(Resources, HigherPriorityWaitingJobGoesFirst) {
  PartyServer& guest = add(kGuest, 8);
  ASSERT_NO_FATAL_FAILURE(start(guest));

  std::string a = submit_ok(guest, one_party_dag(kGuest, 8, 3));
  ASSERT_FALSE(a.empty());
  wait_running(guest, a);
  // B (priority 0) is submitted before C (priority 5); both need all 8 cores.
  std::string b = submit_ok(guest, one_party_dag(kGuest, 8, 0, {{"priority", 0}}));
  ASSERT_FALSE(b.empty());
  wait_pending(guest, b, {"waiting for resources at guest:9999"});
  std::string c = submit_ok(guest, one_party_dag(kGuest, 8, 0, {{"priority", 5}}));
  ASSERT_FALSE(c.empty());
  wait_pending(guest, c, {"waiting for resources at guest:9999"});
  Json a_row = object_or_empty(guest.job_row(a));
  EXPECT_EQ(a_row.value("status", ""), "running") << "A ended before both waited: " << a_row.dump(2);

  wait_success(guest, a);
  Json b_row = wait_success(guest, b);
  Json c_row = wait_success(guest, c);
  EXPECT_EQ(c_row.value("priority", -1), 5) << c_row.dump(2);
  EXPECT_LT(time_of(c_row, "start_time"), time_of(b_row, "start_time"))
      << "C (priority 5) did not run before B (priority 0)\nB: " << b_row.dump(2) << "\nC: " << c_row.dump(2)
      << diagnostics(b);
  // B started only after C had ended: they never held the 8 cores together.
  EXPECT_GE(time_of(b_row, "start_time"), time_of(c_row, "end_time"));
  expect_nothing_held(guest, {a, b, c});
}

TEST_F(Resources, SubmissionsPastTheWaitingCapAreRefusedUntilAWaitingJobStarts) {
  PartyServer& guest = add(kGuest, 8);
  guest.options().flowstone_yaml = "max_waiting_jobs: 2";
  ASSERT_NO_FATAL_FAILURE(start(guest));

  std::string a = submit_ok(guest, one_party_dag(kGuest, 8, 4));
  ASSERT_FALSE(a.empty());
  wait_running(guest, a);
  std::string b = submit_ok(guest, one_party_dag(kGuest, 8, 0));
  std::string c = submit_ok(guest, one_party_dag(kGuest, 8, 0));
  ASSERT_FALSE(b.empty() || c.empty());
  Json refused;
  EXPECT_EQ(guest.submit(one_party_dag(kGuest, 8, 0), &refused), "") << refused.dump(2);
  EXPECT_EQ(code_of(refused), 1002) << refused.dump(2);
  EXPECT_TRUE(contains(refused.value("message", ""), "max_waiting_jobs")) << refused.dump(2);

  // Once A ends and B starts, one job waits: there is room again.
  wait_success(guest, a);
  std::string d;
  EXPECT_TRUE(
      poll_until([&] { return !(d = guest.submit(one_party_dag(kGuest, 8, 0))).empty(); }, 30s, 200ms))
      << diagnostics(b);
  for (const auto& job : {b, c, d}) wait_success(guest, job);
}

// 5 -----------------------------------------------------------------------------------------------------
TEST_F(Resources, RestartWhileJobsWaitAndRunKeepsTheLedger) {
  PartyServer& guest = add(kGuest, 8);
  ASSERT_NO_FATAL_FAILURE(start(guest));
  const std::string log_path = guest.data_dir() + "/logs/flowstone.log";
  auto capacity_lines = [&] {
    std::string text = read_text(log_path);
    int n = 0;
    for (size_t at = text.find("capacity registered"); at != std::string::npos;
         at = text.find("capacity registered", at + 1))
      ++n;
    return n;
  };
  // The resource manager registers the capacity as it starts, next to the HTTP edge: wait for its line.
  poll_until([&] { return capacity_lines() >= 1; }, 10s);
  EXPECT_EQ(capacity_lines(), 1) << tail(read_text(log_path), 2000);

  std::string running = submit_ok(guest, one_party_dag(kGuest, 8, 3));
  ASSERT_FALSE(running.empty());
  ASSERT_TRUE(guest.wait_task_running(running, "a_0").met) << diagnostics(running);
  std::string waiting = submit_ok(guest, one_party_dag(kGuest, 8, 0));
  ASSERT_FALSE(waiting.empty());
  wait_pending(guest, waiting, {"8 cores needed, 0 of 8 free"});

  guest.kill9();
  ASSERT_EQ(guest.restart(), "") << "the server did not come back";
  // The running job still holds its cores after the restart: the waiting one keeps waiting until it ends.
  Json running_row = object_or_empty(guest.job_row(running));
  if (running_row.value("status", "") == "running") {
    EXPECT_EQ(running_row.value("resource_in_use", false), true) << running_row.dump(2);
    Json waiting_row = object_or_empty(guest.job_row(waiting));
    EXPECT_NE(waiting_row.value("status", ""), "running") << waiting_row.dump(2);
  }
  Json first = wait_success(guest, running);
  Json second = wait_success(guest, waiting);
  EXPECT_GE(time_of(second, "start_time"), time_of(first, "end_time")) << first.dump(2) << second.dump(2);
  expect_nothing_held(guest, {running, waiting});
  // The total did not change: the restart registered no new capacity.
  EXPECT_EQ(capacity_lines(), 1) << tail(read_text(log_path), 2000);

  stop_and_verify({&guest});
}

// 6 -----------------------------------------------------------------------------------------------------
// An admission attempt that is open when the scheduler dies is asked again after the restart (its requests
// and their answers died with the process). Here the host is down, so the guest's attempt stays open (the
// host's apply is retried for call_timeout_ms); the guest is then killed and both come back.
TEST_F(Resources, AnAdmissionOpenWhenTheSchedulerDiesIsAskedAgainAfterTheRestart) {
  PartyServer& guest = add(kGuest, 8);
  PartyServer& host = add(kHost, 8);
  connect(federation_yaml(/*create_timeout_ms=*/5000, /*call_timeout_ms=*/60000));
  ASSERT_NO_FATAL_FAILURE(start_all());

  std::string a = submit_ok(host, one_party_dag(kHost, 8, 60));  // the host is busy
  ASSERT_FALSE(a.empty());
  wait_running(host, a);
  std::string b = submit_ok(guest, two_party_dag(4, 0));
  ASSERT_FALSE(b.empty());
  wait_pending(guest, b, {"host:10000"});

  host.kill9();
  host.kill_task_processes();  // A's run dies with it: after its restart the host is free
  const size_t at_kill = history(guest, b).size();
  // An attempt started after the host died, which cannot end (no AdmissionEnded after it).
  bool open = poll_until(
      [&] {
        auto h = history(guest, b);
        size_t started = h.size();
        for (size_t i = h.size(); i-- > 0;)
          if (h[i].first == "AdmissionStarted") {
            started = i;
            break;
          }
        if (started == h.size() || started < at_kill) return false;
        for (size_t i = started; i < h.size(); ++i)
          if (h[i].first == "AdmissionEnded") return false;
        return true;
      },
      30s);
  ASSERT_TRUE(open) << guest.history(b).dump(2);

  guest.kill9();
  ASSERT_EQ(host.restart(), "");
  ASSERT_EQ(guest.restart(), "");
  wait_end(host, a);
  Json row = wait_end(guest, b, "guest", 30s);
  EXPECT_EQ(row.value("status", ""), "success") << row.dump(2) << guest.history(b).dump(2);
}

// 7 -----------------------------------------------------------------------------------------------------
// The host refuses at resource apply (not at create): its total shrank below the job's cores while the job
// waited. The new total is registered at the host's start, and the job fails with a reason naming the host.
TEST_F(Resources, APartnerWhoseTotalShrankBelowAWaitingJobFailsItWith1006) {
  PartyServer& guest = add(kGuest, 0);  // 32 cores by default
  PartyServer& host = add(kHost, 8);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  std::string a = submit_ok(host, one_party_dag(kHost, 8, 60));  // the host is busy
  ASSERT_FALSE(a.empty());
  wait_running(host, a);
  std::string b = submit_ok(guest, two_party_dag(6, 0));
  ASSERT_FALSE(b.empty());
  wait_pending(guest, b, {"host:10000", "6 cores needed, 0 of 8 free"});

  EXPECT_GT(host.stop(), -1);
  host.kill_task_processes();  // A dies too
  host.options().extra_yaml = cores_yaml(4);
  ASSERT_EQ(host.restart(), "");
  std::string log;
  poll_until(
      [&] {
        log = read_text(host.data_dir() + "/logs/flowstone.log");
        return contains(log, "capacity registered: 4 cores (was 8)");
      },
      10s);
  EXPECT_TRUE(contains(log, "capacity registered: 4 cores (was 8)")) << tail(log, 3000);

  Json row = wait_end(guest, b);
  EXPECT_EQ(row.value("status", ""), "failed") << row.dump(2) << diagnostics(b);
  std::string reason = row.value("status_reason", "");
  EXPECT_TRUE(contains(reason, "host:10000")) << row.dump(2);
  EXPECT_TRUE(contains(reason, "Resource limit exceeded")) << row.dump(2);
  Json host_row = wait_end(host, b, "host");
  EXPECT_EQ(host_row.value("status", ""), "failed") << host_row.dump(2);
  wait_end(host, a);
  expect_nothing_held(guest, {b});
  expect_nothing_held(host, {a, b});
  stop_and_verify({&guest, &host});
}

// 8 -----------------------------------------------------------------------------------------------------
// flowstone.queue_starvation_ms: a large job that waited longer than that is no longer passed by small ones.
TEST_F(Resources, ALargeJobWaitingLongerThanTheStarvationTimeIsNotPassedBySmallerOnes) {
  PartyServer& guest = add(kGuest, 8);
  guest.options().flowstone_yaml = "queue_starvation_ms: 3000";
  ASSERT_NO_FATAL_FAILURE(start(guest));

  std::string r = submit_ok(guest, one_party_dag(kGuest, 6, 8));  // 6 of 8 cores for 8 s
  ASSERT_FALSE(r.empty());
  wait_running(guest, r);
  std::string large = submit_ok(guest, one_party_dag(kGuest, 8, 0));
  ASSERT_FALSE(large.empty());
  wait_pending(guest, large, {"8 cores needed, 2 of 8 free"});
  // Before the starvation time a small job passes the large one.
  std::string small1 = submit_ok(guest, one_party_dag(kGuest, 2, 0));
  ASSERT_FALSE(small1.empty());
  Json s1 = wait_success(guest, small1);

  // Once the large job has waited 3 s since its first refusal, the free cores are kept for it.
  int64_t first_refusal = 0;
  Json h = guest.history(large);
  ASSERT_TRUE(h.is_array());
  for (const auto& e : h)
    if (e.value("kind", "") == "AdmissionEnded") {
      first_refusal = e.value("at", int64_t{0});
      break;
    }
  ASSERT_GT(first_refusal, 0) << h.dump(2);
  ASSERT_TRUE(poll_until(
      [&] {
        auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        return now > first_refusal + 3000 + 100;
      },
      30s));
  std::string small2 = submit_ok(guest, one_party_dag(kGuest, 2, 0));
  ASSERT_FALSE(small2.empty());
  Json s2_waiting = wait_pending(guest, small2, {large + "/guest/9999"});
  Json r_row = object_or_empty(guest.job_row(r));
  if (r_row.value("status", "") == "running") {  // else the large job fits now: "waiting behind" it
    EXPECT_TRUE(contains(s2_waiting.value("pending_reason", ""), "cores are kept for " + large))
        << s2_waiting.dump(2);
  }

  Json r_end = wait_success(guest, r);
  Json l = wait_success(guest, large);
  Json s2 = wait_success(guest, small2);
  EXPECT_LT(time_of(s1, "start_time"), time_of(l, "start_time")) << s1.dump(2) << l.dump(2);
  EXPECT_GE(time_of(l, "start_time"), time_of(r_end, "end_time")) << r_end.dump(2) << l.dump(2);
  EXPECT_GE(time_of(s2, "start_time"), time_of(l, "start_time")) << l.dump(2) << s2.dump(2);
  expect_nothing_held(guest, {r, large, small1, small2});
}

// 9 -----------------------------------------------------------------------------------------------------
// The other way round: the scheduler's own party refuses, so the partner that granted is sent
// partner/job/resource/return and gives its cores back.
TEST_F(Resources, TheSchedulersPartyRefusesAndThePartnerGivesItsGrantBack) {
  PartyServer& guest = add(kGuest, 8);
  PartyServer& host = add(kHost, 8);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());

  std::string g = submit_ok(guest, one_party_dag(kGuest, 8, 3));  // the guest is busy
  ASSERT_FALSE(g.empty());
  wait_running(guest, g);
  std::string b = submit_ok(guest, two_party_dag(4, 0));
  ASSERT_FALSE(b.empty());
  wait_pending(guest, b, {"waiting for resources at guest:9999", "4 cores needed, 0 of 8 free"});
  // The host granted and was asked to give the cores back.
  bool returned = poll_until(
      [&] {
        for (const auto& [kind, what] : history(host, b))
          if (kind == "CopyResourcesReturned" && contains(what, "returned by the scheduler")) return true;
        return false;
      },
      30s);
  EXPECT_TRUE(returned) << host.history(b).dump(2) << diagnostics(b);

  wait_success(guest, g);
  wait_success(guest, b);
  Json host_row = wait_success(host, b, "host");
  EXPECT_EQ(host_row.value("resource_in_use", true), false) << host_row.dump(2);
  int applied = 0, by_scheduler = 0, at_end = 0;
  for (const auto& [kind, what] : history(host, b)) {
    if (kind == "CopyResourcesApplied") ++applied;
    if (kind == "CopyResourcesReturned" && contains(what, "returned by the scheduler")) ++by_scheduler;
    if (kind == "CopyResourcesReturned" && contains(what, "job success")) ++at_end;
  }
  EXPECT_GE(by_scheduler, 1) << host.history(b).dump(2);
  EXPECT_EQ(at_end, 1) << host.history(b).dump(2);
  EXPECT_EQ(applied, by_scheduler + at_end) << host.history(b).dump(2);
  expect_nothing_held(guest, {g, b});
  expect_nothing_held(host, {b});
  stop_and_verify({&guest, &host});
}

// 10 ----------------------------------------------------------------------------------------------------
// Task resources, whichever Flowstone side schedules (spec 5.4): two independent tasks of a job whose cores
// hold both at the guest but only one at a time at the host (its tasks take 8 of the job's 8 cores there).
// The host refuses the second while the first runs, and the scheduler starts it only after the first ended.
TEST_F(Resources, ParallelTasksRunOneAtATimeWhereTheJobsCoresHoldOnlyOne) {
  PartyServer& guest = add(kGuest, 16);
  PartyServer& host = add(kHost, 16);
  connect();
  ASSERT_NO_FATAL_FAILURE(start_all());
  Json conf = {{"scheduler_party_id", kGuest}, {"cores", 8}, {"task", task_conf(4)}};
  Json dag = make_dag(Json{{"a_0", noop_task({{"sleep", 1}})}, {"b_0", noop_task({{"sleep", 1}})}}, conf,
                      guest_and_host());
  Json eight = {{"conf", {{"engine_run", {{"cores", 8}}}}}};
  dag["dag"]["party_tasks"] = host_party_tasks({{"a_0", eight}, {"b_0", eight}});
  std::string job = submit_ok(guest, dag);
  ASSERT_FALSE(job.empty());
  wait_success(guest, job);
  wait_success(host, job, "host");

  auto at_host = host.task_rows(job, "host");
  // One after the other at the host (a task starts at every party together, so at the guest too).
  const auto& [first, second] = time_of(at_host["a_0"], "start_time") <= time_of(at_host["b_0"], "start_time")
                                    ? std::make_pair(at_host["a_0"], at_host["b_0"])
                                    : std::make_pair(at_host["b_0"], at_host["a_0"]);
  EXPECT_GE(time_of(second, "start_time"), time_of(first, "end_time")) << first.dump(2) << second.dump(2);
  std::string history = guest.get("job/history/query", {{"job_id", job}}).dump();
  EXPECT_TRUE(contains(history, "host:10000 refused (2004")) << history.substr(0, 3000);
  stop_and_verify({&guest, &host});
}

}  // namespace
}  // namespace flowstone::systest
