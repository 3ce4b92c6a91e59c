// Party actors on a clock the test moves: the calls to one remote party in order per lane, retried with
// backoff when the test advances the clock, given up at the end of their window, and the party's
// reachability as the site route shows it. Real HTTP on 127.0.0.1; no sleeps stand in for retry times.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <caf/all.hpp>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "actors/party/party_directory.hpp"
#include "tests/actors/actor_env.hpp"
#include "tests/net/loopback_server.hpp"

namespace flowstone::actors {
namespace {

using namespace std::chrono_literals;
using namespace flowstone::net::testing;
using testing::kT0;

class Parties {
 public:
  explicit Parties(net::PartyClientOptions options) : clock_(std::make_shared<ManualClock>(kT0)) {
    options.threads = 4;
    options.attempt_timeout = 5000ms;
    deps_.transport = std::make_shared<net::PartyClient>(options);
    deps_.clock = clock_;
    deps_.timers = clock_;
    deps_.board = std::make_shared<ReachabilityBoard>();
    deps_.log = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    directory_ = std::make_unique<PartyDirectory>(system_, deps_);
  }
  ~Parties() {
    directory_->StopAll();
    deps_.transport->Stop();
    system_.await_all_actors_done();
  }

  std::future<net::PartyAnswer> Send(net::PartyCall call) {
    auto promise = std::make_shared<std::promise<net::PartyAnswer>>();
    auto answer = promise->get_future();
    directory_->Send(std::move(call), [promise](net::PartyAnswer a) { promise->set_value(std::move(a)); });
    return answer;
  }
  void Send(net::PartyCall call, net::PartyAnswerCallback done) {
    directory_->Send(std::move(call), std::move(done));
  }

