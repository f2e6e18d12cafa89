#include "controller/loop.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/log.h"
#include "controller/controller_test_util.h"
#include "controller/fake_queue.h"

namespace spk::controller {
namespace {

using nlohmann::json;
using std::chrono::seconds;

// The fakes are not thread-safe: the drain path and the decision thread each
// get one of these over the same fake, serialised by one mutex. `before`
// runs first, outside the lock (a test blocks a decision there without
// blocking the drain path).
class SharedCloud final : public CloudView {
 public:
  SharedCloud(CloudView& inner, std::mutex& mu) : inner_(inner), mu_(mu) {}
  std::function<void(const std::string& method)> before;

  SpotSourceRead ReadSpotFleet(const std::string& id, PendingSource pending, WallTime now,
                               Duration guard) override {
    auto lock = Enter("ReadSpotFleet");
    return inner_.ReadSpotFleet(id, pending, now, guard);
  }
  SpotSourceRead ReadEc2Fleet(const std::string& id) override {
    auto lock = Enter("ReadEc2Fleet");
    return inner_.ReadEc2Fleet(id);
  }
  SpotSourceRead ReadSpotGroup(const std::string& group) override {
    auto lock = Enter("ReadSpotGroup");
    return inner_.ReadSpotGroup(group);
  }
  OnDemandGroupRead ReadOnDemandGroup(const std::string& group) override {
    auto lock = Enter("ReadOnDemandGroup");
    return inner_.ReadOnDemandGroup(group);
  }
  Result<std::vector<CapacityProviderGroup>> ReadCapacityProviderGroups(
      const std::string& cluster) override {
    auto lock = Enter("ReadCapacityProviderGroups");
    return inner_.ReadCapacityProviderGroups(cluster);
  }
  Result<int> InstanceTypeVcpus(const std::string& type) override {
    auto lock = Enter("InstanceTypeVcpus");
    return inner_.InstanceTypeVcpus(type);
  }
  Result<std::vector<policy::ContainerInstance>> ListContainerInstances(
      const std::string& cluster) override {
    auto lock = Enter("ListContainerInstances");
    return inner_.ListContainerInstances(cluster);
  }
  Result<std::vector<policy::ContainerInstance>> DescribeContainerInstances(
      const std::string& cluster, const std::vector<std::string>& arns) override {
    auto lock = Enter("DescribeContainerInstances");
    return inner_.DescribeContainerInstances(cluster, arns);
  }
  Status Apply(const policy::Action& action) override {
    auto lock = Enter("Apply");
    return inner_.Apply(action);
  }
  Result<LifecycleWaits> ReadLifecycleWaits(const std::string& group) override {
    auto lock = Enter("ReadLifecycleWaits");
    return inner_.ReadLifecycleWaits(group);
  }
  Status RecordLifecycleHeartbeat(const LifecycleActionRef& action) override {
    auto lock = Enter("RecordLifecycleHeartbeat");
    return inner_.RecordLifecycleHeartbeat(action);
  }
  Status CompleteLifecycleAction(const LifecycleActionRef& action,
                                 const std::string& result) override {
    auto lock = Enter("CompleteLifecycleAction");
    return inner_.CompleteLifecycleAction(action, result);
  }
  Status PutContainerAttributes(const std::string& cluster,
                                const std::vector<ContainerAttribute>& attributes) override {
    auto lock = Enter("PutContainerAttributes");
    return inner_.PutContainerAttributes(cluster, attributes);
  }
  Status DeleteContainerAttributes(const std::string& cluster,
                                   const std::vector<ContainerAttribute>& attributes) override {
    auto lock = Enter("DeleteContainerAttributes");
    return inner_.DeleteContainerAttributes(cluster, attributes);
  }
  Status SetGroupTags(const std::string& group,
                      const std::map<std::string, std::string>& tags) override {
    auto lock = Enter("SetGroupTags");
    return inner_.SetGroupTags(group, tags);
  }
  Status DeleteGroupTags(const std::string& group, const std::vector<std::string>& keys) override {
    auto lock = Enter("DeleteGroupTags");
    return inner_.DeleteGroupTags(group, keys);
  }
  Result<std::vector<ServiceRead>> ReadServices(const std::string& cluster,
                                                const std::vector<std::string>& names) override {
    auto lock = Enter("ReadServices");
    return inner_.ReadServices(cluster, names);
  }
  Result<std::map<std::string, std::string>> ServicesTagged(const std::string& cluster,
                                                            const std::string& tag) override {
    auto lock = Enter("ServicesTagged");
    return inner_.ServicesTagged(cluster, tag);
  }
  Result<std::vector<policy::ProvisioningTask>> ProvisioningTasks(
      const std::string& cluster, const std::string& service) override {
    auto lock = Enter("ProvisioningTasks");
    return inner_.ProvisioningTasks(cluster, service);
  }
  Result<ProviderGroupRead> ReadProviderGroup(const std::string& group) override {
    auto lock = Enter("ReadProviderGroup");
    return inner_.ReadProviderGroup(group);
  }
  Status UpdateService(const std::string& cluster, const std::string& service, int desired,
                       const std::string& task_definition) override {
    auto lock = Enter("UpdateService");
    return inner_.UpdateService(cluster, service, desired, task_definition);
  }
  Status SetServiceTags(const std::string& arn,
                        const std::map<std::string, std::string>& tags) override {
    auto lock = Enter("SetServiceTags");
    return inner_.SetServiceTags(arn, tags);
  }
  Status DeleteServiceTags(const std::string& arn, const std::vector<std::string>& keys) override {
    auto lock = Enter("DeleteServiceTags");
    return inner_.DeleteServiceTags(arn, keys);
  }

