#include "agent/watcher.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cloud/fake_container_instances.h"
#include "cloud/fake_metadata.h"
#include "cloud/fake_notifier.h"

namespace spk::agent {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kIdentity[] =
    R"({"accountId":"123456789012","availabilityZone":"us-east-1a","instanceId":"i-0abc",
        "instanceType":"m5.large","region":"us-east-1"})";
constexpr char kArn[] = "arn:aws:ecs:us-east-1:123456789012:container-instance/prod/abc";

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1))
    ++n;
  return n;
}

class WatcherTest : public ::testing::Test {
 protected:
  WatcherTest() : random_(42), sink_a_("sink-a"), sink_b_("sink-b") {
    metadata_.Set(cloud::kIdentityDocumentPath, kIdentity);
    metadata_.Set(cloud::kLifecyclePath, "spot");
    options_.agent_version = "9.9.9";
  }

  Watcher& Make() {
    watcher_ = std::make_unique<Watcher>(metadata_, ecs_agent_,
                                         std::vector<cloud::Notifier*>{&sink_a_, &sink_b_}, &ecs_,
                                         clock_, random_, options_);
    return *watcher_;
  }

  // Steps and sleeps the manual clock until `d` has passed.
  void RunFor(Duration d) {
    const MonoTime end = clock_.MonotonicNow() + d;
    while (clock_.MonotonicNow() < end) {
      Duration wait = watcher_->Step();
      clock_.SleepFor(std::max<Duration>(wait, milliseconds(1)));
    }
  }

  // A spot notice terminating `in` from the manual clock's now.
  void SetSpotNotice(Duration in = seconds(120), const std::string& action = "terminate") {
    const std::string t = FormatIso8601(clock_.WallNow() + in);
    metadata_.Set(cloud::kInstanceActionPath,
                  R"({"action":")" + action + R"(","time":")" + t + "\"}");
  }

  ManualClock clock_;
  SeededRandom random_;
  cloud::FakeMetadata metadata_;
  cloud::FakeEcsAgentIntrospection ecs_agent_{cloud::EcsAgentInfo{"prod", kArn}};
  cloud::FakeNotifier sink_a_;
  cloud::FakeNotifier sink_b_;
  cloud::FakeContainerInstances ecs_;
  WatcherOptions options_;
  std::unique_ptr<Watcher> watcher_;
};

TEST_F(WatcherTest, NotFoundMeansNoNotice) {
  Make();
  RunFor(seconds(5));
  EXPECT_TRUE(sink_a_.attempts().empty());
  EXPECT_TRUE(sink_b_.attempts().empty());
  EXPECT_EQ(watcher_->stats().poll_errors, 0);
  EXPECT_GE(watcher_->stats().polls, 20);
  EXPECT_EQ(watcher_->stats().notices, 0);
}

TEST_F(WatcherTest, SpotNoticeIsPublishedOnceToEverySinkDespiteRepeatedPolls) {
  Make();
  RunFor(seconds(1));
  SetSpotNotice();
  RunFor(seconds(10));  // ~50 more polls of the same notice
  ASSERT_EQ(sink_a_.accepted().size(), 1u);
  ASSERT_EQ(sink_b_.accepted().size(), 1u);
  EXPECT_EQ(sink_a_.attempts().size(), 1u);
  EXPECT_EQ(sink_a_.accepted()[0], sink_b_.accepted()[0]);
  auto j = nlohmann::json::parse(sink_a_.accepted()[0]);
  EXPECT_EQ(j["kind"], "spot-interruption");
  EXPECT_EQ(j["terminationNotificiation"], "true");
  EXPECT_EQ(j["instanceId"], "i-0abc");
  EXPECT_EQ(j["ecsCluster"], "prod");
  EXPECT_EQ(j["ecsContainer"], kArn);
  EXPECT_EQ(j["agentVersion"], "9.9.9");
  EXPECT_EQ(j["messageId"], sink_a_.attempts()[0].message_id);
  EXPECT_EQ(watcher_->stats().notices, 1);
  EXPECT_EQ(watcher_->stats().deliveries, 2);
}

