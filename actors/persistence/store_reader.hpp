// The store reader: the detached actors that read the event log and the views for actors that must not
// block (every actor on the CAF pool): a stream to replay, a view row, a scan of a view. RocksDB reads are
// usually served from memory, but may touch the disk, so they happen here, off the pool. Stateless; a few
// readers share the log (EventLog is thread-safe).
#pragma once
#include <caf/all.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/event_log.hpp"

namespace flowstone::actors {

struct ReadStreamMsg {
  std::string stream;
};
struct ReadStreamReply {
  store::Status status;
  std::vector<store::StoredEvent> events;
};
struct GetViewMsg {
  std::string family, key;
};
struct GetViewReply {
  std::optional<std::string> value;  // nullopt: no such row (or it could not be read)
};
struct ScanViewMsg {
  std::string family, prefix;
};
struct ScanViewReply {
  std::vector<std::pair<std::string, std::string>> rows;  // key order
};

using reader_actor = caf::typed_actor<caf::replies_to<ReadStreamMsg>::with<ReadStreamReply>,
                                      caf::replies_to<GetViewMsg>::with<GetViewReply>,
                                      caf::replies_to<ScanViewMsg>::with<ScanViewReply>>;

reader_actor spawn_store_reader(caf::actor_system& system, store::EventLog* log);

}  // namespace flowstone::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ReadStreamMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ReadStreamReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::GetViewMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::GetViewReply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ScanViewMsg)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(flowstone::actors::ScanViewReply)
