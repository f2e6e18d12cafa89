// A small HTTP server bound to 127.0.0.1 on a free port, serving on its own
// thread: test peers, fault-injecting proxies, and the controller's /metrics.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/status.h"
#include "net/http.h"

namespace httplib {
class Server;
}

namespace spk::net {

struct ServerRequest {
  std::string method;
  std::string path;   // without the query
  std::string query;  // raw, without '?'
  Headers headers;
  std::string body;
  int remote_port = 0;  // the client's port: one value per TCP connection
};

class LoopbackServer {
 public:
  using Handler = std::function<HttpResponse(const ServerRequest&)>;

  explicit LoopbackServer(Handler handler);
  ~LoopbackServer();  // Stops the server.
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  // Binds `host` (default 127.0.0.1) on `port` (0: a free one) and starts serving.
  Status Start(const std::string& host = "127.0.0.1", int port = 0);
  // Stops serving and joins the thread. Idempotent.
  void Stop();

  int port() const { return port_; }
  // "http://127.0.0.1:PORT"
  std::string url() const;

 private:
  Handler handler_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
};

}  // namespace spk::net
