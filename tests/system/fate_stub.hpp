// Stand-ins for FATE-Flow 2.2 sites, for the interop tests: the conversation recorded between two real
// FATE-Flow sites (/work/shared/reference/interop.md and interop-bodies-callback.jsonl: every request with
// its headers, body and reply), a stub site (a net::HttpServer on 127.0.0.1 inside the test) that records
// what it gets and answers as a FATE-Flow site would, and the Interop fixture: one stub plus one real
// `flowstone serve` whose route table (or nginx proxy) leads to the stub.
//
// The recording is read from $FLOWSTONE_INTEROP_JSONL, else tests/system/data/ in the source tree, else
// /work/shared/reference/. Each test uses a job id of its own (the recorded one with its last digits
// changed), so several test processes may run side by side.
#pragma once
#include <gtest/gtest.h>
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "net/http_server.hpp"
#include "net/json_io.hpp"
#include "tests/system/sites.hpp"

namespace flowstone::systest {

// ---- the recording --------------------------------------------------------------------------------------

struct Recorded {
  int seq = 0;
  std::string dest_party_id;
  std::string path;  // "/v2/partner/job/create"
  Json headers;
  Json request;
  Json response;
};

extern const char kRecordedJobId[];

// Every recorded request, in `seq` order (the file is in completion order).
std::vector<Recorded> load_recording(std::string* error);
std::string route_of(const std::string& path);
// The recorded job id replaced by `job_id` everywhere (job_id, task ids, model_id).
Json with_job_id(const Json& value, const std::string& job_id);
// A job id of this test process: the recorded one with its last digits changed.
std::string fresh_job_id(int test);
// Headers of a recorded request as FATE-Flow sent them (dest-party-id, service, initiator-party-id).
Headers fate_headers(const Recorded& r);
bool is_host_report(const Recorded& r);

// ---- the stub site --------------------------------------------------------------------------------------

struct Received {
  std::string method, path;
  std::map<std::string, std::string> headers;
  Json body;
};

// A site answering as a recorded FATE-Flow site: `answer` gives the reply to each request (on an I/O
// thread, so it must be quick); `later` queues work (calls back to the Flowstone server) on the stub's
// own thread, in order.
class StubSite {
 public:
  using Answer = std::function<Json(const Received&, StubSite&)>;

  explicit StubSite(Answer answer) : answer_(std::move(answer)) {
    worker_ = std::thread([this] { run(); });
    net::HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    server_ = std::make_unique<net::HttpServer>(
        options, [this](net::HttpRequest&& request, net::Responder respond) {
          Received r{request.method, request.path, request.headers, nullptr};
          std::string error;
          if (auto body = net::parse_json(request.body, &error)) r.body = *body;
          {
            std::lock_guard<std::mutex> lock(mutex_);
            received_.push_back(r);
          }
          net::HttpResponse response;
          response.body = answer_(r, *this).dump();
          respond(std::move(response));
        });
  }
  ~StubSite() {
    server_->Stop();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }

  std::string start() { return server_->Start(); }
  uint16_t port() const { return server_->port(); }

  std::vector<Received> received() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }
  void later(std::function<void()> work) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      work_.push_back(std::move(work));
    }
    wake_.notify_all();
  }
  // Any state the answers need (e.g. which reports were seen), under the stub's lock.
  template <class F>
  auto locked(F f) {
    std::lock_guard<std::mutex> lock(mutex_);
    return f();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> work;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || !work_.empty(); });
        if (work_.empty()) return;
        work = std::move(work_.front());
        work_.pop_front();
      }
      work();
    }
  }

  Answer answer_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Received> received_;
  std::deque<std::function<void()>> work_;
  bool stopping_ = false;
  std::thread worker_;
  std::unique_ptr<net::HttpServer> server_;
};

Json success();
// FATE-Flow's scheduler (guest 9999) as the host sees it: every report is taken, except a repeated
// (task, version, status), which gets 2002 as recorded.
StubSite::Answer fate_scheduler();
std::vector<Received> reports(const StubSite& stub);
// Statuses the stub got reported for a task, in arrival order.
std::vector<std::string> reported(const StubSite& stub, const std::string& task_id);
bool has_report(const StubSite& stub, const std::string& task_id, const std::string& status);
std::string header(const Received& r, const std::string& name);
std::string describe(const std::vector<Received>& requests);
// Live processes of the server's folder other than the server itself (launchers, workers).
std::vector<pid_t> task_processes(const PartyServer& server);
// What a FATE-Flow party sends its scheduler (at 127.0.0.1:`port`) about its run of the task a partner call
// `call` named: POST /v2/scheduler/task/report through the proxy headers; the answer's code (-1: none).
int post_fate_report(uint16_t port, const Json& call, const std::string& status);

// ---- fixture ----------------------------------------------------------------------------------------------

class Interop : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    recording = load_recording(&error);
    ASSERT_FALSE(recording.empty()) << error;  // the recording ships in tests/system/data/
    ASSERT_EQ(recording.size(), 49u) << "the callback recording has 49 requests";
  }

  // The stub site plus a Flowstone server for `party_id` whose route table sends `stub_party` to it, or
  // (`via_proxy`) that sends every partner call to the stub as its nginx proxy (federation.nginx, as in
  // interop.md's service_conf.yaml), the stub standing for the proxy and the site behind it.
  void start(const std::string& party_id, const std::string& stub_party, StubSite::Answer answer,
             bool via_proxy = false) {
    start(party_id, std::vector<std::string>{stub_party}, std::move(answer), via_proxy);
  }
  // The same with several parties behind the stub (each a FATE-Flow site it plays).
  void start(const std::string& party_id, const std::vector<std::string>& stub_parties,
             StubSite::Answer answer, bool via_proxy = false);

  void TearDown() override {
    server.reset();
    stub.reset();
  }

  // The recorded request to the host (dest 10000), sent to the Flowstone host as FATE-Flow sent it.
  Json replay(const Recorded& r, const Json& body) {
    return server->post(route_of(r.path), body, fate_headers(r));
  }

  std::vector<Recorded> to_host() const {
    std::vector<Recorded> out;
    for (const auto& r : recording)
      if (r.dest_party_id == "10000") out.push_back(r);
    return out;
  }

  std::vector<Recorded> recording;
  std::unique_ptr<StubSite> stub;
  std::unique_ptr<PartyServer> server;
};

}  // namespace flowstone::systest
