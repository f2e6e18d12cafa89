// The HTTP transport interface every network call goes through, so that unit
// tests substitute FakeTransport and nothing above `net` links libcurl.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace spk::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;  // absolute: scheme://host[:port]/path?query
  Headers headers;
  std::string body;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{10000};
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // names as received
  std::string body;

  // First header named `name` (case-insensitive).
  std::optional<std::string> Header(const std::string& name) const;
};

// Sends one request and waits for the whole reply.
//
// Returns the reply for every HTTP status, 4xx and 5xx included: interpreting
// the status is the caller's job. Fails only when no complete reply arrived:
//   kUnavailable       connection refused or reset, DNS failure, TLS failure
//   kDeadlineExceeded  the connect or total timeout passed
//   kInvalidArgument   the URL or method is malformed
// Implementations are thread-safe.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// Case-insensitive ASCII comparison of header names.
bool HeaderNameEquals(const std::string& a, const std::string& b);

// Splits "scheme://host:port/path?query" into its parts; false when malformed.
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  int port = 0;        // 0 when not given
  std::string path;    // "/" when empty; not decoded
  std::string query;   // without '?'; not decoded
  // "host" or "host:port" as it belongs in a Host header (port omitted when default).
  std::string Authority() const;
};
bool ParseUrl(const std::string& url, Url* out);

// RFC 3986 percent-encoding of everything but unreserved characters
// (A-Z a-z 0-9 - _ . ~); with `keep_slash`, '/' is left as is.
std::string UriEncode(const std::string& s, bool keep_slash = false);
// application/x-www-form-urlencoded, as botocore and Python's urlencode write
// it: UriEncode, but a space becomes '+'.
std::string FormEncode(const std::string& s);
// Decodes %XX sequences (and '+' as space when `plus_is_space`).
std::string UriDecode(const std::string& s, bool plus_is_space = false);

}  // namespace spk::net
