#include "controller/queue.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace spk::controller {
namespace {

int WholeSeconds(Duration d, int lo, int hi) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  return static_cast<int>(std::clamp<int64_t>(s, lo, hi));
}

}  // namespace

Duration RedeliveryDelay(Duration backoff, Duration max_backoff, int64_t receive_count) {
  if (backoff <= Duration::zero()) return Duration::zero();
  for (int64_t i = 1; i < receive_count && backoff < max_backoff; ++i) backoff *= 2;
  return std::min(backoff, max_backoff);
}

Result<std::vector<QueueMessage>> SqsQueue::Receive(int max_messages, Duration wait,
                                                    Duration visibility) {
  aws::ReceiveOptions options;
  options.max_messages = std::clamp(max_messages, 1, 10);
  options.wait_time_seconds = WholeSeconds(wait, 0, 20);
  if (visibility > Duration::zero())
    options.visibility_timeout = WholeSeconds(visibility, 1, 43200);
  SPK_ASSIGN_OR_RETURN(std::vector<aws::SqsMessage> received,
                       sqs_.ReceiveMessage(queue_url_, options));
  std::vector<QueueMessage> out;
  out.reserve(received.size());
  for (aws::SqsMessage& m : received) {
    QueueMessage q;
    q.id = m.message_id;
    q.receipt_handle = m.receipt_handle;
    q.body = std::move(m.body);
    q.receive_count = m.receive_count();
    if (auto it = m.attributes.find("SentTimestamp"); it != m.attributes.end()) {
      char* end = nullptr;
      long long millis = std::strtoll(it->second.c_str(), &end, 10);
      if (end && *end == '\0' && millis > 0) {
        q.sent_time = WallTime(std::chrono::milliseconds(millis));
      }
    }
    out.push_back(std::move(q));
  }
  return out;
}

Status SqsQueue::Delete(const QueueMessage& message) {
  return sqs_.DeleteMessage(queue_url_, message.receipt_handle);
}

std::vector<Status> MessageQueue::DeleteBatch(const std::vector<QueueMessage>& messages) {
  std::vector<Status> out;
  for (const QueueMessage& m : messages) out.push_back(Delete(m));
  return out;
}

std::vector<Status> MessageQueue::ChangeVisibilityBatch(const std::vector<QueueMessage>& messages,
                                                        Duration delay) {
  std::vector<Status> out;
  for (const QueueMessage& m : messages) out.push_back(ChangeVisibility(m, delay));
  return out;
}

namespace {

// `call` on each 10 receipt handles of `messages` in turn; each message's Status.
template <typename Call>
std::vector<Status> InTens(const std::vector<QueueMessage>& messages, Call call) {
  std::vector<Status> out;
  for (size_t k = 0; k < messages.size(); k += 10) {
    std::vector<std::string> handles;
    for (size_t i = k; i < messages.size() && i < k + 10; ++i) {
      handles.push_back(messages[i].receipt_handle);
    }
    Result<std::vector<Status>> done = call(handles);
    for (size_t i = 0; i < handles.size(); ++i) {
      out.push_back(done.ok() ? (*done)[i] : done.status());
    }
  }
  return out;
}

}  // namespace

std::vector<Status> SqsQueue::DeleteBatch(const std::vector<QueueMessage>& messages) {
  return InTens(messages, [&](const std::vector<std::string>& handles) {
    return sqs_.DeleteMessageBatch(queue_url_, handles);
  });
}

std::vector<Status> SqsQueue::ChangeVisibilityBatch(const std::vector<QueueMessage>& messages,
                                                    Duration delay) {
  const int seconds = WholeSeconds(delay, 0, 43200);
  return InTens(messages, [&](const std::vector<std::string>& handles) {
    return sqs_.ChangeMessageVisibilityBatch(queue_url_, handles, seconds);
  });
}

Status SqsQueue::ChangeVisibility(const QueueMessage& message, Duration delay) {
  return sqs_.ChangeMessageVisibility(queue_url_, message.receipt_handle,
                                      WholeSeconds(delay, 0, 43200));
}

}  // namespace spk::controller
