// HttpTransport over libcurl: connect and total timeouts, TLS verification on,
// connections kept alive and reused across calls (a small pool of handles).
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "net/http.h"

namespace spk::net {

class CurlTransport final : public HttpTransport {
 public:
  CurlTransport();
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  void* Acquire();
  void Release(void* handle);

  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles; each keeps its own connection cache
};

}  // namespace spk::net
