#include "cloud/webhook_notifier.h"

#include <cctype>

#include "base/strings.h"

namespace spk::cloud {
namespace {}  // namespace

WebhookNotifier::WebhookNotifier(net::HttpTransport& http, std::string url,
                                 net::Headers extra_headers, std::chrono::milliseconds timeout)
    : http_(http),
      url_(std::move(url)),
      extra_headers_(std::move(extra_headers)),
      timeout_(timeout) {}

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
  if (!reply.ok()) return reply.status().WithContext("webhook POST " + url_);
  const int status = reply->status;
  if (status >= 200 && status < 300) return Status::Ok();
  std::string what = "webhook POST " + url_ + " answered HTTP " + std::to_string(status);
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