 private:
  std::unique_lock<std::mutex> Enter(const std::string& method) {
    if (before) before(method);
    return std::unique_lock<std::mutex>(mu_);
  }
  CloudView& inner_;
  std::mutex& mu_;
};

class SharedQueue final : public MessageQueue {
 public:
  SharedQueue(MessageQueue& inner, std::mutex& mu) : inner_(inner), mu_(mu) {}
  Result<std::vector<QueueMessage>> Receive(int max_messages, Duration wait,
                                            Duration visibility) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_.Receive(max_messages, wait, visibility);
  }
  Status Delete(const QueueMessage& message) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_.Delete(message);
  }
  Status ChangeVisibility(const QueueMessage& message, Duration delay) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_.ChangeVisibility(message, delay);
  }
  std::string name() const override { return inner_.name(); }

 private:
  MessageQueue& inner_;
  std::mutex& mu_;
};

// Holds the calls that pass through Block() once armed, until Release().
class Gate {
 public:
  void Arm() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = true;
    released_ = false;
    entered_ = 0;
  }
  void Block() {
    std::unique_lock<std::mutex> lock(mu_);
    if (!armed_) return;
    ++entered_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_; });
  }
  // Waits until a call is held.
  void WaitEntered() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return entered_ > 0; });
  }
  int entered() {
    std::lock_guard<std::mutex> lock(mu_);
    return entered_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = false;
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  bool armed_ = false;
  bool released_ = false;
  int entered_ = 0;
};

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
  FakeQueue queue(clock);
  options.visibility_timeout = seconds(30);
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
  // They come back after the visibility timeout the receive asked for, and
  // are left again (their receive count grows until the redrive policy
  // moves them).
  EXPECT_EQ(queue.visibilities.back(), seconds(30));
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
  // Not recorded on its container instance: it waits for its (failing) decision.
  cloud.failures["PutContainerAttributes"] = UnavailableError("down");
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
  loop.WaitForDecisions();  // the burst's decision (the notice is recorded, its message deleted)
  EXPECT_EQ(Count("drain-container-instances"), 1);
  EXPECT_EQ(Count("set-desired-capacity"), 1);
  EXPECT_EQ(Desired(), 2);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 1);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "duplicate"}}), 99);
  EXPECT_EQ(metrics.Value("spotkeeper_drains_total"), 1);
}

