#include "aws/session.h"

namespace spk::aws {

Result<std::unique_ptr<AwsSession>> AwsSession::Create(const Env& env, net::HttpTransport& http,
                                                       Clock& clock, Random& random,
                                                       const SessionOptions& options) {
  std::unique_ptr<AwsSession> s(new AwsSession());
  s->imds_ = std::make_unique<ImdsClient>(http, clock, ImdsOptions::FromEnv(env));
  if (!options.region.empty()) {
    s->region_ = {options.region, "configuration"};
  } else {
    SPK_ASSIGN_OR_RETURN(s->region_,
                         ResolveRegion(env, options.region_from_imds ? s->imds_.get() : nullptr));
  }
  s->credentials_ = CredentialChain::Default(env, http, *s->imds_, clock);
  s->endpoints_ = std::make_unique<EndpointResolver>(env, s->region_.region);
  s->client_ = std::make_unique<AwsClient>(http, clock, random, *s->credentials_, *s->endpoints_,
                                           options.client);
  return s;
}

}  // namespace spk::aws
