// AwsSession: everything needed to call AWS, resolved once from the
// environment the way the AWS SDKs do: region, credential chain, endpoints,
// an IMDS client, and the AwsClient that ties them together.
#pragma once

#include <memory>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "aws/imds.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/random.h"
#include "net/http.h"

namespace spk::aws {

struct SessionOptions {
  ClientOptions client;
  // Region to use instead of resolving one ("" = resolve).
  std::string region;
  // Ask IMDS for the region when nothing else names one (on EC2).
  bool region_from_imds = true;
};

class AwsSession {
 public:
  // Resolves the region (kNotFound naming what was tried when there is none)
  // and sets up the chain; credentials are resolved lazily, on first use.
  // All references must outlive the session.
  static Result<std::unique_ptr<AwsSession>> Create(const Env& env, net::HttpTransport& http,
                                                    Clock& clock, Random& random,
                                                    const SessionOptions& options = {});

  AwsClient& client() { return *client_; }
  ImdsClient& imds() { return *imds_; }
  CredentialChain& credentials() { return *credentials_; }
  const EndpointResolver& endpoints() const { return *endpoints_; }
  const ResolvedRegion& region() const { return region_; }

 private:
  AwsSession() = default;

  ResolvedRegion region_;
  std::unique_ptr<ImdsClient> imds_;
  std::unique_ptr<CredentialChain> credentials_;
  std::unique_ptr<EndpointResolver> endpoints_;
  std::unique_ptr<AwsClient> client_;
};

}  // namespace spk::aws