TEST_F(LoopTest, BurstOfNoticesDrainsTenPerCallDeletesAtOnceAndDecidesOncePerBurst) {
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
  loop.RunOnce();  // the reconcile at start, then the first 10: drained, recorded, deleted
  EXPECT_EQ(metrics.Value("spotkeeper_drains_total"), 10);
  EXPECT_EQ(loop.pending(), 0u);
  EXPECT_EQ(queue.deleted.size(), 10u);
  EXPECT_EQ(loop.decisions(), 1);  // the reconcile: the burst's decision waits
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
  // Not recorded: they wait for their decision, which fails.
  cloud.failures["PutContainerAttributes"] = UnavailableError("Throttling");
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
  FakeQueue queue(clock);
  options.visibility_timeout = seconds(2);
  options.max_messages = 1;  // every receive is full: a burst, the decision waits
  options.coalesce_window = seconds(5);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  cloud.failures["Apply"] = UnavailableError("ThrottlingException");
  queue.Send(SnsEnvelope(AgentMessage()));
  loop.RunOnce();  // the reconcile at start; the notice admitted, its drain failed
  ASSERT_EQ(loop.pending(), 1u);
  clock.Advance(seconds(3));  // past the visibility timeout, without a pass to extend it
  loop.RunOnce();             // too late to extend; received again: still waiting, not deleted
  EXPECT_EQ(loop.pending(), 1u);
  EXPECT_TRUE(queue.deleted.empty());
  EXPECT_EQ(metrics.Value("spotkeeper_queue_visibility_extensions_total", {{"result", "failed"}}),
            1);
  loop.RunOnce();  // nothing visible: the decision, which fails: the message stays
  EXPECT_EQ(loop.pending(), 0u);
  EXPECT_TRUE(queue.deleted.empty());
  ASSERT_EQ(queue.stored.size(), 1u);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "duplicate"}}), 0);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "failed"}}), 1);
  // The extension that came too late, then the backoff under the latest receipt handle.
  EXPECT_EQ(queue.calls["ChangeVisibility"], 2);
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
  // Not recorded: it waits for its decision, which throws.
  cloud.failures["PutContainerAttributes"] = UnavailableError("down");
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
  cloud.failures.clear();
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
  EXPECT_EQ(loop.Unhealthy(), "stalled: the queue loop has not completed an iteration for 101 s");
}

TEST_F(LoopTest, RunReturnsWhenStopIsSet) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  std::atomic<bool> stop{true};
  loop.Run(stop);
  EXPECT_EQ(queue.calls["Receive"], 0);
}

TEST_F(LoopTest, ARecordedNoticesMessageIsDeletedBeforeAnyDecisionRuns) {
  FakeQueue queue(clock);
  Handler handler(cloud, config, clock);
  ControllerLoop loop(queue, handler, clock, metrics, options);
  loop.RunOnce();  // the start-up reconcile and an empty poll
  std::string notice = queue.Send(SnsEnvelope(AgentMessage()));
  std::string direct = queue.Send(R"({"fleetID": "sfr-1"})");
  std::vector<std::string> deleted_at_decision;
  cloud.before = [&](const std::string& method) {
    if (method == "ListContainerInstances" && deleted_at_decision.empty()) {
      deleted_at_decision = queue.deleted;
      deleted_at_decision.push_back("(decision)");
    }
  };
  loop.RunOnce();
  // The notice's message was gone when the decision read the cluster; the
  // direct event's waited for its decision.
  EXPECT_EQ(deleted_at_decision, (std::vector<std::string>{notice, "(decision)"}));
  EXPECT_EQ(queue.deleted, (std::vector<std::string>{notice, direct}));
  EXPECT_EQ(Desired(), 2);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 2);
}

