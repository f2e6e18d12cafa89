#include "agent/watch_plan.h"

#include <gtest/gtest.h>

namespace spk::agent {
namespace {

using namespace std::chrono_literals;

WatchPlan Sample() {
  WatchPlan p;
  p.imds.endpoint = "http://127.0.0.1:1338";
  p.imds.force_v1 = true;
  p.imds.timeout = 300ms;
  p.ecs_agent_endpoint = "http://localhost:51678";
  p.sinks = {{cloud::SinkSpec::Type::kSns, "arn:aws:sns:us-east-1:1:t", {}},
             {cloud::SinkSpec::Type::kWebhook, "http://127.0.0.1:9/h", {{"Authorization", "x"}}}};
  p.ecs_calls = true;
  p.watcher.poll_interval = 150ms;
  p.watcher.slow_poll_interval = 3s;
  p.watcher.drain = true;
  p.watcher.lifecycle_attribute = false;
  p.watcher.agent_version = "1.2.3";
  p.child_argv = {"/usr/bin/spotkeeper", "agent-call", "--region", "us-east-1"};
  p.log_format = "json";
  p.log_level = "debug";
  return p;
}

TEST(WatchPlanTest, RoundTripsEveryField) {
  auto back = WatchPlanFromJson(WatchPlanToJson(Sample()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(WatchPlanToJson(*back), WatchPlanToJson(Sample()));
  EXPECT_EQ(back->imds.timeout, 300ms);
  EXPECT_EQ(back->watcher.poll_interval, 150ms);
  EXPECT_EQ(back->watcher.slow_poll_interval, 3s);
  EXPECT_TRUE(back->watcher.drain);
  EXPECT_FALSE(back->watcher.lifecycle_attribute);
  ASSERT_EQ(back->sinks.size(), 2u);
  EXPECT_EQ(back->sinks[1].headers[0].first, "Authorization");
  EXPECT_EQ(back->child_argv[1], "agent-call");
}

TEST(WatchPlanTest, MissingOrMalformedFieldsAreNamed) {
  for (const char* field : {"imdsEndpoint", "pollIntervalMs", "sinks", "childArgv", "drain"}) {
    auto j = WatchPlanToJson(Sample());
    j.erase(field);
    auto r = WatchPlanFromJson(j);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().message();
  }
  auto j = WatchPlanToJson(Sample());
  j["pollIntervalMs"] = 0;
  EXPECT_FALSE(WatchPlanFromJson(j).ok());
  j = WatchPlanToJson(Sample());
  j["sinks"][0]["type"] = "pager";
  EXPECT_FALSE(WatchPlanFromJson(j).ok());
  EXPECT_FALSE(WatchPlanFromJson(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace spk::agent
