#include "aws/sqs.h"

#include <openssl/evp.h>

#include <string>
#include <string_view>
#include <vector>

#include "aws/service_util.h"
#include "base/redact.h"
#include "base/strings.h"
#include "net/http.h"

namespace spk::aws {

using internal::JsonFields;

std::string Md5Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr) != 1) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

int64_t SqsMessage::receive_count() const {
  auto it = attributes.find("ApproximateReceiveCount");
  if (it == attributes.end()) return 0;
  return internal::ParseInt(it->second).value_or(0);
}

namespace {

nlohmann::json AttributesJson(const std::map<std::string, SqsMessageAttribute>& attrs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, a] : attrs) {
    out[name] = {{"DataType", a.data_type}, {"StringValue", a.string_value}};
  }
  return out;
}

}  // namespace

Result<std::vector<SqsMessage>> SqsClient::ReceiveMessage(const std::string& queue_url,
                                                          const ReceiveOptions& options) {
  nlohmann::json body = {{"QueueUrl", queue_url}, {"MaxNumberOfMessages", options.max_messages}};
  if (options.wait_time_seconds) body["WaitTimeSeconds"] = *options.wait_time_seconds;
  if (options.visibility_timeout) body["VisibilityTimeout"] = *options.visibility_timeout;
  if (!options.system_attribute_names.empty()) {
    body["MessageSystemAttributeNames"] = options.system_attribute_names;
  }
  if (!options.message_attribute_names.empty()) {
    body["MessageAttributeNames"] = options.message_attribute_names;
  }
  CallOptions call;
  if (options.wait_time_seconds) {
    call.timeout = std::chrono::seconds(*options.wait_time_seconds + 10);
  }
  SPK_ASSIGN_OR_RETURN(nlohmann::json reply,
                       client_.CallJson(services::Sqs(), "ReceiveMessage", body, call));
  JsonFields top(reply, "ReceiveMessageResult");
  std::vector<SqsMessage> out;
  for (const auto& m : top.Array("Messages")) {
    JsonFields f(m, "Message");
    SqsMessage msg;
    msg.message_id = f.Str("MessageId");
    msg.receipt_handle = f.Str("ReceiptHandle");
    msg.body = f.Str("Body");
    msg.md5_of_body = f.Str("MD5OfBody");
    if (m.contains("Attributes") && m["Attributes"].is_object()) {
      for (const auto& [k, v] : m["Attributes"].items()) {
        if (v.is_string()) msg.attributes[k] = v.get<std::string>();
      }
    }
    if (m.contains("MessageAttributes") && m["MessageAttributes"].is_object()) {
      for (const auto& [k, v] : m["MessageAttributes"].items()) {
        JsonFields a(v, "MessageAttributes." + k);
        msg.message_attributes[k] = {a.Str("DataType"), a.Str("StringValue")};
        SPK_RETURN_IF_ERROR(a.status());
      }
    }
    SPK_RETURN_IF_ERROR(f.status());
    if (msg.receipt_handle.empty()) return InternalError("sqs ReceiveMessage: no ReceiptHandle");
    if (!msg.md5_of_body.empty() && msg.md5_of_body != Md5Hex(msg.body)) {
      return InternalError("sqs ReceiveMessage: body of " + msg.message_id +
                           " does not match its MD5OfBody");
    }
    out.push_back(std::move(msg));
  }
  SPK_RETURN_IF_ERROR(top.status());
  return out;
}

Status SqsClient::DeleteMessage(const std::string& queue_url, const std::string& receipt_handle) {
  nlohmann::json body = {{"QueueUrl", queue_url}, {"ReceiptHandle", receipt_handle}};
  SPK_ASSIGN_OR_RETURN(nlohmann::json reply,
                       client_.CallJson(services::Sqs(), "DeleteMessage", body));
  (void)reply;
  return Status::Ok();
}

