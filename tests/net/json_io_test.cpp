#include "net/json_io.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace flowstone::net {
namespace {

TEST(ParseJson, NestedValues) {
  std::string error;
  auto json = parse_json(
      R"({"b": 1, "a": [true, false, null, "x\u00e9", -2, 1.5, {"k": {}}], "c": {"d": []}})", &error);
  ASSERT_TRUE(json) << error;
  EXPECT_TRUE(error.empty());
  ASSERT_TRUE(json->is_object());
  // Key order is kept.
  std::vector<std::string> keys;
  for (auto it = json->begin(); it != json->end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_EQ((*json)["b"].get<int64_t>(), 1);
  const Json& a = (*json)["a"];
  ASSERT_EQ(a.size(), 7u);
  EXPECT_EQ(a[0], true);
  EXPECT_EQ(a[1], false);
  EXPECT_TRUE(a[2].is_null());
  EXPECT_EQ(a[3].get<std::string>(), "x\xc3\xa9");
  EXPECT_TRUE(a[4].is_number_integer());
  EXPECT_EQ(a[4].get<int64_t>(), -2);
  EXPECT_TRUE(a[5].is_number_float());
  EXPECT_DOUBLE_EQ(a[5].get<double>(), 1.5);
  EXPECT_TRUE(a[6]["k"].is_object());
  EXPECT_TRUE((*json)["c"]["d"].is_array());
  EXPECT_EQ(json->dump(), R"({"b":1,"a":[true,false,null,"xé",-2,1.5,{"k":{}}],"c":{"d":[]}})");
}

TEST(ParseJson, ScalarsAtTopLevel) {
  std::string error;
  EXPECT_EQ(*parse_json("42", &error), Json(42));
  EXPECT_EQ(*parse_json("\"s\"", &error), Json("s"));
  EXPECT_TRUE(parse_json("null", &error)->is_null());
  EXPECT_EQ(*parse_json(" [ ] ", &error), Json::array());
}

TEST(ParseJson, BigIntegers) {
  std::string error;
  auto json = parse_json(
      R"({"max_u": 18446744073709551615, "min_i": -9223372036854775808, "max_i": 9223372036854775807,
          "huge": 123456789012345678901234567890, "f": 1e3})",
      &error);
  ASSERT_TRUE(json) << error;
  EXPECT_TRUE((*json)["max_u"].is_number_unsigned());
  EXPECT_EQ((*json)["max_u"].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE((*json)["min_i"].is_number_integer());
  EXPECT_EQ((*json)["min_i"].get<int64_t>(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ((*json)["max_i"].get<int64_t>(), std::numeric_limits<int64_t>::max());
  // Beyond 64 bits: a double.
  EXPECT_TRUE((*json)["huge"].is_number_float());
  EXPECT_DOUBLE_EQ((*json)["huge"].get<double>(), 1.2345678901234568e29);
  EXPECT_TRUE((*json)["f"].is_number_float());
  EXPECT_DOUBLE_EQ((*json)["f"].get<double>(), 1000.0);
}

TEST(ParseJson, DuplicateKeysLastWins) {
  std::string error;
  auto json = parse_json(R"({"a": 1, "b": 2, "a": 3})", &error);
  ASSERT_TRUE(json) << error;
  EXPECT_EQ(json->dump(), R"({"a":3,"b":2})");
}

TEST(ParseJson, InvalidJsonGivesOffset) {
  std::string error;
  EXPECT_FALSE(parse_json(R"({"job_id": "1", "x": })", &error));
  EXPECT_EQ(error.rfind("invalid JSON at byte 21: ", 0), 0u) << error;
  EXPECT_NE(error.find("improper structure"), std::string::npos) << error;

  error.clear();
  EXPECT_FALSE(parse_json("[1, 2", &error));
  EXPECT_EQ(error.rfind("invalid JSON", 0), 0u) << error;

  error.clear();
  EXPECT_FALSE(parse_json("{} trailing", &error));
  EXPECT_EQ(error.rfind("invalid JSON at byte ", 0), 0u) << error;

  error.clear();
  EXPECT_FALSE(parse_json("1e400", &error));
  EXPECT_EQ(error.rfind("invalid JSON", 0), 0u) << error;

  // A null error pointer is allowed.
  EXPECT_FALSE(parse_json("{", nullptr));
}

TEST(ParseJson, EmptyBody) {
  std::string error;
  EXPECT_FALSE(parse_json("", &error));
  EXPECT_EQ(error, "empty body");
  error.clear();
  EXPECT_FALSE(parse_json(" \r\n\t", &error));
  EXPECT_EQ(error, "empty body");
}

TEST(ParseJson, LargeDocumentAndThreads) {
  std::string big = "[";
  for (int i = 0; i < 1'000'000; ++i) {
    if (i) big += ',';
    big += "{\"i\":" + std::to_string(i) + "}";
  }
  big += "]";
  ASSERT_GT(big.size(), size_t{8} << 20);
  std::string error;
  auto json = parse_json(big, &error);
  ASSERT_TRUE(json) << error;
  EXPECT_EQ(json->size(), 1'000'000u);
  EXPECT_EQ((*json)[999'999]["i"], 999'999);

  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&ok, t] {
      for (int i = 0; i < 200; ++i) {
        std::string e;
        auto j = parse_json("{\"t\": " + std::to_string(t) + ", \"i\": " + std::to_string(i) + "}", &e);
        if (j && (*j)["t"] == t && (*j)["i"] == i) ++ok;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 800);
}

TEST(Envelope, OmitsNullsAndMergesExtras) {
  EXPECT_EQ(envelope(0, "success").dump(), R"({"code":0,"message":"success"})");
  EXPECT_EQ(envelope(0, "success", Json{{"a", 1}}).dump(),
            R"({"code":0,"message":"success","data":{"a":1}})");
  Json extra = {{"job_id", "202401"}, {"nothing", nullptr}, {"retry", false}};
  EXPECT_EQ(envelope(1001, "No found job", nullptr, extra).dump(),
            R"({"code":1001,"message":"No found job","job_id":"202401","retry":false})");
  EXPECT_EQ(envelope(0, "ok", Json::array(), {{"job_id", "j"}}).dump(),
            R"({"code":0,"message":"ok","data":[],"job_id":"j"})");
  // Empty but non-null data is kept.
  EXPECT_EQ(envelope(0, "ok", Json::object()).dump(), R"({"code":0,"message":"ok","data":{}})");
  EXPECT_EQ(envelope_text(5001, "Invalid request.", {{"json", {{"job_id", {"Missing"}}}}}),
            R"({"code":5001,"message":"Invalid request.","data":{"json":{"job_id":["Missing"]}}})");
}

}  // namespace
}  // namespace flowstone::net
