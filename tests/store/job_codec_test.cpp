// Every Job event kind survives encode/decode field by field; bytes that are not a JobEvent are refused.
#include "store/codec/job_codec.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "events.capnp.h"

namespace flowstone::store {
namespace {

using domain::JobEvent;
using domain::PartyRef;
using domain::Status;

const PartyRef kGuest{"guest", "9999"};

template <typename T>
T RoundTrip(const T& body, int64_t at_ms = 1700000000123) {
  std::string bytes = encode_job_event(JobEvent{at_ms, body, "client"});
  EXPECT_FALSE(bytes.empty());
  std::string error;
  auto decoded = decode_job_event(bytes, &error);
  EXPECT_TRUE(decoded.has_value()) << error;
  if (!decoded) return T{};
  EXPECT_EQ(decoded->at_ms, at_ms);
  EXPECT_EQ(decoded->actor, "client");  // who caused it travels with every kind
  const T* out = std::get_if<T>(&decoded->body);
  EXPECT_NE(out, nullptr) << "decoded as another kind (index " << decoded->body.index() << ")";
  return out ? *out : T{};
}

TEST(JobCodecTest, JobCreated) {
  domain::JobCreated e;
  e.job_id = "202401010000000000001";
  e.dag_schema = Json::parse(R"({"schema_version": "2.1.0", "dag": {"parties": [{"role": "guest",
      "party_id": ["9999"]}], "conf": {"zeta": 1, "alpha": [1, 2.5, "x", null], "cores": 8},
      "tasks": {"b": {"component_ref": "noop"}, "a": {"component_ref": "noop"}}}})");
  e.initiator_party_id = "9999";
  e.scheduler_party_id = "0";
  e.local_parties = {kGuest, PartyRef{"host", "9999"}, PartyRef{"arbiter", "9999"}};
  e.is_scheduler = true;
  e.user_name = "ünïcode user";
  e.defaults.job_cores = 16;
  e.defaults.task_cores = 2;
  e.defaults.task_timeout_s = 12345678901;
  e.defaults.auto_retries = 3;
  e.defaults.sync_type = "poll";
  e.defaults.computing_partitions = 32;

  domain::JobCreated d = RoundTrip(e);
  EXPECT_EQ(d.job_id, e.job_id);
  EXPECT_EQ(d.dag_schema, e.dag_schema);
  EXPECT_EQ(d.dag_schema.dump(), e.dag_schema.dump());  // key order kept
  EXPECT_EQ(d.initiator_party_id, "9999");
  EXPECT_EQ(d.scheduler_party_id, "0");
  EXPECT_EQ(d.local_parties, e.local_parties);
  EXPECT_TRUE(d.is_scheduler);
  EXPECT_EQ(d.user_name, e.user_name);
  EXPECT_EQ(d.defaults.job_cores, 16);
  EXPECT_EQ(d.defaults.task_cores, 2);
  EXPECT_EQ(d.defaults.task_timeout_s, 12345678901);
  EXPECT_EQ(d.defaults.auto_retries, 3);
  EXPECT_EQ(d.defaults.sync_type, "poll");
  EXPECT_EQ(d.defaults.computing_partitions, 32);

  e.is_scheduler = false;
  e.local_parties.clear();
  d = RoundTrip(e);
  EXPECT_FALSE(d.is_scheduler);
  EXPECT_TRUE(d.local_parties.empty());
}

TEST(JobCodecTest, JobStatusChanged) {
  for (Status s : {Status::ready, Status::waiting, Status::running, Status::canceled, Status::timeout,
                   Status::failed, Status::success}) {
    domain::JobStatusChanged d = RoundTrip(domain::JobStatusChanged{kGuest, s, "tasks moved"});
    EXPECT_EQ(d.party, kGuest);
    EXPECT_EQ(d.status, s);
    EXPECT_EQ(d.reason, "tasks moved");
  }
}

TEST(JobCodecTest, TheSchedulersRecord) {
  domain::ScheduleStatusChanged status =
      RoundTrip(domain::ScheduleStatusChanged{Status::running, "admitted"});
  EXPECT_EQ(status.status, Status::running);
  EXPECT_EQ(status.reason, "admitted");
  domain::ScheduleTaskVersionCreated version =
      RoundTrip(domain::ScheduleTaskVersionCreated{"lr_0", 2, 1, "auto retry", 1700000009999});
  EXPECT_EQ(version.task_name, "lr_0");
  EXPECT_EQ(version.task_version, 2);
  EXPECT_EQ(version.auto_retries, 1);
  EXPECT_EQ(version.reason, "auto retry");
  EXPECT_EQ(version.not_before, 1700000009999);
  domain::ScheduleTaskStatusChanged task =
      RoundTrip(domain::ScheduleTaskStatusChanged{"psi_0", 1, Status::pass, "parties reported"});
  EXPECT_EQ(task.task_name, "psi_0");
  EXPECT_EQ(task.task_version, 1);
  EXPECT_EQ(task.status, Status::pass);
  EXPECT_EQ(task.reason, "parties reported");
}