namespace {

// Per entry of a batch call's reply (entry Ids "0".."n-1"), as DeleteMessageBatch documents.
Result<std::vector<Status>> BatchResults(const nlohmann::json& reply, const std::string& action,
                                         size_t n) {
  std::vector<Status> out(n, UnavailableError("sqs " + action + ": entry not in the reply"));
  // The entry an Id names, or out.size() for none of ours.
  auto entry = [&](const std::string& id) {
    for (size_t i = 0; i < out.size(); ++i) {
      if (id == std::to_string(i)) return i;
    }
    return out.size();
  };
  JsonFields top(reply, action + "Result");
  for (const auto& ok : top.Array("Successful")) {
    JsonFields f(ok, "Successful");
    const size_t i = entry(f.Str("Id"));
    SPK_RETURN_IF_ERROR(f.status());
    if (i < out.size()) out[i] = Status::Ok();
  }
  for (const auto& failed : top.Array("Failed")) {
    JsonFields f(failed, "Failed");
    const size_t i = entry(f.Str("Id"));
    const std::string code = f.Str("Code");
    const std::string message = f.Str("Message");
    const bool sender = f.Bool("SenderFault", false);
    SPK_RETURN_IF_ERROR(f.status());
    if (i >= out.size()) continue;
    const std::string what = "sqs " + action + ": " + code + ": " + message;
    out[i] = sender ? InvalidArgumentError(what) : UnavailableError(what);
  }
  SPK_RETURN_IF_ERROR(top.status());
  return out;
}

}  // namespace

Result<std::vector<Status>> SqsClient::Batch(const std::string& action,
                                             const std::string& queue_url,
                                             const std::vector<std::string>& receipt_handles,
                                             std::optional<int> visibility_timeout_seconds) {
  if (receipt_handles.empty() || receipt_handles.size() > 10) {
    return InvalidArgumentError("sqs " + action + ": 1 to 10 receipt handles");
  }
  nlohmann::json entries = nlohmann::json::array();
  for (size_t i = 0; i < receipt_handles.size(); ++i) {
    nlohmann::json e = {{"Id", std::to_string(i)}, {"ReceiptHandle", receipt_handles[i]}};
    if (visibility_timeout_seconds) e["VisibilityTimeout"] = *visibility_timeout_seconds;
    entries.push_back(std::move(e));
  }
  nlohmann::json body = {{"QueueUrl", queue_url}, {"Entries", entries}};
  SPK_ASSIGN_OR_RETURN(nlohmann::json reply, client_.CallJson(services::Sqs(), action, body));
  return BatchResults(reply, action, receipt_handles.size());
}

Result<std::vector<Status>> SqsClient::DeleteMessageBatch(
    const std::string& queue_url, const std::vector<std::string>& receipt_handles) {
  return Batch("DeleteMessageBatch", queue_url, receipt_handles, std::nullopt);
}

Result<std::vector<Status>> SqsClient::ChangeMessageVisibilityBatch(
    const std::string& queue_url, const std::vector<std::string>& receipt_handles,
    int visibility_timeout_seconds) {
  return Batch("ChangeMessageVisibilityBatch", queue_url, receipt_handles,
               visibility_timeout_seconds);
}

Status SqsClient::ChangeMessageVisibility(const std::string& queue_url,
                                          const std::string& receipt_handle,
                                          int visibility_timeout_seconds) {
  nlohmann::json body = {{"QueueUrl", queue_url},
                         {"ReceiptHandle", receipt_handle},
                         {"VisibilityTimeout", visibility_timeout_seconds}};
  SPK_ASSIGN_OR_RETURN(nlohmann::json reply,
                       client_.CallJson(services::Sqs(), "ChangeMessageVisibility", body));
  (void)reply;
  return Status::Ok();
}

