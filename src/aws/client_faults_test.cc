// AwsClient's retries proven against fault-injecting peers on 127.0.0.1: the
// real CurlTransport and SigV4, a scripted server, and a ManualClock so that
// backoff never sleeps. Every test asserts how many requests the server got.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/client.h"
#include "base/env.h"
#include "net/curl_transport.h"
#include "net/loopback_server.h"

namespace spk::aws {
namespace {

using namespace std::chrono_literals;

class StaticCredentials final : public CredentialProvider {
 public:
  Result<Credentials> Resolve() override {
    return Credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", std::nullopt,
                       "test"};
  }
  std::string name() const override { return "static"; }
};

// What the scripted server answers to one request.
enum class Fault {
  kOk,
  kThrottle,     // 400 ThrottlingException (JSON) / Throttling (query)
  kUnavailable,  // 503 ServiceUnavailable
  kValidation,   // 400 ValidationException / ValidationError
  kSlow,         // answers 200, but only after 600 ms
  kSkew,         // 400 RequestTimeTooSkewed with a Date header an hour ahead
};

std::string Header(const net::Headers& headers, const std::string& name) {
  for (const auto& [k, v] : headers) {
    if (net::HeaderNameEquals(k, name)) return v;
  }
  return "";
}

net::HttpResponse Answer(Fault fault, bool json) {
  net::HttpResponse r;
  r.headers = {{"Content-Type", json ? "application/x-amz-json-1.1" : "text/xml"},
               {"x-amzn-RequestId", "loopback"}};
  auto error = [&](int status, const char* code, const char* message) {
    r.status = status;
    r.body = json ? std::string(R"({"__type":")") + code + R"(","message":")" + message + "\"}"
                  : std::string("<ErrorResponse><Error><Code>") + code + "</Code><Message>" +
                        message +
                        "</Message></Error><RequestId>loopback</RequestId></ErrorResponse>";
  };
  switch (fault) {
    case Fault::kSlow:
      std::this_thread::sleep_for(600ms);
      [[fallthrough]];
    case Fault::kOk:
      r.status = 200;
      r.body = json ? R"({"clusterArns":["arn:aws:ecs:us-east-1:1:cluster/prod"]})"
                    : "<DescribeInstancesResponse><requestId>ok</requestId>"
                      "</DescribeInstancesResponse>";
      break;
    case Fault::kThrottle:
      error(400, json ? "ThrottlingException" : "Throttling", "Rate exceeded");
      break;
    case Fault::kUnavailable:
      error(503, "ServiceUnavailable", "Service is unavailable");
      break;
    case Fault::kValidation:
      error(400, json ? "ValidationException" : "ValidationError", "bad parameter");
      break;
    case Fault::kSkew:
      error(400, "RequestTimeTooSkewed",
            "The difference between the request time and the "
            "current time is too large.");
      r.headers.emplace_back("Date", "Mon, 01 Jan 2024 01:00:00 GMT");
      break;
  }
  return r;
}

// An AWS look-alike on 127.0.0.1 that answers request N with script[N], and
// `fallback` once the script runs out.
class ScriptedServer {
 public:
  ScriptedServer(std::vector<Fault> script, Fault fallback)
      : script_(std::move(script)),
        fallback_(fallback),
        server_([this](const net::ServerRequest& r) { return Handle(r); }) {}

  Status Start() { return server_.Start("127.0.0.1", 0); }
  std::string url() const { return server_.url(); }
  int requests() const { return count_.load(); }
  // Requests that carried a SigV4 Authorization header.
  int signed_requests() const { return signed_.load(); }
  std::vector<std::string> amz_dates() const {
    std::lock_guard<std::mutex> l(mu_);
    return amz_dates_;
  }
  void Stop() { server_.Stop(); }

 private:
  net::HttpResponse Handle(const net::ServerRequest& r) {
    int n = count_.fetch_add(1);
    if (Header(r.headers, "Authorization").rfind("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/", 0) ==
        0) {
      signed_++;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      amz_dates_.push_back(Header(r.headers, "X-Amz-Date"));
    }
    Fault fault = n < static_cast<int>(script_.size()) ? script_[n] : fallback_;
    bool json = !Header(r.headers, "X-Amz-Target").empty();
    return Answer(fault, json);
  }

  std::vector<Fault> script_;
  Fault fallback_;
  std::atomic<int> count_{0};
  std::atomic<int> signed_{0};
  mutable std::mutex mu_;
  std::vector<std::string> amz_dates_;
  net::LoopbackServer server_;  // last: stopped before the members its handler uses
};

// A bare TCP server on 127.0.0.1 for faults an HTTP library will not produce:
// for connection N it reads the request, then either resets the connection
// (RST, no reply) or answers 200 "{}" and closes.
class ResettingServer {
 public:
  explicit ResettingServer(int resets) : resets_(resets) {}
  ~ResettingServer() { Stop(); }

