// The Ledger (events/resources/ledger.hpp): one party's cores and the admission policy, driven with
// explicit times through its convenience object; then the same as events: decided, applied, and replayed
// into a fresh state that answers alike.
#include "events/resources/ledger.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/text_util.hpp"

namespace flowstone::domain {
namespace {

using test_util::contains;

constexpr int64_t T0 = 1700000000000;

TEST(LedgerTest, GrantsWhileTheCoresFitInTheTotal) {
  Ledger ledger(8);
  EXPECT_EQ(ledger.total(), 8);
  EXPECT_EQ(ledger.in_use(), 0);
  LedgerAnswer a = ledger.Reserve("a/guest/9999", 4, 0, T0, T0);
  EXPECT_EQ(a.code, RetCode::success) << a.message;
  LedgerAnswer b = ledger.Reserve("b/guest/9999", 4, 0, T0 + 1, T0 + 1);
  EXPECT_EQ(b.code, RetCode::success) << b.message;
  EXPECT_EQ(ledger.in_use(), 8);
  EXPECT_EQ(ledger.held_by("a/guest/9999"), 4);
  EXPECT_EQ(ledger.held_by("b/guest/9999"), 4);
  EXPECT_EQ(ledger.held_by("c/guest/9999"), 0);
  EXPECT_EQ(ledger.waiting(), 0u);
  // Zero cores (an arbiter's copy) always fit, even with nothing free.
  EXPECT_EQ(ledger.Reserve("c/arbiter/9999", 0, 0, T0 + 2, T0 + 2).code, RetCode::success);
  EXPECT_EQ(ledger.in_use(), 8);
}

TEST(LedgerTest, NotNowWhenItDoesNotFitNamesWhatIsFreeOfTheTotal) {
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("a/guest/9999", 6, 0, T0, T0).code, RetCode::success);
  LedgerAnswer b = ledger.Reserve("b/guest/9999", 4, 0, T0 + 1, T0 + 1);
  EXPECT_EQ(b.code, RetCode::job_resource_exception);
  EXPECT_EQ(b.message, "Job resource exception: 4 cores needed, 2 of 8 free");
  EXPECT_EQ(ledger.held_by("b/guest/9999"), 0);
  EXPECT_EQ(ledger.in_use(), 6);
  EXPECT_EQ(ledger.waiting(), 1u);  // remembered as a waiter
}

TEST(LedgerTest, NeverWhenTheJobNeedsMoreThanTheTotal) {
  Ledger ledger(8);
  LedgerAnswer a = ledger.Reserve("a/guest/9999", 9, 0, T0, T0);
  EXPECT_EQ(a.code, RetCode::job_resource_limit_exceeded);
  EXPECT_TRUE(contains(a.message, "9 cores")) << a.message;
  EXPECT_TRUE(contains(a.message, "8 in total")) << a.message;
  EXPECT_EQ(ledger.in_use(), 0);
  EXPECT_EQ(ledger.waiting(), 0u);  // it can never run: it does not wait
  // Exactly the total is fine.
  EXPECT_EQ(ledger.Reserve("b/guest/9999", 8, 0, T0, T0).code, RetCode::success);
}

TEST(LedgerTest, AReserveRepeatedByTheSameHolderIsGrantedOnce) {
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("a/guest/9999", 8, 0, T0, T0).code, RetCode::success);
  // Nothing is free now, but the holder holds its cores already: granted again, counted once.
  LedgerAnswer again = ledger.Reserve("a/guest/9999", 8, 0, T0, T0 + 10);
  EXPECT_EQ(again.code, RetCode::success) << again.message;
  EXPECT_EQ(ledger.in_use(), 8);
  EXPECT_EQ(ledger.held_by("a/guest/9999"), 8);
  // The same job's copy of another role is another holder.
  EXPECT_EQ(ledger.Reserve("a/host/9999", 1, 0, T0, T0 + 20).code, RetCode::job_resource_exception);
}