// The controller's shape: decisions on their own thread, with their own
// Handler, queue handle and CloudView (over the same fake world).
class ThreadedLoopTest : public LoopTest {
 protected:
  void SetUp() override {
    LoopTest::SetUp();
    options.decision_gap = Duration::zero();
    // 25 spot instances of the fleet, each a container instance in "web".
    cloud.clusters["web"].clear();
    SpotSourceRead& fleet = cloud.fleets["sfr-1"];
    fleet.source.instance_ids.clear();
    fleet.instance_types.clear();
    fleet.source.target_capacity = fleet.source.fulfilled_capacity = 25 * 8;
    for (int i = 0; i < 25; ++i) {
      const std::string id = "i-b" + std::to_string(i);
      cloud.clusters["web"].push_back({"web", Arn(i), id, policy::ContainerStatus::kActive, 1, 0});
      fleet.source.instance_ids.push_back(id);
      fleet.instance_types[id] = "c5.2xlarge";
    }
    decision_view.before = [&](const std::string& method) {
      if (method == "ListContainerInstances") gate.Block();
    };
  }
  static std::string Arn(int i) { return "arn:burst/" + std::to_string(i); }
  // The start-up reconcile done, then notices [0, n) drained and deleted by
  // one receive, and the decision they start held at the gate.
  void HoldTheDecisionOf(ControllerLoop& loop, int n) {
    loop.RunOnce();  // asks for the start-up reconcile; an empty poll
    loop.WaitForDecisions();
    gate.Arm();
    SendNotices(0, n);
    loop.RunOnce();
    gate.WaitEntered();
  }
  void SendNotices(int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string id = "i-b" + std::to_string(i);
      queue.Send(SnsEnvelope(AgentMessage(id, Arn(i)), "sns-" + id));
    }
  }
  int Draining() {
    std::lock_guard<std::mutex> lock(world);
    int n = 0;
    for (const auto& ci : cloud.clusters["web"])
      n += ci.status == policy::ContainerStatus::kDraining;
    return n;
  }
  size_t Deleted() {
    std::lock_guard<std::mutex> lock(world);
    return queue.deleted.size();
  }

  std::mutex world;
  Gate gate;
  FakeQueue queue{clock};
  SharedCloud drain_view{cloud, world};
  SharedCloud decision_view{cloud, world};
  SharedQueue drain_queue{queue, world};
  SharedQueue decision_queue{queue, world};
};

TEST_F(ThreadedLoopTest, ADecisionInFlightDoesNotHoldTheNextDrains) {
  Handler drains(drain_view, config, clock);
  Handler decider(decision_view, config, clock);
  ControllerLoop loop(drain_queue, drains, clock, metrics, options,
                      DecisionSide{decision_queue, decider});
  loop.RunOnce();  // asks for the start-up reconcile; an empty poll
  loop.WaitForDecisions();
  EXPECT_EQ(loop.decisions(), 1);
  gate.Arm();
  SendNotices(0, 10);
  loop.RunOnce();  // drained, recorded, deleted; their decision starts and is held
  gate.WaitEntered();
  EXPECT_EQ(Deleted(), 10u);
  SendNotices(10, 20);
  loop.RunOnce();  // the next receive: drained and deleted while the decision is held
  EXPECT_EQ(Draining(), 20);
  EXPECT_EQ(Deleted(), 20u);
  EXPECT_EQ(gate.entered(), 1);  // still the one decision, still held
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 20);
  EXPECT_EQ(metrics.Value("spotkeeper_notice_to_draining_seconds"), 20);
  gate.Release();
  loop.WaitForDecisions();
  // The held decision, then one more for the notices recorded meanwhile.
  EXPECT_EQ(loop.decisions(), 3);
  {
    std::lock_guard<std::mutex> lock(world);
    EXPECT_EQ(Desired(), 10);  // 20 x 8 units over 4 vCPUs, clamped to the max of 10
    EXPECT_EQ(Count("set-desired-capacity"), 1);
    EXPECT_TRUE(queue.stored.empty());
  }
  EXPECT_EQ(metrics.Value("spotkeeper_on_demand_desired"), 10);
  EXPECT_EQ(metrics.Value("spotkeeper_drains_total"), 20);
}

