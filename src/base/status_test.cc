#include "base/status.h"

#include <gtest/gtest.h>

namespace spk {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  SPK_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

Status CheckEven(int x) {
  SPK_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, RetryableCodes) {
  EXPECT_TRUE(UnavailableError("x").retryable());
  EXPECT_TRUE(DeadlineExceededError("x").retryable());
  EXPECT_TRUE(Status(StatusCode::kResourceExhausted, "x").retryable());
  EXPECT_FALSE(InvalidArgumentError("x").retryable());
  EXPECT_FALSE(UnauthenticatedError("x").retryable());
  EXPECT_FALSE(PermissionDeniedError("x").retryable());
}

TEST(StatusTest, ToStringCarriesRemoteDetails) {
  Status s = Status(StatusCode::kResourceExhausted, "Rate exceeded")
                 .set_remote({"ecs", "ThrottlingException", 400, "req-1"});
  EXPECT_EQ(s.ToString(),
            "RESOURCE_EXHAUSTED: Rate exceeded [ecs ThrottlingException http=400 request-id=req-1]");
  Status c = s.WithContext("drain");
  EXPECT_EQ(c.message(), "drain: Rate exceeded");
  ASSERT_TRUE(c.remote().has_value());
  EXPECT_EQ(c.remote()->error_code, "ThrottlingException");
}

TEST(ResultTest, ValueAndErrorPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd: 3");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(5).ok());
}

}  // namespace
}  // namespace spk

namespace spk {
namespace {

TEST(StatusCodeNameTest, RoundTripsEveryCode) {
  for (int i = 0; i <= static_cast<int>(StatusCode::kUnimplemented); ++i) {
    auto code = static_cast<StatusCode>(i);
    StatusCode back = StatusCode::kInternal;
    ASSERT_TRUE(StatusCodeFromName(StatusCodeName(code), &back)) << StatusCodeName(code);
    EXPECT_EQ(back, code);
  }
  StatusCode unused;
  EXPECT_FALSE(StatusCodeFromName("NOPE", &unused));
  EXPECT_FALSE(StatusCodeFromName("unavailable", &unused));
}

}  // namespace
}  // namespace spk
