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

TEST(LogTest, TextEscapesControlCharactersSoNoLineCanBeForged) {
  // A value from outside with a newline and a fake second line.
  const std::string forged = "oops\n2024-01-01T00:00:00.000Z info published sink=evil";
  std::string line =
      Render(Format::kText, Level::kWarn, "T", "delivery failed", {{"error", forged}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line,
            "T warn delivery failed error=\"oops\\n2024-01-01T00:00:00.000Z info published "
            "sink=evil\"");
  struct Case {
    std::string value;
    std::string want;  // as rendered after "k="
  };
  const Case cases[] = {
      {"a\rb", "\"a\\rb\""},
      {"tab\there", "\"tab\\there\""},
      {"\x1b[31mred", "\"\\x1b[31mred\""},  // a terminal escape sequence
      {std::string("nul\0byte", 8), "\"nul\\x00byte\""},
      {"del\x7f", "\"del\\x7f\""},
      {"csi\xc2\x9b"
       "31m",
       "\"csi\\u009b31m\""},  // C1 control U+009B
      {"bidi\xe2\x80\xae"
       "cba",
       "\"bidi\\u202ecba\""},  // right-to-left override
      {"line\xe2\x80\xa8sep", "\"line\\u2028sep\""},
      {"bad\xff\xfe", "\"bad\\xff\\xfe\""},  // not UTF-8
      {"overlong\xc0\xaf", "\"overlong\\xc0\\xaf\""},
      {"caf\xc3\xa9", "caf\xc3\xa9"},  // UTF-8 text is kept as is
      {"quote\"back\\slash", "\"quote\\\"back\\\\slash\""},
      {"plain", "plain"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Render(Format::kText, Level::kInfo, "T", "m", {{"k", c.value}}),
              "T info m k=" + c.want)
        << c.want;
  }
  // Keys and the message are escaped too.
  EXPECT_EQ(Render(Format::kText, Level::kInfo, "T", "a\nb", {{"k\n", "v"}}),
            "T info a\\nb k\\n=v");
}

TEST(LogTest, JsonEscapesControlCharacters) {
  std::string line = Render(Format::kJson, Level::kInfo, "T", "m", {{"k", "\x1b[31m\r\nx\xff"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["k"], "\x1b[31m\r\nx\xef\xbf\xbd");  // invalid UTF-8 replaced
}

TEST(LogTest, JsonEscapesDeceptiveCodePointsAndDel) {
  // U+202E (right-to-left override), U+009B (a terminal's CSI), U+2028, DEL.
  const std::string value =
      "a\xe2\x80\xae"
      "b\xc2\x9b"
      "c\xe2\x80\xa8"
      "d\x7f"
      "e\xc3\xa9";
  std::string line = Render(Format::kJson, Level::kInfo, "T", "m\xe2\x80\xae", {{"k", value}});
  EXPECT_EQ(line.find("\xe2\x80\xae"), std::string::npos) << line;
  EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos) << line;
  EXPECT_EQ(line.find('\x7f'), std::string::npos) << line;
  EXPECT_NE(line.find("a\\u202eb\\u009bc\\u2028d\\u007fe\xc3\xa9"), std::string::npos) << line;
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["k"], value);  // the same value
  EXPECT_EQ(j["msg"], "m\xe2\x80\xae");
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
