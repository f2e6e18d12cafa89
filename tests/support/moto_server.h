// MotoServer: a real moto_server (python3 -m moto.server) on a free loopback
// port, with SigV4 signature checking on, for integration tests.
//
// Start():
//   1. runs `$SPK_PYTHON -m moto.server -H 127.0.0.1 -p 0` (SPK_PYTHON defaults
//      to python3 from PATH) with INITIAL_NO_AUTH_ACTION_COUNT=4 in its
//      environment and its output in a temporary log file; the child gets
//      SIGTERM if the test process dies;
//   2. reads the port moto chose from its "Running on http://127.0.0.1:PORT"
//      line and waits until the port accepts connections (up to start_timeout);
//   3. spends exactly the 4 unauthenticated calls on IAM: CreateUser,
//      CreateAccessKey, CreatePolicy (Action "*" on Resource "*") and
//      AttachUserPolicy. From then on moto checks every request's signature
//      against that key and its policy.
// The destructor stops the server: SIGTERM, SIGKILL after 5 s, waitpid.
//
// One server per test suite (SetUpTestSuite) keeps a run fast: moto's state is
// shared by the suite's tests, so give each test's resources unique names.
// Everything stays on 127.0.0.1: clients get AWS_ENDPOINT_URL pointing at the
// server and AWS_EC2_METADATA_DISABLED=true.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/service.h"
#include "base/env.h"
#include "base/random.h"
#include "base/status.h"
#include "net/curl_transport.h"

namespace spk::testsupport {

// IAM (query protocol 2010-05-08, signing name "iam", region us-east-1): only
// tests call it, to create moto's user; the product never does.
const aws::ServiceInfo& IamService();

// Retry options for tests: the standard mode with short backoff, so that a
// retried call does not slow the run.
aws::ClientOptions TestClientOptions();

// An AwsClient with everything it refers to, over a MapEnv.
struct MotoClient {
  MotoClient(MapEnv environment, aws::ClientOptions options);
  MotoClient(const MotoClient&) = delete;
  MotoClient& operator=(const MotoClient&) = delete;

  MapEnv env;
  net::CurlTransport http;
  SeededRandom random;
  aws::EnvironmentProvider credentials;
  aws::EndpointResolver endpoints;
  aws::AwsClient client;
};

struct MotoOptions {
  std::chrono::seconds start_timeout{20};
  std::string user_name = "spotkeeper-test";
};

class MotoServer {
 public:
  // Starts the server and its IAM user; kUnavailable (with the end of moto's
  // log) when python3, moto or the port does not come up in time.
  static Result<std::unique_ptr<MotoServer>> Start(const MotoOptions& options = {});
  ~MotoServer();
  MotoServer(const MotoServer&) = delete;
  MotoServer& operator=(const MotoServer&) = delete;

  const std::string& endpoint() const { return endpoint_; }  // "http://127.0.0.1:PORT"
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& access_key_id() const { return access_key_id_; }
  const std::string& secret_access_key() const { return secret_access_key_; }
  const std::string& user_arn() const { return user_arn_; }  // "arn:aws:iam::123456789012:user/..."

  // The environment a product process talking to this server gets:
  // AWS_ENDPOINT_URL, AWS_REGION=us-east-1, the user's keys,
  // AWS_EC2_METADATA_DISABLED=true, and config/credentials files that are empty.
  MapEnv Env() const;
  // A client signing with the user's key.
  std::unique_ptr<MotoClient> NewClient(aws::ClientOptions options = TestClientOptions()) const;
  // A client signing with the user's key id but `secret` (to test rejection).
  std::unique_ptr<MotoClient> NewClientWithSecret(
      const std::string& secret, aws::ClientOptions options = TestClientOptions()) const;

  // The last `bytes` of moto's output (for failure messages).
  std::string LogTail(size_t bytes = 4000) const;
  // Stops the server now (idempotent).
  void Stop();

 private:
  MotoServer() = default;
  Status Launch(const MotoOptions& options);
  Status CreateUser(const MotoOptions& options);

  pid_t pid_ = -1;
  int port_ = 0;
  std::string endpoint_;
  std::string log_path_;
  std::string access_key_id_;
  std::string secret_access_key_;
  std::string user_arn_;
};

}  // namespace spk::testsupport