  // The board row of `party_id` once `until` holds for it (a failed expectation after 20 s).
  PartyReachability Row(const std::string& party_id, std::function<bool(const PartyReachability&)> until) {
    const auto give_up = std::chrono::steady_clock::now() + kEventually;
    for (;;) {
      for (const auto& row : directory_->Reachability())
        if (row.party_id == party_id && until(row)) return row;
      if (std::chrono::steady_clock::now() > give_up) {
        ADD_FAILURE() << "party " << party_id << " never reached the expected state";
        return {};
      }
      std::this_thread::sleep_for(1ms);
    }
  }
  // Moves the clock once the party's actor has armed its next retry.
  void AdvanceToNextRetry(int64_t ms) {
    const auto give_up = std::chrono::steady_clock::now() + kEventually;
    while (clock_->pending() == 0 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(1ms);
    ASSERT_EQ(clock_->pending(), 1u);
    clock_->Advance(ms);
  }
  ManualClock& clock() { return *clock_; }

 private:
  caf::actor_system_config config_;
  caf::actor_system system_{config_};
  std::shared_ptr<ManualClock> clock_;
  PartyActorDeps deps_;
  std::unique_ptr<PartyDirectory> directory_;
};

net::PartyCall call_to(std::string dest, std::string lane, Json body = Json::object(),
                       int64_t window_ms = 10000) {
  net::PartyCall call;
  call.lane = std::move(lane);
  call.dest_party_id = std::move(dest);
  call.endpoint = "partner/job/create";
  call.body = std::move(body);
  call.give_up_after = std::chrono::milliseconds(window_ms);
  return call;
}

net::PartyAnswer await(std::future<net::PartyAnswer>& answer) {
  if (answer.wait_for(kEventually) != std::future_status::ready) {
    ADD_FAILURE() << "no answer in time";
    return {};
  }
  return answer.get();
}

TEST(PartyActor, ListsTheRoutedPartiesBeforeAnyCall) {
  net::PartyClientOptions options;
  options.routes["10000"] = local(9381);
  Parties parties(options);
  PartyReachability row = parties.Row("10000", [](const auto&) { return true; });
  EXPECT_EQ(row.state, Reach::unknown);
  EXPECT_EQ(row.address, "127.0.0.1:9381");
  EXPECT_FALSE(row.via_proxy);
  EXPECT_EQ(reachability_json(row)["reachable"], false);
}

TEST(PartyActor, OneLaneDeliversInOrderOneAtATime) {
  std::atomic<int> in_flight{0};
  std::atomic<bool> overlapped{false};
  std::mutex mu;
  std::vector<int> arrived;
  // Four I/O threads: the server could run requests side by side if they were sent so.
  auto server = start_server(
      [&](net::HttpRequest&& request, net::Responder respond) {
        if (in_flight.fetch_add(1) != 0) overlapped = true;
        {
          std::lock_guard<std::mutex> lock(mu);
          arrived.push_back(parse(request.body)["i"].get<int>());
        }
        std::this_thread::sleep_for(1ms);  // test only: widens the window in which an overlap would show
        in_flight.fetch_sub(1);
        respond(reply(0, "success"));
      },
      0, 4);
  net::PartyClientOptions options;
  options.routes["10000"] = local(server->port());
  Parties parties(options);

  constexpr int kCalls = 50;
  std::vector<int> answered;
  std::promise<void> all_answered;
  for (int i = 0; i < kCalls; ++i) {
    parties.Send(call_to("10000", "job-1", {{"i", i}}), [&, i](net::PartyAnswer answer) {
      EXPECT_EQ(answer.code, RetCode::success);
      std::lock_guard<std::mutex> lock(mu);
      answered.push_back(i);
      if (answered.size() == kCalls) all_answered.set_value();
    });
  }
  ASSERT_EQ(all_answered.get_future().wait_for(kEventually), std::future_status::ready);
  std::vector<int> expected;
  for (int i = 0; i < kCalls; ++i) expected.push_back(i);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(arrived, expected);
  EXPECT_EQ(answered, expected);
  EXPECT_FALSE(overlapped.load());
}

TEST(PartyActor, LanesRunInParallelAndASlowLaneHoldsOnlyItself) {
  Recorder seen;
  HeldResponses held;
  auto server = start_server([&](net::HttpRequest&& request, net::Responder respond) {
    if (parse(request.body)["lane"] == "A") {
      held.Hold(std::move(respond));  // lane A's server is slow: answered when the test says so
      seen.Add(request);
    } else {
      seen.Add(request);
      respond(reply(0, "success"));
    }
  });
  net::PartyClientOptions options;
  options.routes["10000"] = local(server->port());
  Parties parties(options);

  auto a1 = parties.Send(call_to("10000", "A", {{"lane", "A"}, {"n", 1}}));
  auto a2 = parties.Send(call_to("10000", "A", {{"lane", "A"}, {"n", 2}}));
  ASSERT_TRUE(seen.WaitFor(1));
  auto b = parties.Send(call_to("10000", "B", {{"lane", "B"}}));
  EXPECT_EQ(await(b).code, RetCode::success);
  EXPECT_EQ(a1.wait_for(0ms), std::future_status::timeout);
  // a2 waits behind a1: the server has seen a1 and b only, and the party shows two calls waiting.
  ASSERT_EQ(seen.count(), 2u);
  EXPECT_EQ(parse(seen.requests()[0].body)["n"], 1);
  EXPECT_EQ(parties.Row("10000", [](const auto& r) { return r.calls_answered == 1; }).calls_waiting, 2u);

  held.ReleaseAll(reply(0, "success"));
  EXPECT_EQ(await(a1).code, RetCode::success);
  ASSERT_TRUE(seen.WaitFor(3));
  held.ReleaseAll(reply(0, "success"));
  EXPECT_EQ(await(a2).code, RetCode::success);
  EXPECT_EQ(parse(seen.requests()[2].body)["n"], 2);
}

TEST(PartyActor, RetriesOnTheClockUntilThePartyListensAndShowsItDownThenUp) {
  const uint16_t port = free_port();
  net::PartyClientOptions options;
  options.routes["10000"] = local(port);
  Parties parties(options);

  auto pending = parties.Send(call_to("10000", "job-1"));
  PartyReachability down = parties.Row("10000", [](const auto& r) { return r.failed_attempts == 1; });
  EXPECT_EQ(down.state, Reach::down);
  EXPECT_EQ(down.since_ms, kT0);
  EXPECT_NE(down.last_error.find("connection refused"), std::string::npos) << down.last_error;
  EXPECT_EQ(down.calls_waiting, 1u);
  EXPECT_EQ(pending.wait_for(50ms), std::future_status::timeout);  // nothing happens until the clock moves

  auto server =
      start_server([](net::HttpRequest&&, net::Responder respond) { respond(reply(0, "success")); }, port);
  parties.AdvanceToNextRetry(100);  // the first backoff
  net::PartyAnswer answer = await(pending);
  EXPECT_EQ(answer.code, RetCode::success);
  EXPECT_EQ(answer.attempts, 2);
  PartyReachability up = parties.Row("10000", [](const auto& r) { return r.state == Reach::up; });
  EXPECT_EQ(up.since_ms, kT0 + 100);
  EXPECT_EQ(up.last_answer_ms, kT0 + 100);
  EXPECT_EQ(up.calls_waiting, 0u);
  EXPECT_NE(up.last_error, "");  // kept: when it last failed, and why
}

TEST(PartyActor, GivesUpWithFederatedErrorAtTheEndOfTheWindow) {
  net::PartyClientOptions options;
  options.routes["10000"] = local(free_port());
  Parties parties(options);

  auto pending = parties.Send(call_to("10000", "job-1", Json::object(), 1000));
  // Backoff 100, 200, 400 ms, then the last retry at the end of the 1 s window rather than after it.
  for (int64_t step : {100, 200, 400, 300}) parties.AdvanceToNextRetry(step);
  net::PartyAnswer answer = await(pending);
  EXPECT_EQ(answer.code, RetCode::federated_error);
  EXPECT_EQ(answer.message.rfind("Federated schedule error, ", 0), 0u) << answer.message;
  EXPECT_NE(answer.message.find("connection refused"), std::string::npos) << answer.message;
  EXPECT_EQ(answer.attempts, 5);
  EXPECT_EQ(answer.reply["code"], 104);
  PartyReachability row = parties.Row("10000", [](const auto& r) { return r.calls_given_up == 1; });
  EXPECT_EQ(row.failed_attempts, 5u);
  EXPECT_EQ(row.calls_waiting, 0u);
  EXPECT_EQ(parties.clock().pending(), 0u);
}

TEST(PartyActor, APartyWithoutAnAddressIsAnsweredAtOnce) {
  Parties parties(net::PartyClientOptions{});
  auto pending = parties.Send(call_to("10000", "job-1"));
  net::PartyAnswer answer = await(pending);
  EXPECT_EQ(answer.code, RetCode::federated_error);
  EXPECT_NE(answer.message.find("no route to party 10000"), std::string::npos) << answer.message;
  EXPECT_EQ(answer.attempts, 0);
  EXPECT_EQ(parties.Row("10000", [](const auto& r) { return r.state == Reach::no_address; }).address, "");
}

TEST(PartyActor, ManyCallsOnManyLanes) {
  auto server =
      start_server([](net::HttpRequest&&, net::Responder respond) { respond(reply(0, "success")); }, 0, 2);
  net::PartyClientOptions options;
  options.routes["10000"] = local(server->port());
  Parties parties(options);

  constexpr int kLanes = 16;
  constexpr int kCalls = 4000;
  std::atomic<int> ok{0};
  std::atomic<int> done{0};
  std::promise<void> finished;
  for (int i = 0; i < kCalls; ++i) {
    parties.Send(call_to("10000", "lane-" + std::to_string(i % kLanes), {{"i", i}}),
                 [&](net::PartyAnswer answer) {
                   if (answer.code == RetCode::success && answer.attempts == 1) ++ok;
                   if (++done == kCalls) finished.set_value();
                 });
  }
  ASSERT_EQ(finished.get_future().wait_for(60s), std::future_status::ready);
  EXPECT_EQ(ok.load(), kCalls);
  EXPECT_EQ(parties.Row("10000", [](const auto& r) { return r.calls_answered == kCalls; }).calls_waiting, 0u);
}

}  // namespace
}  // namespace flowstone::actors
