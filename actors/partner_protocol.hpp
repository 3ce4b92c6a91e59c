// The partner protocol: FATE-Flow's wire form of the calls a job makes to other parties (spec 1.5, 1.7, 1.8;
// interop.md). The domain decides typed calls (events/job/effects.hpp); this file alone knows their routes
// and bodies, and reads the answers back into typed commands for the job. Pure functions; thread-safe.
#pragma once
#include <optional>
#include <string>

#include "events/job/job.hpp"
#include "net/party_client.hpp"

namespace flowstone::actors {

struct PartnerRequest {
  std::string endpoint;            // under /v2/, e.g. "partner/task/start"
  Json body;                       // with the destination's role and party_id (the reporter's, for a report)
  std::string initiator_party_id;  // header initiator-party-id: set on partner/job/create only
  bool answer_matters = false;     // its answer becomes a command for the job (answer_of)
  bool collect = false;            // partner/task/collect: a status question, on a lane of its own
};

PartnerRequest request_of(const domain::JobState& job, const domain::RemoteCall& call);

// The command an answer to `call` stands for; nullopt when the job does not need it (a call whose answer does
// not matter, or a collect that brought no status).
std::optional<domain::JobCommand> answer_of(const domain::RemoteCall& call, const net::PartyAnswer& answer);

}  // namespace flowstone::actors