TEST_F(WatcherTest, NoticeSeenWithinOnePollInterval) {
  Make();
  RunFor(seconds(1));
  SetSpotNotice();
  const MonoTime set_at = clock_.MonotonicNow();
  while (sink_a_.accepted().empty()) {
    clock_.SleepFor(std::max<Duration>(watcher_->Step(), milliseconds(1)));
    ASSERT_LT(clock_.MonotonicNow() - set_at, seconds(5));
  }
  EXPECT_LE(clock_.MonotonicNow() - set_at, options_.poll_interval + milliseconds(1));
}

TEST_F(WatcherTest, ErrorsAreNeverNotices) {
  Make();
  const std::vector<Status> errors = {
      DeadlineExceededError("IMDS GET: timed out"),
      UnavailableError("IMDS GET answered HTTP 500"),
      UnavailableError("IMDS GET answered HTTP 401 after a fresh token"),
      Status(StatusCode::kInternal, "IMDS GET answered unexpected HTTP 302"),
  };
  for (const auto& e : errors) {
    metadata_.FailAll(e);
    RunFor(seconds(2));
  }
  metadata_.ClearFailAll();
  for (const char* garbage : {"garbage", "<html><body>500</body></html>", "{}", ""}) {
    metadata_.Set(cloud::kInstanceActionPath, garbage);
    metadata_.Set(cloud::kRebalancePath, garbage);
    metadata_.Set(cloud::kScheduledEventsPath, garbage);
    RunFor(seconds(3));
  }
  EXPECT_TRUE(sink_a_.attempts().empty());
  EXPECT_TRUE(sink_b_.attempts().empty());
  EXPECT_TRUE(ecs_.drained().empty());
  EXPECT_EQ(watcher_->stats().notices, 0);
  EXPECT_GT(watcher_->stats().poll_errors, 10);
  EXPECT_TRUE(watcher_->in_error_streak());

  // The service recovers: the streak ends, and a real notice gets through.
  metadata_.Remove(cloud::kInstanceActionPath);
  metadata_.Remove(cloud::kRebalancePath);
  metadata_.Remove(cloud::kScheduledEventsPath);
  RunFor(seconds(3));
  EXPECT_FALSE(watcher_->in_error_streak());
  SetSpotNotice();
  RunFor(seconds(1));
  EXPECT_EQ(sink_a_.accepted().size(), 1u);
}

TEST_F(WatcherTest, ErrorStreakIsLoggedOncePerStreak) {
  Make();
  ::testing::internal::CaptureStderr();
  metadata_.FailAll(UnavailableError("IMDS GET answered HTTP 500"));
  RunFor(seconds(5));
  metadata_.ClearFailAll();
  RunFor(seconds(3));
  metadata_.FailAll(DeadlineExceededError("IMDS GET: timed out"));
  RunFor(seconds(5));
  metadata_.ClearFailAll();
  RunFor(seconds(1));
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_GT(watcher_->stats().poll_errors, 40);
  EXPECT_EQ(watcher_->stats().error_streaks, 2);
  EXPECT_EQ(Count(err, "metadata error streak began"), 2) << err;
  EXPECT_EQ(Count(err, "metadata error streak ended"), 2) << err;
  EXPECT_EQ(Count(err, "streak began error=\"UNAVAILABLE: IMDS GET answered HTTP 500"), 1) << err;
}

TEST_F(WatcherTest, ErrorBackoffGrowsAndIsCappedAtThePollInterval) {
  Make();
  metadata_.FailAll(UnavailableError("IMDS GET answered HTTP 500"));
  std::vector<Duration> waits;
  for (int i = 0; i < 12; ++i) {
    Duration w = watcher_->Step();
    waits.push_back(w);
    clock_.SleepFor(w);
  }
  EXPECT_LE(waits[0], options_.error_backoff_base);
  for (Duration w : waits) {
    EXPECT_LE(w, options_.poll_interval);
    EXPECT_GT(w, Duration::zero());
  }
  // Capped, with jitter in [0.5, 1): late waits are at least half the interval.
  EXPECT_GE(waits.back(), options_.poll_interval / 2);
  EXPECT_GT(waits.back(), waits[0]);
}

