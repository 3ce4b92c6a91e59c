// The tracking events (in job streams) and the catalog's events survive encode/decode field by field;
// bytes that are not a CatalogEvent are refused.
#include <gtest/gtest.h>

#include <string>

#include "store/codec/catalog_codec.hpp"
#include "store/codec/job_codec.hpp"

namespace flowstone::store {
namespace {

template <typename T>
T JobRoundTrip(const T& body) {
  auto decoded = decode_job_event(encode_job_event(domain::JobEvent{42, body, ""}), nullptr);
  EXPECT_TRUE(decoded.has_value());
  const T* out = decoded ? std::get_if<T>(&decoded->body) : nullptr;
  EXPECT_NE(out, nullptr);
  return out ? *out : T{};
}

template <typename T>
T CatalogRoundTrip(const T& body) {
  std::string error;
  auto decoded = decode_catalog_event(encode_catalog_event(domain::CatalogEvent{43, body}), &error);
  EXPECT_TRUE(decoded.has_value()) << error;
  EXPECT_EQ(decoded ? decoded->at_ms : 0, 43);
  const T* out = decoded ? std::get_if<T>(&decoded->body) : nullptr;
  EXPECT_NE(out, nullptr);
  return out ? *out : T{};
}

TEST(TrackingCodecTest, TrackingEvents) {
  Json metrics = Json::parse(R"([{"name":"loss","type":"loss","groups":[{"name":"train","index":null}],
                                  "step_axis":"iterations","data":[{"metric":[0.5],"step":0}]}])");
  auto m = JobRoundTrip(domain::MetricsSaved{"e1", metrics});
  EXPECT_EQ(m.execution_id, "e1");
  EXPECT_EQ(m.metrics, metrics);
  Json record{{"output_key", "out"}, {"index", 2}, {"overview", {{"count", nullptr}}}};
  EXPECT_EQ(JobRoundTrip(domain::DataOutputTracked{"e2", record}).record, record);
  domain::ModelSaved model{"e3",         "output_model",
                           "json_model", "m",
                           "0",          "m/0/guest/9999/a/output_model",
                           "/x.tar",     "abc",
                           123,          Json::array({Json{{"model_key", "k"}}})};
  auto back = JobRoundTrip(model);
  EXPECT_EQ(back.storage_key, model.storage_key);
  EXPECT_EQ(back.size, 123);
  EXPECT_EQ(back.digest, "abc");
  EXPECT_EQ(back.meta_data, model.meta_data);
  auto deleted = JobRoundTrip(domain::TrackingDeleted{"model", "a_0", {"guest", "9999"}, "output_model"});
  EXPECT_EQ(deleted.party.party_id, "9999");
  EXPECT_EQ(deleted.output_key, "output_model");
}

TEST(TrackingCodecTest, CatalogEvents) {
  domain::TableMeta t;
  t.ns = "exp";
  t.name = "a";
  t.engine = "standalone";
  t.path = "/data/exp/a";
  t.count = 3;
  t.meta = Json{{"header", {"id", "x"}}};
  t.part_of_data = Json::array({Json{{"id", "1"}}});
  EXPECT_EQ(CatalogRoundTrip(domain::TableRegistered{t}).table, t);
  EXPECT_EQ(CatalogRoundTrip(domain::TableDeleted{"exp", "a"}).name, "a");
  domain::ProviderInfo p;
  p.name = "fate";
  p.version = "2.1.0";
  p.device = "local";
  p.metadata = Json{{"path", "/opt/fate"}};
  p.components = {"noop", "psi"};
  auto provider = CatalogRoundTrip(domain::ProviderRegistered{p}).provider;
  EXPECT_EQ(provider.components, p.components);
  EXPECT_EQ(provider.metadata, p.metadata);
  domain::ImportedModel im;
  im.model_id = "x";
  im.storage_key = "x/1/guest/9999/a/k";
  EXPECT_EQ(CatalogRoundTrip(domain::ModelImported{im}).model.storage_key, im.storage_key);
  EXPECT_EQ(CatalogRoundTrip(domain::ImportedModelDeleted{"k"}).storage_key, "k");
  domain::ServerInfo server{"SERVING", "10.0.0.2", "https", 8059, 1, 2};
  auto server_back = CatalogRoundTrip(domain::ServerRegistered{server}).server;
  EXPECT_EQ(server_back.server_name, "SERVING");
  EXPECT_EQ(server_back.host, "10.0.0.2");
  EXPECT_EQ(server_back.port, 8059);
  EXPECT_EQ(server_back.protocol, "https");
  EXPECT_EQ(server_back.update_time, 2);
  EXPECT_EQ(CatalogRoundTrip(domain::ServerDeleted{"SERVING"}).server_name, "SERVING");
  domain::ServiceInfo service;
  service.server_name = "SERVING";
  service.service_name = "load";
  service.url = "https://10.0.0.2:8059/v1/load";
  service.headers = {{"x", "y"}};
  auto service_back = CatalogRoundTrip(domain::ServiceRegistered{service}).service;
  EXPECT_EQ(service_back.url, service.url);
  EXPECT_EQ(service_back.headers, service.headers);
  EXPECT_EQ(service_back.method, "POST");
  EXPECT_EQ(CatalogRoundTrip(domain::ServiceDeleted{"SERVING", "load"}).service_name, "load");
}

TEST(TrackingCodecTest, GarbageIsNotACatalogEvent) {
  std::string error;
  EXPECT_FALSE(decode_catalog_event("", &error).has_value());
  EXPECT_FALSE(decode_catalog_event(std::string(16, '\xff'), &error).has_value());
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace flowstone::store
