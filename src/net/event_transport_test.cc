// What only EventHttpTransport does (src/net/transport_test.cc runs the tests
// every transport must pass against it too).
#include "net/event_transport.h"

#include <gtest/gtest.h>

#include "net/loopback_server.h"

namespace spk::net {
namespace {

TEST(EventHttpTransportTest, RefusesHttpsAndUnknownMethods) {
  EventHttpTransport http;
  HttpRequest req;
  req.url = "https://sns.us-east-1.amazonaws.com/";
  auto r = http.Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("only http://"), std::string::npos);

  req.url = "http://127.0.0.1:9/";
  req.method = "BREW";
  EXPECT_EQ(http.Send(req).status().code(), StatusCode::kInvalidArgument);
}

TEST(EventHttpTransportTest, OversizedReplyIsAnError) {
  LoopbackServer server([](const ServerRequest&) {
    HttpResponse out;
    out.status = 200;
    out.body.assign(EventHttpTransport::kMaxBodyBytes + 1, 'x');
    return out;
  });
  ASSERT_TRUE(server.Start().ok());
  EventHttpTransport http;
  HttpRequest req;
  req.url = server.url() + "/";
  auto r = http.Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

}  // namespace
}  // namespace spk::net