TEST_F(WatcherTest, DeliveryIsRetriedPerSinkUntilAccepted) {
  Make();
  sink_a_.FailNext(3);
  SetSpotNotice();
  RunFor(seconds(10));
  ASSERT_EQ(sink_a_.attempts().size(), 4u);
  EXPECT_EQ(sink_a_.accepted().size(), 1u);
  EXPECT_EQ(sink_b_.attempts().size(), 1u);  // the other sink is not held up
  // Every attempt carries the same message and id.
  for (const auto& a : sink_a_.attempts()) {
    EXPECT_EQ(a.message, sink_a_.attempts()[0].message);
    EXPECT_EQ(a.message_id, sink_a_.attempts()[0].message_id);
  }
  EXPECT_EQ(watcher_->stats().delivery_failures, 3);
}

TEST_F(WatcherTest, DeliveryIsAbandonedOnceTheTerminationTimePasses) {
  Make();
  sink_a_.FailAlways(true);
  SetSpotNotice(seconds(30));
  RunFor(seconds(60));
  const size_t attempts = sink_a_.attempts().size();
  EXPECT_GT(attempts, 5u);
  EXPECT_EQ(watcher_->stats().deliveries_abandoned, 1);
  RunFor(seconds(30));
  EXPECT_EQ(sink_a_.attempts().size(), attempts);  // nothing after giving up
  EXPECT_EQ(sink_b_.accepted().size(), 1u);
}

TEST_F(WatcherTest, RebalanceIsRetriedWithoutDeadline) {
  Make();
  sink_a_.FailNext(20);
  metadata_.Set(cloud::kRebalancePath, R"({"noticeTime":"2024-01-01T00:00:00Z"})");
  RunFor(seconds(900));
  EXPECT_EQ(sink_a_.accepted().size(), 1u);
  EXPECT_EQ(sink_a_.attempts().size(), 21u);
}

TEST_F(WatcherTest, UndatedRetriesSlowDownToOncePerMinuteAfterTen) {
  Make();
  sink_a_.FailAlways(true);
  metadata_.Set(cloud::kRebalancePath, R"({"noticeTime":"2024-01-01T00:00:00Z"})");
  RunFor(seconds(60));
  const size_t after_a_minute = sink_a_.attempts().size();
  EXPECT_GE(after_a_minute, 10u);  // the first ten at the usual pace (at most 5 s apart)
  RunFor(seconds(600));
  // Then 30-60 s apart (jittered): 10 to 20 more in ten minutes, not ~160.
  const size_t more = sink_a_.attempts().size() - after_a_minute;
  EXPECT_GE(more, 9u);
  EXPECT_LE(more, 21u);
}

TEST_F(WatcherTest, DrainsOnSpotNoticeOnlyWithDrain) {
  options_.drain = true;
  Make();
  metadata_.Set(cloud::kRebalancePath, R"({"noticeTime":"2024-01-01T00:00:00Z"})");
  RunFor(seconds(3));
  EXPECT_TRUE(ecs_.drained().empty());  // a rebalance recommendation does not drain
  ecs_.FailNext(1);
  SetSpotNotice();
  RunFor(seconds(5));
  ASSERT_EQ(ecs_.drained().size(), 1u);
  EXPECT_EQ(ecs_.drained()[0], std::string("prod/") + kArn);
  EXPECT_EQ(ecs_.drain_calls(), 2);
  EXPECT_EQ(watcher_->stats().drains, 1);
}

TEST_F(WatcherTest, NoDrainWithoutTheFlag) {
  Make();
  SetSpotNotice();
  RunFor(seconds(3));
  EXPECT_EQ(ecs_.drain_calls(), 0);
  EXPECT_EQ(sink_a_.accepted().size(), 1u);
}

TEST_F(WatcherTest, LifecycleAttributeSetAtStart) {
  Make();
  watcher_->Step();
  auto attrs = ecs_.attributes();
  EXPECT_EQ(attrs[std::string("prod/") + kArn + "/spotkeeper.lifecycle"], "spot");
  EXPECT_TRUE(watcher_->stats().lifecycle_set);
}

