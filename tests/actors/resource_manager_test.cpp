// The resource manager actor on a real log and a clock moved by hand: its ledger and waiting queue are
// events of the party's stream, so a restart keeps who holds cores, who waits, in which order and since
// when; what the jobs recorded wins over a grant they never wrote.
#include "actors/resources/resource_manager.hpp"

#include <gtest/gtest.h>

#include "events/job/views.hpp"
#include "store/codec/party_codec.hpp"
#include "store/snapshots.hpp"
#include "tests/actors/actor_env.hpp"

namespace flowstone::actors {
namespace {

using testing::ActorEnv;

// Job ids in the scheduler's shape: their order is their submit order.
std::string job(int n) {
  return "2025120200000000000" + std::to_string(10 + n);
}

class ResourceManagerTest : public ::testing::Test {
 protected:
  ResourceManagerTest() {
    env_.env().config.computing_cores = 8;
    env_.env().config.queue_starvation_ms = 1000;
    Start();
  }
  ~ResourceManagerTest() override {
    if (resources_) env_.Stop(resources_);
  }

  void Start() { resources_ = spawn_resource_manager(env_.system(), env_.shared_env()); }
  void Restart() {
    env_.Stop(resources_);
    Start();
  }

  ReserveReply Reserve(const std::string& job_id, int cores, int priority = 0) {
    caf::scoped_actor self{env_.system()};
    ReserveReply out{RetCode::server_exception, "no answer"};
    self->request(resources_, std::chrono::seconds(10),
                  ReserveMsg{job_id, {"guest", "9999"}, cores, priority, domain::job_order(job_id)})
        .receive([&](const ReserveReply& r) { out = r; },
                 [&](const caf::error& e) { out.message = to_string(e); });
    return out;
  }
  void Release(const std::string& job_id) {
    caf::scoped_actor self{env_.system()};
    self->send(resources_, ReleaseMsg{job_id, {"guest", "9999"}, false});
  }
  // What a job writes with its CopyResourcesApplied event: the holding as the jobs know it.
  void RecordHolding(const std::string& job_id, int cores) {
    store::AppendRequest request;
    request.stream = "test:" + job_id;
    request.views.push_back(
        {domain::kResourcesView, job_id,
         Json{{"job_id", job_id}, {"role", "guest"}, {"party_id", "9999"}, {"cores", cores}}.dump()});
    ASSERT_TRUE(env_.log().Append(std::move(request)).status.ok());
  }
  std::vector<domain::LedgerEvent> Stream() {
    std::vector<store::StoredEvent> stored;
    env_.log().ReadStream(store::party_stream("9999"), 1, &stored);
    std::vector<domain::LedgerEvent> out;
    for (const auto& s : stored) out.push_back(*store::decode_party_event(s.payload, nullptr));
    return out;
  }

