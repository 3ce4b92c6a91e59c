#include "actors/metrics/server_metrics.hpp"

#include <string>

#include "actors/environment.hpp"

namespace flowstone::actors {

void declare_server_metrics(Metrics& m) {
  m.Declare("flowstone_http_requests_total", MetricType::counter,
            "API requests answered, by route (path under /v2/) and the answer's code");
  m.Declare("flowstone_http_request_duration_seconds", MetricType::histogram,
            "Time from a request's arrival to its answer, by route", latency_buckets());
  m.Declare("flowstone_events_appended_total", MetricType::counter, "Events written to the event log");
  m.Declare("flowstone_event_commits_total", MetricType::counter,
            "Group commits of the event log, by result (ok, failed)");
  m.Declare("flowstone_event_commit_duration_seconds", MetricType::histogram,
            "Time a group commit's write took, its fsync included", latency_buckets());
  m.Declare("flowstone_event_append_duration_seconds", MetricType::histogram,
            "Time from an append's request to its events being durable (its wait for the writer included)",
            latency_buckets());
  m.Declare("flowstone_event_commit_appends", MetricType::histogram,
            "Append requests one group commit wrote together", {1, 2, 4, 8, 16, 32, 64, 128, 256});
  m.Declare("flowstone_partner_calls_total", MetricType::counter,
            "Attempts of calls to other parties, by endpoint and the answer's code (unreachable: none came)");
  m.Declare("flowstone_partner_call_duration_seconds", MetricType::histogram,
            "Time of one attempt of a call to another party, by endpoint", latency_buckets());
  m.Declare("flowstone_party_reachable", MetricType::gauge,
            "Whether a partner answered its last call (1), failed to (0), or is not known yet (-1)");
  m.Declare("flowstone_jobs", MetricType::gauge,
            "Unfinished jobs this site schedules, by their federated status (waiting: the queue)");
  m.Declare("flowstone_jobs_ended_total", MetricType::counter,
            "Jobs this site schedules that ended since it started, by their final status");
  m.Declare("flowstone_task_runs_ended_total", MetricType::counter,
            "Task runs this party hosts that ended since it started, by their status here");
  m.Declare("flowstone_actor_mailbox_depth", MetricType::gauge,
            "Messages waiting in an actor's mailbox behind the one it last handled (registry, queries, "
            "resources; job: the deepest job actor's)");
  m.Declare("flowstone_job_actors", MetricType::gauge,
            "Job actors alive (unfinished jobs, and ended ones used within flowstone.job_actor_idle_ms)");
  m.Declare("flowstone_task_runs", MetricType::gauge,
            "Task runs this party hosts for unfinished jobs, by their status here (party_status)");
  m.Declare("flowstone_cores", MetricType::gauge, "This party's cores (computing.standalone.cores)");
  m.Declare("flowstone_admission_wait_seconds", MetricType::histogram,
            "Time from a job's creation to its resources granted at every party (its wait in the queue)",
            {0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600});
  m.Declare("flowstone_cores_in_use", MetricType::gauge, "Cores of this party held by jobs (its ledger)");
  m.Declare("flowstone_resource_queue_length", MetricType::gauge,
            "Jobs waiting for cores at this party (its ledger's queue, whoever schedules them)");
  m.Declare("flowstone_replay_duration_seconds", MetricType::gauge,
            "How long the jobs brought back at start took to replay, from the server's start to the last");
  m.Declare("flowstone_start_duration_seconds", MetricType::gauge,
            "How long the last start took, from opening the event log to serving (the replay included)");
}

std::function<void(const store::CommitStats&)> commit_observer(std::shared_ptr<Metrics> metrics) {
  return [metrics](const store::CommitStats& commit) {
    metrics->Add("flowstone_event_commits_total", {{"result", commit.ok ? "ok" : "failed"}});
    if (!commit.ok) return;
    metrics->Add("flowstone_events_appended_total", {}, static_cast<double>(commit.events));
    metrics->Observe("flowstone_event_commit_duration_seconds", {}, commit.write_time.count() / 1e6);
    metrics->Observe("flowstone_event_commit_appends", {}, static_cast<double>(commit.appends));
    for (auto latency : commit.append_latencies)
      metrics->Observe("flowstone_event_append_duration_seconds", {}, latency.count() / 1e6);
  };
}

net::ApiObserver api_observer(std::shared_ptr<Metrics> metrics) {
  return [metrics](const char* route, int code, double seconds) {
    metrics->Add("flowstone_http_requests_total", {{"route", route}, {"code", std::to_string(code)}});
    metrics->Observe("flowstone_http_request_duration_seconds", {{"route", route}}, seconds);
  };
}

std::function<void(const net::PartyCall&, const net::PartyAttempt&, double)> partner_observer(
    std::shared_ptr<Metrics> metrics) {
  return [metrics](const net::PartyCall& call, const net::PartyAttempt& attempt, double seconds) {
    const std::string code = attempt.answer ? std::to_string(to_int(attempt.answer->code)) : "unreachable";
    metrics->Add("flowstone_partner_calls_total", {{"endpoint", call.endpoint}, {"code", code}});
    metrics->Observe("flowstone_partner_call_duration_seconds", {{"endpoint", call.endpoint}}, seconds);
  };
}

void collect_server_state(Metrics& metrics, std::weak_ptr<const Environment> weak_env) {
  metrics.AddCollector([weak_env](Metrics& m) {
    auto env = weak_env.lock();
    if (!env) return;
    for (domain::Status status : {domain::Status::waiting, domain::Status::ready, domain::Status::running})
      m.Set("flowstone_jobs", {{"status", std::string(domain::to_string(status))}},
            static_cast<double>(env->job_board->Count(status)));
    for (domain::Status status :
         {domain::Status::waiting, domain::Status::running, domain::Status::success, domain::Status::failed,
          domain::Status::canceled, domain::Status::timeout, domain::Status::pass})
      m.Set("flowstone_task_runs", {{"status", std::string(domain::to_string(status))}},
            static_cast<double>(env->job_board->CountRuns(status)));
    m.Set("flowstone_actor_mailbox_depth", {{"actor", "job"}},
          static_cast<double>(env->job_board->DeepestMailbox()));
    m.Set("flowstone_cores", {}, env->config.computing_cores);
    m.Set("flowstone_cores_in_use", {}, env->ledger_figures->cores_in_use.load());
    m.Set("flowstone_resource_queue_length", {}, env->ledger_figures->waiting.load());
    if (!env->parties) return;
    m.Clear("flowstone_party_reachable");
    for (const PartyReachability& row : env->parties->Reachability()) {
      if (row.party_id == "0" || row.party_id == env->config.party_id) continue;
      const double value = row.state == Reach::up ? 1 : row.state == Reach::unknown ? -1 : 0;
      m.Set("flowstone_party_reachable", {{"party_id", row.party_id}}, value);
    }
  });
}

}  // namespace flowstone::actors
