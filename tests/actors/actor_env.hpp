// A party's actors on a clock the test moves by hand: a real event log in a temp dir, a ManualClock for
// time and timers, and a CAF system with a scoped actor to ask from. Actors are spawned by the test.
#pragma once
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <caf/all.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "actors/environment.hpp"
#include "store/projections.hpp"

namespace flowstone::actors::testing {

constexpr int64_t kT0 = 1764633600000;  // 2025-12-02 00:00 UTC

class ActorEnv {
 public:
  ActorEnv() : system_(caf_config()) {
    dir_ = std::filesystem::temp_directory_path() /
           ("flowstone-actors-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenLog();
    clock_ = std::make_shared<ManualClock>(kT0);
    env_ = std::make_shared<Environment>();
    env_->config.party_id = "9999";
    env_->config.data_dir = dir_.string();
    env_->log = log_.get();
    env_->clock = clock_;
    env_->timers = clock_;
    env_->server_log =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  }
  ~ActorEnv() {
    system_.await_all_actors_done();
    log_.reset();
    std::filesystem::remove_all(dir_);
  }

  caf::actor_system& system() { return system_; }
  Environment& env() { return *env_; }
  std::shared_ptr<Environment> shared_env() { return env_; }
  ManualClock& clock() { return *clock_; }
  store::EventLog& log() { return *log_; }

  // Stops `actor` and waits until it is gone.
  template <class Handle>
  void Stop(Handle& actor) {
    caf::scoped_actor self{system_};
    self->monitor(actor);
    self->send_exit(actor, caf::exit_reason::user_shutdown);
    self->receive([](const caf::down_msg&) {});
    actor = nullptr;
  }

 private:
  static caf::actor_system_config& caf_config() {
    static caf::actor_system_config config;
    return config;
  }
  static int& counter() {
    static int n = 0;
    return n;
  }
  void OpenLog() {
    store::Options options;
    options.view_families = store::log_families();
    auto s = store::EventLog::Open((dir_ / "db").string(), options, &log_);
    if (!s.ok()) throw std::runtime_error("cannot open the log: " + s.ToString());
  }

  std::filesystem::path dir_;
  caf::actor_system system_;
  std::unique_ptr<store::EventLog> log_;
  std::shared_ptr<ManualClock> clock_;
  std::shared_ptr<Environment> env_;
};

}  // namespace flowstone::actors::testing
