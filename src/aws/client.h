// AwsClient: one signed, retried call to an AWS service, in the service's protocol.
//
// Each call: resolve the endpoint, serialise, sign (SigV4, POST body), send,
// parse the reply or the error, and retry per the standard mode (retry.h).
// A RequestTimeTooSkewed-style error corrects the signing clock by the offset
// the server's Date header shows, and is retried. Thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
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
  std::atomic<int64_t> errors{0};    // calls that finally failed

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
  AwsClient(net::HttpTransport& http, Clock& clock, Random& random,
            CredentialProvider& credentials, const EndpointResolver& endpoints,
            ClientOptions options = {});

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
};

// XML helpers for reading query-protocol replies.
// The text of the first descendant element named `name`, "" when absent.
std::string XmlChildText(const pugi::xml_node& node, const char* name);

}  // namespace spk::aws