TEST(LedgerTest, ReleaseFreesTheCores) {
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("a/guest/9999", 8, 0, T0, T0).code, RetCode::success);
  ASSERT_EQ(ledger.Reserve("b/guest/9999", 4, 0, T0 + 1, T0 + 1).code, RetCode::job_resource_exception);
  ledger.Release("a/guest/9999");
  EXPECT_EQ(ledger.in_use(), 0);
  EXPECT_EQ(ledger.held_by("a/guest/9999"), 0);
  LedgerAnswer b = ledger.Reserve("b/guest/9999", 4, 0, T0 + 1, T0 + 2);
  EXPECT_EQ(b.code, RetCode::success) << b.message;
  EXPECT_EQ(ledger.waiting(), 0u);  // a granted waiter waits no more
  // Releasing a holder that holds nothing changes nothing; releasing twice neither.
  ledger.Release("nobody/guest/9999");
  ledger.Release("a/guest/9999");
  EXPECT_EQ(ledger.in_use(), 4);
}

TEST(LedgerTest, ReleaseForgetsAWaiter) {
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 8, 0, T0, T0).code, RetCode::success);
  ASSERT_EQ(ledger.Reserve("high/guest/9999", 8, 5, T0 + 1, T0 + 1).code, RetCode::job_resource_exception);
  ledger.Release("high/guest/9999");  // e.g. the job was canceled while it waited
  EXPECT_EQ(ledger.waiting(), 0u);
  ledger.Release("running/guest/9999");
  EXPECT_EQ(ledger.Reserve("low/guest/9999", 8, 0, T0 + 2, T0 + 10).code, RetCode::success);
}

TEST(LedgerTest, RestoredHoldingsCount) {
  Ledger ledger(8);
  ledger.Restore("a/guest/9999", 6);
  EXPECT_EQ(ledger.in_use(), 6);
  EXPECT_EQ(ledger.held_by("a/guest/9999"), 6);
  LedgerAnswer b = ledger.Reserve("b/guest/9999", 4, 0, T0, T0);
  EXPECT_EQ(b.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(b.message, "2 of 8 free")) << b.message;
  EXPECT_EQ(ledger.Reserve("a/guest/9999", 6, 0, T0, T0).code, RetCode::success);  // held already
}

TEST(LedgerTest, AHigherPriorityWaiterThatFitsGoesFirst) {
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 8, 0, T0, T0).code, RetCode::success);
  // Both wait for the running job: the low-priority one was submitted first.
  ASSERT_EQ(ledger.Reserve("low/guest/9999", 8, 0, T0 + 1, T0 + 100).code, RetCode::job_resource_exception);
  ASSERT_EQ(ledger.Reserve("high/guest/9999", 8, 5, T0 + 2, T0 + 200).code, RetCode::job_resource_exception);
  EXPECT_EQ(ledger.waiting(), 2u);
  ledger.Release("running/guest/9999");
  // The low one asks first, but the high one fits now: the low one is refused, naming it.
  LedgerAnswer low = ledger.Reserve("low/guest/9999", 8, 0, T0 + 1, T0 + 300);
  EXPECT_EQ(low.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(low.message, "waiting behind high/guest/9999")) << low.message;
  EXPECT_TRUE(contains(low.message, "priority 5")) << low.message;
  EXPECT_EQ(ledger.in_use(), 0);
  LedgerAnswer high = ledger.Reserve("high/guest/9999", 8, 5, T0 + 2, T0 + 310);
  EXPECT_EQ(high.code, RetCode::success) << high.message;
  // Now the low one simply does not fit.
  low = ledger.Reserve("low/guest/9999", 8, 0, T0 + 1, T0 + 320);
  EXPECT_EQ(low.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(low.message, "8 cores needed, 0 of 8 free")) << low.message;
}

TEST(LedgerTest, WithEqualPrioritiesTheEarlierSubmitGoesFirst) {
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 8, 0, T0, T0).code, RetCode::success);
  // Refused in the reverse order of their submits.
  ASSERT_EQ(ledger.Reserve("later/guest/9999", 8, 3, T0 + 20, T0 + 100).code,
            RetCode::job_resource_exception);
  ASSERT_EQ(ledger.Reserve("earlier/guest/9999", 8, 3, T0 + 10, T0 + 110).code,
            RetCode::job_resource_exception);
  ledger.Release("running/guest/9999");
  LedgerAnswer later = ledger.Reserve("later/guest/9999", 8, 3, T0 + 20, T0 + 200);
  EXPECT_EQ(later.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(later.message, "earlier/guest/9999")) << later.message;
  EXPECT_EQ(ledger.Reserve("earlier/guest/9999", 8, 3, T0 + 10, T0 + 210).code, RetCode::success);
}

