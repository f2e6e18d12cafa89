#include "aws/client.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "aws/error.h"
#include "aws/sigv4.h"
#include "base/json.h"
#include "base/redact.h"

namespace spk::aws {
namespace {

constexpr size_t kMaxBodyInMessage = 200;

std::string Context(const ServiceInfo& service, const std::string& operation) {
  return service.endpoint_prefix + " " + operation;
}

// "Mon, 01 Jan 2024 01:00:00 GMT" (RFC 1123, as in HTTP Date headers).
bool ParseHttpDate(const std::string& s, WallTime* out) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  char month_name[4] = {0};
  auto comma = s.find(',');
  const char* rest = s.c_str() + (comma == std::string::npos ? 0 : comma + 1);
  if (std::sscanf(rest, " %d %3s %d %d:%d:%d", &day, month_name, &year, &hour, &minute, &second) !=
      6) {
    return false;
  }
  int month = 0;
  for (int i = 0; i < 12; ++i) {
    if (std::strcmp(month_name, kMonths[i]) == 0) month = i + 1;
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (month == 0 || !ymd.ok() || hour > 23 || minute > 59 || second > 60) return false;
  *out = std::chrono::sys_days(ymd) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second);
  return true;
}

// The URL a POST to the service's root goes to: the endpoint with "/" added
// when it has no path (as botocore joins them).
Result<std::string> PostUrl(const ResolvedEndpoint& endpoint) {
  net::Url url;
  if (!net::ParseUrl(endpoint.url, &url)) {
    return InvalidArgumentError("malformed endpoint URL \"" + endpoint.url + "\" (from " +
                                endpoint.source + ")");
  }
  if (url.path == "/" && (endpoint.url.empty() || endpoint.url.back() != '/')) {
    return endpoint.url + "/";
  }
  return endpoint.url;
}

int64_t Millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string BodyStart(const std::string& body) { return Truncate(body, kMaxBodyInMessage); }

// `status` with " (note)" appended to its message, remote details kept.
Status WithNote(const Status& status, const std::string& note) {
  Status s(status.code(), status.message() + " (" + note + ")");
  if (status.remote()) s.set_remote(*status.remote());
  return s;
}

}  // namespace

AwsClient::AwsClient(net::HttpTransport& http, Clock& clock, Random& random,
                     CredentialProvider& credentials, const EndpointResolver& endpoints,
                     ClientOptions options)
    : http_(http),
      clock_(clock),
      random_(random),
      credentials_(credentials),
      endpoints_(endpoints),
      options_(std::move(options)),
      quota_(options_.retry) {}

Duration AwsClient::clock_skew() const { return Duration(skew_ns_.load()); }

void AwsClient::SetCallDeadline(std::optional<MonoTime> deadline) {
  deadline_ns_.store(deadline ? deadline->time_since_epoch().count() : kNoDeadline);
}

std::optional<MonoTime> AwsClient::call_deadline() const {
  int64_t ns = deadline_ns_.load();
  if (ns == kNoDeadline) return std::nullopt;
  return MonoTime(Duration(ns));
}

std::map<ClientStats::ErrorKey, int64_t> ClientStats::ErrorsByCode() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_by_code_;
}

void ClientStats::RecordError(const std::string& service, const Status& status) {
  std::string code = status.remote() && !status.remote()->error_code.empty()
                         ? status.remote()->error_code
                         : StatusCodeName(status.code());
  std::lock_guard<std::mutex> lock(mu_);
  ++errors_by_code_[{service, code}];
}

Result<XmlReply> AwsClient::CallQuery(const ServiceInfo& service, const std::string& action,
                                      const QueryParams& params, const CallOptions& call) {
  SPK_ASSIGN_OR_RETURN(ResolvedEndpoint endpoint, endpoints_.Resolve(service));
  net::HttpRequest request;
  request.method = "POST";
  SPK_ASSIGN_OR_RETURN(request.url, PostUrl(endpoint));
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  std::string body =
      "Action=" + net::UriEncode(action) + "&Version=" + net::UriEncode(service.api_version);
  for (const auto& [k, v] : params) body += "&" + net::FormEncode(k) + "=" + net::FormEncode(v);
  request.body = std::move(body);

  SPK_ASSIGN_OR_RETURN(net::HttpResponse response, Send(service, action, std::move(request), call));
  auto doc = std::make_shared<pugi::xml_document>();
  pugi::xml_parse_result parsed = doc->load_buffer(response.body.data(), response.body.size());
  if (!parsed || !doc->document_element()) {
    stats_.errors++;
    stats_.RecordError(service.signing_name, InternalError("reply is not XML"));
    return InternalError(Context(service, action) + ": reply is not XML (" + parsed.description() +
                         "): " + BodyStart(response.body));
  }
  return doc;
}

Result<nlohmann::json> AwsClient::CallJson(const ServiceInfo& service, const std::string& operation,
                                           const nlohmann::json& body, const CallOptions& call) {
  SPK_ASSIGN_OR_RETURN(ResolvedEndpoint endpoint, endpoints_.Resolve(service));
  net::HttpRequest request;
  request.method = "POST";
  SPK_ASSIGN_OR_RETURN(request.url, PostUrl(endpoint));
  request.headers.emplace_back("Content-Type", service.protocol == Protocol::kJson10
                                                   ? "application/x-amz-json-1.0"
                                                   : "application/x-amz-json-1.1");
  request.headers.emplace_back("X-Amz-Target", service.target_prefix + "." + operation);
  request.body =
      body.is_null() ? "{}" : body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  SPK_ASSIGN_OR_RETURN(net::HttpResponse response,
                       Send(service, operation, std::move(request), call));
  if (response.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return nlohmann::json::object();
  }
  auto reply = ParseJsonOrDiscarded(response.body, kMaxAwsReplyBytes);
  if (reply.is_discarded()) {
    stats_.errors++;
    stats_.RecordError(service.signing_name, InternalError("reply is not JSON"));
    return InternalError(Context(service, operation) +
                         ": reply is not JSON: " + BodyStart(response.body));
  }
  return reply;
}

