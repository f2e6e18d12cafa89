#include "controller/loop.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "controller/controller_test_util.h"
#include "controller/fake_queue.h"

namespace spk::controller {
namespace {

using nlohmann::json;
using std::chrono::seconds;

class LoopTest : public ControllerWorldTest {
 protected:
  void SetUp() override {
    ControllerWorldTest::SetUp();
    options.wait_time = seconds(20);
    options.reconcile_interval = seconds(60);
  }

  // The reference notifier's message, as the agent publishes it.
  static std::string AgentMessage(const std::string& instance = "i-spot1",
                                  const std::string& arn = kArn) {
    return json{{"terminationNotificiation", "true"},
                {"instanceId", instance},
                {"instanceType", "c5.2xlarge"},
                {"ecsCluster", "web"},
                {"ecsContainer", arn}}
        .dump();
  }

  // SNS-to-SQS envelope around it.
  static std::string SnsEnvelope(const std::string& message, const std::string& id = "sns-1") {
    return json{{"Type", "Notification"}, {"MessageId", id}, {"Message", message}}.dump();
  }

  int Count(const std::string& action_name) const {
    int n = 0;
    for (const policy::Action& a : cloud.applied) n += policy::ActionName(a.what) == action_name;
    return n;
  }
  int Desired() { return cloud.on_demand_groups["od"].group.desired_capacity; }

  LoopOptions options;
  MetricsRegistry metrics;
};

TEST_F(LoopTest, HandledMessageIsDeletedAfterItsActions) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  std::string id = queue.Send(SnsEnvelope(AgentMessage()));
  loop.RunOnce();
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(Desired(), 2);  // weight 8 over 4 vCPUs per m5.xlarge
  ASSERT_EQ(queue.deleted, std::vector<std::string>{id});
  EXPECT_TRUE(queue.stored.empty());
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 1);
  EXPECT_EQ(metrics.Value("spotkeeper_notices_total",
                          {{"kind", "spot-interruption"}, {"source", "agent"}}),
            1);
  EXPECT_EQ(metrics.Value("spotkeeper_drains_total"), 1);
  EXPECT_EQ(metrics.Value("spotkeeper_on_demand_desired"), 2);
  EXPECT_EQ(metrics.Value("spotkeeper_shortfall_units"), 8);
}

TEST_F(LoopTest, MalformedAndUnsupportedMessagesAreLeftInTheQueue) {
  FakeQueue queue(clock, seconds(30));
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  queue.Send("{\"Records\": [");
  queue.Send(R"({"hello": "world"})");
  queue.Send(AgentMessage());
  loop.RunOnce();
  // The good one was handled and deleted; the two others stay for the DLQ.
  EXPECT_EQ(queue.deleted.size(), 1u);
  ASSERT_EQ(queue.stored.size(), 2u);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "unsupported"}}), 2);
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  // They come back after the visibility timeout, and are left again (their
  // receive count grows until the redrive policy moves them).
  clock.Advance(seconds(31));
  loop.RunOnce();
  EXPECT_EQ(queue.stored.size(), 2u);
  EXPECT_EQ(queue.stored[0].message.receive_count, 2);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "unsupported"}}), 4);
  EXPECT_EQ(queue.calls["Delete"], 1);
}

TEST_F(LoopTest, FailedHandlingIsLeftForRedeliveryWithBackoff) {
  FakeQueue queue(clock, seconds(30));
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  cloud.failures["Apply"] = UnavailableError("ThrottlingException");
  std::string id = queue.Send(AgentMessage());
  loop.RunOnce();
  EXPECT_TRUE(queue.deleted.empty());
  ASSERT_EQ(queue.stored.size(), 1u);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "failed"}}), 1);
  EXPECT_EQ(queue.calls["ChangeVisibility"], 1);
  // Visible again after the backoff (5 s), well before the 30 s timeout.
  clock.Advance(seconds(5));
  cloud.failures.clear();
  loop.RunOnce();
  EXPECT_EQ(queue.deleted, std::vector<std::string>{id});
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(Desired(), 2);
}

