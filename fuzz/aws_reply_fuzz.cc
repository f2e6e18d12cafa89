// AWS replies (src/aws): every typed service client's reply parser (EC2, Auto
// Scaling, CloudWatch and SNS query/XML; SQS and ECS JSON; STS XML) and the
// error-reply parser, through AwsClient over a FakeTransport that answers
// every request with the fuzzed reply. The first byte picks the operation and
// the HTTP status (2xx, 4xx or 5xx), the rest is the body.
// Invariants: never throws or crashes; a non-2xx status is never a success;
// a failure carries a non-OK code and a message.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "aws/autoscaling.h"
#include "aws/client.h"
#include "aws/cloudwatch.h"
#include "aws/credentials.h"
#include "aws/ec2.h"
#include "aws/ecs.h"
#include "aws/endpoint.h"
#include "aws/error.h"
#include "aws/fake_client_test_util.h"
#include "aws/service.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "aws/sts.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/random.h"
#include "fuzz_check.h"
#include "net/fake_transport.h"

namespace {

using namespace spk;
using namespace spk::aws;

// FakeAwsClient: one attempt per call, a FakeTransport the input answers.
using World = FakeAwsClient;

template <typename R>
void CheckFailure(const R& r, int status) {
  if (status >= 300) FUZZ_CHECK(!r.ok());
  if (!r.ok()) FUZZ_CHECK(!r.message().empty());
}

template <typename T>
void Check(const Result<T>& r, int status) {
  CheckFailure(r.status(), status);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // A fresh world per input: FakeTransport keeps every request it saw.
  auto w = std::make_unique<World>();
  const uint8_t selector = data[0];
  const int status = (selector & 0xc0) == 0x40 ? 400 : (selector & 0xc0) == 0x80 ? 503 : 200;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  w->http.SetHandler([&](const net::HttpRequest&) -> Result<net::HttpResponse> {
    net::HttpResponse r;
    r.status = status;
    r.body = body;
    return r;
  });
  Ec2Client ec2(w->client);
  EcsClient ecs(w->client);
  SqsClient sqs(w->client);
  SnsClient sns(w->client);
  StsClient sts(w->client);
  AutoScalingClient asg(w->client);
  CloudWatchClient cw(w->client);
  switch (selector & 0x3f) {
    case 0:
      Check(ec2.DescribeSpotFleetRequests({"sfr-1"}), status);
      break;
    case 1:
      Check(ec2.DescribeSpotFleetInstances("sfr-1"), status);
      break;
    case 2:
      Check(ec2.DescribeInstances(InstanceQuery{{"i-1"}, {}}), status);
      break;
    case 3:
      Check(ec2.DescribeInstanceTypes({"m5.large"}), status);
      break;
    case 4:
      Check(ec2.LaunchTemplateInstanceType("lt", "", "$Latest"), status);
      break;
    case 5:
      Check(ec2.DescribeSpotPriceHistory(SpotPriceQuery{}), status);
      break;
    case 6:
      CheckFailure(ec2.ModifySpotFleetRequest("sfr-1", 3), status);
      break;
    case 7:
      Check(ecs.ListContainerInstances("c"), status);
      break;
    case 8:
      Check(ecs.DescribeContainerInstances("c", {"arn:ci/1"}), status);
      break;
    case 9:
      Check(ecs.UpdateContainerInstancesState("c", {"arn:ci/1"}, "DRAINING"), status);
      break;
    case 10:
      Check(ecs.ListTasks("c"), status);
      break;
    case 11:
      Check(ecs.DescribeTasks("c", {"arn:task/1"}), status);
      break;
    case 12:
      Check(ecs.DescribeServices("c", {"web"}), status);
      break;
    case 13:
      // One attribute: with none there is no call, so nothing to fail.
      CheckFailure(ecs.PutAttributes("c", {EcsAttribute{"spotkeeper.lifecycle", "draining",
                                                        "container-instance", "arn:ci/1"}}),
                   status);
      break;
    case 14:
      Check(sqs.ReceiveMessage("http://127.0.0.1:9/1/q"), status);
      break;
    case 15:
      Check(sqs.SendMessage("http://127.0.0.1:9/1/q", "m"), status);
      break;
    case 16:
      CheckFailure(sqs.DeleteMessage("http://127.0.0.1:9/1/q", "rh"), status);
      break;
    case 17:
      Check(sns.Publish("arn:aws:sns:us-east-1:1:t", "m"), status);
      break;
    case 18:
      Check(sts.GetCallerIdentity(), status);
      break;
    case 19:
      Check(asg.DescribeAutoScalingGroups({"g"}), status);
      break;
    case 20:
      Check(asg.TerminateInstanceInAutoScalingGroup("i-1", true), status);
      break;
    case 21:
      CheckFailure(asg.SetDesiredCapacity("g", 2, false), status);
      break;
    case 22: {
      GetMetricStatisticsRequest r;
      r.namespace_ = "AWS/EC2Spot";
      r.metric_name = "PendingCapacity";
      Check(cw.GetMetricStatistics(r), status);
      break;
    }
    case 23: {
      MetricDataQuery q;
      q.id = "m1";
      q.namespace_ = "AWS/EC2Spot";
      q.metric_name = "PendingCapacity";
      Check(cw.GetMetricData({q}, WallTime(), WallTime() + std::chrono::hours(1)), status);
      break;
    }
    case 24:
      Check(sqs.DeleteMessageBatch("http://127.0.0.1:9/1/q", {"rh1", "rh2"}), status);
      break;
    case 25:
      Check(asg.DescribeLaunchConfigurations({"lc"}), status);
      break;
    case 26:
      Check(ec2.DescribeFleets({"fleet-1"}), status);
      break;
    case 27:
      Check(ec2.DescribeFleetInstances("fleet-1"), status);
      break;
    case 28:
      Check(ecs.ClusterCapacityProviders("c"), status);
      break;
    case 29:
      Check(ecs.DescribeCapacityProviders({"cp-spot"}), status);
      break;
    case 30:
      Check(asg.DescribeLifecycleHooks("g"), status);
      break;
    case 31:
      CheckFailure(
          asg.CompleteLifecycleAction(LifecycleActionRef{"hook", "g", "i-1", "tok"}, "CONTINUE"),
          status);
      break;
    case 32:
      Check(asg.DescribeScalingActivities("g"), status);
      break;
    case 33:
      Check(ecs.ListServices("c"), status);
      break;
    case 34:
      CheckFailure(ecs.UpdateService("c", "web-od", 3, "arn:td/web:7"), status);
      break;
    case 35:
      Check(ecs.DescribeServices("c", {"web", "web-od"}, /*with_tags=*/true), status);
      break;
    case 36:
      Check(sqs.ChangeMessageVisibilityBatch("http://127.0.0.1:9/1/q", {"rh1", "rh2"}, 60), status);
      break;
    default: {
      // The error-reply parser on its own, for each protocol.
      net::HttpResponse response;
      response.status = status == 200 ? 400 : status;
      response.body = body;
      for (Protocol p : {Protocol::kQuery, Protocol::kJson10, Protocol::kJson11}) {
        AwsErrorReply reply = ParseErrorReply(p, response);
        (void)ClassifyError(response.status, reply.code);
      }
      break;
    }
  }
  return 0;
}