TEST(LedgerTest, AWaiterRankedBehindDoesNotHoldBackTheOneAsking) {
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 8, 0, T0, T0).code, RetCode::success);
  ASSERT_EQ(ledger.Reserve("low/guest/9999", 4, 0, T0 + 1, T0 + 100).code, RetCode::job_resource_exception);
  ledger.Release("running/guest/9999");
  // A higher-priority job asking for the first time is not kept waiting by a lower one.
  EXPECT_EQ(ledger.Reserve("high/guest/9999", 8, 5, T0 + 2, T0 + 200).code, RetCode::success);
}

TEST(LedgerTest, AQueueOfSmallJobsIsAdmittedInAnyOrderWhileThoseAheadStillFit) {
  // The chaos run's queue: many 2-core jobs waiting at a 64-core party. When cores free up, each may be
  // granted when its scheduler asks, not only the oldest, as long as room is left for those ranked ahead.
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 8, 0, T0, T0).code, RetCode::success);
  for (int i = 1; i <= 5; ++i)
    ASSERT_EQ(ledger.Reserve("j" + std::to_string(i) + "/guest/9999", 2, 0, T0 + i, T0 + 100 + i).code,
              RetCode::job_resource_exception);
  ledger.Release("running/guest/9999");
  // The fourth asks first: the first three keep 6 of the 8 cores, 2 are left for it.
  EXPECT_EQ(ledger.Reserve("j4/guest/9999", 2, 0, T0 + 4, T0 + 200).code, RetCode::success);
  // The fifth finds no room left after the three ahead that still wait: it names the first of them.
  LedgerAnswer fifth = ledger.Reserve("j5/guest/9999", 2, 0, T0 + 5, T0 + 210);
  EXPECT_EQ(fifth.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(fifth.message, "waiting behind j1/guest/9999")) << fifth.message;
  // Those ahead are granted whatever their order of asking.
  EXPECT_EQ(ledger.Reserve("j3/guest/9999", 2, 0, T0 + 3, T0 + 220).code, RetCode::success);
  EXPECT_EQ(ledger.Reserve("j1/guest/9999", 2, 0, T0 + 1, T0 + 230).code, RetCode::success);
  EXPECT_EQ(ledger.Reserve("j2/guest/9999", 2, 0, T0 + 2, T0 + 240).code, RetCode::success);
  EXPECT_EQ(ledger.in_use(), 8);
}

TEST(LedgerTest, AJobThatDoesNotFitDoesNotBlockASmallerLaterJob) {
  Ledger ledger(8, 60000);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 6, 0, T0, T0).code, RetCode::success);
  // The large job was submitted first and waits (it needs 8, 2 are free).
  ASSERT_EQ(ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, T0 + 100).code, RetCode::job_resource_exception);
  // The small later job fits in the 2 free cores and is granted.
  LedgerAnswer small = ledger.Reserve("small/guest/9999", 2, 0, T0 + 2, T0 + 200);
  EXPECT_EQ(small.code, RetCode::success) << small.message;
  EXPECT_EQ(ledger.in_use(), 8);
  // Even a higher-priority large waiter does not block it while it does not fit.
  Ledger prio(8, 60000);
  ASSERT_EQ(prio.Reserve("running/guest/9999", 6, 0, T0, T0).code, RetCode::success);
  ASSERT_EQ(prio.Reserve("large/guest/9999", 8, 9, T0 + 1, T0 + 100).code, RetCode::job_resource_exception);
  EXPECT_EQ(prio.Reserve("small/guest/9999", 2, 0, T0 + 2, T0 + 200).code, RetCode::success);
}