TEST_F(LoopTest, BackoffGrowsWithTheReceiveCount) {
  FakeQueue queue(clock, seconds(600));
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  cloud.failures["ReadSpotFleet"] = UnavailableError("down");
  QueueMessage m;
  m.body = AgentMessage();
  queue.Send(m.body);
  loop.RunOnce();  // receive 1: backoff 5 s
  MonoTime after_first = clock.MonotonicNow();
  EXPECT_EQ(queue.stored[0].visible_at - after_first, seconds(5));
  clock.Advance(seconds(5));
  loop.RunOnce();  // receive 2: backoff 10 s
  EXPECT_EQ(queue.stored[0].message.receive_count, 2);
  EXPECT_EQ(queue.stored[0].visible_at - clock.MonotonicNow(), seconds(10));
  EXPECT_TRUE(queue.deleted.empty());
}

TEST_F(LoopTest, HundredCopiesOfTheSameNoticeDrainOnceAndScaleOnce) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  for (int i = 0; i < 100; ++i) queue.Send(SnsEnvelope(AgentMessage()));
  for (int i = 0; i < 20 && !queue.stored.empty(); ++i) loop.RunOnce();
  EXPECT_TRUE(queue.stored.empty());
  EXPECT_EQ(queue.deleted.size(), 100u);
  EXPECT_EQ(Count("drain-container-instances"), 1);
  EXPECT_EQ(Count("set-desired-capacity"), 1);
  EXPECT_EQ(Desired(), 2);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 1);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "duplicate"}}), 99);
  EXPECT_EQ(metrics.Value("spotkeeper_drains_total"), 1);
}

TEST_F(LoopTest, BurstOfNoticesDrainsTenInstancesPerCallAndDecidesOncePerReceive) {
  // 25 spot instances of the fleet, each a container instance in "web".
  cloud.clusters["web"].clear();
  SpotSourceRead& fleet = cloud.fleets["sfr-1"];
  fleet.source.instance_ids.clear();
  fleet.instance_types.clear();
  fleet.source.target_capacity = fleet.source.fulfilled_capacity = 25 * 8;
  FakeQueue queue(clock);
  for (int i = 0; i < 25; ++i) {
    const std::string id = "i-b" + std::to_string(i);
    const std::string arn = "arn:burst/" + std::to_string(i);
    cloud.clusters["web"].push_back({"web", arn, id, policy::ContainerStatus::kActive, 1, 0});
    fleet.source.instance_ids.push_back(id);
    fleet.instance_types[id] = "c5.2xlarge";
    queue.Send(SnsEnvelope(AgentMessage(id, arn), "sns-" + id));
  }
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  ASSERT_EQ(queue.stored.size(), 25u);
  loop.RunOnce();  // the reconcile at start, then the first 10: drained, not yet deleted
  EXPECT_EQ(metrics.Value("spotkeeper_drains_total"), 10);
  EXPECT_EQ(loop.pending(), 10u);
  EXPECT_TRUE(queue.deleted.empty());
  for (int i = 0; i < 10 && !queue.stored.empty(); ++i) loop.RunOnce();
  // Receives of 10, 10 and 5 messages: one drain call each, at once; one
  // decision for the burst, after the receive that did not fill up.
  EXPECT_EQ(Count("drain-container-instances"), 3);
  EXPECT_EQ(cloud.calls["DescribeContainerInstances"], 3);
  EXPECT_EQ(cloud.calls["ListContainerInstances"], 1 + 1);  // the reconcile at start + 1
  EXPECT_EQ(metrics.Value("spotkeeper_drains_total"), 25);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 25);
  EXPECT_EQ(metrics.Value("spotkeeper_notice_to_draining_seconds"), 25);
  // 25 instances of weight 8 over 4 vCPUs per m5.xlarge, clamped to the max of 10.
  EXPECT_EQ(Desired(), 10);
  EXPECT_TRUE(queue.stored.empty());
  EXPECT_EQ(loop.pending(), 0u);
  for (const policy::ContainerInstance& ci : cloud.clusters["web"]) {
    EXPECT_EQ(ci.status, policy::ContainerStatus::kDraining) << ci.arn;
  }
}