// Earlier builds wrote the scheduler's record as copy and run events whose party has an empty role: they
// still read as the scheduler's own events.
TEST(JobCodecTest, AnEarlierBuildsFormOfTheSchedulersRecordReadsAsItsOwnEvents) {
  auto decode = [](const std::function<void(schema::JobEvent::Builder)>& write) {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::JobEvent>();
    root.setAtMs(42);
    write(root);
    auto words = capnp::messageToFlatArray(message);
    auto bytes = words.asBytes();
    std::string error;
    auto event =
        decode_job_event(std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size()), &error);
    EXPECT_TRUE(event.has_value()) << error;
    return event ? event->body : domain::JobEventBody{};
  };
  auto status = decode([](schema::JobEvent::Builder root) {
    auto b = root.initJobStatusChanged();
    b.initParty();
    b.setStatus("running");
    b.setReason("admitted");
  });
  ASSERT_TRUE(std::holds_alternative<domain::ScheduleStatusChanged>(status));
  EXPECT_EQ(std::get<domain::ScheduleStatusChanged>(status).status, Status::running);
  EXPECT_EQ(std::get<domain::ScheduleStatusChanged>(status).reason, "admitted");
  auto version = decode([](schema::JobEvent::Builder root) {
    auto b = root.initTaskVersionCreated();
    b.setTaskName("lr_0");
    b.setTaskVersion(1);
    b.initParty();
    b.setAutoRetries(0);
    b.setReason("auto retry");
    b.setNotBefore(1234);
  });
  ASSERT_TRUE(std::holds_alternative<domain::ScheduleTaskVersionCreated>(version));
  EXPECT_EQ(std::get<domain::ScheduleTaskVersionCreated>(version).not_before, 1234);
  auto task = decode([](schema::JobEvent::Builder root) {
    auto b = root.initTaskStatusChanged();
    b.setTaskName("lr_0");
    b.setTaskVersion(1);
    b.initParty();
    b.setStatus("failed");
    b.setReason("task lr_0 failed at host:10000");
  });
  ASSERT_TRUE(std::holds_alternative<domain::ScheduleTaskStatusChanged>(task));
  EXPECT_EQ(std::get<domain::ScheduleTaskStatusChanged>(task).status, Status::failed);
}

TEST(JobCodecTest, JobCancelRequested) {
  domain::JobCancelRequested d = RoundTrip(domain::JobCancelRequested{Status::timeout, "start timeout"});
  EXPECT_EQ(d.stop_status, Status::timeout);
  EXPECT_EQ(d.reason, "start timeout");
}

TEST(JobCodecTest, JobNotesAdded) {
  domain::JobNotesAdded d = RoundTrip(domain::JobNotesAdded{kGuest, "line one\nline two"});
  EXPECT_EQ(d.party, kGuest);
  EXPECT_EQ(d.notes, "line one\nline two");
}

TEST(JobCodecTest, TaskVersionCreated) {
  domain::TaskVersionCreated e{"lr_0", 2, kGuest, "job_lr_0_2_guest_9999", 1, "auto retry"};
  domain::TaskVersionCreated d = RoundTrip(e);
  EXPECT_EQ(d.task_name, "lr_0");
  EXPECT_EQ(d.task_version, 2);
  EXPECT_EQ(d.party, kGuest);
  EXPECT_EQ(d.execution_id, "job_lr_0_2_guest_9999");
  EXPECT_EQ(d.auto_retries, 1);
  EXPECT_EQ(d.reason, "auto retry");
}

TEST(JobCodecTest, TaskStatusChanged) {
  domain::TaskStatusChanged e{"psi_0", 1, kGuest, "j_psi_0_1_guest_9999", Status::pass, "parties reported"};
  domain::TaskStatusChanged d = RoundTrip(e);
  EXPECT_EQ(d.task_name, "psi_0");
  EXPECT_EQ(d.task_version, 1);
  EXPECT_EQ(d.party, kGuest);
  EXPECT_EQ(d.execution_id, "j_psi_0_1_guest_9999");
  EXPECT_EQ(d.status, Status::pass);
  EXPECT_EQ(d.reason, "parties reported");
}

TEST(JobCodecTest, TaskPartyStatusChanged) {
  domain::TaskPartyStatusChanged e{"reader_0",     0,
                                   kGuest,         "j_reader_0_0_guest_9999",
                                   Status::failed, "Traceback (most recent call last):\n  ValueError"};
  domain::TaskPartyStatusChanged d = RoundTrip(e);
  EXPECT_EQ(d.task_name, "reader_0");
  EXPECT_EQ(d.task_version, 0);
  EXPECT_EQ(d.party, kGuest);
  EXPECT_EQ(d.execution_id, "j_reader_0_0_guest_9999");
  EXPECT_EQ(d.status, Status::failed);
  EXPECT_EQ(d.error, e.error);
}

