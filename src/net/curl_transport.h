// HttpTransport over libcurl: connect and total timeouts, TLS verification on,
// connections kept alive and reused across calls (a small pool of handles).
// Loopback, IMDS and ECS credential endpoints bypass any configured proxy.
// Servers are verified against the CA bundle ChooseCaBundle() picks at construction
// (net/ca_bundle.h), so the same binary verifies TLS on Debian and Amazon Linux.
#pragma once

#include <memory>
#include <mutex>
#include <string>
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

  const std::string no_proxy_;
  const std::string ca_bundle_;  // "": libcurl's compiled-in default
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles; each keeps its own connection cache
};

}  // namespace spk::net