TEST_F(LoopTest, BurstDecidesAtTheCoalesceLimitOrWindow) {
  FakeQueue queue(clock);
  for (int i = 0; i < 40; ++i) {
    cloud.clusters["web"].push_back({"web", "arn:b" + std::to_string(i), "i-b" + std::to_string(i),
                                     policy::ContainerStatus::kActive, 1, 0});
    const std::string id = "i-b" + std::to_string(i);
    queue.Send(SnsEnvelope(AgentMessage(id, "arn:b" + std::to_string(i)), "sns-" + id));
  }
  options.coalesce_messages = 20;
  options.coalesce_window = seconds(5);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  loop.RunOnce();  // reconcile; 10 admitted
  loop.RunOnce();  // 20 admitted: the limit, decided
  EXPECT_EQ(loop.pending(), 0u);
  EXPECT_EQ(cloud.calls["ListContainerInstances"], 1 + 1);
  EXPECT_EQ(queue.deleted.size(), 20u);
  loop.RunOnce();  // 10 admitted
  clock.Advance(seconds(6));
  loop.RunOnce();  // 10 more, but the window has passed: decided
  EXPECT_EQ(loop.pending(), 0u);
  EXPECT_EQ(cloud.calls["ListContainerInstances"], 1 + 2);
  EXPECT_EQ(queue.deleted.size(), 40u);
}

TEST_F(LoopTest, FailedBatchLeavesEveryMessageOfItAndDeletesItsDuplicates) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  cloud.failures["ReadOnDemandGroup"] = UnavailableError("Throttling");
  queue.Send(SnsEnvelope(AgentMessage()));
  queue.Send(SnsEnvelope(AgentMessage()));
  queue.Send(SnsEnvelope(AgentMessage("i-spot2", "arn:c2"), "sns-2"));
  loop.RunOnce();
  EXPECT_EQ(queue.deleted.size(), 1u);  // the copy of the first notice
  EXPECT_EQ(queue.stored.size(), 2u);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "failed"}}), 2);
  cloud.failures.clear();
  clock.Advance(seconds(10));
  loop.RunOnce();
  EXPECT_TRUE(queue.stored.empty());
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 2);
  EXPECT_EQ(Desired(), 4);
}

// A message whose visibility timeout runs out while it waits for its burst's
// decision is received again: the same message, not a duplicate notice. It
// must not be deleted before its decision succeeded (it was, as a duplicate,
// and a failed decision then lost the notice).
TEST_F(LoopTest, MessageReceivedAgainWhileWaitingIsNotDeletedBeforeItsDecision) {
  FakeQueue queue(clock, seconds(1));
  options.max_messages = 1;  // every receive is full: a burst, the decision waits
  options.coalesce_window = seconds(5);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  cloud.failures["Apply"] = UnavailableError("ThrottlingException");
  queue.Send(SnsEnvelope(AgentMessage()));
  loop.RunOnce();  // the reconcile at start; the notice admitted, its drain failed
  ASSERT_EQ(loop.pending(), 1u);
  clock.Advance(seconds(2));  // past the visibility timeout
  loop.RunOnce();             // received again: still waiting, not deleted
  EXPECT_EQ(loop.pending(), 1u);
  EXPECT_TRUE(queue.deleted.empty());
  loop.RunOnce();  // nothing visible: the decision, which fails: the message stays
  EXPECT_EQ(loop.pending(), 0u);
  EXPECT_TRUE(queue.deleted.empty());
  ASSERT_EQ(queue.stored.size(), 1u);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "duplicate"}}), 0);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "failed"}}), 1);
  EXPECT_EQ(queue.calls["ChangeVisibility"], 1);  // under the latest receipt handle
  cloud.failures.clear();
  clock.Advance(seconds(10));
  loop.RunOnce();  // redelivered after its backoff: drained, decided, deleted
  loop.RunOnce();
  EXPECT_TRUE(queue.stored.empty());
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 1);
}