TEST_F(WatcherTest, LifecycleAttributeWaitsForTheEcsAgent) {
  ecs_agent_.Set(UnavailableError("connection refused"));
  metadata_.Set(cloud::kLifecyclePath, "on-demand");
  Make();
  RunFor(seconds(5));
  EXPECT_TRUE(ecs_.attributes().empty());
  ecs_agent_.Set(cloud::EcsAgentInfo{"prod", kArn});
  RunFor(seconds(70));
  EXPECT_EQ(ecs_.attributes()[std::string("prod/") + kArn + "/spotkeeper.lifecycle"], "on-demand");
  // Retries back off: a handful of introspection calls, not one per poll.
  EXPECT_LT(ecs_agent_.calls(), 12);
}

TEST_F(WatcherTest, MissingEcsAgentLeavesFieldsEmptyButSendsTheNotice) {
  ecs_agent_.Set(UnavailableError("connection refused"));
  Make();
  SetSpotNotice();
  RunFor(seconds(1));
  ASSERT_EQ(sink_a_.accepted().size(), 1u);
  auto j = nlohmann::json::parse(sink_a_.accepted()[0]);
  EXPECT_EQ(j["ecsCluster"], "");
  EXPECT_EQ(j["ecsContainer"], "");
  EXPECT_EQ(j["instanceId"], "i-0abc");
}

TEST_F(WatcherTest, IdentityUnreadableDefersTheNoticeToTheNextPoll) {
  metadata_.SetError(cloud::kIdentityDocumentPath, UnavailableError("HTTP 500"));
  Make();
  SetSpotNotice();
  RunFor(seconds(2));
  EXPECT_TRUE(sink_a_.attempts().empty());
  metadata_.Set(cloud::kIdentityDocumentPath, kIdentity);
  RunFor(seconds(1));
  EXPECT_EQ(sink_a_.accepted().size(), 1u);
}

TEST_F(WatcherTest, SlowPathsAreReadLessOften) {
  Make();
  RunFor(seconds(10));
  const int fast = metadata_.reads(cloud::kInstanceActionPath);
  const int slow = metadata_.reads(cloud::kRebalancePath);
  EXPECT_GE(fast, 45);
  EXPECT_LE(fast, 55);
  EXPECT_GE(slow, 4);
  EXPECT_LE(slow, 6);
  EXPECT_EQ(metadata_.reads(cloud::kScheduledEventsPath), slow);
}

TEST_F(WatcherTest, LegacyTerminationTimeWhenOnlyItIsServed) {
  Make();
  metadata_.Set(cloud::kTerminationTimePath, FormatIso8601(clock_.WallNow() + seconds(120)));
  RunFor(seconds(3));
  ASSERT_EQ(sink_a_.accepted().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(sink_a_.accepted()[0])["action"], "terminate");
  // Once instance-action is served too, it is the same notice: nothing new.
  SetSpotNotice();
  RunFor(seconds(3));
  EXPECT_EQ(sink_a_.accepted().size(), 1u);
}

TEST_F(WatcherTest, EachNoticeKindAndEventOnce) {
  Make();
  SetSpotNotice();
  metadata_.Set(cloud::kRebalancePath, R"({"noticeTime":"2024-01-01T00:00:00Z"})");
  metadata_.Set(cloud::kScheduledEventsPath,
                R"([{"Code":"system-reboot","State":"active","EventId":"ev-1",
                     "NotBefore":"1 Jan 2030 00:00:00 GMT"}])");
  RunFor(seconds(5));
  metadata_.Set(cloud::kScheduledEventsPath,
                R"([{"Code":"system-reboot","State":"active","EventId":"ev-1",
                     "NotBefore":"1 Jan 2030 00:00:00 GMT"},
                    {"Code":"instance-stop","State":"active","EventId":"ev-2",
                     "NotBefore":"2 Jan 2030 00:00:00 GMT"}])");
  RunFor(seconds(5));
  std::map<std::string, int> kinds;
  for (const auto& m : sink_a_.accepted()) {
    auto j = nlohmann::json::parse(m);
    ++kinds[j["kind"].get<std::string>() + "/" + j.value("eventId", "")];
  }
  EXPECT_EQ(kinds, (std::map<std::string, int>{{"spot-interruption/", 1},
                                               {"rebalance-recommendation/", 1},
                                               {"scheduled-maintenance/ev-1", 1},
                                               {"scheduled-maintenance/ev-2", 1}}));
}

