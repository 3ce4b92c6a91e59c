// AccessBoard: the latest access state (apps, tokens, roles, grants) for readers on other threads: the HTTP
// edge checking a signature, the party transport signing a call, the registry answering /v2/app queries.
// The access actor publishes an immutable snapshot after each change; readers take a shared pointer to it.
//
// Thread rules: any thread; Snapshot() is a lock and a pointer copy.
#pragma once
#include <memory>
#include <mutex>

#include "events/access/access.hpp"

namespace flowstone::actors {

class AccessBoard {
 public:
  void Publish(std::shared_ptr<const domain::AccessState> state) {
    std::lock_guard<std::mutex> lock(mu_);
    state_ = std::move(state);
  }
  std::shared_ptr<const domain::AccessState> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return state_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const domain::AccessState> state_ = std::make_shared<domain::AccessState>();
};

}  // namespace flowstone::actors
