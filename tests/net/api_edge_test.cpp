// The API edge (net/api.hpp) without a socket: a request goes through make_api_handler as a session hands it
// over, and the answer is read back from the envelope.
#include <gtest/gtest.h>

#include <string>

#include "net/api.hpp"
#include "net/json_io.hpp"
#include "net/yaml_json.hpp"

namespace flowstone::net {
namespace {

Json call(Handler& edge, HttpRequest request) {
  Json envelope;
  edge(std::move(request), [&](HttpResponse response) {
    std::string error;
    envelope = parse_json(response.body, &error).value_or(Json(nullptr));
  });
  return envelope;
}

HttpRequest get(const std::string& path, std::multimap<std::string, std::string> query) {
  HttpRequest request;
  request.method = "GET";
  request.path = path;
  request.target = path;
  request.query = std::move(query);
  return request;
}

class ApiEdge : public ::testing::Test {
 protected:
  ApiEdge() {
    edge = make_api_handler({{"GET",
                              "job/query",
                              {{"job_id", FieldKind::str, false}, {"limit", FieldKind::integer, false}},
                              [this](ApiRequest request, ApiCallback reply) {
                                ++answered;
                                reply(net::reply(RetCode::success, "success", request.params));
                              },
                              [](const ApiRequest& request) -> std::optional<ApiReply> {
                                if (!request.headers.count("x-deny")) return std::nullopt;
                                return net::reply(RetCode::no_permission, "denied");
                              }}});
  }
  Handler edge;
  int answered = 0;
};

TEST_F(ApiEdge, AdmissionComesBeforeAnyFieldIsChecked) {
  HttpRequest request = get("/v2/job/query", {{"limit", "not a number"}});
  request.headers["x-deny"] = "1";
  Json refused = call(edge, request);
  EXPECT_EQ(refused.value("code", -1), 5005)
      << "refused as a caller, not told about its fields: " << refused.dump();
  EXPECT_EQ(answered, 0);
  request.headers.clear();
  EXPECT_EQ(call(edge, request).value("code", -1), 5001);
}

TEST_F(ApiEdge, TheRouteTableAnswersItsRouteAndRefusesOthers) {
  Json ok = call(edge, get("/v2/job/query", {{"job_id", "1"}, {"limit", "5"}}));
  EXPECT_EQ(ok.value("code", -1), 0) << ok.dump();
  EXPECT_EQ(ok["data"]["limit"], 5) << "integers in a query string are converted";
  EXPECT_EQ(answered, 1);

  HttpRequest post = get("/v2/job/query", {});
  post.method = "POST";
  Json wrong_method = call(edge, post);
  EXPECT_NE(wrong_method.value("code", 0), 0);
  EXPECT_NE(wrong_method.value("message", "").find("Method not allowed"), std::string::npos)
      << wrong_method.dump();
  Json unknown = call(edge, get("/v2/job/nothing", {}));
  EXPECT_NE(unknown.value("message", "").find("No found route"), std::string::npos) << unknown.dump();
  EXPECT_EQ(answered, 1);
}

// Found by fuzz_yaml: bytes that are not UTF-8 would make writing the event or the answer
// throw. They are refused at the edge with the field named, and nothing reaches a handler.
TEST_F(ApiEdge, ParametersAndHeadersThatAreNotUtf8AreRefusedNamingTheField) {
  Json bad_value = call(edge, get("/v2/job/query", {{"job_id", "12\xff"}}));
  EXPECT_EQ(bad_value.value("code", -1), 5001) << bad_value.dump();
  EXPECT_TRUE(bad_value["data"]["query"].contains("job_id")) << bad_value.dump();

  HttpRequest bad_header = get("/v2/job/query", {{"job_id", "1"}});
  bad_header.headers["initiator-party-id"] = "\xc3\x28";
  Json refused = call(edge, bad_header);
  EXPECT_EQ(refused.value("code", -1), 5001) << refused.dump();
  EXPECT_TRUE(refused["data"]["headers"].contains("initiator-party-id")) << refused.dump();
  EXPECT_EQ(answered, 0);
}

TEST(Utf8, YamlThatIsNotUtf8IsRefusedNotThrownLater) {
  Json out;
  EXPECT_NE(parse_yaml_or_json("a: \xff\xfe\n", &out), "");
  EXPECT_NE(parse_yaml_or_json("\xff: 1\n", &out), "");
  EXPECT_EQ(parse_yaml_or_json("a: \"caf\xc3\xa9\"\n", &out), "");
  EXPECT_EQ(out["a"], "caf\xc3\xa9");
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_FALSE(valid_utf8(std::string("\x80", 1)));
}

}  // namespace
}  // namespace flowstone::net