TEST(LedgerTest, AfterStarvationMsTheCoresAreKeptForTheLargeWaiterUntilItFits) {
  const int64_t starvation = 1000;
  Ledger ledger(8, starvation);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 6, 0, T0, T0).code, RetCode::success);
  // The large job is first refused at T0 + 100 and keeps asking every 500 ms.
  ASSERT_EQ(ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, T0 + 100).code, RetCode::job_resource_exception);
  // Before the starvation time, smaller later jobs pass it.
  ASSERT_EQ(ledger.Reserve("small1/guest/9999", 2, 0, T0 + 2, T0 + 500).code, RetCode::success);
  ledger.Release("small1/guest/9999");
  ASSERT_EQ(ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, T0 + 600).code, RetCode::job_resource_exception);
  // One starvation time after its first refusal, what is free is kept for it.
  LedgerAnswer small2 = ledger.Reserve("small2/guest/9999", 2, 0, T0 + 3, T0 + 100 + starvation);
  EXPECT_EQ(small2.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(small2.message, "cores are kept for large/guest/9999")) << small2.message;
  EXPECT_EQ(ledger.in_use(), 6);
  // Still too few for the large job itself.
  LedgerAnswer large = ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, T0 + 1200);
  EXPECT_EQ(large.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(large.message, "8 cores needed, 2 of 8 free")) << large.message;
  // Smaller ones keep being refused while it waits...
  EXPECT_EQ(ledger.Reserve("small2/guest/9999", 2, 0, T0 + 3, T0 + 1500).code,
            RetCode::job_resource_exception);
  // ... until the running job ends and the large one fits.
  ledger.Release("running/guest/9999");
  EXPECT_EQ(ledger.Reserve("small2/guest/9999", 2, 0, T0 + 3, T0 + 1600).code,
            RetCode::job_resource_exception);
  large = ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, T0 + 1700);
  EXPECT_EQ(large.code, RetCode::success) << large.message;
  // Then the small one is refused only because nothing is free.
  LedgerAnswer after = ledger.Reserve("small2/guest/9999", 2, 0, T0 + 3, T0 + 1800);
  EXPECT_EQ(after.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(after.message, "2 cores needed, 0 of 8 free")) << after.message;
}

TEST(LedgerTest, StarvationIsCountedFromTheFirstRefusal) {
  const int64_t starvation = 1000;
  Ledger ledger(8, starvation);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 6, 0, T0, T0).code, RetCode::success);
  for (int64_t t = T0 + 100; t <= T0 + 900; t += 200)
    ASSERT_EQ(ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, t).code, RetCode::job_resource_exception);
  // Its last refusal was at T0 + 900, its first at T0 + 100: it starves at T0 + 1100.
  EXPECT_EQ(ledger.Reserve("a/guest/9999", 1, 0, T0 + 2, T0 + 1099).code, RetCode::success);
  EXPECT_EQ(ledger.Reserve("b/guest/9999", 1, 0, T0 + 2, T0 + 1100).code, RetCode::job_resource_exception);
}

TEST(LedgerTest, TheDefaultStarvationTimeIsAMinute) {
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 6, 0, T0, T0).code, RetCode::success);
  // The large waiter keeps asking (every 4 s) for 59 s: smaller later jobs pass it.
  int64_t t = T0 + 100;
  for (; t < T0 + 100 + 60000; t += 4000) {
    ASSERT_EQ(ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, t).code, RetCode::job_resource_exception);
    ASSERT_EQ(ledger.Reserve("small/guest/9999", 2, 0, T0 + 2, t + 1).code, RetCode::success)
        << "at +" << t - T0;
    ledger.Release("small/guest/9999");
  }
  ASSERT_EQ(ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, T0 + 100 + 60000).code,
            RetCode::job_resource_exception);
  EXPECT_EQ(ledger.Reserve("small/guest/9999", 2, 0, T0 + 2, T0 + 100 + 60000).code,
            RetCode::job_resource_exception);
}