TEST(JobCodecTest, TaskLaunched) {
  domain::TaskLaunched e{"a_0",
                         3,
                         kGuest,
                         "j_a_0_3_guest_9999",
                         4194304001,
                         "/bin/flowstone-launcher --x",
                         "/logs/j/guest/9999/a_0",
                         "fate:2.2.0@local"};
  domain::TaskLaunched d = RoundTrip(e, 0);
  EXPECT_EQ(d.task_name, "a_0");
  EXPECT_EQ(d.task_version, 3);
  EXPECT_EQ(d.party, kGuest);
  EXPECT_EQ(d.execution_id, "j_a_0_3_guest_9999");
  EXPECT_EQ(d.launcher_pid, 4194304001);
  EXPECT_EQ(d.cmd, e.cmd);
  EXPECT_EQ(d.log_dir, e.log_dir);
  EXPECT_EQ(d.provider_name, "fate:2.2.0@local");
}

TEST(JobCodecTest, TaskResourcesAppliedAndReturned) {
  auto applied = RoundTrip(domain::TaskResourcesApplied{"b_0", 2, kGuest, 4});
  EXPECT_EQ(applied.task_name, "b_0");
  EXPECT_EQ(applied.task_version, 2);
  EXPECT_EQ(applied.party, kGuest);
  EXPECT_EQ(applied.cores, 4);
  auto returned = RoundTrip(domain::TaskResourcesReturned{"b_0", 2, kGuest, "returned by the scheduler"});
  EXPECT_EQ(returned.task_name, "b_0");
  EXPECT_EQ(returned.party, kGuest);
  EXPECT_EQ(returned.reason, "returned by the scheduler");
}

TEST(JobCodecTest, ExtremeTimes) {
  EXPECT_EQ(RoundTrip(domain::JobNotesAdded{kGuest, "x"}, INT64_MAX).notes, "x");
  EXPECT_EQ(RoundTrip(domain::JobNotesAdded{kGuest, "y"}, INT64_MIN).notes, "y");
}

TEST(JobCodecTest, EmptyBufferIsRefused) {
  std::string error;
  EXPECT_FALSE(decode_job_event("", &error).has_value());
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(decode_job_event("", nullptr).has_value());  // no error sink: still refused
}

TEST(JobCodecTest, GarbageIsRefused) {
  std::vector<std::string> garbage = {
      "abc",                    // not a multiple of a word
      std::string(8, '\0'),     // a segment table naming an empty segment
      std::string(16, '\xff'),  // absurd segment count and sizes
      std::string(64, '\x5a'),  // plausible length, nonsense content
      "\x00\x00\x00\x00\x10\x00\x00\x00" + std::string(16, '\x01'),  // segment longer than the buffer
  };
  for (const std::string& bytes : garbage) {
    std::string error;
    EXPECT_FALSE(decode_job_event(bytes, &error).has_value()) << bytes.size() << " bytes";
    EXPECT_FALSE(error.empty()) << bytes.size() << " bytes";
  }
}

TEST(JobCodecTest, TruncatedEventIsRefused) {
  std::string bytes =
      encode_job_event(JobEvent{1, domain::TaskLaunched{"a_0", 0, kGuest, "e", 1, "cmd", "log", ""}, ""});
  ASSERT_GT(bytes.size(), 16u);
  std::string error;
  EXPECT_FALSE(decode_job_event(bytes.substr(0, bytes.size() - 8), &error).has_value());
  EXPECT_FALSE(error.empty());
}

TEST(JobCodecTest, UnknownKindIsRefused) {
  // An event kind added by a later build: the union discriminant (after atMs in the root's data section,
  // which follows the 8-byte segment table and the 8-byte root pointer) names no kind known here.
  std::string bytes = encode_job_event(JobEvent{7, domain::JobNotesAdded{kGuest, "n"}, ""});
  ASSERT_GT(bytes.size(), 26u);
  ASSERT_EQ(bytes[24], 3);  // jobNotesAdded @4 is union member 3
  bytes[24] = 99;
  std::string error;
  EXPECT_FALSE(decode_job_event(bytes, &error).has_value());
  EXPECT_NE(error.find("unknown event kind"), std::string::npos) << error;
}

TEST(JobCodecTest, UnknownStatusIsRefused) {
  // A status name this build does not know: an event written by another build, or corruption.
  std::string bytes =
      encode_job_event(JobEvent{5, domain::JobStatusChanged{kGuest, Status::running, "r"}, ""});
  auto at = bytes.find("running");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 7, "sprints");
  std::string error;
  EXPECT_FALSE(decode_job_event(bytes, &error).has_value());
  EXPECT_NE(error.find("status"), std::string::npos) << error;
}

TEST(JobCodecTest, UndecodableDagIsRefused) {
  domain::JobCreated e;
  e.job_id = "j";
  e.dag_schema = Json::parse(R"({"k": "vvvvvv"})");
  std::string bytes = encode_job_event(JobEvent{1, e, ""});
  auto at = bytes.find("{\"k\"");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = '[';  // the dag text no longer parses as JSON
  std::string error;
  EXPECT_FALSE(decode_job_event(bytes, &error).has_value());
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace flowstone::store
