#include "actors/server.hpp"

#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <atomic>
#include <caf/all.hpp>
#include <filesystem>
#include <random>

#include "actors/access/access_actor.hpp"
#include "actors/api_routes.hpp"
#include "actors/catalog/catalog_actor.hpp"
#include "actors/environment.hpp"
#include "actors/feed/event_feed.hpp"
#include "actors/launcher_actor.hpp"
#include "actors/metrics/server_metrics.hpp"
#include "actors/queries.hpp"
#include "actors/registry/registry.hpp"
#include "actors/resources/resource_manager.hpp"
#include "net/api.hpp"
#include "net/http_server.hpp"
#include "net/signature.hpp"
#include "net/static_site.hpp"
#include "net/stop_signals.hpp"
#include "net/tls.hpp"
#include "store/projections.hpp"

namespace flowstone::actors {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<spdlog::logger> make_server_log(const ServerConfig& config) {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.log_dir + "/flowstone.log");
  auto logger = std::make_shared<spdlog::logger>("flowstone", spdlog::sinks_init_list{console, file});
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return logger;
}

// Site authentication of this server's own calls (spec 1.4): each is signed with the partner app of its
// destination (party "0" is this site), with a fresh nonce and timestamp per attempt.
std::function<void(const net::PartyCall&, std::map<std::string, std::string>*)> site_signer(
    const ServerConfig& config, std::shared_ptr<AccessBoard> board, std::shared_ptr<const Clock> clock) {
  if (!config.auth.site) return nullptr;
  return [board, clock, self_party = config.party_id, hmac = config.auth.signature_method == "hmac-sha256"](
             const net::PartyCall& call, std::map<std::string, std::string>* headers) {
    auto state = board->Snapshot();
    auto app = state->partner_apps.find(call.dest_party_id == "0" ? self_party : call.dest_party_id);
    if (app == state->partner_apps.end()) return;  // unsigned: the partner answers that appId is missing
    thread_local std::mt19937 random{std::random_device{}()};
    const std::string nonce = std::to_string(1000 + random() % 9000);
    const std::string timestamp = std::to_string(clock->now_ms());
    const auto& [party, partner] = *app;
    (*headers)["appId"] = partner.app_id;
    (*headers)["Nonce"] = nonce;
    (*headers)["Timestamp"] = timestamp;
    (*headers)["initiatorPartyId"] = call.initiator_party_id;
    (*headers)["Signature"] = hmac ? net::hmac_sha256_signature(partner.app_id, call.initiator_party_id,
                                                                nonce, timestamp, partner.app_token)
                                   : net::fate_signature(partner.app_id, call.initiator_party_id, nonce,
                                                         timestamp, partner.app_token);
    if (hmac) (*headers)["Signature-Method"] = "hmac-sha256";
  };
}

// The dashboard's built files, or null (with a warning) when they were not built.
std::shared_ptr<const net::StaticSite> load_dashboard(const ServerConfig& config, spdlog::logger& log) {
  std::string error;
  std::shared_ptr<const net::StaticSite> site = net::StaticSite::Load(config.web_dir, &error);
  if (site) {
    log.info("dashboard: {} files from {}", site->files(), config.web_dir);
  } else {
    log.warn("dashboard not served: {} (build it with `cmake --build build --target dashboard`)", error);
  }
  return site;
}

// A dashboard file, or the page that says it was not built; nullopt for paths that are the API's.
std::optional<net::HttpResponse> dashboard_page(const net::StaticSite* site,
                                                const net::HttpRequest& request) {
  if (site) return site->Serve(request);
  if (request.path != "/" || (request.method != "GET" && request.method != "HEAD")) return std::nullopt;
  net::HttpResponse page;
  page.content_type = "text/html; charset=utf-8";
  page.body =
      "<!doctype html><title>Flowstone</title><h1>Flowstone</h1><p>The dashboard was not built, so this "
      "server "
      "answers the API only (under /v2/). Build it with <code>cmake --build build --target dashboard</code> "
      "(needs Node.js and npm), or set <code>flowstone.web_dir</code>.</p>";
  return page;
}

}  // namespace

