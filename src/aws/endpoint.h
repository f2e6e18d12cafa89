// Region and endpoint resolution, as the AWS SDKs do it.
//
// Region: AWS_REGION, AWS_DEFAULT_REGION, the active profile's `region` in the
// config file, then (when an IMDS client is given) the instance's region.
// Endpoint: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's
// `endpoint_url`, else https://<prefix>.<region>.amazonaws.com (".com.cn" in
// China regions). AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips the configured ones.
#pragma once

#include <map>
#include <string>

#include "aws/service.h"
#include "base/env.h"
#include "base/status.h"

namespace spk::aws {

class ImdsClient;

struct ResolvedRegion {
  std::string region;
  std::string source;  // "AWS_REGION", "AWS_DEFAULT_REGION", "profile NAME", "imds"
};

// kNotFound naming every place looked at when no region is configured.
Result<ResolvedRegion> ResolveRegion(const Env& env, ImdsClient* imds = nullptr);

struct ResolvedEndpoint {
  std::string url;     // scheme://host[:port][/path], no trailing slash
  std::string source;  // "AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL", "profile NAME", "default"
};

class EndpointResolver {
 public:
  // Reads the environment and the profile once.
  EndpointResolver(const Env& env, std::string region);
  // kInvalidArgument when a configured URL is malformed.
  Result<ResolvedEndpoint> Resolve(const ServiceInfo& service) const;
  const std::string& region() const { return region_; }

 private:
  std::string region_;
  std::map<std::string, std::string> per_service_;  // env suffix -> url
  std::string global_;
  std::string global_source_;
};

}  // namespace spk::aws
