#include "net/fake_transport.h"

namespace spk::net {

void FakeTransport::Push(Result<HttpResponse> reply) {
  std::lock_guard<std::mutex> l(mu_);
  queue_.push_back(std::move(reply));
}

void FakeTransport::Push(int status, std::string body, Headers headers) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  Push(Result<HttpResponse>(std::move(r)));
}

void FakeTransport::SetHandler(Handler handler) {
  std::lock_guard<std::mutex> l(mu_);
  handler_ = std::move(handler);
}

Result<HttpResponse> FakeTransport::Send(const HttpRequest& request) {
  Handler handler;
  {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back(request);
    if (!queue_.empty()) {
      auto r = std::move(queue_.front());
      queue_.pop_front();
      return r;
    }
    handler = handler_;
  }
  if (handler) return handler(request);
  return UnavailableError("FakeTransport: no reply scripted for " + request.method + " " + request.url);
}

std::vector<HttpRequest> FakeTransport::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

size_t FakeTransport::request_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_.size();
}

}  // namespace spk::net