TEST_F(LoopTest, ThrowingFastPathIsAFailedMessageAndItsRedeliveryIsHandled) {
  FakeQueue queue(clock, seconds(30));
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  cloud.throws["DescribeContainerInstances"] = "boom in describe";
  log::Configure(log::Format::kText, log::Level::kInfo);
  testing::internal::CaptureStderr();
  std::string id = queue.Send(SnsEnvelope(AgentMessage()));
  loop.RunOnce();
  std::string logs = testing::internal::GetCapturedStderr();
  EXPECT_NE(logs.find("internal error"), std::string::npos) << logs;
  EXPECT_NE(logs.find("boom in describe"), std::string::npos) << logs;
  // Failed, not lost: left in the queue, with the failure backoff.
  EXPECT_TRUE(queue.deleted.empty());
  ASSERT_EQ(queue.stored.size(), 1u);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "failed"}}), 1);
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kActive);
  EXPECT_TRUE(loop.healthy());
  // The redelivery is handled, not taken for a duplicate of the admission
  // that threw.
  cloud.throws.clear();
  clock.Advance(seconds(5));
  loop.RunOnce();
  EXPECT_EQ(queue.deleted, std::vector<std::string>{id});
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(Desired(), 2);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 1);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "duplicate"}}), 0);
}

TEST_F(LoopTest, ThrowingDecisionIsAFailedMessageAndTheLoopGoesOn) {
  FakeQueue queue(clock, seconds(30));
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  cloud.throws["ReadOnDemandGroup"] = "boom in read";
  log::Configure(log::Format::kText, log::Level::kError);
  std::string id = queue.Send(AgentMessage());
  testing::internal::CaptureStderr();
  loop.RunOnce();  // the reconcile and the settle both throw
  testing::internal::GetCapturedStderr();
  EXPECT_TRUE(queue.deleted.empty());
  ASSERT_EQ(queue.stored.size(), 1u);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "failed"}}), 1);
  EXPECT_EQ(metrics.Value("spotkeeper_reconciles_total", {{"result", "failed"}}), 1);
  // The fast path drained before the decision threw.
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(Desired(), 0);
  cloud.throws.clear();
  clock.Advance(seconds(5));
  loop.RunOnce();
  EXPECT_EQ(queue.deleted, std::vector<std::string>{id});
  EXPECT_EQ(Desired(), 2);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 1);
  EXPECT_TRUE(loop.healthy());
}

TEST_F(LoopTest, ReconcilesAtStartAndOnTheInterval) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  auto reconciles = [&] {
    return metrics.Value("spotkeeper_reconciles_total", {{"result", "ok"}});
  };
  loop.RunOnce();  // t=0: reconcile, then an empty 20 s poll
  EXPECT_EQ(reconciles(), 1);
  loop.RunOnce();  // t=20
  loop.RunOnce();  // t=40
  EXPECT_EQ(reconciles(), 1);
  EXPECT_EQ(metrics.Value("spotkeeper_reconcile_duration_seconds"), 1);
  // Level-triggered: the fleet lost capacity and no message said so.
  cloud.fleets["sfr-1"].source.fulfilled_capacity = 8;
  loop.RunOnce();  // t=60: reconcile
  EXPECT_EQ(reconciles(), 2);
  EXPECT_EQ(Desired(), 2);  // pending 8 over 4 vCPUs
  EXPECT_EQ(metrics.Value("spotkeeper_on_demand_desired"), 2);
}

TEST_F(LoopTest, DryRunActionsAreCountedAsDryRunNotFailed) {
  config.dry_run = true;
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  queue.Send(SnsEnvelope(AgentMessage()));
  loop.RunOnce();
  EXPECT_TRUE(cloud.applied.empty());
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kActive);
  EXPECT_EQ(metrics.Value("spotkeeper_actions_total",
                          {{"action", "drain-container-instances"}, {"result", "dry-run"}}),
            1);
  EXPECT_EQ(metrics.Value("spotkeeper_actions_total",
                          {{"action", "drain-container-instances"}, {"result", "failed"}}),
            0);
  EXPECT_EQ(metrics.Render().find("result=\"failed\""), std::string::npos) << metrics.Render();
}

