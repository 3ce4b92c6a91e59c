// The metric families of one party server (the README lists them), the observers that the layers below the
// actors (event log, HTTP edge, party transport) report to, and the collectors that read the boards the
// actors publish (jobs, reachability) at each scrape.
//
// Thread rules: the observers run on the threads of the layer that calls them and only record.
#pragma once
#include <functional>
#include <memory>

#include "actors/metrics/metrics.hpp"
#include "net/api.hpp"
#include "net/party_client.hpp"
#include "store/event_log.hpp"

namespace flowstone::actors {

struct Environment;

void declare_server_metrics(Metrics& metrics);

std::function<void(const store::CommitStats&)> commit_observer(std::shared_ptr<Metrics> metrics);
net::ApiObserver api_observer(std::shared_ptr<Metrics> metrics);
std::function<void(const net::PartyCall&, const net::PartyAttempt&, double)> partner_observer(
    std::shared_ptr<Metrics> metrics);

// An actor's mailbox as the message it is handling sees it: the messages queued behind it. CAF 0.17 lets
// only the actor itself count its mailbox, so the busiest actors report this from their handlers.
template <class Self>
void observe_mailbox(Metrics& metrics, const char* actor, Self* self) {
  metrics.Set("flowstone_actor_mailbox_depth", {{"actor", actor}},
              static_cast<double>(self->mailbox().size()));
}

// Jobs by status, party reachability, cores: read from `env` at each scrape (nothing once it is gone).
void collect_server_state(Metrics& metrics, std::weak_ptr<const Environment> env);

}  // namespace flowstone::actors
