// A Notifier that POSTs the message as JSON to an HTTP(S) URL.
//
// Headers: Content-Type: application/json, X-Spotkeeper-Message-Id: <id>, and
// the configured extra headers. Accepted: any 2xx. Errors: 408, 429 and 5xx
// are kUnavailable (retry); other statuses kFailedPrecondition (a wrong URL
// or a receiver that refuses: retrying will not help, but the agent still
// does until the deadline); transport failures as net::HttpTransport.
//
// Secrets: the URL appears in name() and in errors only as RedactUrl() shows
// it (scheme and host); header values never appear; a refusing receiver's
// body is quoted at most kMaxOutsideText bytes (base/redact.h).
#pragma once

#include <chrono>
#include <string>

#include "cloud/notifier.h"
#include "net/http.h"

namespace spk::cloud {

class WebhookNotifier final : public Notifier {
 public:
  // `http` must outlive this object.
  WebhookNotifier(net::HttpTransport& http, std::string url, net::Headers extra_headers,
                  std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  Status Publish(const std::string& message, const std::string& message_id) override;
  std::string name() const override;

 private:
  net::HttpTransport& http_;
  std::string url_;
  net::Headers extra_headers_;
  std::chrono::milliseconds timeout_;
};

// Parses "Name: value" (as curl -H); false when there is no ':' or no name.
bool ParseHeader(const std::string& line, std::pair<std::string, std::string>* out);

}  // namespace spk::cloud
