// SigV4 header signing cost per request, for the calls spotkeeper makes most.
// Each iteration signs a fresh copy of the request (the copy is part of the time).
#include <benchmark/benchmark.h>

#include <string>

#include "aws/sigv4.h"

namespace spk::aws {
namespace {

Credentials BenchCredentials() {
  Credentials c;
  c.access_key_id = "ASIAIOSFODNN7EXAMPLE";
  c.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  c.session_token = std::string(700, 'T');  // role credentials carry a long token
  return c;
}

SigningParams BenchParams(const std::string& service) {
  SigningParams p;
  p.region = "us-east-1";
  p.service = service;
  ParseIso8601("2024-05-01T12:00:00Z", &p.time);
  return p;
}

// ECS JSON protocol: UpdateContainerInstancesState, ~300-byte body, 5 headers.
net::HttpRequest EcsJsonPost() {
  net::HttpRequest r;
  r.method = "POST";
  r.url = "https://ecs.us-east-1.amazonaws.com/";
  r.body = R"({"cluster":"arn:aws:ecs:us-east-1:123456789012:cluster/spot-cluster",)"
           R"("containerInstances":["arn:aws:ecs:us-east-1:123456789012:container-instance/)"
           R"(spot-cluster/0123456789abcdef0123456789abcdef","arn:aws:ecs:us-east-1:)"
           R"(123456789012:container-instance/spot-cluster/fedcba9876543210fedcba9876543210"],)"
           R"("status":"DRAINING"})";
  r.headers = {
      {"Host", "ecs.us-east-1.amazonaws.com"},
      {"Content-Type", "application/x-amz-json-1.1"},
      {"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.UpdateContainerInstancesState"},
      {"User-Agent", "spotkeeper/0.1.0"},
      {"Content-Length", std::to_string(r.body.size())},
  };
  return r;
}

// Query protocol: Auto Scaling SetDesiredCapacity, form-encoded body.
net::HttpRequest QueryPost() {
  net::HttpRequest r;
  r.method = "POST";
  r.url = "https://autoscaling.us-east-1.amazonaws.com/";
  r.body =
      "Action=SetDesiredCapacity&AutoScalingGroupName=spot-cluster-on-demand"
      "&DesiredCapacity=3&HonorCooldown=false&Version=2011-01-01";
  r.headers = {
      {"Host", "autoscaling.us-east-1.amazonaws.com"},
      {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
      {"User-Agent", "spotkeeper/0.1.0"},
      {"Content-Length", std::to_string(r.body.size())},
  };
  return r;
}

void Sign(benchmark::State& state, const net::HttpRequest& request, const std::string& service) {
  const Credentials credentials = BenchCredentials();
  const SigningParams params = BenchParams(service);
  for (auto _ : state) {
    net::HttpRequest r = request;
    SigningResult result = SignRequest(r, credentials, params);
    benchmark::DoNotOptimize(result);
  }
  state.SetLabel(std::to_string(request.body.size()) + "-byte body");
}

void BM_SignEcsJsonPost(benchmark::State& state) { Sign(state, EcsJsonPost(), "ecs"); }
BENCHMARK(BM_SignEcsJsonPost);

void BM_SignQueryPost(benchmark::State& state) { Sign(state, QueryPost(), "autoscaling"); }
BENCHMARK(BM_SignQueryPost);

void BM_Sha256Hex300(benchmark::State& state) {
  const std::string body(300, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Sha256Hex(body));
}
BENCHMARK(BM_Sha256Hex300);

}  // namespace
}  // namespace spk::aws

BENCHMARK_MAIN();
