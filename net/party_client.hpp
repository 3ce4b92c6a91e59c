// PartyClient: the transport of the calls one party server makes to the servers of other parties
// (FATE-Flow's federated calls). One attempt is one POST to /v2/<endpoint> at the destination's address:
// its direct route, else the nginx-style proxy (which routes by the dest-party-id header), with the same
// headers either way. The transport does not order, retry or give up: the Party actor of each remote party
// (actors/party/) owns that, with the party's reachability.
//
// Thread rules: Attempt, Resolve and Pending may be called from any thread. Attempts run on the client's
// worker threads, in submission order when one is free; `done` runs on a worker thread and must be quick
// (post to an actor); it must not call Stop. Stop joins the workers: attempts not made by then are dropped
// without an answer, and Attempt drops calls from then on.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/common/json.hpp"
#include "events/common/ret_code.hpp"

namespace flowstone::net {

class TlsContext;

struct PartyAddress {
  std::string host;
  uint16_t port = 0;
  bool tls = false;  // HTTPS ("https://host:port" in the route table), with PartyClientOptions::tls
};

struct PartyCall;
struct PartyAttempt;

struct PartyClientOptions {
  std::map<std::string, PartyAddress> routes;  // party_id -> direct address of its server (route table)
  std::optional<PartyAddress> proxy;  // every party without a route goes here, with header dest-party-id
  PartyAddress self;                  // this server: party "0" always goes here directly
  int threads = 4;
  std::chrono::milliseconds attempt_timeout{10000};
  // Adds the signature headers of site authentication to a call (spec 1.4); none when site auth is off.
  // Runs on the transport's threads for every attempt, so each attempt has a fresh nonce and timestamp.
  std::function<void(const PartyCall& call, std::map<std::string, std::string>* headers)> sign;
  // How calls to a TLS address verify the party (its CA) and prove this one (a client certificate).
  std::shared_ptr<const TlsContext> tls;
  // Told of every attempt made (metrics): the call, what it gave, its seconds. On a transport thread.
  std::function<void(const PartyCall& call, const PartyAttempt& attempt, double seconds)> observe;
};

struct PartyCall {
  std::string lane;  // the Party actor delivers the calls of one lane one at a time, in submission order
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

// What one attempt gave: the party's answer, or why there was none (worth another try).
struct PartyAttempt {
  std::optional<PartyAnswer> answer;
  std::string error;  // "POST host:port/v2/endpoint (party id): why"
};
using PartyAttemptCallback = std::function<void(PartyAttempt)>;

// The answer of a call that got none in time: FEDERATED_ERROR with why.
PartyAnswer federated_error(const std::string& why, int attempts);

class PartyClient {
 public:
  explicit PartyClient(PartyClientOptions options);
  ~PartyClient();  // Stop()
  PartyClient(const PartyClient&) = delete;
  PartyClient& operator=(const PartyClient&) = delete;

  // One request; never blocks on the network. `done` is called exactly once unless Stop comes first.
  void Attempt(std::shared_ptr<const PartyCall> call, PartyAttemptCallback done);
  void Stop();

  // Party "0": self; else its route, else the proxy, else nullopt.
  std::optional<PartyAddress> Resolve(const std::string& dest_party_id) const;
  bool HasRoute(const std::string& dest_party_id) const;  // a direct route (else the proxy, if any)
  std::vector<std::string> RoutedParties() const;         // the parties of the route table

  size_t Pending() const;  // attempts queued or in flight

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowstone::net
