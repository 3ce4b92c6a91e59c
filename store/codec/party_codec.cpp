#include "store/codec/party_codec.hpp"

#include "events.capnp.h"
#include "store/codec/capnp_bytes.hpp"

namespace flowstone::store {
namespace {

std::string text(capnp::Text::Reader t) {
  return std::string(t.cStr(), t.size());
}

}  // namespace

std::string party_stream(const std::string& party_id) {
  return "party:" + party_id;
}

std::string encode_party_event(const domain::LedgerEvent& event) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::PartyEvent>();
  root.setAtMs(event.at_ms);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, domain::CapacityRegistered>) {
          auto b = root.initCapacityRegistered();
          b.setEngine(e.engine);
          b.setCores(e.cores);
        } else if constexpr (std::is_same_v<T, domain::CoresReserved>) {
          auto b = root.initCoresReserved();
          b.setHolder(e.holder);
          b.setCores(e.cores);
        } else if constexpr (std::is_same_v<T, domain::CoresReleased>) {
          auto b = root.initCoresReleased();
          b.setHolder(e.holder);
          b.setKeepWaiting(e.keep_waiting);
        } else if constexpr (std::is_same_v<T, domain::ReservationQueued>) {
          auto b = root.initReservationQueued();
          b.setHolder(e.holder);
          b.setCores(e.waiter.cores);
          b.setPriority(e.waiter.priority);
          b.setOrder(e.waiter.order);
          b.setFirstRefusedMs(e.waiter.first_refused_ms);
        } else {
          static_assert(std::is_same_v<T, domain::WaiterForgotten>);
          root.initWaiterForgotten().setHolder(e.holder);
        }
      },
      event.body);
  return message_bytes(message);
}

std::optional<domain::LedgerEvent> decode_party_event(std::string_view bytes, std::string* error) {
  return read_message<schema::PartyEvent>(
      bytes, "party event", error,
      [&](schema::PartyEvent::Reader root) -> std::optional<domain::LedgerEvent> {
        domain::LedgerEvent event;
        event.at_ms = root.getAtMs();
        if (root.hasCapacityRegistered()) {
          auto r = root.getCapacityRegistered();
          event.body = domain::CapacityRegistered{text(r.getEngine()), r.getCores()};
        } else if (root.hasCoresReserved()) {
          auto r = root.getCoresReserved();
          event.body = domain::CoresReserved{text(r.getHolder()), r.getCores()};
        } else if (root.hasCoresReleased()) {
          auto r = root.getCoresReleased();
          event.body = domain::CoresReleased{text(r.getHolder()), r.getKeepWaiting()};
        } else if (root.hasReservationQueued()) {
          auto r = root.getReservationQueued();
          event.body = domain::ReservationQueued{
              text(r.getHolder()),
              domain::Waiter{r.getCores(), r.getPriority(), r.getOrder(), r.getFirstRefusedMs()}};
        } else if (root.hasWaiterForgotten()) {
          event.body = domain::WaiterForgotten{text(root.getWaiterForgotten().getHolder())};
        } else {
          if (error) *error = "unknown party event kind";
          return std::nullopt;
        }
        return event;
      });
}

namespace {
constexpr uint32_t kLedgerSnapshotFormat = 1;

void put_waiters(capnp::List<schema::ReservationQueued>::Builder list,
                 const std::map<std::string, domain::Waiter>& waiters) {
  unsigned i = 0;
  for (const auto& [holder, w] : waiters) {
    auto b = list[i++];
    b.setHolder(holder);
    b.setCores(w.cores);
    b.setPriority(w.priority);
    b.setOrder(w.order);
    b.setFirstRefusedMs(w.first_refused_ms);
  }
}

std::map<std::string, domain::Waiter> get_waiters(capnp::List<schema::ReservationQueued>::Reader list) {
  std::map<std::string, domain::Waiter> out;
  for (auto r : list)
    out[text(r.getHolder())] =
        domain::Waiter{r.getCores(), r.getPriority(), r.getOrder(), r.getFirstRefusedMs()};
  return out;
}
}  // namespace

std::string encode_ledger_snapshot(const domain::LedgerState& state) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::LedgerSnapshot>();
  root.setFormat(kLedgerSnapshotFormat);
  root.setEngine(state.engine);
  root.setTotal(state.total);
  auto held = root.initHeld(static_cast<unsigned>(state.held.size()));
  unsigned i = 0;
  for (const auto& [holder, cores] : state.held) {
    held[i].setHolder(holder);
    held[i++].setCores(cores);
  }
  put_waiters(root.initWaiting(static_cast<unsigned>(state.waiting.size())), state.waiting);
  put_waiters(root.initParked(static_cast<unsigned>(state.parked.size())), state.parked);
  return message_bytes(message);
}

std::optional<domain::LedgerState> decode_ledger_snapshot(std::string_view bytes, std::string* error) {
  return read_message<schema::LedgerSnapshot>(
      bytes, "ledger snapshot", error,
      [&](schema::LedgerSnapshot::Reader root) -> std::optional<domain::LedgerState> {
        if (root.getFormat() != kLedgerSnapshotFormat) {
          if (error) *error = "ledger snapshot format " + std::to_string(root.getFormat()) + " is not known";
          return std::nullopt;
        }
        domain::LedgerState state;
        state.engine = text(root.getEngine());
        state.total = root.getTotal();
        for (auto r : root.getHeld()) state.held[text(r.getHolder())] = r.getCores();
        state.waiting = get_waiters(root.getWaiting());
        state.parked = get_waiters(root.getParked());
        return state;
      });
}

}  // namespace flowstone::store
