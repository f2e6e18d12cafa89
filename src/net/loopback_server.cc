#include "net/loopback_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace spk::net {

LoopbackServer::LoopbackServer(Handler handler) : handler_(std::move(handler)) {}

LoopbackServer::~LoopbackServer() { Stop(); }

Status LoopbackServer::Start(const std::string& host, int port) {
  if (server_) return FailedPreconditionError("server already started");
  server_ = std::make_unique<httplib::Server>();
  server_->set_keep_alive_max_count(100000);
  server_->set_tcp_nodelay(true);  // no 40 ms Nagle + delayed-ACK stall per reply
  // Stop() waits for open keep-alive connections to go idle: keep that short.
  server_->set_keep_alive_timeout(1);
  // Exclusive: httplib's default sets SO_REUSEPORT, which lets a second
  // process bind the same address and share its connections. SO_REUSEADDR
  // alone only allows a restart over connections in TIME_WAIT.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
    ServerRequest r;
    r.method = req.method;
    r.path = req.path;
    auto q = req.target.find('?');
    if (q != std::string::npos) r.query = req.target.substr(q + 1);
    for (const auto& [k, v] : req.headers) r.headers.emplace_back(k, v);
    r.body = req.body;
    r.remote_port = req.remote_port;
    HttpResponse out = handler_(r);
    res.status = out.status;
    std::string content_type = "text/plain";
    for (const auto& [k, v] : out.headers) {
      if (HeaderNameEquals(k, "Content-Type"))
        content_type = v;
      else
        res.set_header(k, v);
    }
    res.set_content(out.body, content_type);
  };
  for (const char* m : {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    std::string method = m;
    std::string pattern = ".*";
    if (method == "GET")
      server_->Get(pattern, dispatch);
    else if (method == "POST")
      server_->Post(pattern, dispatch);
    else if (method == "PUT")
      server_->Put(pattern, dispatch);
    else if (method == "DELETE")
      server_->Delete(pattern, dispatch);
    else if (method == "PATCH")
      server_->Patch(pattern, dispatch);
    else
      server_->Options(pattern, dispatch);
  }
  host_ = host;
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ <= 0) return UnavailableError("cannot bind " + host + " on a free port");
  } else {
    errno = 0;
    if (!server_->bind_to_port(host, port)) {
      const int error = errno;
      std::string why = error == EADDRINUSE ? "the address is already in use"
                        : error != 0        ? std::strerror(error)
                                            : "not an address of this host";
      server_.reset();
      return UnavailableError("cannot bind " + host + ":" + std::to_string(port) + ": " + why);
    }
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() is a no-op until the accept loop runs: wait for it, so that an
  // immediate Stop() cannot leave the thread listening forever.
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::Ok();
}

void LoopbackServer::Stop() {
  if (!server_) return;
  server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

std::string LoopbackServer::url() const { return "http://" + host_ + ":" + std::to_string(port_); }

}  // namespace spk::net
