#include "base/json.h"

#include <gtest/gtest.h>

namespace spk {
namespace {

TEST(JsonStringFieldTest, StringMembersOnlyNeverThrows) {
  const auto j = nlohmann::json::parse(R"({"a": "x", "n": 5, "o": {"a": "y"}})");
  EXPECT_EQ(JsonStringField(j, "a"), "x");
  EXPECT_EQ(JsonStringField(j, "n"), "");
  EXPECT_EQ(JsonStringField(j, "o"), "");
  EXPECT_EQ(JsonStringField(j, "missing"), "");
  EXPECT_EQ(JsonStringField(nlohmann::json::array({"a"}), "a"), "");
  EXPECT_EQ(JsonStringField(nlohmann::json("a"), "a"), "");
}

TEST(ParseJsonTest, ParsesAGoodDocument) {
  auto j = ParseJson(R"({"a": [1, {"b": "c"}], "a": 2})", 100, "event");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ((*j)["a"], 2);  // duplicate keys: the last wins
}

TEST(ParseJsonTest, RejectsDeepNestingBeforeParsing) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "{\"a\":";
  deep += "1";
  for (int i = 0; i < 100000; ++i) deep += "}";
  auto j = ParseJson(deep, 10 * 1024 * 1024, "event");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(j.status().message(), "event is nested deeper than 64");
  EXPECT_FALSE(ParseJson(std::string(65, '[') + std::string(65, ']'), 1000, "x").ok());
  EXPECT_TRUE(ParseJson(std::string(64, '[') + std::string(64, ']'), 1000, "x").ok());
}

TEST(ParseJsonTest, BracketsInsideStringsDoNotCount) {
  std::string text = "[\"" + std::string(200, '{') + "\\\"[\"]";
  EXPECT_EQ(JsonNestingDepth(text, 64), 1);
  EXPECT_TRUE(ParseJson(text, 1000, "x").ok());
}

TEST(ParseJsonTest, RejectsOversizedMalformedAndInvalidUtf8) {
  EXPECT_EQ(ParseJson(std::string(300, ' '), 256, "body").status().message(),
            "body is 300 bytes, more than 256");
  EXPECT_EQ(ParseJson("{\"a\":", 256, "body").status().message(), "body is not JSON");
  EXPECT_FALSE(ParseJson("\"\xff\xfe\"", 256, "body").ok());
  EXPECT_FALSE(ParseJson("1e999", 256, "body").ok());
  EXPECT_FALSE(ParseJson(std::string("{\"a\":\0}", 7), 256, "body").ok());
  EXPECT_FALSE(ParseJson("", 256, "body").ok());
}

TEST(JsonDumpSafeTest, ReplacesInvalidUtf8InsteadOfThrowing) {
  nlohmann::json j = {{"id", std::string("a\xff")}};
  EXPECT_THROW(j.dump(), nlohmann::json::type_error);
  EXPECT_EQ(JsonDumpSafe(j), "{\"id\":\"a\xef\xbf\xbd\"}");
}

}  // namespace
}  // namespace spk
