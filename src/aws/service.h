// What spotkeeper knows about each AWS service it calls: how to reach it, how
// to sign for it and which wire protocol it speaks (facts from botocore's models).
#pragma once

#include <string>
#include <vector>

namespace spk::aws {

enum class Protocol {
  kQuery,   // form-encoded POST (Action=..&Version=..), XML reply
  kJson10,  // application/x-amz-json-1.0, X-Amz-Target: <prefix>.<Operation>
  kJson11,  // application/x-amz-json-1.1
};

struct ServiceInfo {
  std::string id;               // botocore serviceId: "EC2", "Auto Scaling", "CloudWatch", ...
  std::string endpoint_prefix;  // host prefix: "ec2", "autoscaling", "monitoring", ...
  std::string signing_name;     // SigV4 service name
  Protocol protocol;
  std::string api_version;      // query protocol's Version parameter
  std::string target_prefix;    // JSON protocol's X-Amz-Target prefix

  // The AWS_ENDPOINT_URL_<SERVICE> suffix: id upper-cased, spaces as '_'.
  std::string EnvSuffix() const;
};

namespace services {
const ServiceInfo& Ec2();
const ServiceInfo& AutoScaling();
const ServiceInfo& CloudWatch();
const ServiceInfo& Sns();
const ServiceInfo& Sqs();
const ServiceInfo& Ecs();
const ServiceInfo& Sts();
// All of the above, in that order.
std::vector<const ServiceInfo*> All();
}  // namespace services

}  // namespace spk::aws