// A sink that asks the loop to stop once it has been called.
class StoppingNotifier final : public cloud::Notifier {
 public:
  explicit StoppingNotifier(std::atomic<bool>& stop) : stop_(stop) {}
  Status Publish(const std::string&, const std::string&) override {
    stop_ = true;
    return Status::Ok();
  }
  std::string name() const override { return "stopper"; }

 private:
  std::atomic<bool>& stop_;
};

TEST_F(WatcherTest, RunReturnsWhenStopIsSet) {
  std::atomic<bool> stop{false};
  StoppingNotifier stopper(stop);
  Watcher w(metadata_, ecs_agent_, {&stopper}, &ecs_, clock_, random_, options_);
  metadata_.Set(cloud::kRebalancePath, R"({"noticeTime":"2024-01-01T00:00:00Z"})");
  w.Run(stop);  // returns: the notice's delivery sets the flag
  EXPECT_TRUE(stop.load());
  EXPECT_EQ(w.stats().deliveries, 1);
}

TEST_F(WatcherTest, DeliverAllForTheTestNotice) {
  Make();
  sink_b_.FailNext(2);
  Notice test;
  test.kind = NoticeKind::kTest;
  test.action = "test";
  test.time = FormatIso8601(clock_.WallNow(), true);
  auto m = watcher_->Compose(test);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(watcher_->DeliverAll(*m, seconds(10), nullptr).ok());
  EXPECT_EQ(sink_a_.accepted().size(), 1u);
  EXPECT_EQ(sink_b_.accepted().size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(sink_b_.accepted()[0])["kind"], "test");

  sink_a_.FailAlways(true);
  Status st = watcher_->DeliverAll(*m, seconds(3), nullptr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("sink-a"), std::string::npos) << st.ToString();
}

// Deliveries run concurrently with polling and with each other: the fakes'
// latency keeps a call in flight until the manual clock has moved that far.

TEST_F(WatcherTest, SlowSinkDelaysNeitherTheOtherSinkNorPolling) {
  sink_a_.SetLatency(clock_, seconds(15));  // an AWS call that times out
  Make();
  RunFor(seconds(1));
  SetSpotNotice();
  const MonoTime set_at = clock_.MonotonicNow();
  while (watcher_->stats().deliveries == 0) {
    clock_.SleepFor(std::max<Duration>(watcher_->Step(), milliseconds(1)));
    ASSERT_LT(clock_.MonotonicNow() - set_at, seconds(5));
  }
  // sink-b accepted within one poll interval, although sink-a's call runs.
  EXPECT_LE(clock_.MonotonicNow() - set_at, options_.poll_interval + milliseconds(1));
  EXPECT_EQ(sink_b_.accepted().size(), 1u);
  ASSERT_EQ(sink_a_.attempts().size(), 1u);
  EXPECT_LE(sink_a_.attempts()[0].started_at - set_at, options_.poll_interval + milliseconds(1));
  EXPECT_EQ(watcher_->calls_in_flight(), 1);
  // Polling goes on at its usual pace while sink-a's call runs.
  const int reads = metadata_.reads(cloud::kInstanceActionPath);
  RunFor(seconds(10));
  EXPECT_EQ(watcher_->calls_in_flight(), 1);
  EXPECT_EQ(watcher_->stats().deliveries, 1);
  const int during = metadata_.reads(cloud::kInstanceActionPath) - reads;
  EXPECT_GE(during, 45);
  EXPECT_LE(during, 55);
  RunFor(seconds(6));
  EXPECT_EQ(watcher_->calls_in_flight(), 0);
  EXPECT_EQ(watcher_->stats().deliveries, 2);
  EXPECT_EQ(sink_a_.attempts().size(), 1u);
}

