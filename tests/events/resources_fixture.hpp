// AdmissionTest: the fixture of resources_test.cpp and resources_party_test.cpp. Resources, all or nothing
// (spec 5.1-5.3), at the Job aggregate: the scheduler (guest 9999) and a party (host 10000, on its own
// server) driven as their hosts drive them, decide_and_advance() then apply(), with every answer of the
// resource managers given by the test itself (nothing is granted automatically). Every scenario ends by
// replaying each site's recorded events into a fresh state. Header-only (namespace resources_fixture).
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {
namespace resources_fixture {

inline constexpr int64_t T0 = 1700000000000;

inline const PartyRef kGuest{"guest", "9999"};
inline const PartyRef kHost{"host", "10000"};
inline const PartyRef kArbiter{"arbiter", "9999"};
inline constexpr const char* kJob = "202401010000000000077";
inline constexpr const char* kApply = "partner/job/resource/apply";
inline constexpr const char* kReturn = "partner/job/resource/return";

// a_0 at guest 9999 and host 10000 (the host on another server).
inline Json two_party_dag(const Json& conf = Json::object()) {
  Json dag = J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}, {"role": "host", "party_id": ["10000"]}],
      "tasks": {"a_0": {"component_ref": "noop"}}
    }
  })");
  dag["dag"]["conf"] = conf;
  return dag;
}

// a_0 at guest 9999 only.
inline Json local_dag(const Json& conf = Json::object()) {
  Json dag = J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}],
      "tasks": {"a_0": {"component_ref": "noop"}}
    }
  })");
  dag["dag"]["conf"] = conf;
  return dag;
}

inline std::string exec(const PartyRef& party, const std::string& task = "a_0", int version = 0) {
  return execution_id_of(kJob, task, version, party);
}

inline std::vector<PartnerCall> calls(const Decision& d, const std::string& endpoint,
                                      const PartyRef& party = kHost) {
  std::vector<PartnerCall> out;
  for (const auto& call : partner_calls(kJob, d.effects))
    if (call.endpoint == endpoint && call.party == party) out.push_back(call);
  return out;
}

// One server's job, as its host keeps it: decides, appends, applies. Nothing is answered for it.
struct Site {
  JobState state;
  std::vector<JobEvent> log;
};

class AdmissionTest : public ::testing::Test {
 protected:
  // Runs `command` at `at` (0: 10 ms after the last command).
  Decision Run(Site& site, JobCommand command, int64_t at = 0) {
    now_ = at != 0 ? at : now_ + 10;
    return decide_and_apply(site.state, site.log, std::move(command), now_);
  }
  Decision Run(JobCommand command, int64_t at = 0) { return Run(sched_, std::move(command), at); }

  // ---- the scheduler (guest 9999) ----
  Decision Create(Json dag, int party_cores = 0, const std::string& local_party_id = "9999") {
    CreateJob c;
    c.job_id = kJob;
    c.dag_schema = std::move(dag);
    c.local_party_id = local_party_id;
    c.user_name = "tester";
    c.party_cores = party_cores;
    return Run(c);
  }
  Decision Joined(const PartyRef& party = kHost) {
    return Run(CopyCreateAnswered{party, RetCode::success, "success", 0});
  }
  // This server's resource manager answers the local apply of `attempt`.
  Decision Local(int code, const std::string& message = "success", int attempt = 1,
                 const PartyRef& party = kGuest, int64_t at = 0) {
    return Run(ResourcesAnswered{party, attempt, ret_code_of(code), message, 0}, at);
  }
  // The remote party answers partner/job/resource/apply of `attempt`.
  Decision Remote(int code, const std::string& message = "success", int attempt = 1, int64_t at = 0) {
    return Run(ResourcesAnswered{kHost, attempt, ret_code_of(code), message, 0}, at);
  }
  Decision Advance(int64_t at) { return Run(domain::Advance{0}, at); }

  // Created, joined, and the first admission asked: the answers are the test's.
  void CreatedAndAsked(const Json& dag) {
    ASSERT_EQ(Create(dag).code, RetCode::success);
    Decision d = Joined();
    ASSERT_EQ(d.code, RetCode::success) << d.message;
    ASSERT_EQ(events_of<AdmissionStarted>(d.events).size(), 1u);
  }

  Json Row(const PartyRef& party = kGuest, const Site* site = nullptr) {
    const Site& s = site ? *site : sched_;
    const JobCopy* copy = s.state.copy(party);
    EXPECT_NE(copy, nullptr);
    return copy ? job_row(s.state, *copy) : Json();
  }
  bool Holds(const PartyRef& party = kGuest, const Site* site = nullptr) {
    const Site& s = site ? *site : sched_;
    const JobCopy* copy = s.state.copy(party);
    return copy && copy->resource_in_use;
  }
  // Rows of the "resources" view (the ledger) for this site's copies.
  size_t LedgerRows(const Site& site) {
    size_t n = 0;
    for (const auto& row : job_views(site.state))
      if (row.family == kResourcesView) ++n;
    return n;
  }

  void ExpectReplayMatches(const Site& site) {
    JobState replayed = replay(site.log);
    const JobState& live = site.state;
    EXPECT_EQ(job_views(replayed), job_views(live));
    EXPECT_EQ(replayed.schedule_status, live.schedule_status);
    EXPECT_EQ(replayed.schedule_reason, live.schedule_reason);
    EXPECT_EQ(replayed.admission_attempt, live.admission_attempt);
    EXPECT_EQ(replayed.admission_open, live.admission_open);
    EXPECT_EQ(replayed.admission_time, live.admission_time);
    EXPECT_EQ(replayed.admission_answers.size(), live.admission_answers.size());
    EXPECT_EQ(replayed.pending_reason, live.pending_reason);
    EXPECT_EQ(next_deadline(replayed), next_deadline(live));
    ASSERT_EQ(replayed.copies.size(), live.copies.size());
    for (size_t i = 0; i < live.copies.size(); ++i) {
      EXPECT_EQ(replayed.copies[i].resource_in_use, live.copies[i].resource_in_use);
      EXPECT_EQ(replayed.copies[i].cores, live.copies[i].cores);
    }
    // Replaying twice gives the same state again.
    EXPECT_EQ(job_views(replay(site.log)), job_views(replayed));
  }
  void TearDown() override {
    if (sched_.state.exists) ExpectReplayMatches(sched_);
    if (party_.state.exists) ExpectReplayMatches(party_);
  }

  Site sched_;  // guest 9999, the scheduler
  Site party_;  // host 10000 on its own server
  int64_t now_ = T0;
};

}  // namespace resources_fixture
}  // namespace flowstone::domain
