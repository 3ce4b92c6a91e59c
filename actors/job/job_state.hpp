// Inside the job actor (job_actor.cpp hosts the aggregate, effects.cpp carries out what it decides): the
// actor's state. Not for use outside actors/job/.
#pragma once
#include <memory>
#include <set>
#include <string>

#include "actors/environment.hpp"
#include "actors/job/aggregate.hpp"
#include "actors/job/supervisor.hpp"
#include "actors/messages.hpp"
#include "actors/persistence/event_sourced.hpp"

namespace flowstone::actors {

struct JobActorState;
using JobSelf = job_actor::stateful_pointer<JobActorState>;

// The host's owner: reads and appends for it, and carries out what it persisted.
class JobOwner : public EventSourced<JobAggregate>::Owner {
 public:
  explicit JobOwner(JobSelf self) : self_(self) {}
  int64_t now_ms() override;
  void read_stream(const std::string& stream) override;
  void append(store::AppendRequest request, uint64_t ticket) override;
  void recovered() override;
  void persisted(const domain::Decision& decision) override;
  void damaged(const std::string& why) override;

 private:
  JobSelf self_;
};

struct JobActorState {
  std::shared_ptr<Environment> env;
  std::string job_id;
  std::unique_ptr<JobOwner> owner;
  std::unique_ptr<EventSourced<JobAggregate>> host;
  std::unique_ptr<Supervisor> supervisor;  // at the scheduler of a job with remote parties
  bool supervise_armed = false;
  int64_t deadline_armed = 0;        // the detectors' next look (ms since the epoch); 0: none armed
  bool end_delivery_armed = false;   // a repeat of the end calls a party has not answered is due
  int end_deliveries = 0;            // repeats so far (each waits twice as long, up to a minute)
  std::set<std::string> collecting;  // collects in flight, by task and party
  static inline const char* name = "flowstone.job";

  const domain::JobState& job() const { return host->state(); }
};

// effects.cpp: what a persisted decision asks for. `key_prefix` names the decision, so a call repeated
// after a restart carries the same idempotency key ("" for none).
void carry_out(JobSelf self, const std::vector<domain::Effect>& effects, const std::string& key_prefix);
void send_remote_call(JobSelf self, const domain::RemoteCall& call, std::string idempotency_key);
std::string collect_key(const domain::CollectRemoteTask& call);

}  // namespace flowstone::actors