TEST(LedgerTest, WaitersThatStopAskingForFiveSecondsAreForgotten) {
  Ledger ledger(8);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 8, 0, T0, T0).code, RetCode::success);
  ASSERT_EQ(ledger.Reserve("high/guest/9999", 8, 5, T0 + 1, T0 + 100).code, RetCode::job_resource_exception);
  ledger.Release("running/guest/9999");
  // 4 s after its last request the high-priority waiter is still remembered and goes first.
  LedgerAnswer low = ledger.Reserve("low/guest/9999", 8, 0, T0 + 2, T0 + 4100);
  EXPECT_EQ(low.code, RetCode::job_resource_exception);
  EXPECT_TRUE(contains(low.message, "high/guest/9999")) << low.message;
  EXPECT_EQ(ledger.waiting(), 2u);
  // More than 5 s after its last request it has gone (admitted elsewhere, stopped, failed).
  low = ledger.Reserve("low/guest/9999", 8, 0, T0 + 2, T0 + 5101);
  EXPECT_EQ(low.code, RetCode::success) << low.message;
  EXPECT_EQ(ledger.waiting(), 0u);
}

TEST(LedgerTest, AStarvingWaiterThatStopsAskingIsForgottenToo) {
  Ledger ledger(8, 1000);
  ASSERT_EQ(ledger.Reserve("running/guest/9999", 6, 0, T0, T0).code, RetCode::success);
  ASSERT_EQ(ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, T0 + 100).code, RetCode::job_resource_exception);
  ASSERT_EQ(ledger.Reserve("large/guest/9999", 8, 0, T0 + 1, T0 + 2000).code,
            RetCode::job_resource_exception);
  EXPECT_EQ(ledger.Reserve("small/guest/9999", 2, 0, T0 + 2, T0 + 2100).code,
            RetCode::job_resource_exception);  // kept for it
  EXPECT_EQ(ledger.Reserve("small/guest/9999", 2, 0, T0 + 2, T0 + 7001).code,
            RetCode::success);  // it has gone
}

// ==== the ledger as events ============================================================================

LedgerState replayed(const std::vector<LedgerEvent>& events) {
  LedgerState state;
  for (const auto& e : events) apply(state, e);
  return state;
}

// Decides `command` on `state`, applies and keeps its events.
LedgerDecision run(LedgerState& state, std::vector<LedgerEvent>& log, LedgerCommand command, int64_t now) {
  LedgerDecision d = decide(state, command, now);
  for (const auto& e : d.events) {
    apply(state, e);
    log.push_back(e);
  }
  return d;
}

TEST(LedgerEventsTest, AFirstRefusalQueuesTheWaiterOnceAndItsPlaceIsReplayed) {
  LedgerState state;
  std::vector<LedgerEvent> log;
  run(state, log, RegisterCapacity{"standalone", 8}, T0);
  ASSERT_EQ(run(state, log, ReserveCores{"running/guest/9999", 6, 0, 1, 1000, {}}, T0).code,
            RetCode::success);
  const size_t before = log.size();
  ASSERT_EQ(run(state, log, ReserveCores{"large/guest/9999", 8, 0, 2, 1000, {}}, T0 + 100).code,
            RetCode::job_resource_exception);
  ASSERT_EQ(log.size(), before + 1);
  EXPECT_TRUE(std::holds_alternative<ReservationQueued>(log.back().body));
  // Asking again the same is no new event: the first refusal's time stays.
  ASSERT_EQ(run(state, log, ReserveCores{"large/guest/9999", 8, 0, 2, 1000, {}}, T0 + 600).code,
            RetCode::job_resource_exception);
  EXPECT_EQ(log.size(), before + 1);

  LedgerState fresh = replayed(log);
  EXPECT_EQ(fresh.total, 8);
  EXPECT_EQ(fresh.in_use(), 6);
  ASSERT_EQ(fresh.waiting.size(), 1u);
  EXPECT_EQ(fresh.waiting.at("large/guest/9999").first_refused_ms, T0 + 100);
  // The replayed ledger keeps the cores for the starving waiter as the live one does.
  LedgerDecision live = decide(state, ReserveCores{"small/guest/9999", 2, 0, 3, 1000, {}}, T0 + 1100);
  LedgerDecision again = decide(fresh, ReserveCores{"small/guest/9999", 2, 0, 3, 1000, {}}, T0 + 1100);
  EXPECT_EQ(live.code, RetCode::job_resource_exception);
  EXPECT_EQ(again.code, live.code);
  EXPECT_EQ(again.message, live.message);
}

