// A scripted HttpTransport for unit tests: records every request and answers
// from a handler (or a queue of canned replies). Thread-safe.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "net/http.h"

namespace spk::net {

class FakeTransport final : public HttpTransport {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;

  FakeTransport() = default;
  explicit FakeTransport(Handler handler) : handler_(std::move(handler)) {}

  // Queues one reply; queued replies are used, in order, before the handler.
  void Push(Result<HttpResponse> reply);
  void Push(int status, std::string body, Headers headers = {});
  void SetHandler(Handler handler);

  Result<HttpResponse> Send(const HttpRequest& request) override;

  std::vector<HttpRequest> requests() const;
  size_t request_count() const;

 private:
  mutable std::mutex mu_;
  Handler handler_;
  std::deque<Result<HttpResponse>> queue_;
  std::vector<HttpRequest> requests_;
};

}  // namespace spk::net
