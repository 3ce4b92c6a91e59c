// JobTest: the fixture of job_test.cpp and job_rerun_recovery_test.cpp. The Job aggregate driven only as a
// host drives it (JobHostTest, job_test_util.hpp): decide_and_advance() for every command, then apply() of
// the decided events; every scenario ends by replaying the recorded events into a fresh state. Also the
// job's id and parallel_dag(). Header-only (namespace job_fixture).
#pragma once
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "events/job/job.hpp"
#include "events/job/views.hpp"
#include "tests/events/job_test_util.hpp"

namespace flowstone::domain {
namespace job_fixture {

inline const PartyRef kSchedule{};
inline constexpr const char* kJob = "202401010000000000001";

// x_0, y_0, z_0 independent; 8 job cores and 4 cores a task: two run at a time.
inline Json parallel_dag(int auto_retries = 0) {
  Json dag = J(R"({
    "schema_version": "2.1.0",
    "dag": {
      "parties": [{"role": "guest", "party_id": ["9999"]}],
      "conf": {"cores": 8, "task": {"engine_run": {"cores": 4}}},
      "tasks": {
        "x_0": {"component_ref": "noop"},
        "y_0": {"component_ref": "noop"},
        "z_0": {"component_ref": "noop"}
      }
    }
  })");
  dag["dag"]["conf"]["auto_retries"] = auto_retries;
  return dag;
}

// The host (job_test_util.hpp); time moves 10 ms a command, a resource grant's too.
class JobTest : public JobHostTest {
 protected:
  JobTest() : JobHostTest(kJob, /*grant_after_ms=*/10) {}

  Json JobRow() { return job_row(state_, *state_.copy(kGuest)); }

  // Replaying the recorded log gives the live state's views.
  void ExpectReplayMatches() {
    JobState replayed = replay(log_);
    EXPECT_EQ(job_views(replayed), job_views(state_));
    EXPECT_EQ(replayed.schedule_status, state_.schedule_status);
    EXPECT_EQ(replayed.cancel_requested, state_.cancel_requested);
    EXPECT_EQ(replayed.runs.size(), state_.runs.size());
  }
  void TearDown() override {
    if (state_.exists) ExpectReplayMatches();
  }
};

}  // namespace job_fixture
}  // namespace flowstone::domain