TEST(LedgerEventsTest, AGrantedWaiterRefusedElsewhereWaitsOnInItsPlace) {
  LedgerState state;
  std::vector<LedgerEvent> log;
  run(state, log, RegisterCapacity{"standalone", 8}, T0);
  run(state, log, ReserveCores{"running/guest/9999", 8, 0, 1, 1000, {}}, T0);
  run(state, log, ReserveCores{"large/guest/9999", 8, 0, 2, 1000, {}}, T0 + 100);
  run(state, log, ReleaseCores{"running/guest/9999", false}, T0 + 200);
  ASSERT_EQ(run(state, log, ReserveCores{"large/guest/9999", 8, 0, 2, 1000, {}}, T0 + 300).code,
            RetCode::success);
  EXPECT_TRUE(state.waiting.empty());
  run(state, log, ReleaseCores{"large/guest/9999", true}, T0 + 400);  // another party refused it
  LedgerState fresh = replayed(log);
  ASSERT_EQ(fresh.waiting.count("large/guest/9999"), 1u);
  EXPECT_EQ(fresh.waiting.at("large/guest/9999").first_refused_ms, T0 + 100);
  EXPECT_EQ(fresh.in_use(), 0);
}

TEST(LedgerEventsTest, GoneWaitersAreForgottenAsEventsAndNoLongerRankAhead) {
  LedgerState state;
  std::vector<LedgerEvent> log;
  run(state, log, RegisterCapacity{"standalone", 8}, T0);
  run(state, log, ReserveCores{"high/guest/9999", 8, 9, 1, 1000, {}}, T0);
  run(state, log, ReleaseCores{"high/guest/9999", false}, T0);
  run(state, log, ReserveCores{"running/guest/9999", 8, 0, 1, 1000, {}}, T0);
  run(state, log, ReserveCores{"high/guest/9999", 8, 9, 2, 1000, {}}, T0 + 100);
  run(state, log, ReleaseCores{"running/guest/9999", false}, T0 + 200);
  LedgerDecision d =
      run(state, log, ReserveCores{"low/guest/9999", 8, 0, 3, 1000, {"high/guest/9999"}}, T0 + 6000);
  EXPECT_EQ(d.code, RetCode::success) << d.message;
  ASSERT_GE(d.events.size(), 2u);
  EXPECT_EQ(std::get<WaiterForgotten>(d.events[0].body).holder, "high/guest/9999");
  EXPECT_TRUE(replayed(log).waiting.empty());
}

TEST(LedgerEventsTest, ReconcilingTakesTheJobsRecordsAsTheTruth) {
  LedgerState state;
  std::vector<LedgerEvent> log;
  run(state, log, RegisterCapacity{"standalone", 8}, T0);
  run(state, log, ReserveCores{"unrecorded/guest/9999", 4, 0, 1, 1000, {}}, T0);
  run(state, log, ReserveCores{"kept/guest/9999", 2, 0, 1, 1000, {}}, T0);
  LedgerDecision d =
      run(state, log, ReconcileHoldings{{{"kept/guest/9999", 2}, {"recorded/host/10000", 3}}}, T0 + 1);
  EXPECT_EQ(d.events.size(), 2u);
  EXPECT_EQ(state.held_by("unrecorded/guest/9999"), 0);
  EXPECT_EQ(state.held_by("recorded/host/10000"), 3);
  EXPECT_EQ(state.in_use(), 5);
  EXPECT_TRUE(run(state, log, ReconcileHoldings{{{"kept/guest/9999", 2}, {"recorded/host/10000", 3}}}, T0 + 2)
                  .events.empty());  // agreeing already: nothing to write
}

TEST(LedgerEventsTest, TheCapacityIsRegisteredOnlyWhenItChanged) {
  LedgerState state;
  std::vector<LedgerEvent> log;
  EXPECT_EQ(run(state, log, RegisterCapacity{"standalone", 8}, T0).events.size(), 1u);
  EXPECT_TRUE(run(state, log, RegisterCapacity{"standalone", 8}, T0 + 1).events.empty());
  EXPECT_EQ(run(state, log, RegisterCapacity{"standalone", 4}, T0 + 2).events.size(), 1u);
  EXPECT_EQ(state.total, 4);
}

}  // namespace
}  // namespace flowstone::domain
