#include "net/event_transport.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/time.h>

#include <chrono>
#include <utility>

namespace spk::net {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;

// What one request's callbacks report back to Send().
struct Exchange {
  bool done = false;
  bool failed = false;
  // Set by OnError. libevent reports a failed or timed-out connect without
  // it: then `failed` is set and `error_reported` is not.
  bool error_reported = false;
  evhttp_request_error error = EVREQ_HTTP_EOF;
  HttpResponse response;
};

void OnError(evhttp_request_error error, void* arg) {
  auto* x = static_cast<Exchange*>(arg);
  x->failed = true;
  x->error_reported = true;
  x->error = error;
}

// Called once per request (after OnError when that was called). The request is
// freed by libevent when this returns: everything is copied out here.
void OnDone(evhttp_request* req, void* arg) {
  auto* x = static_cast<Exchange*>(arg);
  x->done = true;
  if (req == nullptr || x->failed) {
    x->failed = true;
    return;
  }
  x->response.status = evhttp_request_get_response_code(req);
  if (x->response.status == 0) {  // no status line: connect failed, or the connection closed
    x->failed = true;
    return;
  }
  for (const evkeyval* kv = evhttp_request_get_input_headers(req)->tqh_first; kv != nullptr;
       kv = kv->next.tqe_next) {
    x->response.headers.emplace_back(kv->key, kv->value);
  }
  evbuffer* in = evhttp_request_get_input_buffer(req);
  size_t n = evbuffer_get_length(in);
  x->response.body.resize(n);
  if (n > 0) evbuffer_remove(in, x->response.body.data(), n);
}

bool CommandFor(const std::string& method, evhttp_cmd_type* out) {
  static const std::pair<const char*, evhttp_cmd_type> kMethods[] = {
      {"GET", EVHTTP_REQ_GET},        {"PUT", EVHTTP_REQ_PUT},       {"POST", EVHTTP_REQ_POST},
      {"HEAD", EVHTTP_REQ_HEAD},      {"DELETE", EVHTTP_REQ_DELETE}, {"PATCH", EVHTTP_REQ_PATCH},
      {"OPTIONS", EVHTTP_REQ_OPTIONS}};
  for (const auto& [name, cmd] : kMethods) {
    if (method == name) {
      *out = cmd;
      return true;
    }
  }
  return false;
}

const char* Describe(evhttp_request_error e) {
  switch (e) {
    case EVREQ_HTTP_TIMEOUT:
      return "timed out";
    case EVREQ_HTTP_EOF:
      return "connection refused or closed";
    case EVREQ_HTTP_INVALID_HEADER:
      return "malformed reply";
    case EVREQ_HTTP_BUFFER_ERROR:
      return "read or write error";
    case EVREQ_HTTP_REQUEST_CANCEL:
      return "cancelled";
    case EVREQ_HTTP_DATA_TOO_LONG:
      return "reply too large";
  }
  return "failed";
}

}  // namespace

EventHttpTransport::EventHttpTransport() = default;

EventHttpTransport::~EventHttpTransport() {
  for (auto& [_, conn] : connections_) evhttp_connection_free(conn);
  if (base_ != nullptr) event_base_free(base_);
}

evhttp_connection* EventHttpTransport::Connection(const Url& url, const std::string& key) {
  const int port = url.port != 0 ? url.port : 80;
  auto it = connections_.find(key);
  if (it != connections_.end()) return it->second;
  // No DNS base: names resolve with getaddrinfo (IP literals and localhost here).
  evhttp_connection* conn =
      evhttp_connection_base_new(base_, nullptr, url.host.c_str(), static_cast<uint16_t>(port));
  if (conn == nullptr) return nullptr;
  evhttp_connection_set_retries(conn, 0);
  evhttp_connection_set_max_body_size(conn, static_cast<ev_ssize_t>(kMaxBodyBytes));
  evhttp_connection_set_max_headers_size(conn, static_cast<ev_ssize_t>(kMaxHeaderBytes));
  connections_.emplace(key, conn);
  return conn;
}

void EventHttpTransport::Drop(const std::string& authority) {
  auto it = connections_.find(authority);
  if (it == connections_.end()) return;
  evhttp_connection_free(it->second);
  connections_.erase(it);
}

