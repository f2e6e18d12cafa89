// FakeAwsClient: an AwsClient over a FakeTransport, with fixed keys, region
// us-east-1, a loopback endpoint and one attempt per call (no retries), for
// unit tests of the service clients and their callers. Test-only (header,
// not in spk_aws).
#pragma once

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/endpoint.h"
#include "base/clock.h"
#include "base/env.h"
#include "base/random.h"
#include "net/fake_transport.h"

namespace spk::aws {

struct FakeAwsClient {
  FakeAwsClient()
      : env({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
             {"AWS_SECRET_ACCESS_KEY", "secret"},
             {"AWS_REGION", "us-east-1"},
             {"AWS_ENDPOINT_URL", "http://127.0.0.1:9"},
             {"AWS_CONFIG_FILE", "/dev/null"},
             {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}}),
        random(7),
        credentials(env),
        endpoints(env, "us-east-1"),
        client(http, clock, random, credentials, endpoints, Options()) {}

  static ClientOptions Options() {
    ClientOptions o;
    o.retry.max_attempts = 1;
    return o;
  }

  MapEnv env;
  ManualClock clock;
  SeededRandom random;
  EnvironmentProvider credentials;
  EndpointResolver endpoints;
  net::FakeTransport http;
  AwsClient client;
};

}  // namespace spk::aws
