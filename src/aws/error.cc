#include "aws/error.h"

#include <array>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>
#include <string_view>

#include "aws/client.h"
#include "base/json.h"
#include "base/redact.h"
#include "base/strings.h"

namespace spk::aws {
namespace {

constexpr size_t kMaxBodyInMessage = 200;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

template <size_t N>
bool OneOf(const std::string& code, const std::array<std::string_view, N>& codes) {
  for (std::string_view c : codes) {
    if (code == c) return true;
  }
  return false;
}

std::string BodyStart(const std::string& body) {
  std::string s = Truncate(Trim(body), kMaxBodyInMessage);
  return s.empty() ? "empty body" : s;
}

// "aws.protocoltests#FooError:http://internal.amazon.com/..." -> "FooError".
std::string SanitizeJsonCode(std::string code) {
  auto hash = code.rfind('#');
  if (hash != std::string::npos) code = code.substr(hash + 1);
  auto colon = code.find(':');
  if (colon != std::string::npos) code = code.substr(0, colon);
  return Trim(code);
}

std::string JsonString(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = j.find(k);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return "";
}

void ParseXmlError(const std::string& body, AwsErrorReply* out) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return;
  out->code = Trim(XmlChildText(doc, "Code"));
  out->message = Trim(XmlChildText(doc, "Message"));
  out->request_id = Trim(XmlChildText(doc, "RequestId"));
  if (out->request_id.empty()) out->request_id = Trim(XmlChildText(doc, "RequestID"));
}

void ParseJsonError(const net::HttpResponse& response, AwsErrorReply* out) {
  auto j = ParseJsonOrDiscarded(response.body, kMaxAwsReplyBytes);
  if (!j.is_discarded() && j.is_object()) {
    out->code = SanitizeJsonCode(JsonString(j, {"__type", "code", "Code"}));
    out->message = JsonString(j, {"message", "Message", "errorMessage"});
  }
  // Some endpoints (and moto) answer JSON-protocol calls with an XML error.
  if (out->code.empty()) ParseXmlError(response.body, out);
  if (out->code.empty()) {
    if (auto t = response.Header("x-amzn-ErrorType")) out->code = SanitizeJsonCode(*t);
  }
  // SQS's JSON protocol keeps its query-era codes:
  // "AWS.SimpleQueueService.NonExistentQueue;Sender".
  if (auto q = response.Header("x-amzn-query-error")) {
    std::string code = Trim(q->substr(0, q->find(';')));
    if (!code.empty()) out->code = code;
  }
}

}  // namespace

AwsErrorReply ParseErrorReply(Protocol protocol, const net::HttpResponse& response) {
  AwsErrorReply reply;
  if (protocol == Protocol::kQuery) {
    ParseXmlError(response.body, &reply);
  } else {
    ParseJsonError(response, &reply);
  }
  if (reply.request_id.empty()) {
    for (const char* h : {"x-amzn-RequestId", "x-amz-request-id"}) {
      if (auto v = response.Header(h); v && !v->empty()) {
        reply.request_id = *v;
        break;
      }
    }
  }
  if (reply.code.empty()) {
    reply.code = "HttpStatus" + std::to_string(response.status);
    if (reply.message.empty()) reply.message = BodyStart(response.body);
  }
  // Text from the reply goes into errors and logs: bounded.
  reply.code = Truncate(reply.code, 128);
  reply.message = Truncate(reply.message);
  reply.request_id = Truncate(reply.request_id, 128);
  return reply;
}

ErrorKind ClassifyError(int http_status, const std::string& code) {
  static constexpr std::array<std::string_view, 14> kThrottling = {
      "Throttling",
      "ThrottlingException",
      "ThrottledException",
      "RequestThrottledException",
      "TooManyRequestsException",
      "ProvisionedThroughputExceededException",
      "TransactionInProgressException",
      "RequestLimitExceeded",
      "BandwidthLimitExceeded",
      "LimitExceededException",
      "RequestThrottled",
      "SlowDown",
      "PriorRequestNotComplete",
      "EC2ThrottledException",
  };
  static constexpr std::array<std::string_view, 5> kTransient = {
      "RequestTimeout",  "RequestTimeoutException", "InternalError",
      "InternalFailure", "ServiceUnavailable",
  };
  static constexpr std::array<std::string_view, 3> kClockSkew = {
      "RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture"};
  static constexpr std::array<std::string_view, 10> kAuth = {
      "SignatureDoesNotMatch",       "InvalidClientTokenId",
      "UnrecognizedClientException", "IncompleteSignature",
      "MissingAuthenticationToken",  "AuthFailure",
      "InvalidSignatureException",   "ExpiredToken",
      "ExpiredTokenException",       "InvalidAccessKeyId",
  };
  static constexpr std::array<std::string_view, 3> kAccess = {
      "AccessDenied", "AccessDeniedException", "UnauthorizedOperation"};
  static constexpr std::array<std::string_view, 4> kNotFound = {
      "ResourceNotFoundException", "ClusterNotFoundException",
      "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"};

  if (OneOf(code, kThrottling)) return ErrorKind::kThrottling;
  if (OneOf(code, kTransient)) return ErrorKind::kTransient;
  if (OneOf(code, kClockSkew)) return ErrorKind::kClockSkew;
  if (OneOf(code, kAuth)) return ErrorKind::kAuth;
  if (OneOf(code, kAccess)) return ErrorKind::kAccess;
  if (OneOf(code, kNotFound) || EndsWith(code, "NotFound") || EndsWith(code, "NotFoundException")) {
    return ErrorKind::kNotFound;
  }
  switch (http_status) {
    case 429:
      return ErrorKind::kThrottling;
    case 500:
    case 502:
    case 503:
    case 504:
      return ErrorKind::kTransient;
    case 401:
      return ErrorKind::kAuth;
    case 403:
      return ErrorKind::kAccess;
    default:
      return ErrorKind::kClient;
  }
}

Status StatusFromErrorReply(const ServiceInfo& service, const std::string& operation,
                            int http_status, const AwsErrorReply& reply) {
  StatusCode code = StatusCode::kInvalidArgument;
  switch (ClassifyError(http_status, reply.code)) {
    case ErrorKind::kThrottling:
      code = StatusCode::kResourceExhausted;
      break;
    case ErrorKind::kTransient:
      code = StatusCode::kUnavailable;
      break;
    case ErrorKind::kClockSkew:
    case ErrorKind::kAuth:
      code = StatusCode::kUnauthenticated;
      break;
    case ErrorKind::kAccess:
      code = StatusCode::kPermissionDenied;
      break;
    case ErrorKind::kNotFound:
      code = StatusCode::kNotFound;
      break;
    case ErrorKind::kClient:
      code = StatusCode::kInvalidArgument;
      break;
  }
  std::string message = service.endpoint_prefix + " " + operation + ": " + reply.code;
  if (!reply.message.empty()) message += ": " + reply.message;
  Status status(code, std::move(message));
  status.set_remote(
      RemoteError{service.endpoint_prefix, reply.code, http_status, reply.request_id});
  return status;
}

}  // namespace spk::aws