int run_server(const ServerConfig& config) {
  net::StopSignals stop_signals;  // before any thread exists

  std::error_code ec;
  for (const auto& dir : {config.data_dir, config.log_dir, config.job_dir(), config.db_dir()})
    fs::create_directories(dir, ec);
  auto server_log = make_server_log(config);
  const auto starting = std::chrono::steady_clock::now();
  auto metrics = std::make_shared<Metrics>();
  declare_server_metrics(*metrics);

  std::unique_ptr<store::EventLog> log;
  store::Options options;
  options.view_families = store::log_families();
  auto feed = std::make_shared<EventFeed>();
  options.on_commit = [observe = commit_observer(metrics), feed](const store::CommitStats& stats) {
    observe(stats);
    feed->Notify();
  };
  if (auto s = store::EventLog::Open(config.db_dir(), options, &log); !s.ok()) {
    server_log->critical("cannot open the event log at {}: {}", config.db_dir(), s.ToString());
    return 1;
  }

  // The HTTP edge starts before the actors (the launcher must know the bound port); until they exist,
  // requests are answered "starting".
  auto targets = std::make_shared<RouteTargets>();
  targets->worker_networks = config.worker_networks;
  targets->clock = system_clock();
  if (config.client_rate_per_s > 0)
    targets->client_rate = std::make_unique<net::RateLimiter>(config.client_rate_per_s,
                                                              config.client_rate_per_s * config.rate_burst);
  if (config.site_rate_per_s > 0)
    targets->site_rate = std::make_unique<net::RateLimiter>(config.site_rate_per_s,
                                                            config.site_rate_per_s * config.rate_burst);
  std::shared_ptr<net::TlsContext> tls_server, tls_client;
  if (config.tls.enabled()) {
    std::string error;
    tls_server = net::TlsContext::Server(config.tls.files, config.tls.verify_clients, &error);
    if (tls_server) tls_client = net::TlsContext::Client(config.tls.files, &error);
    if (!tls_server || !tls_client) {
      server_log->critical("flowstone.tls: {}", error);
      return 1;
    }
    targets->tls = true;
    targets->client_certificates = config.tls.verify_clients;
  }
  net::HttpServerOptions http_options;
  http_options.tls = tls_server;
  http_options.host = config.host;
  http_options.port = config.http_port;
  http_options.threads = config.http_threads;
  http_options.body_limit = config.body_limit;
  http_options.header_timeout = std::chrono::seconds(config.header_timeout_s);
  http_options.io_timeout = std::chrono::seconds(config.read_timeout_s);
  targets->feed = feed;
  std::shared_ptr<const net::StaticSite> dashboard = load_dashboard(config, *server_log);
  // GET /metrics (Prometheus) and the dashboard's files beside the API under /v2/.
  net::Handler api = net::make_api_handler(bind_api_routes(targets), api_observer(metrics));
  net::HttpServer http(http_options,
                       [api, metrics, dashboard](net::HttpRequest&& request, net::Responder respond) {
                         if (request.path == "/metrics" && request.method == "GET") {
                           net::HttpResponse scrape;
                           scrape.content_type = "text/plain; version=0.0.4; charset=utf-8";
                           scrape.body = metrics->Render();
                           return respond(std::move(scrape));
                         }
                         if (request.path.rfind("/v2/", 0) != 0)
                           if (auto page = dashboard_page(dashboard.get(), request))
                             return respond(std::move(*page));
                         api(std::move(request), std::move(respond));
                       });
  if (std::string error = http.Start(); !error.empty()) {
    server_log->critical("cannot listen on {}:{}: {}", config.host, config.http_port, error);
    return 1;
  }
  feed->Start(log.get());  // only now: every later exit path stops it before the log closes

  caf::actor_system_config caf_config;
  caf_config.set("scheduler.max-threads", 2);
  caf_config.set("scheduler.policy", caf::atom("sharing"));
  {
    caf::actor_system system{caf_config};
    auto env = std::make_shared<Environment>();
    env->config = config;
    env->http_port = http.port();
    env->log = log.get();
    env->timers = caf_timers(system, env->clock);
    env->started_ms = env->now_ms();
    env->server_log = server_log;
    env->metrics = metrics;
    collect_server_state(*metrics, env);
    env->reader = spawn_store_reader(system, log.get());
    env->schedule_logs = spawn_schedule_log(system, config.log_dir);
    env->launcher = spawn_launcher(system, config, http.port(), log.get());
    env->queries = spawn_queries(system, env);
    env->resources = spawn_resource_manager(system, env);
    env->catalog = spawn_catalog(system, env);
    env->access = spawn_access(system, env);
    net::PartyClientOptions party_options;
    party_options.routes = config.federation.routes;
    party_options.proxy = config.federation.proxy;
    party_options.self = net::PartyAddress{config.host, http.port(), config.tls.enabled()};
    party_options.tls = tls_client;
    party_options.observe = partner_observer(metrics);
    party_options.threads = config.federation.threads;
    party_options.sign = site_signer(config, env->access_board, env->clock);
    PartyActorDeps party_deps;
    party_deps.transport = std::make_shared<net::PartyClient>(party_options);
    party_deps.clock = env->clock;
    party_deps.timers = env->timers;
    party_deps.board = std::make_shared<ReachabilityBoard>();
    party_deps.log = server_log;
    auto transport = party_deps.transport;
    env->parties = std::make_shared<PartyDirectory>(system, std::move(party_deps));
    targets->queries = env->queries;
    if (config.auth.any())
      targets->auth = std::make_shared<Authenticator>(config.auth, env->access_board, env->clock);
    targets->registry = spawn_registry(system, env);
    targets->ready.store(true, std::memory_order_release);
    metrics->Set("flowstone_start_duration_seconds", {},
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - starting).count());
    server_log->info("party {} serving on {}:{}{} (data {})", config.party_id, config.host, http.port(),
                     config.tls.enabled() ? " (HTTPS; plain HTTP for local clients and workers)" : "",
                     config.data_dir);

    int signal_number = stop_signals.Wait();
    server_log->info("signal {}: stopping (running workers keep running)", signal_number);

    feed->Stop();
    http.Stop();  // answers what is in flight, then stops accepting
    caf::anon_send_exit(targets->registry, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env->launcher, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env->queries, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env->resources, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env->catalog, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env->access, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env->reader, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(env->schedule_logs, caf::exit_reason::user_shutdown);
    targets->registry = nullptr;
    targets->queries = nullptr;
    env->launcher = nullptr;
    env->queries = nullptr;
    env->resources = nullptr;
    env->catalog = nullptr;
    env->access = nullptr;
    env->reader = nullptr;
    env->schedule_logs = nullptr;
    env->timers.reset();
    env->parties->StopAll();  // calls not yet answered are dropped: every one is repeated after a restart
    transport->Stop();
    system.await_all_actors_done();
  }
  log->Close();
  server_log->info("stopped");
  return 0;
}

}  // namespace flowstone::actors
