#include "cloud/webhook_notifier.h"

#include <cctype>

#include "base/redact.h"
#include "base/strings.h"

namespace spk::cloud {
namespace {

// `status` with every occurrence of `url` replaced by `redacted` (the
// transport names the URL in its errors), code and remote details kept.
Status Redacted(const Status& status, const std::string& url, const std::string& redacted) {
  std::string m = status.message();
  for (size_t p = m.find(url); !url.empty() && p != std::string::npos;
       p = m.find(url, p + redacted.size())) {
    m.replace(p, url.size(), redacted);
  }
  Status out(status.code(), m);
  if (status.remote()) out.set_remote(*status.remote());
  return out;
}

}  // namespace

WebhookNotifier::WebhookNotifier(net::HttpTransport& http, std::string url,
                                 net::Headers extra_headers, std::chrono::milliseconds timeout)
    : http_(http),
      url_(std::move(url)),
      extra_headers_(std::move(extra_headers)),
      timeout_(timeout) {}

std::string WebhookNotifier::name() const { return "webhook:" + RedactUrl(url_); }

Status WebhookNotifier::Publish(const std::string& message, const std::string& message_id) {
  net::HttpRequest req;
  req.method = "POST";
  req.url = url_;
  req.body = message;
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("X-Spotkeeper-Message-Id", message_id);
  for (const auto& h : extra_headers_) req.headers.push_back(h);
  req.connect_timeout = std::min(timeout_, std::chrono::milliseconds(2000));
  req.total_timeout = timeout_;
  auto reply = http_.Send(req);
  // The URL is never put in an error whole: its path or query is the secret.
  const std::string shown = RedactUrl(url_);
  if (!reply.ok()) {
    return Redacted(reply.status(), url_, shown).WithContext("webhook POST " + shown);
  }
  const int status = reply->status;
  if (status >= 200 && status < 300) return Status::Ok();
  std::string what = "webhook POST " + shown + " answered HTTP " + std::to_string(status);
  if (!reply->body.empty()) what += ": " + Truncate(Trim(reply->body));
  if (status == 408 || status == 429 || status >= 500) return UnavailableError(what);
  return FailedPreconditionError(what);
}

bool ParseHeader(const std::string& line, std::pair<std::string, std::string>* out) {
  auto colon = line.find(':');
  if (colon == std::string::npos) return false;
  std::string name = Trim(line.substr(0, colon));
  if (name.empty()) return false;
  for (char c : name) {
    if (std::isspace(static_cast<unsigned char>(c))) return false;
  }
  *out = {name, Trim(line.substr(colon + 1))};
  return true;
}

}  // namespace spk::cloud
