#include "cli/controller_command.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>

#include "net/fake_transport.h"
#include "net/loopback_server.h"

namespace spk::cli {
namespace {

// RunController with `options` on a queue at a dead loopback port, stopped
// at once: its exit code, its stderr and how many AWS requests it made.
struct Ran {
  int rc = 0;
  std::string err;
  size_t requests = 0;
};
Ran RunStopped(ControllerRunOptions options) {
  options.queue_url = "http://127.0.0.1:1/123456789012/notices";
  MapEnv env(std::map<std::string, std::string>{{"AWS_REGION", "us-east-1"}});
  net::FakeTransport http;
  ManualClock clock;
  SeededRandom random(1);
  std::atomic<bool> stop{true};
  testing::internal::CaptureStderr();
  Ran r;
  r.rc = RunController(options, env, http, clock, random, stop);
  r.err = testing::internal::GetCapturedStderr();
  r.requests = http.request_count();
  return r;
}

TEST(ControllerCommandTest, ATakenMetricsAddressExits1BeforeAnyAwsCall) {
  // Another process (here: a server of this one) already listens there.
  net::LoopbackServer other([](const net::ServerRequest&) { return net::HttpResponse{}; });
  ASSERT_TRUE(other.Start().ok());
  ControllerRunOptions options;
  options.metrics_listen = "127.0.0.1:" + std::to_string(other.port());
  Ran r = RunStopped(options);
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("cannot listen on " + options.metrics_listen), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("already in use"), std::string::npos) << r.err;
  EXPECT_EQ(r.requests, 0u);
}

TEST(ControllerCommandTest, ABadVisibilityTimeoutIsAUsageErrorBeforeAnyAwsCall) {
  for (const auto& [value, says] : std::map<std::string, std::string>{
           {"soon", "--visibility-timeout: not a duration: \"soon\""},
           {"1s", "--visibility-timeout must be between 2s and 12h"},
           {"721m", "--visibility-timeout must be between 2s and 12h"}}) {
    ControllerRunOptions options;
    options.visibility_timeout = value;
    Ran r = RunStopped(options);
    EXPECT_EQ(r.rc, 2) << value;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_EQ(r.requests, 0u);
  }
}

TEST(ControllerCommandTest, ParseListenAddress) {
  std::string host;
  int port = -1;
  EXPECT_TRUE(ParseListenAddress("127.0.0.1:9102", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9102);
  EXPECT_TRUE(ParseListenAddress("[::1]:0", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  for (const char* bad : {"9102", ":9102", "host:", "host:65536", "host:12a", "host:123456"}) {
    EXPECT_FALSE(ParseListenAddress(bad, &host, &port)) << bad;
  }
}

}  // namespace
}  // namespace spk::cli