Result<HttpResponse> EventHttpTransport::Send(const HttpRequest& request) {
  Url url;
  if (!ParseUrl(request.url, &url)) return InvalidArgumentError("malformed URL: " + request.url);
  if (url.scheme != "http") {
    return InvalidArgumentError("HTTP request to " + request.url +
                                ": only http:// is supported here (no TLS)");
  }
  evhttp_cmd_type command;
  if (!CommandFor(request.method, &command)) {
    return InvalidArgumentError("HTTP request to " + request.url + ": unsupported method " +
                                request.method);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (base_ == nullptr) {
    // The changelist folds each request's adds and deletes of the socket's
    // events into fewer epoll_ctl calls: the watcher's idle cost is mostly
    // system calls. No locks: calls are serialised by mu_.
    event_config* config = event_config_new();
    if (config == nullptr) return InternalError("event_config_new failed");
    event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    event_config_set_flag(config, EVENT_BASE_FLAG_NOLOCK);
    base_ = event_base_new_with_config(config);
    event_config_free(config);
    if (base_ == nullptr) return InternalError("event_base_new failed");
  }
  const std::string key = url.host + ":" + std::to_string(url.port != 0 ? url.port : 80);
  // A kept-alive connection the server closed while idle fails at once: a
  // request that may be repeated is then sent once more on a new connection.
  const bool reused = connections_.count(key) != 0;
  const bool idempotent = command != EVHTTP_REQ_POST && command != EVHTTP_REQ_PATCH;
  auto result = Attempt(request, url, key, command);
  if (!result.ok() && reused && idempotent && result.status().code() == StatusCode::kUnavailable) {
    result = Attempt(request, url, key, command);
  }
  return result;
}

Result<HttpResponse> EventHttpTransport::Attempt(const HttpRequest& request, const Url& url,
                                                 const std::string& key, int command) {
  evhttp_connection* conn = Connection(url, key);
  if (conn == nullptr) {
    return UnavailableError("HTTP request to " + request.url +
                            " failed: cannot create a connection");
  }
  const auto timeout = std::max(request.total_timeout, std::chrono::milliseconds(1));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  evhttp_connection_set_timeout_tv(conn, &tv);

  Exchange x;
  evhttp_request* req = evhttp_request_new(OnDone, &x);
  if (req == nullptr) return InternalError("evhttp_request_new failed");
  evhttp_request_set_error_cb(req, OnError);
  evkeyvalq* out = evhttp_request_get_output_headers(req);
  bool has_host = false;
  for (const auto& [k, v] : request.headers) {
    if (HeaderNameEquals(k, "Host")) has_host = true;
    evhttp_add_header(out, k.c_str(), v.c_str());
  }
  if (!has_host) evhttp_add_header(out, "Host", url.Authority().c_str());
  if (!request.body.empty()) {
    evbuffer_add(evhttp_request_get_output_buffer(req), request.body.data(), request.body.size());
  }
  const auto started = std::chrono::steady_clock::now();
  const std::string target = url.query.empty() ? url.path : url.path + "?" + url.query;
  if (evhttp_make_request(conn, req, static_cast<evhttp_cmd_type>(command), target.c_str()) != 0) {
    // On failure libevent has already freed the request.
    Drop(key);
    return UnavailableError("HTTP request to " + request.url + " failed: cannot send");
  }
  while (!x.done) {
    // 1: nothing left to wait for, so no callback is coming (should not happen:
    // the request's timeout is always pending).
    if (event_base_loop(base_, EVLOOP_ONCE) == 1 && !x.done) {
      Drop(key);
      return InternalError("HTTP request to " + request.url + ": event loop ended early");
    }
  }
  if (!x.failed) return std::move(x.response);
  Drop(key);  // a failed connection is not worth keeping
  const std::string msg = "HTTP request to " + request.url + " failed: ";
  if (!x.error_reported) {
    // No status line and no error callback: the connect failed or timed out.
    if (std::chrono::steady_clock::now() - started >= timeout) {
      return DeadlineExceededError(msg + "timed out connecting");
    }
    return UnavailableError(msg + "could not connect (refused or closed)");
  }
  if (x.error == EVREQ_HTTP_TIMEOUT) return DeadlineExceededError(msg + Describe(x.error));
  return UnavailableError(msg + Describe(x.error));
}

}  // namespace spk::net
