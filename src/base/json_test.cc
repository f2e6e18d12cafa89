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

}  // namespace
}  // namespace spk