TEST_F(ThreadedLoopTest, ADecisionStuckInFlightMakesTheLoopUnhealthyThoughDrainsGoOn) {
  options.decision_stuck_after = std::chrono::minutes(15);
  Handler drains(drain_view, config, clock);
  Handler decider(decision_view, config, clock);
  ControllerLoop loop(drain_queue, drains, clock, metrics, options,
                      DecisionSide{decision_queue, decider});
  HoldTheDecisionOf(loop, 1);
  clock.Advance(std::chrono::minutes(14));
  // An empty long poll (20 s): the drain path keeps completing iterations.
  loop.RunOnce();
  EXPECT_TRUE(loop.healthy()) << loop.Unhealthy();  // 14 min 20 s in flight
  clock.Advance(seconds(60));
  SendNotices(1, 2);
  loop.RunOnce();  // drained while the decision is still held
  EXPECT_EQ(Draining(), 2);
  EXPECT_FALSE(loop.healthy());
  EXPECT_EQ(loop.Unhealthy(),
            "stalled: a decision has been in flight for 920 s (the drains go on)");
  gate.Release();
  loop.WaitForDecisions();
  EXPECT_TRUE(loop.healthy()) << loop.Unhealthy();
}

TEST_F(ThreadedLoopTest, AVerySlowDecisionHoldsTheNextOnlyForTheCappedGap) {
  // Three times an hour-long decision would be three hours; the cap (3 s
  // here, 2 minutes by default) bounds it, and it is still a wait.
  options.decision_gap = std::chrono::milliseconds(1);
  options.max_decision_gap = std::chrono::seconds(3);
  Handler drains(drain_view, config, clock);
  Handler decider(decision_view, config, clock);
  ControllerLoop loop(drain_queue, drains, clock, metrics, options,
                      DecisionSide{decision_queue, decider});
  HoldTheDecisionOf(loop, 1);
  clock.Advance(std::chrono::hours(1));
  EXPECT_EQ(loop.DecisionInFlight(), std::chrono::hours(1));
  loop.RecordScrapeGauges();
  EXPECT_EQ(metrics.Value("spotkeeper_decision_in_flight_seconds"), 3600);
  gate.Release();
  loop.WaitForDecisions();
  EXPECT_EQ(loop.decisions(), 2);  // the start-up reconcile and the held one
  EXPECT_EQ(loop.DecisionInFlight(), Duration::zero());
  loop.RecordScrapeGauges();
  EXPECT_EQ(metrics.Value("spotkeeper_decision_in_flight_seconds"), 0);
  // The histogram's count: both decisions.
  EXPECT_EQ(metrics.Value("spotkeeper_decision_duration_seconds"), 2);
  EXPECT_NE(metrics.Render().find("spotkeeper_decision_duration_seconds_bucket{le=\"+Inf\"} 2"),
            std::string::npos);
  // A notice now asks for a decision: it waits for the capped gap (not the
  // 1 ms decision_gap), then runs.
  SendNotices(1, 2);
  loop.RunOnce();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(loop.decisions(), 2) << "ran before the gap of 3 x took, capped at 3 s, was over";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (loop.decisions() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(loop.decisions(), 3);
}

TEST_F(ThreadedLoopTest, UnrecordedNoticesAndDirectEventsWaitForASuccessfulDecision) {
  Handler drains(drain_view, config, clock);
  Handler decider(decision_view, config, clock);
  ControllerLoop loop(drain_queue, drains, clock, metrics, options,
                      DecisionSide{decision_queue, decider});
  loop.RunOnce();
  loop.WaitForDecisions();
  {
    std::lock_guard<std::mutex> lock(world);
    cloud.failures["PutContainerAttributes"] = UnavailableError("Throttling");
  }
  gate.Arm();
  SendNotices(0, 1);
  queue.Send(R"({"fleetID": "sfr-1"})");
  loop.RunOnce();  // the notice is drained, its record fails: both wait
  gate.WaitEntered();
  EXPECT_EQ(Draining(), 1);
  EXPECT_EQ(Deleted(), 0u);
  gate.Release();
  loop.WaitForDecisions();  // the decision fails (the record still fails): both left
  {
    std::lock_guard<std::mutex> lock(world);
    EXPECT_TRUE(queue.deleted.empty());
    EXPECT_EQ(queue.stored.size(), 2u);
    cloud.failures.clear();
  }
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "failed"}}), 2);
  clock.Advance(seconds(5));  // their backoff
  loop.RunOnce();
  loop.WaitForDecisions();
  EXPECT_EQ(Deleted(), 2u);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 2);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "duplicate"}}), 0);
  std::lock_guard<std::mutex> lock(world);
  EXPECT_EQ(Desired(), 2);
}

