// PartyClient: how one party server calls the servers of other parties (FATE-Flow's federated calls).
// A call is POSTed to /v2/<endpoint> at the destination's address: its direct route, else the
// nginx-style proxy (which routes by the dest-party-id header), with the same headers either way. Calls
// that get no usable reply are retried with backoff until their window closes; the answer is then
// FATE-Flow's FEDERATED_ERROR (code 104).
//
// Lanes: the calls of one lane are sent one at a time in submission order; the next one waits until the
// previous one is answered, retries included. The lane "" is a lane like any other. Different lanes run
// in parallel on the worker threads. A call waiting for its retry time holds no thread. A call to a
// party without any address is answered at once, outside its lane (it sends nothing).
//
// Thread rules: Send, Resolve and Pending may be called from any thread. `done` runs on a worker thread
// and must be quick (post to an actor); it must not call Stop. Stop joins the workers: calls not
// answered by then are dropped without an answer, and Send drops calls from then on.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "events/common/json.hpp"
#include "events/common/ret_code.hpp"

namespace flowstone::net {

struct PartyAddress {
  std::string host;
  uint16_t port = 0;
};

struct PartyClientOptions {
  std::map<std::string, PartyAddress> routes;  // party_id -> direct address of its server (route table)
  std::optional<PartyAddress> proxy;  // every party without a route goes here, with header dest-party-id
  PartyAddress self;                  // this server: party "0" always goes here directly
  int threads = 4;
  std::chrono::milliseconds attempt_timeout{10000};
  std::chrono::milliseconds backoff_initial{100};
  std::chrono::milliseconds backoff_max{3000};
};

struct PartyCall {
  std::string lane;  // calls on one lane are delivered one at a time, in submission order
  std::string dest_party_id;
  std::string endpoint;  // under /v2/, e.g. "partner/job/create"
  Json body = Json::object();
  std::string initiator_party_id;  // header initiator-party-id (sent even when empty, as FATE-Flow does)
  std::string idempotency_key;     // header x-flowstone-idempotency-key, only when non-empty
  std::chrono::milliseconds give_up_after{60000};  // retry window measured from the first attempt
};

// FATE-Flow's FEDERATED_ERROR: the party could not be reached in time, or has no address.
constexpr RetCode kFederatedError = RetCode::federated_error;

struct PartyAnswer {
  RetCode code = RetCode::success;  // the reply's code (any integer the party sent); federated_error when
                                    // the party could not be reached in time
  std::string message;
  Json data = nullptr;
  Json reply = Json::object();  // the whole reply object (e.g. top-level job_id of scheduler/job/create)
  int attempts = 0;             // requests sent (0 when the party has no address)
};

using PartyAnswerCallback = std::function<void(PartyAnswer)>;

class PartyClient {
 public:
  explicit PartyClient(PartyClientOptions options);
  ~PartyClient();  // Stop()
  PartyClient(const PartyClient&) = delete;
  PartyClient& operator=(const PartyClient&) = delete;

  // Never blocks on the network; `done` is called exactly once unless Stop comes first.
  void Send(PartyCall call, PartyAnswerCallback done);
  void Stop();

  // Party "0": self; else its route, else the proxy, else nullopt.
  std::optional<PartyAddress> Resolve(const std::string& dest_party_id) const;

  size_t Pending() const;  // calls queued, waiting for a retry or in flight

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowstone::net