  ActorEnv env_;
  resource_actor resources_;
};

TEST_F(ResourceManagerTest, TheCapacityIsRegisteredOnceAndAReservationAnsweredOnlyOnceRecorded) {
  EXPECT_EQ(Reserve(job(1), 6).code, RetCode::success);
  auto events = Stream();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(std::get<domain::CapacityRegistered>(events[0].body).cores, 8);
  EXPECT_EQ(std::get<domain::CoresReserved>(events[1].body).holder, job(1) + "/guest/9999");
  EXPECT_EQ(events[1].at_ms, testing::kT0);  // the time the manager's clock gave
  RecordHolding(job(1), 6);
  Restart();
  EXPECT_EQ(Reserve(job(2), 3).code, RetCode::job_resource_exception);  // 2 of 8 free: still held
  EXPECT_EQ(std::get<domain::CapacityRegistered>(Stream()[0].body).cores, 8);
  size_t registered = 0;
  for (const auto& e : Stream()) registered += std::holds_alternative<domain::CapacityRegistered>(e.body);
  EXPECT_EQ(registered, 1u);  // unchanged capacity: not registered again
}

TEST_F(ResourceManagerTest, TheWaitingQueueAndItsStarvationSurviveARestart) {
  ASSERT_EQ(Reserve(job(1), 6).code, RetCode::success);
  RecordHolding(job(1), 6);
  // The large job is refused and waits; before the starvation time a small later job passes it.
  ASSERT_EQ(Reserve(job(2), 8).code, RetCode::job_resource_exception);
  env_.clock().Advance(500);
  ASSERT_EQ(Reserve(job(3), 2).code, RetCode::success);
  Release(job(3));
  env_.clock().Advance(600);  // 1.1 s after the large job's first refusal
  ASSERT_EQ(Reserve(job(2), 8).code, RetCode::job_resource_exception);  // asks again: nothing new to record
  Restart();
  // Replayed: the large job still waits, since its first refusal, so the free cores are kept for it.
  ReserveReply small = Reserve(job(4), 2);
  EXPECT_EQ(small.code, RetCode::job_resource_exception);
  EXPECT_NE(small.message.find("cores are kept for " + job(2) + "/guest/9999"), std::string::npos)
      << small.message;
}

TEST_F(ResourceManagerTest, AWaiterSilentForFiveSecondsOnTheManualClockIsForgotten) {
  ASSERT_EQ(Reserve(job(1), 8).code, RetCode::success);
  RecordHolding(job(1), 8);
  ASSERT_EQ(Reserve(job(2), 8, /*priority=*/5).code, RetCode::job_resource_exception);
  Release(job(1));
  env_.clock().Advance(4000);
  ReserveReply low = Reserve(job(3), 8);
  EXPECT_EQ(low.code, RetCode::job_resource_exception);  // behind the high-priority waiter
  EXPECT_NE(low.message.find(job(2) + "/guest/9999"), std::string::npos) << low.message;
  env_.clock().Advance(1001);  // the waiter last asked 5.001 s ago
  EXPECT_EQ(Reserve(job(3), 8).code, RetCode::success);
  bool forgotten = false;
  for (const auto& e : Stream())
    if (auto* f = std::get_if<domain::WaiterForgotten>(&e.body))
      forgotten |= f->holder == job(2) + "/guest/9999";
  EXPECT_TRUE(forgotten);
}

TEST_F(ResourceManagerTest, AtStartAGrantNoJobRecordedIsReleasedAndAHoldingOnlyAJobRecordedIsTaken) {
  ASSERT_EQ(Reserve(job(1), 4).code, RetCode::success);  // the job crashed before recording it
  RecordHolding(job(2), 6);                              // recorded by a job, unknown to this ledger
  Restart();
  ReserveReply third = Reserve(job(3), 4);
  EXPECT_EQ(third.code, RetCode::job_resource_exception);
  EXPECT_NE(third.message.find("2 of 8 free"), std::string::npos) << third.message;
  EXPECT_EQ(Reserve(job(4), 2).code, RetCode::success);
}

// Another writer got to the stream first (an owner before this one, still finishing its append): the
// append is refused, nothing is granted, and the next command is decided on what the log holds.
TEST_F(ResourceManagerTest, ARestartStartsFromTheLatestSnapshotAndGetsTheSameLedger) {
  // 1,201 events (the capacity, then 600 grants each given back): a snapshot is written with the append
  // that reaches version 1000.
  for (int n = 1; n <= 600; ++n) {
    ASSERT_EQ(Reserve(job(n), 1).code, RetCode::success);
    Release(job(n));
  }
  // Then one job holds every core and three wait behind it, in their submit order.
  ASSERT_EQ(Reserve(job(601), 8).code, RetCode::success);
  RecordHolding(job(601), 8);
  for (int n = 602; n <= 604; ++n) ASSERT_EQ(Reserve(job(n), 8).code, RetCode::job_resource_exception);

  store::Snapshot snapshot;
  ASSERT_TRUE(store::ReadSnapshot(env_.log(), store::party_stream("9999"), &snapshot).ok());
  EXPECT_EQ(snapshot.version, 1000u);
  std::string error;
  auto at_snapshot = store::decode_ledger_snapshot(snapshot.bytes, &error);
  ASSERT_TRUE(at_snapshot) << error;
  // The snapshot is the ledger replayed from the start to its version.
  domain::LedgerState replayed;
  auto events = Stream();
  ASSERT_GE(events.size(), snapshot.version);
  for (size_t i = 0; i < snapshot.version; ++i) domain::apply(replayed, events[i]);
  EXPECT_EQ(at_snapshot->held, replayed.held);
  EXPECT_EQ(at_snapshot->total, replayed.total);
  EXPECT_EQ(at_snapshot->waiting.size(), replayed.waiting.size());

  // After a restart (from the snapshot and the events after it) the ledger is the same: job 601 holds the
  // cores, and once it gives them back the waiters go in their order.
  auto expect_same_ledger = [&] {
    EXPECT_EQ(Reserve(job(700), 1).code, RetCode::job_resource_exception);
    Release(job(601));
    store::AppendRequest returned;  // what the job's CopyResourcesReturned does to its row
    returned.stream = "test:" + job(601) + ":returned";
    returned.views.push_back({domain::kResourcesView, job(601), std::nullopt});
    ASSERT_TRUE(env_.log().Append(std::move(returned)).status.ok());
    ReserveReply third = Reserve(job(603), 8);
    EXPECT_EQ(third.code, RetCode::job_resource_exception);
    EXPECT_NE(third.message.find("waiting behind " + job(602)), std::string::npos) << third.message;
  };
  Restart();
  expect_same_ledger();

  // A snapshot this build cannot read is ignored: the whole stream is replayed, with the same result.
  store::AppendRequest damage;
  damage.stream = "test:damage";
  damage.views.push_back(store::snapshot_write(store::party_stream("9999"), 1000, "not a snapshot"));
  ASSERT_TRUE(env_.log().Append(std::move(damage)).status.ok());
  Restart();
  ReserveReply after = Reserve(job(603), 8);
  EXPECT_NE(after.message.find("waiting behind " + job(602)), std::string::npos) << after.message;
}

TEST_F(ResourceManagerTest, AnAppendRefusedAsAConflictReadsTheStreamAgain) {
  ASSERT_EQ(Reserve(job(1), 2).code, RetCode::success);
  RecordHolding(job(1), 2);
  store::AppendRequest other;
  other.stream = store::party_stream("9999");
  other.expected_version = Stream().size();
  other.events.push_back(
      store::encode_party_event({testing::kT0, domain::CoresReserved{job(5) + "/guest/9999", 4}}));
  ASSERT_TRUE(env_.log().Append(std::move(other)).status.ok());
  RecordHolding(job(5), 4);
  ReserveReply refused = Reserve(job(2), 2);
  EXPECT_EQ(refused.code, RetCode::server_exception);
  EXPECT_NE(refused.message.find("Conflict"), std::string::npos) << refused.message;
  // Read again: 2 + 4 held, so 2 more fit and 3 do not.
  ReserveReply three = Reserve(job(3), 3);
  EXPECT_EQ(three.code, RetCode::job_resource_exception);
  EXPECT_NE(three.message.find("2 of 8 free"), std::string::npos) << three.message;
  EXPECT_EQ(Reserve(job(2), 2).code, RetCode::success);
}

}  // namespace
}  // namespace flowstone::actors