// A decision slower than the visibility timeout (a slow or throttled AWS):
// the messages it holds (in flight) and those waiting behind it (pending)
// are kept invisible, so no receive gets them again and none walks towards
// the dead-letter queue while it waits.
TEST_F(ThreadedLoopTest, MessagesWaitingForASlowDecisionAreNotReceivedAgain) {
  options.visibility_timeout = seconds(10);
  Handler drains(drain_view, config, clock);
  Handler decider(decision_view, config, clock);
  ControllerLoop loop(drain_queue, drains, clock, metrics, options,
                      DecisionSide{decision_queue, decider});
  loop.RunOnce();
  loop.WaitForDecisions();
  gate.Arm();
  const std::string first = queue.Send(R"({"fleetID": "sfr-1"})");
  loop.RunOnce();  // its decision starts and is held: in flight
  gate.WaitEntered();
  const std::string second = queue.Send(R"({"fleetID": "sfr-1", "n": 2})");
  loop.RunOnce();  // pending behind the held decision
  EXPECT_EQ(loop.pending(), 1u);
  const MonoTime start = clock.MonotonicNow();
  for (int i = 0; i < 12; ++i) {
    loop.RunOnce();  // an empty poll: the fake queue's clock moves on by its wait
    EXPECT_LE(queue.waits.back(), seconds(5));  // a poll never outlasts the next extension
  }
  EXPECT_GE(clock.MonotonicNow() - start, seconds(50));  // five visibility timeouts
  {
    std::lock_guard<std::mutex> lock(world);
    ASSERT_EQ(queue.stored.size(), 2u);
    for (const FakeQueue::Stored& s : queue.stored) {
      EXPECT_EQ(s.message.receive_count, 1) << s.message.id;
    }
  }
  EXPECT_EQ(loop.pending(), 1u);
  EXPECT_GE(metrics.Value("spotkeeper_queue_visibility_extensions_total", {{"result", "ok"}}), 20);
  EXPECT_EQ(metrics.Value("spotkeeper_queue_visibility_extensions_total", {{"result", "failed"}}),
            0);
  gate.Release();
  loop.WaitForDecisions();
  std::lock_guard<std::mutex> lock(world);
  EXPECT_TRUE(queue.stored.empty());
  ASSERT_EQ(queue.deleted.size(), 2u);
  EXPECT_EQ(queue.deleted[0], first);
  EXPECT_EQ(queue.deleted[1], second);
  EXPECT_EQ(metrics.Value("spotkeeper_messages_total", {{"outcome", "handled"}}), 2);
}

