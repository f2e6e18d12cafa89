// A client of the EC2 instance metadata service (IMDS).
//
// IMDSv2: a session token from PUT /latest/api/token (TTL header), reused for
// every read, fetched again shortly before it expires or when a read answers
// 401. Falls back to IMDSv1 (no token) only when the token call is not
// supported (404/403/405) or when forced. Honours AWS_EC2_METADATA_SERVICE_ENDPOINT
// and AWS_EC2_METADATA_DISABLED. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/env.h"
#include "base/status.h"
#include "net/http.h"

namespace spk::aws {

struct ImdsOptions {
  std::string endpoint = "http://169.254.169.254";
  bool disabled = false;
  bool force_v1 = false;
  std::chrono::milliseconds timeout{1000};  // per request, connect included
  int token_ttl_seconds = 21600;

  // Defaults overridden by AWS_EC2_METADATA_SERVICE_ENDPOINT and AWS_EC2_METADATA_DISABLED.
  static ImdsOptions FromEnv(const Env& env);
};

class ImdsClient {
 public:
  enum class Mode { kUnknown, kV2, kV1 };

  ImdsClient(net::HttpTransport& http, const Clock& clock, ImdsOptions options);

  // The body at `path` ("/latest/meta-data/instance-id"). Errors:
  //   kNotFound          404: the path has no value (for notices: no notice)
  //   kFailedPrecondition IMDS is disabled by configuration
  //   kUnavailable       refused, reset, 5xx, or 401 after a fresh token
  //   kDeadlineExceeded  timed out
  //   kPermissionDenied  403 on a read (metadata access turned off for the instance)
  //   kInvalidArgument   400 on the token request (bad TTL)
  //   kInternal          any other status, or an empty token
  Result<std::string> Get(const std::string& path);

  // Which protocol the last successful call used.
  Mode mode() const;
  const ImdsOptions& options() const { return options_; }

 private:
  Result<std::string> Token(bool force_refresh);

  net::HttpTransport& http_;
  const Clock& clock_;
  ImdsOptions options_;
  mutable std::mutex mu_;
  Mode mode_ = Mode::kUnknown;
  std::string token_;
  MonoTime token_expiry_{};
};

}  // namespace spk::aws
