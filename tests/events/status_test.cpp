#include "events/common/status.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace flowstone::domain {
namespace {

using S = Status;
const std::vector<Status> kAll = {S::waiting, S::ready, S::running, S::canceled, S::timeout,
                                  S::failed,  S::pass,  S::success, S::finished};

std::string names(const std::vector<Status>& statuses) {
  std::string out = "{";
  for (Status s : statuses) out += std::string(to_string(s)) + ",";
  return out + "}";
}

TEST(StatusTest, NamesAndLevelsFollowFateStatusSet) {
  const std::vector<std::string> expected = {"waiting", "ready", "running", "canceled", "timeout",
                                             "failed",  "pass",  "success", "finished"};
  for (size_t i = 0; i < kAll.size(); ++i) {
    EXPECT_EQ(to_string(kAll[i]), expected[i]);
    EXPECT_EQ(level(kAll[i]), static_cast<int>(i));
    EXPECT_EQ(parse_status(expected[i]), kAll[i]);
  }
  EXPECT_EQ(parse_status("SUCCESS"), std::nullopt);
  EXPECT_EQ(parse_status(""), std::nullopt);
  EXPECT_EQ(parse_status("done"), std::nullopt);
}

TEST(StatusTest, PredicateSets) {
  const std::set<Status> end = {S::canceled, S::timeout, S::failed, S::pass, S::success};
  const std::set<Status> interrupt = {S::canceled, S::timeout, S::failed};
  const std::set<Status> success = {S::pass, S::success};
  const std::set<Status> ongoing = {S::waiting, S::running};
  const std::set<Status> job = {S::ready,    S::waiting, S::running, S::finished,
                                S::canceled, S::timeout, S::failed,  S::success};
  const std::set<Status> task = {S::waiting, S::running, S::canceled, S::timeout,
                                 S::failed,  S::pass,    S::success};
  for (Status s : kAll) {
    SCOPED_TRACE(std::string(to_string(s)));
    EXPECT_EQ(is_end(s), end.count(s) == 1);
    EXPECT_EQ(is_interrupt(s), interrupt.count(s) == 1);
    EXPECT_EQ(is_success(s), success.count(s) == 1);
    EXPECT_EQ(is_ongoing(s), ongoing.count(s) == 1);
    EXPECT_EQ(is_job_status(s), job.count(s) == 1);
    EXPECT_EQ(is_task_status(s), task.count(s) == 1);
  }
}

// Spec 3.2, written out independently of the implementation. Missing rows allow nothing.
const std::map<Status, std::set<Status>> kJobTable = {
    {S::ready, {S::waiting, S::canceled, S::timeout, S::failed}},
    {S::waiting, {S::running, S::canceled, S::timeout, S::failed, S::success}},
    {S::running, {S::canceled, S::timeout, S::failed, S::success}},
    {S::canceled, {S::waiting}},
    {S::timeout, {S::failed, S::success, S::waiting}},
    {S::failed, {S::waiting, S::canceled}},
    {S::success, {S::waiting}},
};
const std::map<Status, std::set<Status>> kTaskTable = {
    {S::waiting, {S::running, S::success}},
    {S::running, {S::canceled, S::timeout, S::failed, S::pass, S::success}},
    {S::canceled, {S::waiting}},
    {S::timeout, {S::failed, S::success}},
};

bool in_table(const std::map<Status, std::set<Status>>& table, Status from, Status to) {
  auto row = table.find(from);
  return row != table.end() && row->second.count(to) == 1;
}

TEST(StatusTest, JobTransitionTableEveryCell) {
  int allowed = 0;
  for (Status from : kAll) {
    for (Status to : kAll) {
      SCOPED_TRACE(std::string(to_string(from)) + " -> " + std::string(to_string(to)));
      const bool expected = in_table(kJobTable, from, to);
      EXPECT_EQ(job_transition_allowed(from, to), expected);
      if (from == to) {
        EXPECT_FALSE(job_transition_allowed(from, to));
      }
      allowed += expected;
    }
  }
  EXPECT_EQ(allowed, 4 + 5 + 4 + 1 + 3 + 2 + 1);
}

TEST(StatusTest, TaskTransitionTableEveryCell) {
  int allowed = 0;
  for (Status from : kAll) {
    for (Status to : kAll) {
      SCOPED_TRACE(std::string(to_string(from)) + " -> " + std::string(to_string(to)));
      const bool expected = in_table(kTaskTable, from, to);
      EXPECT_EQ(task_transition_allowed(from, to), expected);
      if (from == to) {
        EXPECT_FALSE(task_transition_allowed(from, to));
      }
      allowed += expected;
    }
  }
  EXPECT_EQ(allowed, 2 + 5 + 1 + 2);
}

TEST(StatusTest, TaskTransitionPitfalls) {
  // A never-started task cannot be failed or canceled; failed is final for a version; a job can go failed ->
  // canceled.
  EXPECT_FALSE(task_transition_allowed(S::waiting, S::failed));
  EXPECT_FALSE(task_transition_allowed(S::waiting, S::canceled));
  EXPECT_FALSE(task_transition_allowed(S::failed, S::waiting));
  EXPECT_TRUE(job_transition_allowed(S::failed, S::canceled));
  EXPECT_FALSE(job_transition_allowed(S::canceled, S::failed));
}

struct TaskFoldCase {
  std::vector<Status> in;
  std::optional<Status> out;
};

TEST(StatusTest, FoldTaskStatus) {
  const std::vector<TaskFoldCase> cases = {
      // Empty input.
      {{}, S::failed},
      // One distinct value, after pass -> success.
      {{S::waiting}, S::waiting},
      {{S::running, S::running}, S::running},
      {{S::success, S::success}, S::success},
      {{S::pass}, S::success},
      {{S::pass, S::success}, S::success},
      {{S::pass, S::pass}, S::success},
      {{S::failed, S::failed}, S::failed},
      {{S::ready}, S::ready},
      // Interrupts in ascending level: canceled > timeout > failed.
      {{S::failed, S::canceled}, S::canceled},
      {{S::canceled, S::failed, S::timeout}, S::canceled},
      {{S::failed, S::timeout}, S::timeout},
      {{S::running, S::failed}, S::failed},
      {{S::success, S::failed}, S::failed},
      {{S::waiting, S::timeout}, S::timeout},
      {{S::pass, S::canceled}, S::canceled},
      {{S::running, S::success, S::canceled}, S::canceled},
      // No interrupt: running present -> running.
      {{S::running, S::success}, S::running},
      {{S::running, S::waiting}, S::running},
      {{S::running, S::pass}, S::running},
      // No interrupt, no running: success present -> running.
      {{S::success, S::waiting}, S::running},
      {{S::pass, S::waiting}, S::running},
      // Nothing nameable.
      {{S::waiting, S::ready}, std::nullopt},
      {{S::waiting, S::finished}, std::nullopt},
  };
  for (const TaskFoldCase& c : cases) {
    SCOPED_TRACE(names(c.in));
    EXPECT_EQ(fold_task_status(c.in), c.out);
  }
}

struct JobFoldCase {
  std::vector<Status> in;
  SchedulingCode code;
  std::optional<Status> out;
};

TEST(StatusTest, FoldJobStatus) {
  const auto no = SchedulingCode::no_next;
  const auto next = SchedulingCode::have_next;
  const std::vector<JobFoldCase> cases = {
      // Empty input: FATE-Flow raises.
      {{}, no, std::nullopt},
      {{}, next, std::nullopt},
      // One distinct value, whatever the code.
      {{S::waiting, S::waiting}, no, S::waiting},
      {{S::waiting}, next, S::waiting},
      {{S::success, S::success}, no, S::success},
      {{S::pass, S::success}, no, S::success},
      {{S::pass}, next, S::success},
      {{S::canceled}, no, S::canceled},
      {{S::running, S::running}, no, S::running},
      // running present -> running, even next to interrupts.
      {{S::running, S::success}, no, S::running},
      {{S::running, S::failed}, no, S::running},
      {{S::running, S::canceled, S::waiting}, no, S::running},
      // waiting present and HAVE_NEXT -> running, even next to interrupts.
      {{S::waiting, S::success}, next, S::running},
      {{S::waiting, S::failed}, next, S::running},
      {{S::waiting, S::pass}, next, S::running},
      // Interrupts in descending level: failed > timeout > canceled.
      {{S::canceled, S::failed}, no, S::failed},
      {{S::canceled, S::failed}, next, S::failed},
      {{S::canceled, S::timeout}, no, S::timeout},
      {{S::canceled, S::timeout, S::failed}, no, S::failed},
      {{S::success, S::canceled}, no, S::canceled},
      {{S::waiting, S::failed}, no, S::failed},
      {{S::waiting, S::success, S::timeout}, no, S::timeout},
      {{S::pass, S::timeout}, next, S::timeout},
      // {waiting, success} with NO_NEXT -> canceled (pass counts as success).
      {{S::waiting, S::success}, no, S::canceled},
      {{S::waiting, S::pass}, no, S::canceled},
      {{S::waiting, S::pass, S::success}, no, S::canceled},
      // Nothing nameable.
      {{S::success, S::ready}, no, std::nullopt},
      {{S::waiting, S::ready}, no, std::nullopt},
      {{S::waiting, S::success, S::ready}, no, std::nullopt},
      {{S::success, S::finished}, next, std::nullopt},
  };
  for (const JobFoldCase& c : cases) {
    SCOPED_TRACE(names(c.in) + (c.code == next ? " have_next" : " no_next"));
    EXPECT_EQ(fold_job_status(c.in, c.code), c.out);
  }
}

TEST(StatusTest, FoldsBreakTiesInOppositeOrders) {
  const std::vector<Status> both = {S::failed, S::canceled};
  EXPECT_EQ(fold_task_status(both), S::canceled);
  EXPECT_EQ(fold_job_status(both, SchedulingCode::no_next), S::failed);
}

}  // namespace
}  // namespace flowstone::domain