TEST_F(ThreadedLoopTest, StopFinishesTheDecisionInFlightAndThePendingMessages) {
  Handler drains(drain_view, config, clock);
  Handler decider(decision_view, config, clock);
  ControllerLoop loop(drain_queue, drains, clock, metrics, options,
                      DecisionSide{decision_queue, decider});
  HoldTheDecisionOf(loop, 5);  // the 5 recorded and deleted
  std::string direct = queue.Send(R"({"fleetID": "sfr-1"})");
  loop.RunOnce();  // pending behind the held decision
  EXPECT_EQ(loop.pending(), 1u);
  std::thread stopper([&] { loop.Stop(); });
  gate.Release();
  stopper.join();
  EXPECT_EQ(loop.pending(), 0u);
  EXPECT_EQ(loop.decisions(), 3);
  std::lock_guard<std::mutex> lock(world);
  EXPECT_TRUE(queue.stored.empty());
  EXPECT_EQ(queue.deleted.back(), direct);
  EXPECT_EQ(Desired(), 10);  // 5 x 8 units over 4 vCPUs
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
  bad = options;
  bad.decision_gap = -seconds(1);
  EXPECT_FALSE(ValidateLoopOptions(bad).ok());
  bad = options;
  bad.max_decision_gap = -seconds(1);
  EXPECT_FALSE(ValidateLoopOptions(bad).ok());
  for (Duration visibility :
       {Duration(seconds(1)), Duration(std::chrono::hours(12) + seconds(1))}) {
    bad = options;
    bad.visibility_timeout = visibility;
    EXPECT_EQ(ValidateLoopOptions(bad).message(),
              "--visibility-timeout must be between 2s and 12h (720m)");
  }
  bad = options;
  bad.visibility_timeout = std::chrono::hours(12);
  EXPECT_TRUE(ValidateLoopOptions(bad).ok());
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

FallbackOutcome FallbackPass(const std::string& cluster, const std::string& primary, int desired) {
  FallbackOutcome o;
  o.decision.cluster = cluster;
  o.decision.primary = primary;
  o.decision.shadow = primary + "-od";
  o.decision.stuck = desired;
  o.decision.confirmed = desired;
  o.decision.desired = desired;
  o.updated = true;
  return o;
}

TEST(RecordFallbackTest, APairNoLongerTaggedInASearchedClusterLosesItsGauges) {
  MetricsRegistry m;
  DefineControllerMetrics(m);
  const MetricLabels api = {{"cluster", "web"}, {"primary", "api"}, {"shadow", "api-od"}};
  const MetricLabels jobs = {{"cluster", "web"}, {"primary", "jobs"}, {"shadow", "jobs-od"}};
  const MetricLabels batch = {{"cluster", "batch"}, {"primary", "etl"}, {"shadow", "etl-od"}};
  RecordFallback(m,
                 {FallbackPass("web", "api", 3), FallbackPass("web", "jobs", 2),
                  FallbackPass("batch", "etl", 1)},
                 {"web", "batch"});
  EXPECT_EQ(m.Value("spotkeeper_fallback_tasks", jobs), 2);
  EXPECT_EQ(m.Value("spotkeeper_fallback_tasks", batch), 1);
  // jobs-od's tag is gone (web searched); batch's search failed this time.
  RecordFallback(m, {FallbackPass("web", "api", 4)}, {"web"});
  EXPECT_EQ(m.Value("spotkeeper_fallback_tasks", api), 4);
  const std::string out = m.Render();
  EXPECT_EQ(out.find("jobs-od"), std::string::npos) << out;
  EXPECT_NE(out.find("spotkeeper_fallback_tasks{cluster=\"batch\",primary=\"etl\",shadow="
                     "\"etl-od\"} 1"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("spotkeeper_fallback_spot_shortage{cluster=\"batch\""), std::string::npos);
  // A pair whose read failed keeps its gauges and counts a failure.
  FallbackOutcome failed = FallbackPass("web", "api", 0);
  failed.decision.skipped = true;
  RecordFallback(m, {failed}, {"web", "batch"});
  EXPECT_EQ(m.Value("spotkeeper_fallback_tasks", api), 4);
  EXPECT_EQ(m.Value("spotkeeper_fallback_failures_total", {{"cluster", "web"}, {"primary", "api"}}),
            1);
  EXPECT_EQ(m.Render().find("etl-od"), std::string::npos);  // batch searched: gone
  // The last pair's tag removed: no outcome at all, its cluster searched.
  RecordFallback(m, {}, {"web"});
  EXPECT_EQ(m.Render().find("api-od"), std::string::npos);
  EXPECT_EQ(m.Value("spotkeeper_fallback_tasks", api), 0);
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
