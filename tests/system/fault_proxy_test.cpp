// Parties that talk through a faulty network: `flowstone proxy` between a guest and a host drops a share of
// the calls before they arrive, drops a share of the answers after the upstream handled the call, delivers a
// share twice and holds a share back (which reorders them). Jobs still end the same at both parties, and no
// event is recorded twice (every repeated delivery is recognised by its idempotency key or by its meaning). A
// party cut off for a while gets its calls again once it is back.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "tests/system/sites.hpp"

namespace flowstone::systest {
namespace {

using namespace std::chrono_literals;

class FaultProxy : public SitesTest {
 protected:
  // Starts the proxy with `faults` (flowstone proxy's options) and both parties routed through it.
  void StartThroughProxy(const std::vector<std::string>& faults) {
    guest_ = &add(kGuest);
    host_ = &add(kHost);
    proxy_port_ = free_tcp_port();
    ASSERT_NE(proxy_port_, 0);
    std::vector<std::string> argv = {std::string(FLOWSTONE_BIN_DIR) + "/flowstone",
                                     "proxy",
                                     "--port",
                                     std::to_string(proxy_port_),
                                     "--threads",
                                     "8"};
    argv.insert(argv.end(), faults.begin(), faults.end());
    // Routes are known only once the servers have ports: they are started first, the proxy after.
    for (auto* s : {guest_, host_}) {
      s->options().flowstone_yaml = federation_yaml(/*create_timeout_ms=*/20000, /*call_timeout_ms=*/30000);
      s->options().extra_yaml =
          "federation: {nginx: {host: 127.0.0.1, http_port: " + std::to_string(proxy_port_) + "}}";
    }
    ASSERT_NO_FATAL_FAILURE(start_all());
    argv.insert(argv.end(), {"--route", kGuest + "=127.0.0.1:" + std::to_string(guest_->port()), "--route",
                             kHost + "=127.0.0.1:" + std::to_string(host_->port())});
    proxy_out_ = guest_->dir() + "/proxy.out";
    ASSERT_EQ(proxy_.start(argv, proxy_out_), "");
    ASSERT_TRUE(poll_until([&] { return Control("GET", "/_proxy/stats").value("code", -1) == 0; }, 20s))
        << read_text(proxy_out_);
  }
  void TearDown() override {
    proxy_.kill9();
    SitesTest::TearDown();
  }
  Json Control(const std::string& method, const std::string& target) {
    net::HttpCall c;
    c.method = method;
    c.port = proxy_port_;
    c.target = target;
    c.timeout = 2000ms;
    return json_of(net::http_call(c));
  }
  Json TwoTaskJob() {
    return make_dag(Json{{"a_0", noop_task(Json::object())}, {"b_0", consumer_task("a_0")}},
                    Json{{"scheduler_party_id", kGuest}}, guest_and_host());
  }
  // Every event of the job at a party is there once: no two with the same kind and description.
  ::testing::AssertionResult NoEventTwice(PartyServer& server, const std::string& job_id) {
    Json history = server.get("job/history/query", {{"job_id", job_id}});
    if (code_of(history) != 0) return ::testing::AssertionFailure() << history.dump();
    std::set<std::string> seen;
    for (const Json& e : history["data"]) {
      const std::string key = e.value("kind", "") + " | " + e.value("what", "");
      if (!seen.insert(key).second)
        return ::testing::AssertionFailure() << "recorded twice at " << server.party_id() << ": " << key;
    }
    return ::testing::AssertionSuccess();
  }

  PartyServer* guest_ = nullptr;
  PartyServer* host_ = nullptr;
  uint16_t proxy_port_ = 0;
  std::string proxy_out_;
  ChildProcess proxy_;
};

TEST_F(FaultProxy, JobsAgreeAndNoEventIsRecordedTwiceWhenATenthOfCallsMisbehave) {
  ASSERT_NO_FATAL_FAILURE(
      StartThroughProxy({"--drop-requests", "0.1", "--drop-answers", "0.1", "--duplicates", "0.1", "--delays",
                         "0.1", "--max-delay-ms", "100", "--seed", "7"}));
  std::vector<std::string> jobs;
  for (int i = 0; i < 4; ++i) {
    jobs.push_back(submit_ok(*guest_, TwoTaskJob()));
    ASSERT_FALSE(jobs.back().empty());
  }
  for (const std::string& job_id : jobs) {
    const std::string at_guest = wait_end(*guest_, job_id, "guest", 120s).value("status", "");
    const std::string at_host = wait_end(*host_, job_id, "host", 120s).value("status", "");
    EXPECT_EQ(at_guest, "success") << job_id << diagnostics(job_id);
    EXPECT_EQ(at_host, at_guest) << job_id;
    EXPECT_TRUE(NoEventTwice(*guest_, job_id));
    EXPECT_TRUE(NoEventTwice(*host_, job_id));
  }
  // The faults did happen.
  Json stats = Control("GET", "/_proxy/stats")["data"];
  EXPECT_GT(stats.value("dropped_requests", 0), 0) << stats.dump();
  EXPECT_GT(stats.value("dropped_answers", 0), 0) << stats.dump();
  EXPECT_GT(stats.value("duplicated", 0), 0) << stats.dump();
  for (auto* s : {guest_, host_}) EXPECT_TRUE(no_task_process_left(*s));
}

TEST_F(FaultProxy, ACutOffPartyGetsItsCallsOnceItIsBack) {
  ASSERT_NO_FATAL_FAILURE(StartThroughProxy({}));
  Json cut = Control("POST", "/_proxy/cut?party=" + kHost + "&ms=3000");
  ASSERT_EQ(code_of(cut), 0) << cut.dump();
  const std::string job_id = submit_ok(*guest_, TwoTaskJob());
  ASSERT_FALSE(job_id.empty());
  EXPECT_EQ(wait_end(*guest_, job_id, "guest", 60s).value("status", ""), "success") << diagnostics(job_id);
  EXPECT_EQ(wait_end(*host_, job_id, "host", 60s).value("status", ""), "success");
  EXPECT_GT(Control("GET", "/_proxy/stats")["data"].value("cut", 0), 0);
  EXPECT_TRUE(NoEventTwice(*host_, job_id));
  // Bad control requests say what is wrong.
  EXPECT_TRUE(contains(Control("POST", "/_proxy/cut?party=" + kHost).dump(), "ms=N"));
  EXPECT_TRUE(contains(Control("POST", "/_proxy/cut?ms=5").dump(), "party=ID"));
}

}  // namespace
}  // namespace flowstone::systest
