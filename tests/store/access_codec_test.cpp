// The access stream's events round trip through their Cap'n Proto form, and `store verify` replays the
// stream: an event that does not decode is reported, as in a job's stream.
#include "store/codec/access_codec.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "store/event_log.hpp"
#include "store/projections.hpp"

namespace flowstone::store {
namespace {

using namespace domain;

AccessEvent round_trip(const AccessEvent& event) {
  std::string error;
  auto decoded = decode_access_event(encode_access_event(event), &error);
  EXPECT_TRUE(decoded) << error;
  EXPECT_EQ(decoded->at_ms, event.at_ms);
  return *decoded;
}

TEST(AccessCodecTest, EveryAccessEventRoundTrips) {
  auto created =
      std::get<AppCreated>(round_trip({1, AppCreated{App{"12345678", "peer", "tok", "client", 9}}}).body);
  EXPECT_EQ(created.app.app_id, "12345678");
  EXPECT_EQ(created.app.app_token, "tok");
  EXPECT_EQ(created.app.create_time, 9);
  EXPECT_EQ(std::get<AppDeleted>(round_trip({2, AppDeleted{"12345678"}}).body).app_id, "12345678");
  auto partner =
      std::get<PartnerAppSaved>(round_trip({3, PartnerAppSaved{PartnerApp{"10000", "10000", "t"}}}).body);
  EXPECT_EQ(partner.app.party_id, "10000");
  EXPECT_EQ(std::get<PartnerAppDeleted>(round_trip({4, PartnerAppDeleted{"10000"}}).body).party_id, "10000");
  EXPECT_EQ(std::get<RoleGranted>(round_trip({5, RoleGranted{"a", "client"}}).body).role, "client");
  EXPECT_EQ(std::get<RoleRevoked>(round_trip({6, RoleRevoked{"a", "site"}}).body).role, "site");
  EXPECT_EQ(
      std::get<ResourceGranted>(round_trip({7, ResourceGranted{"9999", "component", "psi"}}).body).value,
      "psi");
  EXPECT_EQ(std::get<ResourceRevoked>(round_trip({8, ResourceRevoked{"9999", "dataset", "*"}}).body).kind,
            "dataset");
}

TEST(AccessCodecTest, StoreVerifyReportsAnAccessEventThatDoesNotDecode) {
  char tmpl[] = "/tmp/flowstone_access_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    std::unique_ptr<EventLog> log;
    Options options;
    options.view_families = job_view_families();
    ASSERT_TRUE(EventLog::Open(dir, options, &log).ok());
    AppendRequest append;
    append.stream = kAccessStream;
    append.events = {encode_access_event({1, RoleGranted{"a", "client"}}), std::string(16, '\x07')};
    ASSERT_TRUE(log->Append(std::move(append)).status.ok());
    ProjectionReport report;
    ASSERT_TRUE(VerifyViews(*log, &report).ok());
    ASSERT_EQ(report.errors.size(), 1u);
    EXPECT_NE(report.errors[0].find("access event 2"), std::string::npos) << report.errors[0];
    EXPECT_FALSE(report.ok());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace flowstone::store
