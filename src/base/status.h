// Status and Result: how every layer reports failure. No exceptions cross a
// layer boundary; a function that can fail returns Status or Result<T>.
//
// The code says what the caller should do (after absl::StatusCode):
//   kUnavailable        transient (network, 5xx): retry the call.
//   kResourceExhausted  throttled or over quota: retry later, with backoff.
//   kDeadlineExceeded   timed out: retry the call.
//   kInvalidArgument    the request is wrong: do not retry.
//   kUnauthenticated    credentials missing, wrong or expired: fix them first.
//   kPermissionDenied   authenticated but not allowed: fix the policy first.
//   kNotFound           the thing asked for does not exist.
//   kFailedPrecondition state is not right for this call: do not retry until fixed.
//   kAborted            a conflict: retry the whole higher-level operation.
//   kInternal           a broken reply or an impossible state.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace spk {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kUnavailable,
  kDeadlineExceeded,
  kResourceExhausted,
  kUnauthenticated,
  kPermissionDenied,
  kFailedPrecondition,
  kAborted,
  kInternal,
  kUnimplemented,
};

// "UNAVAILABLE", "INVALID_ARGUMENT", ...
const char* StatusCodeName(StatusCode code);
// The inverse of StatusCodeName; false for an unknown name.
bool StatusCodeFromName(const std::string& name, StatusCode* out);

// Details of an error reported by a remote service (an AWS error reply).
struct RemoteError {
  std::string service;     // "ecs", "ec2", ...
  std::string error_code;  // "ThrottlingException", "SignatureDoesNotMatch", ...
  int http_status = 0;     // 0 when no HTTP reply was received
  std::string request_id;  // empty when the service gave none
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Remote service details, when the failure came from a service's error reply.
  const std::optional<RemoteError>& remote() const { return remote_; }
  Status& set_remote(RemoteError remote) {
    remote_ = std::move(remote);
    return *this;
  }

  // True when retrying the same call may succeed.
  bool retryable() const;

  // "UNAVAILABLE: message [ecs ThrottlingException http=400 request-id=...]".
  std::string ToString() const;

  // Returns a copy whose message is "context: message".
  Status WithContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::optional<RemoteError> remote_;
};

inline Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status UnauthenticatedError(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDeniedError(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or the Status that explains why there is none.
// REQUIRES: a Result is never built from an ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace spk

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define SPK_RETURN_IF_ERROR(expr)            \
  do {                                       \
    ::spk::Status spk_status_ = (expr);      \
    if (!spk_status_.ok()) return spk_status_; \
  } while (0)

#define SPK_CONCAT_INNER(a, b) a##b
#define SPK_CONCAT(a, b) SPK_CONCAT_INNER(a, b)
// `SPK_ASSIGN_OR_RETURN(auto x, Foo());` declares x from Foo()'s value, or returns its Status.
#define SPK_ASSIGN_OR_RETURN(lhs, expr) SPK_ASSIGN_OR_RETURN_IMPL(SPK_CONCAT(spk_result_, __LINE__), lhs, expr)
#define SPK_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
