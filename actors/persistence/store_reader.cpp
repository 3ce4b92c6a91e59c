#include "actors/persistence/store_reader.hpp"

namespace flowstone::actors {
namespace {

reader_actor::behavior_type reader_impl(reader_actor::pointer, store::EventLog* log) {
  return {
      [log](const ReadStreamMsg& msg) {
        ReadStreamReply reply;
        reply.status = log->ReadStream(msg.stream, 1, &reply.events);
        return reply;
      },
      [log](const GetViewMsg& msg) {
        GetViewReply reply;
        std::string value;
        if (log->GetView(msg.family, msg.key, &value).ok()) reply.value = std::move(value);
        return reply;
      },
      [log](const ScanViewMsg& msg) {
        ScanViewReply reply;
        log->ScanView(msg.family, msg.prefix, [&](const std::string& key, const std::string& value) {
          reply.rows.emplace_back(key, value);
          return true;
        });
        return reply;
      },
  };
}

}  // namespace

reader_actor spawn_store_reader(caf::actor_system& system, store::EventLog* log) {
  return system.spawn<caf::detached>(reader_impl, log);
}

}  // namespace flowstone::actors
