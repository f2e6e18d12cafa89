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
  std::string line = Render(Format::kJson, Level::kWarn, "T", "error streak began",
                            {{"error", "line1\nline2"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["msg"], "error streak began");
  EXPECT_EQ(j["error"], "line1\nline2");
  EXPECT_EQ(j["time"], "T");
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
