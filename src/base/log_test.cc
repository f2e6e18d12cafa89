#include "base/log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace spk::log {
namespace {

TEST(LogTest, TextQuotesValuesThatNeedIt) {
  EXPECT_EQ(Render(Format::kText, Level::kInfo, "T", "notice seen",
                   {{"kind", "spot-interruption"}, {"reason", "two words"}, {"empty", ""}}),
            "T info notice seen kind=spot-interruption reason=\"two words\" empty=\"\"");
}

TEST(LogTest, JsonIsOneObjectPerLine) {
  std::string line =
      Render(Format::kJson, Level::kWarn, "T", "error streak began", {{"error", "line1\nline2"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["msg"], "error streak began");
  EXPECT_EQ(j["error"], "line1\nline2");
  EXPECT_EQ(j["time"], "T");
}

TEST(LogTest, AFieldNeverOverwritesTheLinesOwnTimeLevelOrMessage) {
  std::string line = Render(Format::kJson, Level::kInfo, "2026-12-02T02:12:25.000Z", "notice seen",
                            {{"time", "2026-12-02T02:14:25Z"}, {"level", "x"}, {"msg", "y"}});
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2026-12-02T02:12:25.000Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "notice seen");
  EXPECT_EQ(j["fields.time"], "2026-12-02T02:14:25Z");
  EXPECT_EQ(j["fields.level"], "x");
  EXPECT_EQ(j["fields.msg"], "y");
}

TEST(LogTest, ParsesNames) {
  Format f;
  Level l;
  EXPECT_TRUE(ParseFormat("json", &f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(ParseFormat("xml", &f));
  EXPECT_TRUE(ParseLevel("warning", &l));
  EXPECT_EQ(l, Level::kWarn);
  EXPECT_FALSE(ParseLevel("loud", &l));
}

}  // namespace
}  // namespace spk::log
