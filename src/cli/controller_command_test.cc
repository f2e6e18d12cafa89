#include "cli/controller_command.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <sstream>
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
  if (options.queue_url.empty()) options.queue_url = "http://127.0.0.1:1/123456789012/notices";
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

TEST(ControllerCommandTest, AQueueOfAnotherRegionIsAUsageErrorBeforeAnyAwsCall) {
  ControllerRunOptions options;  // AWS_REGION=us-east-1
  options.queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/notices";
  Ran r = RunStopped(options);
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err,
            "spotkeeper controller: --queue-url (SPOTKEEPER_QUEUE_URL) names a queue in "
            "eu-west-1, but the AWS region is us-east-1: SQS answers for a queue only at its own "
            "region's endpoint (set the region to eu-west-1, or use a queue of us-east-1)\n");
  EXPECT_EQ(r.requests, 0u);
  options.controller.region = "eu-west-1";  // --region
  options.metrics_listen = "off";
  r = RunStopped(options);
  EXPECT_EQ(r.rc, 0) << r.err;
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

namespace spk::cli {
namespace {

TEST(HealthcheckTest, TwoHundredIsHealthyAndAnythingElseIsNot) {
  net::FakeTransport http;
  HealthcheckOptions options;
  std::ostringstream out;
  http.Push(200, "ok\n");
  EXPECT_EQ(RunHealthcheck(options, http, out), 0);
  EXPECT_EQ(out.str(), "healthy: ok\n");
  ASSERT_EQ(http.requests().size(), 1u);
  EXPECT_EQ(http.requests()[0].url, "http://127.0.0.1:9102/healthz");
  EXPECT_EQ(http.requests()[0].method, "GET");
  EXPECT_EQ(http.requests()[0].total_timeout, std::chrono::milliseconds(5000));

  out.str("");
  http.Push(503, "stalled: a decision has been in flight for 920 s (the drains go on)\n");
  EXPECT_EQ(RunHealthcheck(options, http, out), 1);
  EXPECT_EQ(out.str(),
            "unhealthy: HTTP 503: stalled: a decision has been in flight for 920 s (the drains "
            "go on)\n");

  out.str("");
  http.Push(UnavailableError("connection refused"));
  EXPECT_EQ(RunHealthcheck(options, http, out), 1);
  EXPECT_EQ(out.str(), "unhealthy: no answer: connection refused\n");

  // A body read from outside: one line, cut, no control characters.
  out.str("");
  http.Push(500, "\x1b[31mred" + std::string(300, 'x') + "\nsecond line");
  EXPECT_EQ(RunHealthcheck(options, http, out), 1);
  EXPECT_EQ(out.str().find('\x1b'), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("second line"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("?[31mred"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("[truncated, 308 bytes]"), std::string::npos) << out.str();
  out.str("");
  http.Push(503,
            "a\xe2\x80\xae"
            "b\xc2\x9b"
            "c");  // a bidi override, a C1 CSI
  EXPECT_EQ(RunHealthcheck(options, http, out), 1);
  EXPECT_EQ(out.str(), "unhealthy: HTTP 503: a???b??c\n");
}

TEST(HealthcheckTest, AMalformedUrlOrTimeoutIsAUsageErrorAndAsksNothing) {
  net::FakeTransport http;
  std::ostringstream out;
  HealthcheckOptions bad_url;
  bad_url.url = "127.0.0.1:9102/healthz";
  EXPECT_EQ(RunHealthcheck(bad_url, http, out), 2);
  EXPECT_NE(out.str().find("--url must be an http:// or https:// URL"), std::string::npos);
  for (const char* timeout : {"soon", "0s", "61s", "-1s", "0.5ms"}) {
    HealthcheckOptions options;
    options.timeout = timeout;
    out.str("");
    EXPECT_EQ(RunHealthcheck(options, http, out), 2) << timeout;
    EXPECT_NE(out.str().find("--timeout must be a duration from 1ms to 60s"), std::string::npos)
        << out.str();
  }
  HealthcheckOptions quick;
  quick.timeout = "250ms";
  http.Push(200, "ok\n");
  EXPECT_EQ(RunHealthcheck(quick, http, out), 0);
  ASSERT_EQ(http.requests().size(), 1u);  // only the valid one asked
  EXPECT_EQ(http.requests()[0].total_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(http.requests()[0].connect_timeout, std::chrono::milliseconds(250));
}

}  // namespace
}  // namespace spk::cli
