#include "aws/error.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace spk::aws {
namespace {

net::HttpResponse Reply(int status, std::string body, net::Headers headers = {}) {
  net::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

struct ParseCase {
  const char* name;
  Protocol protocol;
  net::HttpResponse response;
  std::string code;
  std::string message;
  std::string request_id;
};

TEST(ParseErrorReplyTest, Table) {
  const std::vector<ParseCase> cases = {
      {"generic query XML", Protocol::kQuery,
       Reply(400,
             "<ErrorResponse xmlns=\"https://autoscaling.amazonaws.com/doc/2011-01-01/\">"
             "<Error><Type>Sender</Type><Code>ValidationError</Code>"
             "<Message>Group foo not found</Message></Error>"
             "<RequestId>req-1</RequestId></ErrorResponse>"),
       "ValidationError", "Group foo not found", "req-1"},
      {"EC2 XML", Protocol::kQuery,
       Reply(400,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>"
             "<Code>InvalidInstanceID.NotFound</Code>"
             "<Message>The instance ID 'i-1' does not exist</Message></Error></Errors>"
             "<RequestID>ec2-req</RequestID></Response>"),
       "InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist", "ec2-req"},
      {"query XML, request id from header", Protocol::kQuery,
       Reply(503, "<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>",
             {{"x-amzn-RequestId", "hdr-id"}}),
       "ServiceUnavailable", "", "hdr-id"},
      {"query garbage body", Protocol::kQuery,
       Reply(503, "<html>Service Unavailable</html", {{"x-amz-request-id", "s3-style"}}),
       "HttpStatus503", "<html>Service Unavailable</html", "s3-style"},
      {"query empty body", Protocol::kQuery, Reply(502, ""), "HttpStatus502", "empty body", ""},
      {"JSON plain __type", Protocol::kJson11,
       Reply(400, R"({"__type":"ThrottlingException","message":"Rate exceeded"})",
             {{"x-amzn-RequestId", "json-id"}}),
       "ThrottlingException", "Rate exceeded", "json-id"},
      {"JSON __type with prefix", Protocol::kJson11,
       Reply(
           400,
           R"({"__type":"com.amazonaws.ecs#ClusterNotFoundException","Message":"Cluster not found."})"),
       "ClusterNotFoundException", "Cluster not found.", ""},
      {"JSON __type with colon suffix", Protocol::kJson10,
       Reply(
           400,
           R"({"__type":"aws.protocoltests#FooError:http://internal.amazon.com/coral/com.amazon.coral.validate/","message":"m"})"),
       "FooError", "m", ""},
      {"SQS x-amzn-query-error wins", Protocol::kJson10,
       Reply(
           400,
           R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
           {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"},
            {"x-amzn-RequestId", "sqs-id"}}),
       "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.", "sqs-id"},
      {"JSON garbage body", Protocol::kJson11, Reply(500, "upstream connect error"),
       "HttpStatus500", "upstream connect error", ""},
      {"JSON array body", Protocol::kJson11, Reply(400, "[1,2]"), "HttpStatus400", "[1,2]", ""},
      {"JSON without __type", Protocol::kJson11, Reply(403, R"({"message":"nope"})"),
       "HttpStatus403", "nope", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    AwsErrorReply r = ParseErrorReply(c.protocol, c.response);
    EXPECT_EQ(r.code, c.code);
    EXPECT_EQ(r.message, c.message);
    EXPECT_EQ(r.request_id, c.request_id);
  }
}

TEST(ParseErrorReplyTest, LongGarbageBodyIsTruncated) {
  AwsErrorReply r = ParseErrorReply(Protocol::kJson11, Reply(502, std::string(5000, 'x')));
  EXPECT_EQ(r.code, "HttpStatus502");
  EXPECT_EQ(r.message, std::string(200, 'x') + "...[truncated, 5000 bytes]");
}

TEST(ParseErrorReplyTest, LongRemoteMessageAndCodeAreCapped) {
  const std::string xml = "<ErrorResponse><Error><Code>" + std::string(1000, 'C') +
                          "</Code><Message>" + std::string(10000, 'm') +
                          "</Message></Error></ErrorResponse>";
  AwsErrorReply r = ParseErrorReply(Protocol::kQuery, Reply(400, xml));
  EXPECT_EQ(r.message, std::string(512, 'm') + "...[truncated, 10000 bytes]");
  EXPECT_EQ(r.code, std::string(128, 'C') + "...[truncated, 1000 bytes]");
}

struct ClassifyCase {
  int status;
  const char* code;
  ErrorKind kind;
};

TEST(ClassifyErrorTest, Table) {
  const std::vector<ClassifyCase> cases = {
      {400, "Throttling", ErrorKind::kThrottling},
      {400, "ThrottlingException", ErrorKind::kThrottling},
      {503, "RequestLimitExceeded", ErrorKind::kThrottling},
      {400, "ProvisionedThroughputExceededException", ErrorKind::kThrottling},
      {503, "SlowDown", ErrorKind::kThrottling},
      {400, "EC2ThrottledException", ErrorKind::kThrottling},
      {429, "HttpStatus429", ErrorKind::kThrottling},
      {429, "SomethingElse", ErrorKind::kThrottling},
      {500, "InternalError", ErrorKind::kTransient},
      {500, "InternalFailure", ErrorKind::kTransient},
      {400, "RequestTimeout", ErrorKind::kTransient},
      {503, "ServiceUnavailable", ErrorKind::kTransient},
      {502, "HttpStatus502", ErrorKind::kTransient},
      {504, "HttpStatus504", ErrorKind::kTransient},
      {400, "RequestTimeTooSkewed", ErrorKind::kClockSkew},
      {400, "RequestExpired", ErrorKind::kClockSkew},
      {403, "RequestInTheFuture", ErrorKind::kClockSkew},
      {403, "SignatureDoesNotMatch", ErrorKind::kAuth},
      {403, "InvalidClientTokenId", ErrorKind::kAuth},
      {400, "UnrecognizedClientException", ErrorKind::kAuth},
      {401, "AuthFailure", ErrorKind::kAuth},
      {400, "ExpiredTokenException", ErrorKind::kAuth},
      {401, "HttpStatus401", ErrorKind::kAuth},
      {403, "AccessDenied", ErrorKind::kAccess},
      {400, "AccessDeniedException", ErrorKind::kAccess},
      {403, "UnauthorizedOperation", ErrorKind::kAccess},
      {403, "HttpStatus403", ErrorKind::kAccess},
      {400, "InvalidInstanceID.NotFound", ErrorKind::kNotFound},
      {400, "ResourceNotFoundException", ErrorKind::kNotFound},
      {400, "ClusterNotFoundException", ErrorKind::kNotFound},
      {400, "AWS.SimpleQueueService.NonExistentQueue", ErrorKind::kNotFound},
      {400, "QueueDoesNotExist", ErrorKind::kNotFound},
      {400, "ValidationError", ErrorKind::kClient},
      {400, "InvalidParameterValue", ErrorKind::kClient},
      {404, "HttpStatus404", ErrorKind::kClient},
      {409, "ConflictException", ErrorKind::kClient},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.code) + " " + std::to_string(c.status));
    EXPECT_EQ(ClassifyError(c.status, c.code), c.kind);
  }
}

TEST(StatusFromErrorReplyTest, FillsRemoteErrorAndMessage) {
  AwsErrorReply reply{"ThrottlingException", "Rate exceeded", "rid-1"};
  Status s = StatusFromErrorReply(services::Ecs(), "DescribeClusters", 400, reply);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "ecs DescribeClusters: ThrottlingException: Rate exceeded");
  EXPECT_TRUE(s.retryable());
  ASSERT_TRUE(s.remote().has_value());
  EXPECT_EQ(s.remote()->service, "ecs");
  EXPECT_EQ(s.remote()->error_code, "ThrottlingException");
  EXPECT_EQ(s.remote()->http_status, 400);
  EXPECT_EQ(s.remote()->request_id, "rid-1");
}

TEST(StatusFromErrorReplyTest, CodeForEachKind) {
  struct Case {
    int status;
    const char* code;
    StatusCode expected;
    bool retryable;
  };
  const std::vector<Case> cases = {
      {400, "Throttling", StatusCode::kResourceExhausted, true},
      {503, "HttpStatus503", StatusCode::kUnavailable, true},
      {400, "RequestTimeTooSkewed", StatusCode::kUnauthenticated, false},
      {403, "SignatureDoesNotMatch", StatusCode::kUnauthenticated, false},
      {403, "UnauthorizedOperation", StatusCode::kPermissionDenied, false},
      {400, "InvalidGroup.NotFound", StatusCode::kNotFound, false},
      {400, "ValidationError", StatusCode::kInvalidArgument, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code);
    Status s = StatusFromErrorReply(services::Ec2(), "DescribeInstances", c.status,
                                    AwsErrorReply{c.code, "", ""});
    EXPECT_EQ(s.code(), c.expected);
    EXPECT_EQ(s.retryable(), c.retryable);
    EXPECT_EQ(s.message(), std::string("ec2 DescribeInstances: ") + c.code);
  }
}

}  // namespace
}  // namespace spk::aws
