// The real transports against a LoopbackServer, on 127.0.0.1; FakeTransport.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "net/curl_transport.h"
#include "net/event_transport.h"
#include "net/fake_transport.h"
#include "net/loopback_server.h"

namespace spk::net {
namespace {

using namespace std::chrono_literals;

// What every real transport must do, run against each of them.
template <typename T>
class TransportTest : public ::testing::Test {};
using Transports = ::testing::Types<CurlTransport, EventHttpTransport>;
TYPED_TEST_SUITE(TransportTest, Transports);

TYPED_TEST(TransportTest, RoundTripsMethodHeadersAndBody) {
  LoopbackServer server([](const ServerRequest& r) {
    HttpResponse out;
    out.status = r.path == "/missing" ? 404 : 200;
    std::string echo = r.method + " " + r.path + "?" + r.query + " ";
    for (const char* name : {"X-Test", "Host"})
      for (const auto& [k, v] : r.headers)
        if (HeaderNameEquals(k, name)) echo += v + ";";
    out.body = echo + " " + r.body;
    out.headers = {{"X-Reply", "yes"}, {"Content-Type", "text/plain"}};
    return out;
  });
  ASSERT_TRUE(server.Start().ok());
  TypeParam http;
  HttpRequest req;
  for (const char* method : {"POST", "PUT"}) {
    req.method = method;
    req.url = server.url() + "/path?a=1";
    req.headers = {{"X-Test", "hello"}};
    req.body = "payload";
    auto r = http.Send(req);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, std::string(method) + " /path?a=1 hello;127.0.0.1:" +
                           std::to_string(server.port()) + "; payload");
    EXPECT_EQ(r->Header("x-reply"), "yes");
  }

  req.method = "GET";
  req.url = server.url() + "/missing";
  req.body.clear();
  auto r = http.Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 404);  // an HTTP error status is a reply, not a transport failure
}

TYPED_TEST(TransportTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    LoopbackServer s([](const ServerRequest&) { return HttpResponse{}; });
    ASSERT_TRUE(s.Start().ok());
    port = s.port();
  }  // stopped: nothing listens there now
  TypeParam http;
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/";
  auto r = http.Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
}

TYPED_TEST(TransportTest, SlowServerHitsTotalTimeoutAndTheNextCallWorks) {
  std::atomic<bool> slow{true};
  LoopbackServer server([&](const ServerRequest&) {
    if (slow.load()) std::this_thread::sleep_for(600ms);
    HttpResponse out;
    out.status = 200;
    out.body = "ok";
    return out;
  });
  ASSERT_TRUE(server.Start().ok());
  TypeParam http;
  HttpRequest req;
  req.url = server.url() + "/";
  req.total_timeout = 150ms;
  auto r = http.Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  slow = false;
  req.total_timeout = 2s;
  r = http.Send(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "ok");
}

TYPED_TEST(TransportTest, ReusesConnectionsAndRecoversWhenTheServerClosesThem) {
  std::mutex mu;
  std::set<int> client_ports;
  std::atomic<bool> close{false};
  LoopbackServer server([&](const ServerRequest& r) {
    std::lock_guard<std::mutex> l(mu);
    client_ports.insert(r.remote_port);
    HttpResponse out;
    out.status = 200;
    out.body = "ok";
    if (close.load()) out.headers = {{"Connection", "close"}};
    return out;
  });
  ASSERT_TRUE(server.Start().ok());
  TypeParam http;
  HttpRequest req;
  req.url = server.url() + "/";
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(http.Send(req).ok());
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(client_ports.size(), 1u) << "20 sequential requests should share one connection";
  }
  close = true;
  for (int i = 0; i < 3; ++i) {
    auto r = http.Send(req);
    ASSERT_TRUE(r.ok()) << i << ": " << r.status().ToString();
    EXPECT_EQ(r->body, "ok");
  }
}

TYPED_TEST(TransportTest, MalformedUrlIsInvalidArgument) {
  TypeParam http;
  HttpRequest req;
  req.url = "notaurl://";
  auto r = http.Send(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(FakeTransportTest, QueueThenHandlerAndRecordsRequests) {
  FakeTransport fake([](const HttpRequest& r) -> Result<HttpResponse> {
    HttpResponse out;
    out.status = 200;
    out.body = "handler:" + r.url;
    return out;
  });
  fake.Push(503, "busy");
  HttpRequest req;
  req.url = "http://x/";
  EXPECT_EQ(fake.Send(req)->status, 503);
  EXPECT_EQ(fake.Send(req)->body, "handler:http://x/");
  EXPECT_EQ(fake.request_count(), 2u);
}

}  // namespace
}  // namespace spk::net
