#include "net/loopback_server.h"

#include <gtest/gtest.h>

namespace spk::net {
namespace {

HttpResponse Ok(const ServerRequest&) {
  HttpResponse r;
  r.status = 200;
  return r;
}

TEST(LoopbackServerTest, ASecondServerCannotShareTheAddress) {
  LoopbackServer first(Ok);
  ASSERT_TRUE(first.Start().ok());
  LoopbackServer second(Ok);
  Status status = second.Start("127.0.0.1", first.port());
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("already in use"), std::string::npos) << status.ToString();
}

TEST(LoopbackServerTest, TheAddressIsFreeAgainAfterStop) {
  LoopbackServer first(Ok);
  ASSERT_TRUE(first.Start().ok());
  const int port = first.port();
  first.Stop();
  LoopbackServer again(Ok);
  EXPECT_TRUE(again.Start("127.0.0.1", port).ok());
}

}  // namespace
}  // namespace spk::net