TEST_F(WatcherTest, DeadSinkRetriesDoNotHoldUpANewNotice) {
  // A webhook that accepts connections and never answers: each try hangs 5 s.
  sink_a_.SetLatency(clock_, seconds(5));
  sink_a_.FailAlways(true, DeadlineExceededError("webhook POST: timed out"));
  Make();
  metadata_.Set(cloud::kRebalancePath, R"({"noticeTime":"2024-01-01T00:00:00Z"})");
  RunFor(seconds(12));  // the rebalance recommendation's delivery to sink-a keeps failing
  EXPECT_EQ(sink_b_.accepted().size(), 1u);
  EXPECT_GE(sink_a_.attempts().size(), 2u);
  const size_t before = sink_a_.attempts().size();
  SetSpotNotice();
  const MonoTime set_at = clock_.MonotonicNow();
  RunFor(options_.poll_interval + milliseconds(1));
  // sink-b has the spot notice within one poll, and sink-a's try of it started
  // too, beside the rebalance retry (two calls per target).
  ASSERT_EQ(sink_b_.accepted().size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(sink_b_.accepted()[1])["kind"], "spot-interruption");
  ASSERT_GT(sink_a_.attempts().size(), before);
  const auto spot_try = sink_a_.attempts()[before];
  EXPECT_EQ(nlohmann::json::parse(spot_try.message)["kind"], "spot-interruption");
  EXPECT_LE(spot_try.started_at - set_at, options_.poll_interval + milliseconds(1));
}

TEST_F(WatcherTest, SpotDeliveryGoesFirstAndADeadSinkTakesAtMostTwoCalls) {
  sink_a_.SetLatency(clock_, seconds(5));
  sink_a_.FailAlways(true, DeadlineExceededError("webhook POST: timed out"));
  Make();
  // Three notices present at once.
  metadata_.Set(cloud::kRebalancePath, R"({"noticeTime":"2024-01-01T00:00:00Z"})");
  metadata_.Set(cloud::kScheduledEventsPath,
                R"([{"Code":"system-reboot","State":"active","EventId":"ev-1",
                     "NotBefore":"1 Jan 2030 00:00:00 GMT"}])");
  SetSpotNotice();
  watcher_->Step();
  EXPECT_EQ(sink_b_.accepted().size(), 3u);
  ASSERT_EQ(sink_a_.attempts().size(), 2u);  // the per-target limit
  EXPECT_EQ(nlohmann::json::parse(sink_a_.attempts()[0].message)["kind"], "spot-interruption");
  // Two to sink-a; the lifecycle attribute waits for the third notice's first try.
  EXPECT_EQ(watcher_->calls_in_flight(), 2);
  EXPECT_TRUE(ecs_.attributes().empty());
  RunFor(seconds(6));  // the first two failed: the third notice's try starts
  EXPECT_GE(sink_a_.attempts().size(), 3u);
}

TEST_F(WatcherTest, CallsInFlightAreBounded) {
  options_.max_calls_in_flight = 2;
  options_.lifecycle_attribute = false;
  std::vector<std::unique_ptr<cloud::FakeNotifier>> owned;
  std::vector<cloud::Notifier*> sinks;
  for (int i = 0; i < 5; ++i) {
    owned.push_back(std::make_unique<cloud::FakeNotifier>("sink-" + std::to_string(i)));
    owned.back()->SetLatency(clock_, seconds(1));
    sinks.push_back(owned.back().get());
  }
  Watcher w(metadata_, ecs_agent_, sinks, &ecs_, clock_, random_, options_);
  SetSpotNotice();
  w.Step();
  EXPECT_EQ(w.calls_in_flight(), 2);
  for (int i = 0; i < 1000 && w.stats().deliveries < 5; ++i) {
    clock_.SleepFor(std::max<Duration>(w.Step(), milliseconds(1)));
    EXPECT_LE(w.calls_in_flight(), 2);
  }
  EXPECT_EQ(w.stats().deliveries, 5);
  EXPECT_EQ(w.stats().max_calls_in_flight, 2);
  for (const auto& n : owned) EXPECT_EQ(n->accepted().size(), 1u);
}

