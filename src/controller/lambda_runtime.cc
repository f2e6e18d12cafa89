#include "controller/lambda_runtime.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/log.h"
#include "controller/event.h"

namespace spk::controller {
namespace {

constexpr char kApiVersion[] = "2018-06-01";
// The largest invocation payload Lambda delivers (synchronous: 6 MB).
constexpr size_t kMaxLambdaPayloadBytes = 6 * 1024 * 1024;

bool Is2xx(int status) { return status >= 200 && status < 300; }

// Error messages go into a JSON body and a log line: keep them one line.
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  constexpr size_t kMax = 2000;
  if (s.size() > kMax) s.resize(kMax);
  return s;
}

}  // namespace

LambdaResult LambdaResult::Response(std::string payload) {
  LambdaResult r;
  r.ok = true;
  r.payload = std::move(payload);
  return r;
}

LambdaResult LambdaResult::Error(std::string type, std::string message) {
  LambdaResult r;
  r.ok = false;
  r.error_type = std::move(type);
  r.error_message = std::move(message);
  return r;
}

std::string LambdaErrorBody(const std::string& type, const std::string& message) {
  nlohmann::json body = {{"errorMessage", OneLine(message)}, {"errorType", type}};
  // Invalid UTF-8 in a message (from a malformed event) must not throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

struct SqsRecord {
  std::string message_id;
  std::string body;
  std::string receipt_handle;
  std::string event_source_arn;
  int64_t receive_count = 0;  // attributes.ApproximateReceiveCount; 0 when absent
};

std::string StringField(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

int64_t ReceiveCount(const nlohmann::json& record) {
  auto attributes = record.find("attributes");
  if (attributes == record.end() || !attributes->is_object()) return 0;
  const std::string text = StringField(*attributes, "ApproximateReceiveCount");
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  return ec == std::errc() && end == text.data() + text.size() && n > 0 ? n : 0;
}

// The records of an SQS event source batch; nullopt when `text` is not one.
std::optional<std::vector<SqsRecord>> SqsBatchRecords(const std::string& text) {
  auto parsed = ParseJson(text, kMaxLambdaPayloadBytes, "Lambda event");
  if (!parsed.ok() || !parsed->is_object()) return std::nullopt;
  const nlohmann::json& doc = *parsed;
  auto records = doc.find("Records");
  if (records == doc.end() || !records->is_array() || records->empty()) return std::nullopt;
  std::vector<SqsRecord> out;
  for (const nlohmann::json& r : *records) {
    if (!r.is_object() || r.value("eventSource", nlohmann::json()) != "aws:sqs") {
      return std::nullopt;
    }
    out.push_back({StringField(r, "messageId"), StringField(r, "body"),
                   StringField(r, "receiptHandle"), StringField(r, "eventSourceARN"),
                   ReceiveCount(r)});
  }
  return out;
}

int64_t Millis(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// One invocation's time: its deadline on the monotonic clock, when it has one.
class Budget {
 public:
  Budget(const LambdaHandlerOptions& options, const LambdaInvocation& invocation)
      : options_(options) {
    if (options.clock == nullptr || !invocation.deadline_ms) return;
    // In milliseconds, and only a deadline within a day of now: a wild header
    // must not overflow the arithmetic.
    constexpr int64_t kDayMs = 24 * 3600 * 1000;
    const int64_t now_ms = Millis(options.clock->WallNow().time_since_epoch());
    const int64_t deadline_ms = *invocation.deadline_ms;
    if (deadline_ms < now_ms - kDayMs || deadline_ms > now_ms + kDayMs) {
      log::Warn("implausible Lambda-Runtime-Deadline-Ms ignored: no time budget",
                {{"request_id", invocation.request_id},
                 {"deadline_ms", std::to_string(deadline_ms)},
                 {"now_ms", std::to_string(now_ms)}});
      return;
    }
    deadline_ = options.clock->MonotonicNow() + std::chrono::milliseconds(deadline_ms - now_ms);
  }

  // When the work's AWS calls must end: deadline - reserve.
  std::optional<MonoTime> work_end() const {
    if (!deadline_) return std::nullopt;
    return *deadline_ - options_.reserve;
  }
  // When the redeliver calls must end: deadline - response_reserve.
  std::optional<MonoTime> redeliver_end() const {
    if (!deadline_) return std::nullopt;
    return *deadline_ - options_.response_reserve;
  }
  // Why a phase cannot start now ("" when it can, or there is no budget).
  std::string NoTimeFor(const std::string& phase) const {
    if (!deadline_) return "";
    const Duration left = *work_end() - options_.clock->MonotonicNow();
    if (left >= options_.min_phase) return "";
    return phase + " not started: " + std::to_string(std::max<int64_t>(0, Millis(left))) +
           " ms left of the invocation's budget (at least " +
           std::to_string(Millis(options_.min_phase)) + " ms needed)";
  }
  std::string left_ms() const {
    if (!deadline_) return "unbounded";
    return std::to_string(Millis(*deadline_ - options_.clock->MonotonicNow()));
  }

 private:
  const LambdaHandlerOptions& options_;
  std::optional<MonoTime> deadline_;  // the invocation's
};

// Sets the client's call deadline for a scope, when there are both.
class CallDeadline {
 public:
  CallDeadline(aws::AwsClient* client, std::optional<MonoTime> end) {
    if (client != nullptr && end) scoped_.emplace(*client, end);
  }

 private:
  std::optional<aws::ScopedCallDeadline> scoped_;
};

// Makes the records left for redelivery visible again soon (not unparseable
// ones: those wait for the dead-letter queue, as in the controller loop).
void Redeliver(const LambdaHandlerOptions& options, const Budget& budget,
               const LambdaInvocation& invocation, const std::vector<const SqsRecord*>& records) {
  if (!options.redeliver || records.empty()) return;
  CallDeadline deadline(options.client, budget.redeliver_end());
  for (const SqsRecord* record : records) {
    QueueMessage message;
    message.id = record->message_id;
    message.receipt_handle = record->receipt_handle;
    message.receive_count = record->receive_count;
    const Duration delay =
        RedeliveryDelay(options.retry_backoff, options.max_retry_backoff, record->receive_count);
    if (delay <= Duration::zero()) return;
    Status changed = record->receipt_handle.empty()
                         ? InvalidArgumentError("the record has no receiptHandle")
                         : options.redeliver(record->event_source_arn, message, delay);
    if (!changed.ok()) {
      log::Warn(
          "could not delay the message's redelivery (it returns after the queue's "
          "visibility timeout)",
          {{"request_id", invocation.request_id},
           {"message_id", record->message_id},
           {"error", OneLine(changed.ToString())}});
      continue;
    }
    log::Info("message left for redelivery",
              {{"request_id", invocation.request_id},
               {"message_id", record->message_id},
               {"receive_count", std::to_string(record->receive_count)},
               {"retry_in_s", std::to_string(Millis(delay) / 1000)}});
  }
}

LambdaResult HandleSqsBatch(Handler& handler, const LambdaHandlerOptions& options,
                            const LambdaInvocation& invocation,
                            const std::vector<SqsRecord>& records) {
  const Budget budget(options, invocation);
  std::vector<std::string> failures;
  std::vector<const SqsRecord*> redeliver;
  std::vector<Event> events;
  std::vector<const SqsRecord*> event_records;
  for (const SqsRecord& record : records) {
    auto event = ParseEvent(record.body);
    if (!event.ok()) {
      log::Warn("message not handled: unsupported, left for the dead-letter queue",
                {{"request_id", invocation.request_id},
                 {"message_id", record.message_id},
                 {"error", OneLine(event.status().message())}});
      failures.push_back(record.message_id);
      continue;
    }
    events.push_back(*std::move(event));
    event_records.push_back(&record);
  }
  if (!events.empty()) {
    // A handling that threw is a failed handling: every message of the batch
    // stays in the queue (and, if it keeps failing, goes to the dead-letter queue).
    BatchReport batch;
    Status status;
    try {
      CallDeadline deadline(options.client, budget.work_end());
      if (std::string why = budget.NoTimeFor("the batch"); !why.empty()) {
        status = DeadlineExceededError(why);
      } else {
        AdmitReport admitted = handler.Admit(events);
        batch.duplicate = std::move(admitted.duplicate);
        batch.refused = std::move(admitted.refused);
        std::vector<Event> fresh;
        for (size_t i = 0; i < events.size(); ++i) {
          if (!batch.duplicate[i] && batch.refused[i].empty()) fresh.push_back(events[i]);
        }
        if (!fresh.empty()) {
          if (std::string late = budget.NoTimeFor("the decision"); !late.empty()) {
            handler.Abandon(fresh);
            status = DeadlineExceededError(late);
          } else {
            batch.report = handler.Settle(fresh);
            status = batch.report.status();
          }
          batch.report.fast_path = std::move(admitted.fast_path);
          batch.report.fast_path_recorded = std::move(admitted.recorded);
        }
      }
    } catch (const std::exception& e) {
      status = InternalError(std::string("internal error: ") + e.what());
    } catch (...) {
      status = InternalError("internal error: unknown exception");
    }
    batch.duplicate.resize(events.size(), false);
    batch.refused.resize(events.size());
    if (!status.ok()) {
      std::string ids;
      for (const SqsRecord* r : event_records) ids += (ids.empty() ? "" : ",") + r->message_id;
      log::Error("batch handling failed, its messages are left for redelivery",
                 {{"request_id", invocation.request_id},
                  {"messages", std::to_string(events.size())},
                  {"message_ids", ids},
                  {"time_left_ms", budget.left_ms()},
                  {"error", OneLine(status.message())}});
    }
    for (size_t i = 0; i < events.size(); ++i) {
      // A refused event is answered (deleted): retrying cannot change it.
      if (!batch.refused[i].empty()) {
        log::Warn("message refused", {{"request_id", invocation.request_id},
                                      {"message_id", event_records[i]->message_id},
                                      {"reason", batch.refused[i]}});
        continue;
      }
      if (!status.ok() && !batch.duplicate[i]) {
        failures.push_back(event_records[i]->message_id);
        redeliver.push_back(event_records[i]);
      }
    }
    Redeliver(options, budget, invocation, redeliver);
    log::Info("batch handled", {{"request_id", invocation.request_id},
                                {"messages", std::to_string(records.size())},
                                {"left_in_queue", std::to_string(failures.size())},
                                {"time_left_ms", budget.left_ms()}});
  }
  nlohmann::json items = nlohmann::json::array();
  for (const std::string& id : failures) items.push_back({{"itemIdentifier", id}});
  return LambdaResult::Response(JsonDumpSafe(nlohmann::json{{"batchItemFailures", items}}));
}

}  // namespace

RedeliverFn MakeSqsRedeliver(aws::SqsClient& sqs, const aws::EndpointResolver& endpoints) {
  return [&sqs, &endpoints](const std::string& event_source_arn, const QueueMessage& message,
                            Duration delay) -> Status {
    SPK_ASSIGN_OR_RETURN(std::string url, aws::QueueUrlFromArn(event_source_arn, endpoints));
    return SqsQueue(sqs, url).ChangeVisibility(message, delay);
  };
}

LambdaHandlerFn MakeControllerLambdaHandler(Handler& handler, LambdaHandlerOptions options) {
  return
      [&handler, options = std::move(options)](const LambdaInvocation& invocation) -> LambdaResult {
        if (auto records = SqsBatchRecords(invocation.body)) {
          return HandleSqsBatch(handler, options, invocation, *records);
        }
        auto event = ParseEvent(invocation.body);
        if (!event.ok()) {
          log::Error("event not handled", {{"request_id", invocation.request_id},
                                           {"error", OneLine(event.status().message())}});
          return LambdaResult::Error("Spotkeeper.InvalidEvent", event.status().message());
        }
        const Budget budget(options, invocation);
        if (std::string why = budget.NoTimeFor("the event's handling"); !why.empty()) {
          log::Error("event handling failed", {{"request_id", invocation.request_id},
                                               {"message_id", event->message_id},
                                               {"error", why}});
          return LambdaResult::Error("Spotkeeper.HandlingFailed", why);
        }
        HandleReport report;
        {
          CallDeadline deadline(options.client, budget.work_end());
          report = handler.Handle(*event);
        }
        std::string payload =
            ToJson(report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        Status status = report.status();
        if (!status.ok()) {
          log::Error("event handling failed", {{"request_id", invocation.request_id},
                                               {"message_id", event->message_id},
                                               {"time_left_ms", budget.left_ms()},
                                               {"error", OneLine(status.message())},
                                               {"report", payload}});
          return LambdaResult::Error("Spotkeeper.HandlingFailed", status.message());
        }
        if (!report.refused.empty()) {
          // Answered, not an error: Lambda would only retry it.
          log::Warn("event refused", {{"request_id", invocation.request_id},
                                      {"message_id", event->message_id},
                                      {"reason", report.refused}});
          return LambdaResult::Response(std::move(payload));
        }
        log::Info("event handled", {{"request_id", invocation.request_id},
                                    {"message_id", event->message_id},
                                    {"kind", EventKindName(event->kind)},
                                    {"duplicate", report.duplicate ? "true" : "false"}});
        return LambdaResult::Response(std::move(payload));
      };
}

LambdaRuntime::LambdaRuntime(net::HttpTransport& http, std::string runtime_api)
    : http_(http), base_("http://" + std::move(runtime_api) + "/" + kApiVersion) {}

Result<std::string> LambdaRuntime::RuntimeApiFromEnv(const Env& env) {
  std::string api = env.GetOr("AWS_LAMBDA_RUNTIME_API", "");
  if (api.empty()) {
    return FailedPreconditionError(
        "AWS_LAMBDA_RUNTIME_API is not set: `spotkeeper lambda` runs only under the Lambda "
        "runtime (or the runtime interface emulator)");
  }
  return api;
}

std::string LambdaRuntime::Url(const std::string& path) const { return base_ + path; }

Result<LambdaInvocation> LambdaRuntime::Next() {
  net::HttpRequest request;
  request.method = "GET";
  request.url = Url("/runtime/invocation/next");
  request.total_timeout = std::chrono::milliseconds(0);  // a long poll: no limit
  auto reply = http_.Send(request);
  if (!reply.ok()) return reply.status().WithContext("runtime API invocation/next");
  if (!Is2xx(reply->status)) {
    return UnavailableError("runtime API invocation/next answered HTTP " +
                            std::to_string(reply->status) + ": " + OneLine(reply->body));
  }
  LambdaInvocation invocation;
  invocation.request_id = reply->Header("Lambda-Runtime-Aws-Request-Id").value_or("");
  if (invocation.request_id.empty()) {
    return UnavailableError("runtime API invocation/next answered without a request id");
  }
  invocation.body = std::move(reply->body);
  invocation.function_arn = reply->Header("Lambda-Runtime-Invoked-Function-Arn").value_or("");
  invocation.trace_id = reply->Header("Lambda-Runtime-Trace-Id").value_or("");
  if (auto deadline = reply->Header("Lambda-Runtime-Deadline-Ms")) {
    int64_t ms = 0;
    auto [end, ec] = std::from_chars(deadline->data(), deadline->data() + deadline->size(), ms);
    if (ec == std::errc() && end == deadline->data() + deadline->size()) {
      invocation.deadline_ms = ms;
    }
  }
  return invocation;
}

Status LambdaRuntime::Post(const std::string& path, const std::string& body, net::Headers headers) {
  net::HttpRequest request;
  request.method = "POST";
  request.url = Url(path);
  request.headers = std::move(headers);
  request.headers.emplace_back("Content-Type", "application/json");
  request.body = body;
  auto reply = http_.Send(request);
  if (!reply.ok()) return reply.status().WithContext("runtime API " + path);
  if (!Is2xx(reply->status)) {
    Status s(reply->status >= 500 ? StatusCode::kUnavailable : StatusCode::kInvalidArgument,
             "runtime API " + path + " answered HTTP " + std::to_string(reply->status) + ": " +
                 OneLine(reply->body));
    return s;
  }
  return Status::Ok();
}

Status LambdaRuntime::PostResponse(const std::string& request_id, const std::string& payload) {
  return Post("/runtime/invocation/" + request_id + "/response", payload, {});
}

Status LambdaRuntime::PostError(const std::string& request_id, const std::string& error_type,
                                const std::string& message) {
  return Post("/runtime/invocation/" + request_id + "/error", LambdaErrorBody(error_type, message),
              {{"Lambda-Runtime-Function-Error-Type", error_type}});
}

Status LambdaRuntime::PostInitError(const std::string& error_type, const std::string& message) {
  return Post("/runtime/init/error", LambdaErrorBody(error_type, message),
              {{"Lambda-Runtime-Function-Error-Type", error_type}});
}

Status LambdaRuntime::Run(const LambdaHandlerFn& handler, const LambdaRunOptions& options) {
  while (true) {
    if (options.stop != nullptr && options.stop->load()) return Status::Ok();
    if (options.max_invocations > 0 && invocations_ >= options.max_invocations) {
      return Status::Ok();
    }
    auto invocation = Next();
    if (!invocation.ok()) return invocation.status();
    ++invocations_;
    LambdaResult result;
    try {
      result = handler(*invocation);
    } catch (const std::exception& e) {
      result = LambdaResult::Error("Spotkeeper.HandlerException", e.what());
    } catch (...) {
      result = LambdaResult::Error("Spotkeeper.HandlerException", "unknown exception");
    }
    const std::string& id = invocation->request_id;
    if (result.ok) {
      Status posted = PostResponse(id, result.payload);
      if (posted.ok()) continue;
      if (posted.code() != StatusCode::kInvalidArgument) return posted;
      // Rejected (e.g. 413, payload too large): report that instead.
      log::Error("runtime API rejected the response",
                 {{"request_id", id}, {"error", posted.message()}});
      result = LambdaResult::Error("Spotkeeper.ResponseRejected", posted.message());
    }
    Status posted = PostError(id, result.error_type, result.error_message);
    if (!posted.ok()) {
      if (posted.code() != StatusCode::kInvalidArgument) return posted;
      log::Error("runtime API rejected the error report",
                 {{"request_id", id}, {"error", posted.message()}});
    }
  }
}

}  // namespace spk::controller
