// AwsClient: one signed, retried call to an AWS service, in the service's protocol.
//
// Each call: resolve the endpoint, serialise, sign (SigV4, POST body), send,
// parse the reply or the error, and retry per the standard mode (retry.h).
// A RequestTimeTooSkewed-style error corrects the signing clock by the offset
// the server's Date header shows, and is retried. Thread-safe.
//
// A call deadline (SetCallDeadline, ScopedCallDeadline) bounds every call:
// the Lambda runtime sets its invocation's budget, so that no call (with its
// retries) runs past the function's timeout. Without one (the default), calls
// take what their timeouts and retries take.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <pugixml.hpp>
#include <string>

#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/retry.h"
#include "aws/service.h"
#include "base/clock.h"
#include "base/random.h"
#include "base/status.h"
#include "net/http.h"

namespace spk::aws {

// Query-protocol parameters, flattened: {"Filter.1.Name", "instance-id"}.
using QueryParams = std::map<std::string, std::string>;
// A parsed XML reply; the document root is the "<Action>Response" element's parent.
using XmlReply = std::shared_ptr<pugi::xml_document>;

struct ClientOptions {
  RetryOptions retry;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds timeout{20000};  // per attempt
  std::string user_agent = "spotkeeper";
  // With a call deadline: an attempt is started only with at least this much
  // time left (a shorter one could not get an answer).
  std::chrono::milliseconds min_attempt_time{100};
};

// Per-call settings that differ from the client's.
struct CallOptions {
  // Per-attempt timeout instead of ClientOptions::timeout (e.g. an SQS long
  // poll holds the request open for its wait time).
  std::optional<std::chrono::milliseconds> timeout;
};

// Counters of what a client did, for metrics and tests.
struct ClientStats {
  std::atomic<int64_t> calls{0};     // logical calls
  std::atomic<int64_t> attempts{0};  // HTTP requests sent
  std::atomic<int64_t> retries{0};
  std::atomic<int64_t> errors{0};  // calls that finally failed

  // Calls that finally failed, by service (signing name: "ecs", "sqs", ...)
  // and code: the AWS error code ("ThrottlingException"), else the Status
  // code's name ("UNAVAILABLE" for a transport failure, ...).
  using ErrorKey = std::pair<std::string, std::string>;
  std::map<ErrorKey, int64_t> ErrorsByCode() const;
  void RecordError(const std::string& service, const Status& status);

 private:
  mutable std::mutex mu_;
  std::map<ErrorKey, int64_t> errors_by_code_;
};

class AwsClient {
 public:
  // All references must outlive the client. Backoff sleeps on `clock`.
  AwsClient(net::HttpTransport& http, Clock& clock, Random& random, CredentialProvider& credentials,
            const EndpointResolver& endpoints, ClientOptions options = {});

  // Query protocol: POSTs Action, Version and `params` form-encoded; returns
  // the XML reply. Errors as in error.h; kInternal when a 2xx body is not XML.
  Result<XmlReply> CallQuery(const ServiceInfo& service, const std::string& action,
                             const QueryParams& params, const CallOptions& call = {});

  // JSON 1.0/1.1 protocol: POSTs `body` with X-Amz-Target <prefix>.<operation>;
  // returns the parsed reply ({} for an empty body).
  Result<nlohmann::json> CallJson(const ServiceInfo& service, const std::string& operation,
                                  const nlohmann::json& body, const CallOptions& call = {});

  const std::string& region() const { return endpoints_.region(); }
  const EndpointResolver& endpoints() const { return endpoints_; }
  const RetryQuota& quota() const { return quota_; }
  const ClientStats& stats() const { return stats_; }
  // The correction applied to the clock when signing (server time - local time).
  Duration clock_skew() const;

  // The deadline (on the client's clock's monotonic time) for every call of
  // this client, from any thread; nullopt: none (the default). While set:
  //  - each attempt's connect and total timeouts are at most the time left;
  //  - an attempt starts only with at least min_attempt_time left, else the
  //    call fails at once with kDeadlineExceeded
  //    "<service> <operation>: call deadline: N ms left" (nothing is sent);
  //  - a retry whose backoff sleep would end less than min_attempt_time
  //    before the deadline is not made: the call fails with the last
  //    attempt's Status, noted "no time left to retry: N ms to the call deadline".
  void SetCallDeadline(std::optional<MonoTime> deadline);
  std::optional<MonoTime> call_deadline() const;

 private:
  // Sends with signing and retries; returns the 2xx reply or the error Status.
  Result<net::HttpResponse> Send(const ServiceInfo& service, const std::string& operation,
                                 net::HttpRequest request, const CallOptions& call);

  net::HttpTransport& http_;
  Clock& clock_;  // non-const: backoff sleeps on it
  Random& random_;
  CredentialProvider& credentials_;
  const EndpointResolver& endpoints_;
  ClientOptions options_;
  RetryQuota quota_;
  ClientStats stats_;
  std::atomic<int64_t> skew_ns_{0};
  // MonoTime's count since its epoch; kNoDeadline: none.
  static constexpr int64_t kNoDeadline = INT64_MAX;
  std::atomic<int64_t> deadline_ns_{kNoDeadline};
};

// Sets the client's call deadline for a scope and restores the previous one
// (usually none) when it ends.
class ScopedCallDeadline {
 public:
  ScopedCallDeadline(AwsClient& client, std::optional<MonoTime> deadline)
      : client_(client), previous_(client.call_deadline()) {
    client_.SetCallDeadline(deadline);
  }
  ~ScopedCallDeadline() { client_.SetCallDeadline(previous_); }
  ScopedCallDeadline(const ScopedCallDeadline&) = delete;
  ScopedCallDeadline& operator=(const ScopedCallDeadline&) = delete;

 private:
  AwsClient& client_;
  std::optional<MonoTime> previous_;
};

// XML helpers for reading query-protocol replies.
// The text of the first descendant element named `name`, "" when absent.
std::string XmlChildText(const pugi::xml_node& node, const char* name);

}  // namespace spk::aws
