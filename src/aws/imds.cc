#include "aws/imds.h"

#include <algorithm>
#include <cctype>

#include "base/redact.h"
#include "base/strings.h"

namespace spk::aws {
namespace {

constexpr char kTokenPath[] = "/latest/api/token";
constexpr char kTokenHeader[] = "X-aws-ec2-metadata-token";
constexpr char kTokenTtlHeader[] = "X-aws-ec2-metadata-token-ttl-seconds";

std::string StripTrailingSlashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string Snippet(const std::string& body) { return Truncate(Trim(body), 200); }

}  // namespace

ImdsOptions ImdsOptions::FromEnv(const Env& env) {
  ImdsOptions o;
  std::string endpoint = Trim(env.GetOr("AWS_EC2_METADATA_SERVICE_ENDPOINT", ""));
  if (!endpoint.empty()) {
    o.endpoint = StripTrailingSlashes(endpoint);
  } else if (AsciiLower(env.GetOr("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "")) == "ipv6") {
    o.endpoint = "http://[fd00:ec2::254]";
  }
  o.disabled = AsciiLower(Trim(env.GetOr("AWS_EC2_METADATA_DISABLED", ""))) == "true";
  return o;
}

ImdsClient::ImdsClient(net::HttpTransport& http, const Clock& clock, ImdsOptions options)
    : http_(http), clock_(clock), options_(std::move(options)) {
  options_.endpoint = StripTrailingSlashes(options_.endpoint);
  options_.token_ttl_seconds = std::clamp(options_.token_ttl_seconds, 1, 21600);
}

ImdsClient::Mode ImdsClient::mode() const {
  std::lock_guard<std::mutex> l(mu_);
  return mode_;
}

// The token to send, "" for IMDSv1.
Result<std::string> ImdsClient::Token(bool force_refresh) {
  if (options_.force_v1) return std::string();
  std::lock_guard<std::mutex> l(mu_);
  if (mode_ == Mode::kV1 && !force_refresh) return std::string();
  // Refresh a minute before expiry (or halfway through very short TTLs).
  const Duration margin = std::min<Duration>(std::chrono::minutes(1),
                                             std::chrono::seconds(options_.token_ttl_seconds) / 2);
  const MonoTime now = clock_.MonotonicNow();
  if (!force_refresh && !token_.empty() && now + margin < token_expiry_) return token_;

  net::HttpRequest req;
  req.method = "PUT";
  req.url = options_.endpoint + kTokenPath;
  req.headers.emplace_back(kTokenTtlHeader, std::to_string(options_.token_ttl_seconds));
  req.connect_timeout = options_.timeout;
  req.total_timeout = options_.timeout;
  auto reply = http_.Send(req);
  if (!reply.ok()) {
    return reply.status().WithContext("IMDS token request to " + options_.endpoint);
  }
  const int status = reply->status;
  if (status == 200) {
    std::string token = Trim(reply->body);
    if (token.empty())
      return InternalError("IMDS token request to " + options_.endpoint +
                           " answered an empty token");
    token_ = std::move(token);
    token_expiry_ = now + std::chrono::seconds(options_.token_ttl_seconds);
    return token_;
  }
  if (status == 403 || status == 404 || status == 405) {
    // IMDSv2 not served here (or disallowed by a proxy): use IMDSv1.
    token_.clear();
    mode_ = Mode::kV1;
    return std::string();
  }
  std::string what =
      "IMDS token request to " + options_.endpoint + " answered HTTP " + std::to_string(status);
  if (status == 400) return InvalidArgumentError(what + ": " + Snippet(reply->body));
  return UnavailableError(what);
}

Result<std::string> ImdsClient::Get(const std::string& path) {
  if (options_.disabled) {
    return FailedPreconditionError("IMDS is disabled (AWS_EC2_METADATA_DISABLED=true)");
  }
  const std::string url = options_.endpoint + (path.empty() || path[0] != '/' ? "/" : "") + path;
  for (int attempt = 0; attempt < 2; ++attempt) {
    SPK_ASSIGN_OR_RETURN(std::string token, Token(/*force_refresh=*/attempt > 0));
    net::HttpRequest req;
    req.method = "GET";
    req.url = url;
    if (!token.empty()) req.headers.emplace_back(kTokenHeader, token);
    req.connect_timeout = options_.timeout;
    req.total_timeout = options_.timeout;
    auto reply = http_.Send(req);
    if (!reply.ok()) return reply.status().WithContext("IMDS GET " + url);
    const int status = reply->status;
    if (status == 200) {
      std::lock_guard<std::mutex> l(mu_);
      mode_ = token.empty() ? Mode::kV1 : Mode::kV2;
      return std::move(reply->body);
    }
    if (status == 401) {
      if (attempt == 0 && !options_.force_v1) {
        // The token expired or IMDS restarted, or (after a v1 fallback) the
        // service now requires IMDSv2: fetch a new token, once.
        std::lock_guard<std::mutex> l(mu_);
        token_.clear();
        continue;
      }
      return UnavailableError(
          "IMDS GET " + url + " answered HTTP 401" +
          (token.empty() ? " to an IMDSv1 request (IMDSv2 required?)" : " after a fresh token"));
    }
    if (status == 404) return NotFoundError("IMDS GET " + url + ": not found (HTTP 404)");
    if (status == 403)
      return PermissionDeniedError("IMDS GET " + url +
                                   " answered HTTP 403: " + Snippet(reply->body));
    if (status >= 500)
      return UnavailableError("IMDS GET " + url + " answered HTTP " + std::to_string(status));
    return InternalError("IMDS GET " + url + " answered unexpected HTTP " + std::to_string(status));
  }
  return UnavailableError("IMDS GET " + url + ": unreachable");  // not reached
}

}  // namespace spk::aws
