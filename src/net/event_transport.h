// HttpTransport over libevent's HTTP client, for plain http:// only: the
// agent's long-lived watcher reads instance metadata (IMDS) and the ECS agent's
// introspection endpoint with it. Both are link-local or loopback HTTP services,
// so the watcher needs no TLS, no proxy support and none of the ~40 libraries
// Debian's libcurl maps into a process (gnutls, krb5, ldap, ...): libevent
// depends on libc alone, which keeps the process that runs on every instance,
// for the instance's whole life, small (docs/agent.md has the numbers).
//
// One keep-alive connection per host:port, reused across calls; a request that
// may be repeated (not POST or PATCH) is sent once more on a new connection
// when a reused one fails at once (closed by the server while idle). The total
// timeout bounds each network wait (connect, write, every read); the connect
// timeout is not separate. Proxies are never used. An https:// URL is refused
// with kInvalidArgument: use CurlTransport for anything beyond these two
// services.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "net/http.h"

struct event_base;
struct evhttp_connection;

namespace spk::net {

class EventHttpTransport final : public HttpTransport {
 public:
  // Replies with bodies larger than this fail with kUnavailable (the services
  // it talks to answer a few kilobytes at most).
  static constexpr size_t kMaxBodyBytes = 1 << 20;

  EventHttpTransport();
  ~EventHttpTransport() override;
  EventHttpTransport(const EventHttpTransport&) = delete;
  EventHttpTransport& operator=(const EventHttpTransport&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  // One try on the connection for `key` ("host:port"), made if need be.
  Result<HttpResponse> Attempt(const HttpRequest& request, const Url& url, const std::string& key,
                               int command);
  // The kept-alive connection for `key`, made if need be.
  evhttp_connection* Connection(const Url& url, const std::string& key);
  void Drop(const std::string& authority);

  std::mutex mu_;  // one request at a time: the event loop is not shared
  event_base* base_ = nullptr;
  std::map<std::string, evhttp_connection*> connections_;  // by "host:port"
};

}  // namespace spk::net
