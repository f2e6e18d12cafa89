// AWS error replies: parsing them from each protocol, and mapping each to a
// Status code that says whether to retry (see base/status.h).
#pragma once

#include <string>

#include "aws/service.h"
#include "base/status.h"
#include "net/http.h"

namespace spk::aws {

struct AwsErrorReply {
  std::string code;        // "ThrottlingException" (JSON "__type" prefixes dropped)
  std::string message;
  std::string request_id;  // from the body or x-amzn-RequestId / x-amz-request-id
};

// Parses the error body of a non-2xx reply. Never fails: an unparseable body
// gives code "HttpStatus<N>" (e.g. "HttpStatus503") and the body's start as message.
AwsErrorReply ParseErrorReply(Protocol protocol, const net::HttpResponse& response);

enum class ErrorKind {
  kThrottling,  // back off and retry
  kTransient,   // retry
  kClockSkew,   // correct the clock, then retry
  kAuth,        // credentials wrong/expired: do not retry
  kAccess,      // not allowed: do not retry
  kNotFound,
  kClient,      // validation and every other 4xx: do not retry
};
ErrorKind ClassifyError(int http_status, const std::string& code);

// The Status for an error reply, with RemoteError details filled in:
// kThrottling -> kResourceExhausted, kTransient -> kUnavailable, kClockSkew and
// kAuth -> kUnauthenticated, kAccess -> kPermissionDenied, kNotFound -> kNotFound,
// kClient -> kInvalidArgument.
Status StatusFromErrorReply(const ServiceInfo& service, const std::string& operation,
                            int http_status, const AwsErrorReply& reply);

}  // namespace spk::aws