  Status Start() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return UnavailableError("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return UnavailableError("bind/listen on 127.0.0.1 failed");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
    return Status::Ok();
  }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      int n = connections_.fetch_add(1);
      ReadRequest(c);
      if (n < resets_) {
        linger l{1, 0};  // close() sends RST
        ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
      } else {
        static const std::string kReply =
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
            "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
        [[maybe_unused]] ssize_t w = ::send(c, kReply.data(), kReply.size(), MSG_NOSIGNAL);
      }
      ::close(c);
    }
  }

  // Reads headers and a Content-Length body, giving up after 2 s of silence.
  static void ReadRequest(int c) {
    std::string data;
    char buf[4096];
    size_t want = std::string::npos;
    while (data.size() < want) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) return;
      ssize_t got = ::recv(c, buf, sizeof(buf), 0);
      if (got <= 0) return;
      data.append(buf, static_cast<size_t>(got));
      auto end = data.find("\r\n\r\n");
      if (want == std::string::npos && end != std::string::npos) {
        size_t length = 0;
        auto cl = data.find("Content-Length:");
        if (cl == std::string::npos) cl = data.find("content-length:");
        if (cl != std::string::npos && cl < end)
          length = std::strtoul(data.c_str() + cl + 15, nullptr, 10);
        want = end + 4 + length;
      }
    }
  }

  int resets_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

class ClientFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Loopback only: never let a proxy from the environment carry these requests.
    ::setenv("NO_PROXY", "*", 1);
    ::setenv("no_proxy", "*", 1);
  }

  // A client of the server at `url`, with the given options.
  AwsClient& Client(const std::string& url, ClientOptions options = {}) {
    env_ = std::make_unique<MapEnv>(std::map<std::string, std::string>{{"AWS_ENDPOINT_URL", url}});
    endpoints_ = std::make_unique<EndpointResolver>(*env_, "us-east-1");
    client_ = std::make_unique<AwsClient>(http_, clock_, random_, credentials_, *endpoints_,
                                          std::move(options));
    return *client_;
  }

  // Starts the scripted server, owned by the fixture so that it stops only after
  // the transport has closed its kept-alive connections (else Stop() waits them out).
  ScriptedServer& StartServer(std::vector<Fault> script, Fault fallback) {
    server_ = std::make_unique<ScriptedServer>(std::move(script), fallback);
    Status started = server_->Start();
    EXPECT_TRUE(started.ok()) << started.ToString();
    return *server_;
  }

  static ClientOptions FastTimeouts() {
    ClientOptions options;
    options.connect_timeout = 1000ms;
    options.timeout = 200ms;
    return options;
  }

  std::unique_ptr<ScriptedServer> server_;  // first: destroyed last
  net::CurlTransport http_;
  ManualClock clock_;
  SeededRandom random_{2024};
  StaticCredentials credentials_;
  std::unique_ptr<MapEnv> env_;
  std::unique_ptr<EndpointResolver> endpoints_;
  std::unique_ptr<AwsClient> client_;
};

Result<nlohmann::json> ListClusters(AwsClient& client) {
  return client.CallJson(services::Ecs(), "ListClusters", nlohmann::json::object());
}

Result<XmlReply> DescribeInstances(AwsClient& client) {
  return client.CallQuery(services::Ec2(), "DescribeInstances", {{"InstanceId.1", "i-1"}});
}

TEST_F(ClientFaultsTest, ThrottlingRetriedUntilSuccess) {
  ScriptedServer& server = StartServer({Fault::kThrottle, Fault::kThrottle}, Fault::kOk);
  AwsClient& client = Client(server.url());

  auto reply = ListClusters(client);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["clusterArns"].size(), 1u);
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(server.signed_requests(), 3);
  EXPECT_EQ(client.stats().attempts, 3);
  EXPECT_EQ(client.stats().retries, 2);
  EXPECT_GT(clock_.slept(), Duration::zero());  // backed off, on the manual clock
  EXPECT_EQ(client.quota().available(), 500);   // 10 taken, 10 refunded
}

TEST_F(ClientFaultsTest, ServiceUnavailableRetriedUntilSuccess) {
  ScriptedServer& server = StartServer({Fault::kUnavailable}, Fault::kOk);
  AwsClient& client = Client(server.url());

  auto reply = DescribeInstances(client);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(XmlChildText(**reply, "requestId"), "ok");
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(client.stats().attempts, 2);
}