TEST_F(LoopTest, DryRunLogsARepeatedActionOnceAtInfo) {
  config.dry_run = true;
  log::Configure(log::Format::kText, log::Level::kInfo);
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  queue.Send(SnsEnvelope(AgentMessage()));
  testing::internal::CaptureStderr();
  loop.RunOnce();  // t=0: reconcile, the notice
  clock.Advance(seconds(61));
  loop.RunOnce();  // a reconcile: the remembered notice decides the same drain
  clock.Advance(seconds(61));
  loop.RunOnce();
  std::string logs = testing::internal::GetCapturedStderr();
  size_t lines = 0;
  for (size_t at = logs.find("dry run: not applied action=\"drain"); at != std::string::npos;
       at = logs.find("dry run: not applied action=\"drain", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 1u) << logs;
  // Still decided (and counted) every time: only the log line is not repeated.
  EXPECT_GE(metrics.Value("spotkeeper_actions_total",
                          {{"action", "drain-container-instances"}, {"result", "dry-run"}}),
            2);
}

TEST_F(LoopTest, ARefusedMessageIsDeletedAtOnceAndTheRestOfTheReceiveHandled) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  json foreign = json::parse(AgentMessage());
  foreign["ecsCluster"] = "not-ours";
  std::string refused = queue.Send(foreign.dump());
  std::string bogus = queue.Send(R"({"fleetID": "sfr-bogus"})");
  std::string good = queue.Send(SnsEnvelope(AgentMessage()));
  loop.RunOnce();
  EXPECT_EQ(cloud.Find("web", kArn)->status, policy::ContainerStatus::kDraining);
  EXPECT_EQ(Desired(), 2);
  EXPECT_EQ(queue.deleted.size(), 3u);
  EXPECT_TRUE(queue.stored.empty());
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "refused"}}), 2);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 1);
}

TEST_F(LoopTest, LongPollNeverRunsPastTheNextReconcile) {
  options.reconcile_interval = seconds(30);
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  for (int i = 0; i < 4; ++i) loop.RunOnce();
  ASSERT_EQ(queue.waits.size(), 4u);
  EXPECT_EQ(queue.waits[0], seconds(20));
  EXPECT_EQ(queue.waits[1], seconds(10));  // t=20: reconcile due at 30
  EXPECT_EQ(queue.waits[2], seconds(20));  // t=30: reconciled
  EXPECT_EQ(metrics.Value("spotkeeper_reconciles_total", {{"result", "ok"}}), 2);
}

TEST_F(LoopTest, FailedReconcileIsCountedAndRetriedNextInterval) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  cloud.failures["ReadOnDemandGroup"] = UnavailableError("down");
  loop.ReconcileNow();
  EXPECT_EQ(metrics.Value("spotkeeper_reconciles_total", {{"result", "failed"}}), 1);
  EXPECT_EQ(metrics.Value("spotkeeper_decisions_skipped_total", {{"part", "on-demand sizing"}}), 1);
  cloud.failures.clear();
  loop.ReconcileNow();
  EXPECT_EQ(metrics.Value("spotkeeper_reconciles_total", {{"result", "ok"}}), 1);
}

TEST_F(LoopTest, NoticeToDrainingLatencyFromTheSentTime) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  loop.RunOnce();  // the start-up reconcile and an empty poll (t=20)
  queue.Send(AgentMessage());
  clock.Advance(seconds(2));
  loop.RunOnce();
  EXPECT_EQ(metrics.Value("spotkeeper_notice_to_draining_seconds"), 1);
  std::string text = metrics.Render();
  EXPECT_NE(text.find("spotkeeper_notice_to_draining_seconds_sum 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("spotkeeper_notice_to_draining_seconds_bucket{le=\"1\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("spotkeeper_notice_to_draining_seconds_bucket{le=\"2\"} 1\n"),
            std::string::npos);
}

TEST_F(LoopTest, NoticeTimeInTheMessageWinsOverTheSentTime) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  json message = json::parse(AgentMessage());
  message["noticeTime"] = FormatIso8601(clock.WallNow() - seconds(7));
  queue.Send(message.dump());
  loop.RunOnce();
  EXPECT_NE(metrics.Render().find("spotkeeper_notice_to_draining_seconds_sum 7\n"),
            std::string::npos)
      << metrics.Render();
}

