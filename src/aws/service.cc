#include "aws/service.h"

#include <cctype>

namespace spk::aws {

std::string ServiceInfo::EnvSuffix() const {
  std::string s;
  for (char c : id) s.push_back(c == ' ' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return s;
}

namespace services {
const ServiceInfo& Ec2() {
  static const ServiceInfo s{"EC2", "ec2", "ec2", Protocol::kQuery, "2016-11-15", ""};
  return s;
}
const ServiceInfo& AutoScaling() {
  static const ServiceInfo s{"Auto Scaling", "autoscaling", "autoscaling", Protocol::kQuery, "2011-01-01", ""};
  return s;
}
const ServiceInfo& CloudWatch() {
  // CloudWatch also speaks JSON 1.0 and CBOR; the query protocol is the one every
  // endpoint (and moto) serves.
  static const ServiceInfo s{"CloudWatch", "monitoring", "monitoring", Protocol::kQuery, "2010-08-01", ""};
  return s;
}
const ServiceInfo& Sns() {
  static const ServiceInfo s{"SNS", "sns", "sns", Protocol::kQuery, "2010-03-31", ""};
  return s;
}
const ServiceInfo& Sqs() {
  static const ServiceInfo s{"SQS", "sqs", "sqs", Protocol::kJson10, "2012-11-05", "AmazonSQS"};
  return s;
}
const ServiceInfo& Ecs() {
  static const ServiceInfo s{"ECS", "ecs", "ecs", Protocol::kJson11, "2014-11-13",
                             "AmazonEC2ContainerServiceV20141113"};
  return s;
}
const ServiceInfo& Sts() {
  static const ServiceInfo s{"STS", "sts", "sts", Protocol::kQuery, "2011-06-15", ""};
  return s;
}
std::vector<const ServiceInfo*> All() {
  return {&Ec2(), &AutoScaling(), &CloudWatch(), &Sns(), &Sqs(), &Ecs(), &Sts()};
}
}  // namespace services

}  // namespace spk::aws