TEST_F(ClientFaultsTest, PersistentUnavailableFailsAfterMaxAttempts) {
  ScriptedServer& server = StartServer({}, Fault::kUnavailable);
  AwsClient& client = Client(server.url());

  auto reply = DescribeInstances(client);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable);
  ASSERT_TRUE(reply.status().remote());
  EXPECT_EQ(reply.status().remote()->http_status, 503);
  EXPECT_EQ(reply.status().remote()->request_id, "loopback");
  EXPECT_EQ(server.requests(), 3);
}

TEST_F(ClientFaultsTest, ValidationErrorNotRetried) {
  ScriptedServer& server = StartServer({Fault::kValidation}, Fault::kOk);
  AwsClient& client = Client(server.url());

  auto json = ListClusters(client);
  ASSERT_FALSE(json.ok());
  EXPECT_EQ(json.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(json.status().message(), "ecs ListClusters: ValidationException: bad parameter");
  EXPECT_EQ(server.requests(), 1);
  EXPECT_EQ(clock_.slept(), Duration::zero());
}

TEST_F(ClientFaultsTest, QueryValidationErrorNotRetried) {
  ScriptedServer& server = StartServer({Fault::kValidation}, Fault::kOk);
  AwsClient& client = Client(server.url());

  auto xml = DescribeInstances(client);
  ASSERT_FALSE(xml.ok());
  EXPECT_EQ(xml.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.requests(), 1);
}

TEST_F(ClientFaultsTest, QuotaStopsRetryStorm) {
  ScriptedServer& server = StartServer({}, Fault::kUnavailable);
  ClientOptions options;
  options.retry.quota_capacity = 50;  // 5 failing calls of 2 retries each drain it
  AwsClient& client = Client(server.url(), options);

  for (int call = 0; call < 5; ++call) {
    int before = server.requests();
    ASSERT_FALSE(DescribeInstances(client).ok());
    ASSERT_EQ(server.requests() - before, 3) << "call " << call;
  }
  EXPECT_EQ(client.quota().available(), 0);
  for (int call = 0; call < 10; ++call) {
    int before = server.requests();
    auto reply = DescribeInstances(client);
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.status().message().find("retry quota exhausted"), std::string::npos);
    ASSERT_EQ(server.requests() - before, 1) << "call " << call;
  }
  EXPECT_EQ(server.requests(), 5 * 3 + 10);
  EXPECT_EQ(client.stats().retries, 10);
}

TEST_F(ClientFaultsTest, TimeoutsRetried) {
  ScriptedServer& server = StartServer({Fault::kSlow, Fault::kSlow}, Fault::kOk);
  AwsClient& client = Client(server.url(), FastTimeouts());

  auto reply = ListClusters(client);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(server.requests(), 3);
  EXPECT_EQ(client.stats().attempts, 3);
  EXPECT_EQ(client.stats().retries, 2);
  EXPECT_EQ(client.quota().available(), 500);  // 2 x 10 taken, 20 refunded
}

TEST_F(ClientFaultsTest, PersistentTimeoutFailsAsDeadlineExceeded) {
  ScriptedServer& server = StartServer({}, Fault::kSlow);
  ClientOptions options = FastTimeouts();
  options.retry.max_attempts = 2;
  AwsClient& client = Client(server.url(), options);

  auto reply = ListClusters(client);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kDeadlineExceeded) << reply.status().ToString();
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(client.quota().available(), 490);  // one timeout retry at 10
}

TEST_F(ClientFaultsTest, ConnectionResetRetried) {
  ResettingServer server(/*resets=*/2);
  ASSERT_TRUE(server.Start().ok());
  AwsClient& client = Client(server.url());

  auto reply = ListClusters(client);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(*reply, nlohmann::json::object());
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(client.stats().attempts, 3);
}

TEST_F(ClientFaultsTest, ConnectionResetsExhaustAttempts) {
  ResettingServer server(/*resets=*/100);
  ASSERT_TRUE(server.Start().ok());
  AwsClient& client = Client(server.url());

  auto reply = ListClusters(client);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), StatusCode::kUnavailable) << reply.status().ToString();
  EXPECT_EQ(server.connections(), 3);
}

TEST_F(ClientFaultsTest, ClockSkewCorrectedFromDateHeader) {
  ScriptedServer& server = StartServer({Fault::kSkew}, Fault::kOk);
  AwsClient& client = Client(server.url());

  auto reply = ListClusters(client);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(client.clock_skew(), std::chrono::hours(1));
  EXPECT_EQ(server.amz_dates(), (std::vector<std::string>{"20240101T000000Z", "20240101T010000Z"}));
}

}  // namespace
}  // namespace spk::aws
