// The party stream's events (the ledger) round trip through their Cap'n Proto form, and what an earlier
// build wrote (a capacity registration only) still decodes.
#include "store/codec/party_codec.hpp"

#include <gtest/gtest.h>
#include <kj/encoding.h>

#include "events.capnp.h"
#include "store/codec/capnp_bytes.hpp"

namespace flowstone::store {
namespace {

using namespace domain;

LedgerEvent round_trip(const LedgerEvent& event) {
  std::string error;
  auto decoded = decode_party_event(encode_party_event(event), &error);
  EXPECT_TRUE(decoded) << error;
  EXPECT_EQ(decoded->at_ms, event.at_ms);
  return *decoded;
}

TEST(PartyCodecTest, ALedgerSnapshotRoundTripsAndAnUnknownFormatIsRefused) {
  LedgerState state;
  state.engine = "standalone";
  state.total = 16;
  state.held = {{"a/guest/9999", 4}, {"b/host/10000", 2}};
  state.waiting = {{"c/guest/9999", Waiter{8, 1, 42, 1000}}};
  state.parked = {{"a/guest/9999", Waiter{4, 0, 41, 900}}};
  std::string error;
  auto back = decode_ledger_snapshot(encode_ledger_snapshot(state), &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->engine, "standalone");
  EXPECT_EQ(back->total, 16);
  EXPECT_EQ(back->held, state.held);
  ASSERT_EQ(back->waiting.size(), 1u);
  EXPECT_EQ(back->waiting.at("c/guest/9999").cores, 8);
  EXPECT_EQ(back->waiting.at("c/guest/9999").priority, 1);
  EXPECT_EQ(back->waiting.at("c/guest/9999").order, 42);
  EXPECT_EQ(back->waiting.at("c/guest/9999").first_refused_ms, 1000);
  EXPECT_EQ(back->parked.at("a/guest/9999").order, 41);

  EXPECT_FALSE(decode_ledger_snapshot("not a snapshot", &error));
  EXPECT_NE(error.find("not a Cap'n Proto message"), std::string::npos) << error;
  capnp::MallocMessageBuilder later;
  later.initRoot<schema::LedgerSnapshot>().setFormat(2);
  EXPECT_FALSE(decode_ledger_snapshot(message_bytes(later), &error));
  EXPECT_NE(error.find("format 2 is not known"), std::string::npos) << error;
}

TEST(PartyCodecTest, EveryLedgerEventRoundTrips) {
  auto capacity = std::get<CapacityRegistered>(round_trip({1, CapacityRegistered{"standalone", 16}}).body);
  EXPECT_EQ(capacity.engine, "standalone");
  EXPECT_EQ(capacity.cores, 16);
  auto reserved = std::get<CoresReserved>(round_trip({2, CoresReserved{"j/guest/9999", 4}}).body);
  EXPECT_EQ(reserved.holder, "j/guest/9999");
  EXPECT_EQ(reserved.cores, 4);
  auto released = std::get<CoresReleased>(round_trip({3, CoresReleased{"j/guest/9999", true}}).body);
  EXPECT_EQ(released.holder, "j/guest/9999");
  EXPECT_TRUE(released.keep_waiting);
  auto queued =
      std::get<ReservationQueued>(round_trip({4, ReservationQueued{"k/host/10000", {8, 3, 77, 123}}}).body);
  EXPECT_EQ(queued.holder, "k/host/10000");
  EXPECT_EQ(queued.waiter.cores, 8);
  EXPECT_EQ(queued.waiter.priority, 3);
  EXPECT_EQ(queued.waiter.order, 77);
  EXPECT_EQ(queued.waiter.first_refused_ms, 123);
  EXPECT_EQ(std::get<WaiterForgotten>(round_trip({5, WaiterForgotten{"k/host/10000"}}).body).holder,
            "k/host/10000");
}

TEST(PartyCodecTest, ACapacityRegisteredByAnEarlierBuildDecodes) {
  // tests/fixtures/log-2026-12-02/guest-9999/events.jsonl, party:9999 version 1.
  auto bytes = kj::decodeBase64(
      "AAAAAAcAAAAAAAAAAQABAMR/UjiiAQAAAAAAAAEAAQAgAAAAAAAAAAEAAABaAAAAc3RhbmRhbG9uZQAAAAAAAA==");
  std::string error;
  auto event = decode_party_event(
      std::string_view(reinterpret_cast<const char*>(bytes.begin()), bytes.size()), &error);
  ASSERT_TRUE(event) << error;
  auto capacity = std::get<CapacityRegistered>(event->body);
  EXPECT_EQ(capacity.engine, "standalone");
  EXPECT_GT(capacity.cores, 0);
  EXPECT_GT(event->at_ms, 0);
}

TEST(PartyCodecTest, BytesThatAreNoPartyEventAreRefusedWithWhy) {
  std::string error;
  EXPECT_FALSE(decode_party_event("not capnp", &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace flowstone::store