TEST_F(WatcherTest, SlowLifecycleAttributeDoesNotDelayANoticePresentAtStart) {
  ecs_.SetLatency(clock_, seconds(15));  // ECS PutAttributes hanging until killed
  sink_a_.SetLatency(clock_, milliseconds(40));
  sink_b_.SetLatency(clock_, milliseconds(40));
  SetSpotNotice();
  Make();
  const MonoTime start = clock_.MonotonicNow();
  watcher_->Step();
  // The notice's deliveries started in the first step; the attribute waits for them.
  ASSERT_EQ(sink_a_.attempts().size(), 1u);
  ASSERT_EQ(sink_b_.attempts().size(), 1u);
  EXPECT_EQ(sink_a_.attempts()[0].started_at, start);
  EXPECT_TRUE(ecs_.attributes().empty());
  RunFor(milliseconds(100));
  EXPECT_EQ(watcher_->stats().deliveries, 2);
  EXPECT_EQ(ecs_.attributes().size(), 1u);  // started once the deliveries finished
  EXPECT_FALSE(watcher_->stats().lifecycle_set);
  const int reads = metadata_.reads(cloud::kInstanceActionPath);
  RunFor(seconds(10));  // polling goes on while the attribute call hangs
  EXPECT_GE(metadata_.reads(cloud::kInstanceActionPath) - reads, 45);
  RunFor(seconds(6));
  EXPECT_TRUE(watcher_->stats().lifecycle_set);
}

TEST_F(WatcherTest, LifecycleAttributeWaitsAtMostASecondBehindADeadSink) {
  sink_a_.SetLatency(clock_, seconds(15));  // the first try hangs until killed
  SetSpotNotice();
  Make();
  watcher_->Step();
  EXPECT_EQ(sink_b_.accepted().size(), 1u);
  EXPECT_TRUE(ecs_.attributes().empty());  // held behind sink-a's first try
  RunFor(milliseconds(900));
  EXPECT_TRUE(ecs_.attributes().empty());
  RunFor(milliseconds(200));  // past lifecycle_hold_max
  EXPECT_TRUE(watcher_->stats().lifecycle_set);
  EXPECT_EQ(watcher_->calls_in_flight(), 1);  // sink-a's try still runs
}

TEST_F(WatcherTest, DrainRunsBesideTheDeliveries) {
  options_.drain = true;
  ecs_.SetLatency(clock_, seconds(3));
  options_.lifecycle_attribute = false;
  Make();
  SetSpotNotice();
  watcher_->Step();
  EXPECT_EQ(ecs_.drain_calls(), 1);
  EXPECT_EQ(watcher_->stats().deliveries, 2);
  EXPECT_EQ(watcher_->stats().drains, 0);  // still running
  RunFor(seconds(4));
  EXPECT_EQ(watcher_->stats().drains, 1);
}

TEST_F(WatcherTest, StopGivesRunningCallsAGraceThenCancelsThem) {
  sink_a_.SetLatency(clock_, seconds(30));  // still running after the grace
  sink_b_.SetLatency(clock_, seconds(1));   // finishes within it
  options_.lifecycle_attribute = false;
  Make();
  SetSpotNotice();
  watcher_->Step();
  EXPECT_EQ(watcher_->calls_in_flight(), 2);
  const MonoTime stop_at = clock_.MonotonicNow();
  ::testing::internal::CaptureStderr();
  watcher_->Shutdown();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(watcher_->calls_in_flight(), 0);
  EXPECT_EQ(sink_b_.accepted().size(), 1u);
  EXPECT_EQ(watcher_->stats().deliveries, 1);  // sink-b's, within the grace
  EXPECT_EQ(sink_a_.cancelled(), 1);
  EXPECT_EQ(sink_b_.cancelled(), 0);
  EXPECT_EQ(watcher_->stats().calls_cancelled, 1);
  EXPECT_GE(clock_.MonotonicNow() - stop_at, options_.stop_grace);
  EXPECT_LE(clock_.MonotonicNow() - stop_at, options_.stop_grace + milliseconds(50));
  EXPECT_EQ(Count(err, "call cancelled at stop"), 1) << err;
  EXPECT_EQ(Count(err, "target=sink-a"), 1) << err;
}

TEST_F(WatcherTest, StopWithNothingRunningReturnsAtOnce) {
  Make();
  RunFor(seconds(1));
  const MonoTime stop_at = clock_.MonotonicNow();
  watcher_->Shutdown();
  EXPECT_EQ(clock_.MonotonicNow(), stop_at);
  EXPECT_EQ(watcher_->stats().calls_cancelled, 0);
}

}  // namespace
}  // namespace spk::agent
