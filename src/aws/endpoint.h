// Region and endpoint resolution, as the AWS SDKs do it.
//
// Region: AWS_REGION, AWS_DEFAULT_REGION, the active profile's `region` in the
// config file, then (when an IMDS client is given) the instance's region.
// Endpoint: AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's
// `endpoint_url`, else https://<prefix>.<region>.amazonaws.com (".com.cn" in
// China regions). AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips the configured ones.
// As botocore: the profile's `services = NAME` section ("[services NAME]" with a
// nested "ecs =\n  endpoint_url = URL") comes after AWS_ENDPOINT_URL and before
// the profile's own `endpoint_url`; the profile may also set
// `ignore_configured_endpoint_urls = true`.
#pragma once

#include <map>
#include <optional>
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
  std::string source;  // "AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL", "profile NAME",
                       // "profile NAME services SECTION", "default"
};

class EndpointResolver {
 public:
  // Reads the environment and the profile once (per-service settings for the
  // services in services::All()).
  EndpointResolver(const Env& env, std::string region);
  // kInvalidArgument when a configured URL is malformed, when the default
  // endpoint is needed but the region is empty, or when the profile names a
  // services section that does not exist.
  Result<ResolvedEndpoint> Resolve(const ServiceInfo& service) const;
  const std::string& region() const { return region_; }

 private:
  struct Configured {
    std::string url;
    std::string source;
  };
  std::string region_;
  // Keyed by ServiceInfo::EnvSuffix(): AWS_ENDPOINT_URL_<SUFFIX>, and the
  // endpoint_url of the service in the profile's [services NAME] section.
  std::map<std::string, Configured> per_service_env_;
  std::map<std::string, Configured> per_service_profile_;
  std::optional<Configured> global_env_;      // AWS_ENDPOINT_URL
  std::optional<Configured> global_profile_;  // the profile's endpoint_url
  std::string profile_error_;                 // a broken `services` reference
};

}  // namespace spk::aws
