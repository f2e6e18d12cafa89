// StsClient: who the configured credentials are (query protocol, Version
// 2011-06-15). Used by `spotkeeper` to check its credentials at start and by
// tests. Shapes checked against botocore's sts/2011-06-15 model. Errors: the
// AwsClient's Status (error.h): kUnauthenticated for wrong or expired keys.
#pragma once

#include <string>

#include "aws/client.h"
#include "base/status.h"

namespace spk::aws {

struct CallerIdentity {
  std::string account;  // "123456789012"
  std::string arn;      // "arn:aws:iam::123456789012:user/NAME", "...:assumed-role/..."
  std::string user_id;
};

class StsClient {
 public:
  // `client` must outlive this object.
  explicit StsClient(AwsClient& client) : client_(client) {}

  // kInternal when the reply lacks Arn or Account.
  Result<CallerIdentity> GetCallerIdentity();

 private:
  AwsClient& client_;
};

}  // namespace spk::aws
