#include "cloud/aws_metadata.h"

#include <nlohmann/json.hpp>

#include "base/json.h"

namespace spk::cloud {

AwsMetadata::AwsMetadata(net::HttpTransport& http, const Clock& clock, aws::ImdsOptions options)
    : client_(http, clock, std::move(options)) {}

Result<std::string> AwsMetadata::Get(const std::string& path) { return client_.Get(path); }

aws::ImdsClient::Mode AwsMetadata::mode() const { return client_.mode(); }

HttpEcsAgentIntrospection::HttpEcsAgentIntrospection(net::HttpTransport& http, std::string endpoint,
                                                     std::chrono::milliseconds timeout)
    : http_(http), timeout_(timeout) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const std::string suffix = "/v1/metadata";
  if (endpoint.size() < suffix.size() ||
      endpoint.compare(endpoint.size() - suffix.size(), suffix.size(), suffix) != 0) {
    endpoint += suffix;
  }
  url_ = std::move(endpoint);
}

Result<EcsAgentInfo> HttpEcsAgentIntrospection::Get() {
  net::HttpRequest req;
  req.url = url_;
  req.connect_timeout = timeout_;
  req.total_timeout = timeout_;
  auto reply = http_.Send(req);
  if (!reply.ok()) return reply.status().WithContext("ECS agent introspection " + url_);
  if (reply->status != 200) {
    return UnavailableError("ECS agent introspection " + url_ + " answered HTTP " +
                            std::to_string(reply->status));
  }
  auto info = ParseEcsAgentMetadata(reply->body);
  if (!info.ok()) return info.status().WithContext("ECS agent introspection " + url_);
  return info;
}

Result<EcsAgentInfo> ParseEcsAgentMetadata(const std::string& body) {
  auto j = ParseJsonOrDiscarded(body, kMaxLocalDocumentBytes);
  if (!j.is_object()) return InternalError("reply is not a JSON object");
  EcsAgentInfo info{JsonStringField(j, "Cluster"), JsonStringField(j, "ContainerInstanceArn")};
  if (info.cluster.empty()) return InternalError("reply has no Cluster");
  return info;
}

}  // namespace spk::cloud
