#include "base/status.h"

#include <fmt/format.h>

namespace spk {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
  }
  return "UNKNOWN";
}

bool StatusCodeFromName(const std::string& name, StatusCode* out) {
  for (int i = 0; i <= static_cast<int>(StatusCode::kUnimplemented); ++i) {
    if (name == StatusCodeName(static_cast<StatusCode>(i))) {
      *out = static_cast<StatusCode>(i);
      return true;
    }
  }
  return false;
}

bool Status::retryable() const {
  return code_ == StatusCode::kUnavailable || code_ == StatusCode::kDeadlineExceeded ||
         code_ == StatusCode::kResourceExhausted;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string s = fmt::format("{}: {}", StatusCodeName(code_), message_);
  if (remote_) {
    s += fmt::format(" [{} {}", remote_->service, remote_->error_code);
    if (remote_->http_status) s += fmt::format(" http={}", remote_->http_status);
    if (!remote_->request_id.empty()) s += fmt::format(" request-id={}", remote_->request_id);
    s += "]";
  }
  return s;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  Status s(code_, context + ": " + message_);
  s.remote_ = remote_;
  return s;
}

}  // namespace spk