Result<net::HttpResponse> AwsClient::Send(const ServiceInfo& service, const std::string& operation,
                                          net::HttpRequest request, const CallOptions& call) {
  stats_.calls++;
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = call.timeout.value_or(options_.timeout);
  request.headers.emplace_back("User-Agent", options_.user_agent);

  const int max_attempts = std::max(1, options_.retry.max_attempts);
  const std::optional<MonoTime> deadline = call_deadline();
  const Duration min_attempt = options_.min_attempt_time;
  auto fail = [&](Status status) {
    stats_.errors++;
    stats_.RecordError(service.signing_name, status);
    return status;
  };
  int retry_cost_taken = 0;
  for (int attempt = 1;; ++attempt) {
    if (deadline) {
      const Duration left = *deadline - clock_.MonotonicNow();
      if (left < min_attempt) {
        return fail(DeadlineExceededError(
            Context(service, operation) +
            ": call deadline: " + std::to_string(std::max<int64_t>(0, Millis(left))) + " ms left"));
      }
      const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(left);
      // (0 would mean no limit to the transport)
      auto capped = [&](std::chrono::milliseconds t) {
        return t > std::chrono::milliseconds(0) ? std::min(t, left_ms) : left_ms;
      };
      request.connect_timeout = capped(options_.connect_timeout);
      request.total_timeout = capped(call.timeout.value_or(options_.timeout));
    }
    Result<Credentials> credentials = credentials_.Resolve();
    if (!credentials.ok()) {
      stats_.errors++;
      stats_.RecordError(service.signing_name, credentials.status());
      return credentials.status().WithContext(Context(service, operation));
    }
    net::HttpRequest signed_request = request;
    SigningParams signing;
    signing.region = endpoints_.region();
    signing.service = service.signing_name;
    signing.time = clock_.WallNow() + clock_skew();
    SignRequest(signed_request, *credentials, signing);

    stats_.attempts++;
    Result<net::HttpResponse> reply = http_.Send(signed_request);
    Status failure;
    bool skew_corrected = false;
    if (reply.ok()) {
      if (reply->status >= 200 && reply->status < 300) {
        quota_.Release(retry_cost_taken);
        return reply;
      }
      AwsErrorReply error = ParseErrorReply(service.protocol, *reply);
      failure = StatusFromErrorReply(service, operation, reply->status, error);
      ErrorKind kind = ClassifyError(reply->status, error.code);
      if (kind == ErrorKind::kClockSkew) {
        WallTime server_time;
        auto date = reply->Header("Date");
        if (date && ParseHttpDate(*date, &server_time)) {
          skew_ns_.store((server_time - clock_.WallNow()).count());
          skew_corrected = true;
        }
      } else if (kind == ErrorKind::kAuth && error.code.rfind("ExpiredToken", 0) == 0) {
        // Let the chain fetch fresh credentials on the next call.
        credentials_.Invalidate();
      }
    } else {
      failure = reply.status().WithContext(Context(service, operation));
    }

    if (!failure.retryable() && !skew_corrected) {
      stats_.errors++;
      stats_.RecordError(service.signing_name, failure);
      return failure;
    }
    if (attempt >= max_attempts) {
      stats_.errors++;
      stats_.RecordError(service.signing_name, failure);
      return WithNote(failure, "after " + std::to_string(attempt) + " attempts");
    }
    // A corrected clock is the fix for a skew error: retry at once. With a
    // deadline the delay is drawn first, to know whether the retry fits.
    std::optional<Duration> delay;
    if (skew_corrected) delay = Duration::zero();
    if (deadline) {
      if (!delay) delay = BackoffDelay(options_.retry, attempt, random_);
      const Duration left = *deadline - clock_.MonotonicNow();
      if (left - *delay < min_attempt) {
        return fail(WithNote(failure, "no time left to retry: " +
                                          std::to_string(std::max<int64_t>(0, Millis(left))) +
                                          " ms to the call deadline"));
      }
    }
    int cost = 0;
    if (!quota_.Acquire(failure, &cost)) {
      stats_.errors++;
      stats_.RecordError(service.signing_name, failure);
      return WithNote(failure, "retry quota exhausted");
    }
    retry_cost_taken += cost;
    stats_.retries++;
    if (!delay) delay = BackoffDelay(options_.retry, attempt, random_);
    if (*delay > Duration::zero()) clock_.SleepFor(*delay);
  }
}

std::string XmlChildText(const pugi::xml_node& node, const char* name) {
  auto matches = [name](const pugi::xml_node& n) {
    if (n.type() != pugi::node_element) return false;
    const char* full = n.name();
    const char* colon = std::strrchr(full, ':');
    return std::strcmp(colon ? colon + 1 : full, name) == 0;
  };
  pugi::xml_node found = node.find_node(matches);
  return found ? found.text().get() : "";
}

}  // namespace spk::aws