TEST_F(LoopTest, ReceiveFailureBacksOffAndKeepsGoing) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  queue.failures["Receive"] = UnavailableError("connection refused");
  loop.RunOnce();
  loop.RunOnce();
  EXPECT_EQ(metrics.Value("spotkeeper_queue_receive_errors_total"), 2);
  EXPECT_EQ(clock.slept(), seconds(1) + seconds(2));
  EXPECT_TRUE(loop.healthy());
  queue.failures.clear();
  queue.Send(AgentMessage());
  loop.RunOnce();
  EXPECT_EQ(queue.deleted.size(), 1u);
}

TEST_F(LoopTest, HealthyUntilIterationsStop) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  loop.RunOnce();
  EXPECT_TRUE(loop.healthy());
  clock.Advance(seconds(101));  // 2 * 20 s + 60 s without an iteration
  EXPECT_FALSE(loop.healthy());
}

TEST_F(LoopTest, RunReturnsWhenStopIsSet) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  std::atomic<bool> stop{true};
  loop.Run(stop);
  EXPECT_EQ(queue.calls["Receive"], 0);
}

TEST_F(LoopTest, ValidateLoopOptions) {
  EXPECT_TRUE(ValidateLoopOptions(options).ok());
  LoopOptions bad = options;
  bad.wait_time = seconds(21);
  EXPECT_FALSE(ValidateLoopOptions(bad).ok());
  bad = options;
  bad.wait_time = seconds(0);
  EXPECT_FALSE(ValidateLoopOptions(bad).ok());
  bad = options;
  bad.reconcile_interval = std::chrono::milliseconds(10);
  EXPECT_FALSE(ValidateLoopOptions(bad).ok());
}

TEST(RecordAwsErrorsTest, MirrorsCallsRetriesAndFailedCalls) {
  MetricsRegistry m;
  DefineControllerMetrics(m);
  aws::ClientStats stats;
  stats.calls = 12;
  stats.retries = 5;
  stats.RecordError("ecs", UnavailableError("connection reset"));
  RecordAwsErrors(m, stats);
  stats.calls = 13;
  RecordAwsErrors(m, stats);  // mirrored, not added
  EXPECT_EQ(m.Value("spotkeeper_aws_calls_total"), 13);
  EXPECT_EQ(m.Value("spotkeeper_aws_retries_total"), 5);
  EXPECT_EQ(m.Value("spotkeeper_aws_errors_total", {{"service", "ecs"}, {"code", "UNAVAILABLE"}}),
            1);
}

// The backoff the loop and the Lambda runtime share (queue.h).
TEST(RedeliveryDelayTest, DoublesWithTheReceiveCountUpToTheMaximum) {
  using std::chrono::seconds;
  EXPECT_EQ(RedeliveryDelay(seconds(5), seconds(300), 0), seconds(5));  // unknown count
  EXPECT_EQ(RedeliveryDelay(seconds(5), seconds(300), 1), seconds(5));
  EXPECT_EQ(RedeliveryDelay(seconds(5), seconds(300), 3), seconds(20));
  EXPECT_EQ(RedeliveryDelay(seconds(5), seconds(300), 7), seconds(300));  // 320 capped
  EXPECT_EQ(RedeliveryDelay(seconds(5), seconds(300), INT64_MAX), seconds(300));
  EXPECT_EQ(RedeliveryDelay(seconds(5), seconds(3), 1), seconds(3));
  EXPECT_EQ(RedeliveryDelay(Duration::zero(), seconds(300), 4), Duration::zero());
}

}  // namespace
}  // namespace spk::controller
