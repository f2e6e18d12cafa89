#include "aws/sns.h"

#include <vector>

#include "aws/service_util.h"

namespace spk::aws {

Result<std::string> SnsClient::Publish(const std::string& topic_arn, const std::string& message,
                                       const PublishOptions& options) {
  static const std::string kAction = "Publish";
  QueryParams params{{"TopicArn", topic_arn}, {"Message", message}};
  if (!options.subject.empty()) params["Subject"] = options.subject;
  if (!options.message_group_id.empty()) params["MessageGroupId"] = options.message_group_id;
  if (!options.message_deduplication_id.empty()) {
    params["MessageDeduplicationId"] = options.message_deduplication_id;
  }
  // A map in the query protocol: MessageAttributes.entry.N.Name / .Value.<member>.
  size_t n = 1;
  for (const auto& [name, attr] : options.message_attributes) {
    std::string p = "MessageAttributes.entry." + std::to_string(n++);
    params[p + ".Name"] = name;
    params[p + ".Value.DataType"] = attr.data_type;
    params[p + ".Value.StringValue"] = attr.string_value;
  }
  SPK_ASSIGN_OR_RETURN(XmlReply reply, client_.CallQuery(services::Sns(), kAction, params));
  SPK_ASSIGN_OR_RETURN(pugi::xml_node result, internal::QueryResultNode(reply, kAction));
  std::string id = result.child("MessageId").text().get();
  if (id.empty()) return InternalError("sns Publish: reply has no MessageId");
  return id;
}

std::string TopicArnRegion(const std::string& topic_arn) {
  std::vector<std::string> fields;
  std::string name;
  if (!internal::SplitArn(topic_arn, &fields, &name)) return "";
  if (fields[0] != "arn" || fields[2] != "sns" || name.empty()) return "";
  return internal::IsRegionName(fields[3]) ? fields[3] : "";
}

Status CheckTopicRegion(const std::string& topic_arn, const std::string& region) {
  return internal::CheckSameRegion("topic", TopicArnRegion(topic_arn), region,
                                   "SNS publishes to a topic only at its own region's endpoint");
}

}  // namespace spk::aws
