// Metadata and ECS agent introspection from the real services: IMDS through
// aws::ImdsClient (IMDSv2 token reused), the ECS agent over HTTP.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "aws/imds.h"
#include "base/clock.h"
#include "cloud/metadata.h"
#include "net/http.h"

namespace spk::cloud {

// IMDS through an aws::ImdsClient (IMDSv2 token reused and refreshed; a v1
// fallback recovers when the service requires v2 again). Thread-safe.
class AwsMetadata final : public Metadata {
 public:
  // `http` and `clock` must outlive this object.
  AwsMetadata(net::HttpTransport& http, const Clock& clock, aws::ImdsOptions options);

  Result<std::string> Get(const std::string& path) override;
  std::string Describe() const override { return client_.options().endpoint; }
  // The protocol of the last successful read.
  aws::ImdsClient::Mode mode() const;

 private:
  aws::ImdsClient client_;
};

// The ECS agent's introspection API: GET {endpoint}/v1/metadata.
class HttpEcsAgentIntrospection final : public EcsAgentIntrospection {
 public:
  // `endpoint` like "http://localhost:51678" (a trailing "/v1/metadata" is accepted).
  HttpEcsAgentIntrospection(net::HttpTransport& http, std::string endpoint,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(1000));
  Result<EcsAgentInfo> Get() override;
  const std::string& url() const { return url_; }

 private:
  net::HttpTransport& http_;
  std::string url_;
  std::chrono::milliseconds timeout_;
};

// Parses the introspection reply ({"Cluster": ..., "ContainerInstanceArn": ...}).
// kInternal when it is not a JSON object or Cluster is missing.
Result<EcsAgentInfo> ParseEcsAgentMetadata(const std::string& body);

}  // namespace spk::cloud