Result<SendMessageResult> SqsClient::SendMessage(const std::string& queue_url,
                                                 const std::string& message_body,
                                                 const SendOptions& options) {
  nlohmann::json body = {{"QueueUrl", queue_url}, {"MessageBody", message_body}};
  if (options.delay_seconds) body["DelaySeconds"] = *options.delay_seconds;
  if (!options.message_attributes.empty()) {
    body["MessageAttributes"] = AttributesJson(options.message_attributes);
  }
  if (!options.message_group_id.empty()) body["MessageGroupId"] = options.message_group_id;
  if (!options.message_deduplication_id.empty()) {
    body["MessageDeduplicationId"] = options.message_deduplication_id;
  }
  SPK_ASSIGN_OR_RETURN(nlohmann::json reply,
                       client_.CallJson(services::Sqs(), "SendMessage", body));
  JsonFields f(reply, "SendMessageResult");
  SendMessageResult r;
  r.message_id = f.Str("MessageId");
  r.md5_of_body = f.Str("MD5OfMessageBody");
  r.sequence_number = f.Str("SequenceNumber");
  SPK_RETURN_IF_ERROR(f.status());
  if (r.message_id.empty()) return InternalError("sqs SendMessage: reply has no MessageId");
  if (!r.md5_of_body.empty() && r.md5_of_body != Md5Hex(message_body)) {
    return InternalError("sqs SendMessage: MD5OfMessageBody does not match the body sent");
  }
  return r;
}

std::string QueueUrlRegion(const std::string& queue_url) {
  net::Url url;
  if (!net::ParseUrl(queue_url, &url)) return "";
  const std::string host = AsciiLower(url.host);
  std::string name;  // the host without its AWS domain
  for (const std::string_view domain : {".amazonaws.com.cn", ".amazonaws.com"}) {
    if (host.size() > domain.size() && host.ends_with(domain)) {
      name = host.substr(0, host.size() - domain.size());
      break;
    }
  }
  if (name == "queue") return "us-east-1";
  std::string region;
  for (const std::string_view prefix : {"sqs.", "sqs-fips."}) {
    if (name.starts_with(prefix)) region = name.substr(prefix.size());
  }
  constexpr std::string_view kLegacy = ".queue";  // REGION.queue.amazonaws.com
  if (region.empty() && name.ends_with(kLegacy)) {
    region = name.substr(0, name.size() - kLegacy.size());
  }
  return internal::IsRegionName(region) ? region : "";
}

Status CheckQueueRegion(const std::string& queue_url, const std::string& region) {
  return internal::CheckSameRegion("queue", QueueUrlRegion(queue_url), region,
                                   "SQS answers for a queue only at its own region's endpoint");
}

Result<std::string> QueueUrlFromArn(const std::string& arn, const EndpointResolver& endpoints) {
  auto bad = [&](const std::string& why) {
    return InvalidArgumentError("not an SQS queue ARN (" + why + "): \"" + Truncate(arn, 200) +
                                "\"");
  };
  std::vector<std::string> parts;
  std::string name;
  if (!internal::SplitArn(arn, &parts, &name)) return bad("too few fields");
  if (parts[0] != "arn" || parts[1].empty()) return bad("no arn:PARTITION prefix");
  if (parts[2] != "sqs") return bad("service is not sqs");
  if (parts[3] != endpoints.region()) {
    return bad("region is not " + (endpoints.region().empty() ? "set" : endpoints.region()));
  }
  const std::string& account = parts[4];
  if (account.size() != 12 || account.find_first_not_of("0123456789") != std::string::npos) {
    return bad("account is not 12 digits");
  }
  std::string base = name;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".fifo") == 0) {
    base.resize(base.size() - 5);
  }
  if (name.empty() || name.size() > 80 || base.empty() ||
      base.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") !=
          std::string::npos) {
    return bad("queue name");
  }
  SPK_ASSIGN_OR_RETURN(ResolvedEndpoint endpoint, endpoints.Resolve(services::Sqs()));
  std::string url = endpoint.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/" + account + "/" + name;
}

}  // namespace spk::aws
