// Placement strategies and constraints, with cases from the ECS documentation
// ("Amazon ECS task placement strategies", "... constraints", "Cluster query
// language").
#include "sim/placement.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace spk::sim {
namespace {

struct Node {
  std::string id, type, zone, lifecycle = "spot";
  int cpu = 2048, memory = 8192;
};

std::vector<Host> Hosts(const std::vector<Node>& nodes) {
  std::vector<Host> hosts;
  for (const Node& n : nodes) {
    hosts.push_back(Host{n.id, {n.type, n.zone, n.lifecycle}, n.cpu, n.memory, 0, true});
  }
  return hosts;
}

// Places `count` tasks one after another as the scheduler does; returns tasks per host.
std::vector<int> PlaceMany(std::vector<Host> hosts, int count, int cpu, int memory,
                           const std::vector<PlacementStrategy>& strategies,
                           bool distinct = false) {
  SeededRandom random(1);
  std::vector<int> per_host(hosts.size(), 0);
  for (int k = 0; k < count; ++k) {
    int h = ChooseHost(hosts, cpu, memory, strategies, distinct, random);
    if (h < 0) break;
    hosts[h].free_cpu -= cpu;
    hosts[h].free_memory -= memory;
    hosts[h].group_tasks++;
    per_host[h]++;
  }
  return per_host;
}

PlacementStrategy S(const std::string& type, const std::string& field = "") {
  auto s = MakeStrategy(type, field);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

TEST(Placement, BinpackMemoryPicksTheLeastMemoryLeftThatFits) {
  // "binpack on memory: tasks are placed on the instance with the least available memory".
  std::vector<Host> hosts = Hosts({{"i-1", "m5.large", "a", "spot", 2048, 4000},
                                   {"i-2", "m5.large", "a", "spot", 2048, 900},
                                   {"i-3", "m5.large", "a", "spot", 2048, 2000}});
  SeededRandom random(1);
  EXPECT_EQ(ChooseHost(hosts, 256, 1000, {S("binpack", "memory")}, false, random), 2);
  EXPECT_EQ(ChooseHost(hosts, 256, 800, {S("binpack", "memory")}, false, random), 1);
  EXPECT_EQ(ChooseHost(hosts, 256, 5000, {S("binpack", "memory")}, false, random), -1);
}

TEST(Placement, BinpackFillsOneInstanceBeforeTheNext) {
  auto per_host =
      PlaceMany(Hosts({{"i-1", "t", "a"}, {"i-2", "t", "a"}}), 6, 512, 1024, {S("binpack", "cpu")});
  EXPECT_EQ(per_host, (std::vector<int>{4, 2}));  // 2048 CPU units hold four 512 tasks
}

TEST(Placement, SpreadByAvailabilityZoneBalancesZones) {
  // "spread, field attribute:ecs.availability-zone": evenly across zones.
  std::vector<Node> nodes = {{"i-1", "t", "us-east-1a"},
                             {"i-2", "t", "us-east-1a"},
                             {"i-3", "t", "us-east-1a"},
                             {"i-4", "t", "us-east-1b"},
                             {"i-5", "t", "us-east-1c"}};
  auto per_host =
      PlaceMany(Hosts(nodes), 6, 256, 256, {S("spread", "attribute:ecs.availability-zone")});
  std::map<std::string, int> per_zone;
  for (size_t i = 0; i < nodes.size(); ++i) per_zone[nodes[i].zone] += per_host[i];
  EXPECT_EQ(per_zone,
            (std::map<std::string, int>{{"us-east-1a", 2}, {"us-east-1b", 2}, {"us-east-1c", 2}}));
}

TEST(Placement, SpreadZoneThenInstanceIdBalancesInstancesWithinZones) {
  // The documentation's "AZ balanced spread": spread(zone), spread(instanceId).
  std::vector<Node> nodes = {
      {"i-1", "t", "a"}, {"i-2", "t", "a"}, {"i-3", "t", "b"}, {"i-4", "t", "b"}};
  auto per_host =
      PlaceMany(Hosts(nodes), 8, 256, 256,
                {S("spread", "attribute:ecs.availability-zone"), S("spread", "instanceId")});
  EXPECT_EQ(per_host, (std::vector<int>{2, 2, 2, 2}));
}

TEST(Placement, SpreadZoneThenBinpackMemoryPacksWithinEachZone) {
  // The documentation's "AZ balanced binpack": spread(zone), binpack(memory).
  std::vector<Node> nodes = {{"i-1", "t", "a", "spot", 4096, 4096},
                             {"i-2", "t", "a", "spot", 4096, 4096},
                             {"i-3", "t", "b", "spot", 4096, 4096},
                             {"i-4", "t", "b", "spot", 4096, 4096}};
  auto per_host =
      PlaceMany(Hosts(nodes), 4, 256, 1024,
                {S("spread", "attribute:ecs.availability-zone"), S("binpack", "memory")});
  EXPECT_EQ(per_host[0] + per_host[1], 2);
  EXPECT_EQ(per_host[2] + per_host[3], 2);
  EXPECT_TRUE(per_host[0] == 2 || per_host[1] == 2)
      << "binpack keeps a zone's tasks on one instance";
  EXPECT_TRUE(per_host[2] == 2 || per_host[3] == 2);
}

TEST(Placement, DistinctInstanceNeverPutsTwoTasksOfTheGroupTogether) {
  auto per_host = PlaceMany(Hosts({{"i-1", "t", "a"}, {"i-2", "t", "a"}, {"i-3", "t", "b"}}), 5,
                            256, 256, {S("binpack", "memory")}, /*distinct=*/true);
  EXPECT_EQ(per_host, (std::vector<int>{1, 1, 1}));  // the 4th and 5th fit nowhere
}

TEST(Placement, RandomPicksOnlyAmongCandidatesAndIsSeeded) {
  std::vector<Host> hosts =
      Hosts({{"i-1", "t", "a"}, {"i-2", "t", "a", "spot", 100, 100}, {"i-3", "t", "a"}});
  std::map<int, int> picks;
  SeededRandom random(7);
  for (int k = 0; k < 200; ++k) picks[ChooseHost(hosts, 256, 256, {S("random")}, false, random)]++;
  EXPECT_EQ(picks.count(1), 0u) << "i-2 has no room";
  EXPECT_GT(picks[0], 50);
  EXPECT_GT(picks[2], 50);
  SeededRandom a(9), b(9);
  for (int k = 0; k < 20; ++k) {
    EXPECT_EQ(ChooseHost(hosts, 256, 256, {S("random")}, false, a),
              ChooseHost(hosts, 256, 256, {S("random")}, false, b));
  }
}

TEST(Placement, MemberOfHostsAreTheOnlyCandidates) {
  std::vector<Host> hosts = Hosts({{"i-1", "t", "a"}, {"i-2", "t", "a"}});
  hosts[0].member = false;
  SeededRandom random(1);
  EXPECT_EQ(ChooseHost(hosts, 256, 256, {}, false, random), 1);
  hosts[1].member = false;
  EXPECT_EQ(ChooseHost(hosts, 256, 256, {}, false, random), -1);
}

bool Matches(const std::string& expression, const std::string& type, const std::string& zone,
             const std::string& lifecycle = "spot") {
  auto e = Expression::Parse(expression);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() && e->Matches({type, zone, lifecycle});
}

TEST(Expression, ExamplesFromTheClusterQueryLanguageDocumentation) {
  // "attribute:ecs.instance-type == t2.small"
  EXPECT_TRUE(Matches("attribute:ecs.instance-type == t2.small", "t2.small", "us-east-1a"));
  EXPECT_FALSE(Matches("attribute:ecs.instance-type == t2.small", "t2.medium", "us-east-1a"));
  // "attribute:ecs.availability-zone in [us-east-1a, us-east-1b]"
  EXPECT_TRUE(Matches("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", "t2.small",
                      "us-east-1b"));
  EXPECT_FALSE(Matches("attribute:ecs.availability-zone in [us-east-1a, us-east-1b]", "t2.small",
                       "us-east-1c"));
  // "attribute:ecs.instance-type =~ g2.*"
  EXPECT_TRUE(Matches("attribute:ecs.instance-type =~ g2.*", "g2.2xlarge", "us-east-1a"));
  EXPECT_FALSE(Matches("attribute:ecs.instance-type =~ g2.*", "m5.large", "us-east-1a"));
  // "attribute:ecs.instance-type != t2.micro"
  EXPECT_TRUE(Matches("attribute:ecs.instance-type != t2.micro", "t2.small", "us-east-1a"));
  EXPECT_FALSE(Matches("attribute:ecs.instance-type != t2.micro", "t2.micro", "us-east-1a"));
  // "attribute:ecs.instance-type == t2.small or attribute:ecs.instance-type == t2.medium"
  const std::string either =
      "attribute:ecs.instance-type == t2.small or attribute:ecs.instance-type == t2.medium";
  EXPECT_TRUE(Matches(either, "t2.medium", "a"));
  EXPECT_FALSE(Matches(either, "t2.large", "a"));
  // "attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d"
  const std::string both =
      "attribute:ecs.instance-type =~ t2.* and attribute:ecs.availability-zone != us-east-1d";
  EXPECT_TRUE(Matches(both, "t2.small", "us-east-1a"));
  EXPECT_FALSE(Matches(both, "t2.small", "us-east-1d"));
  EXPECT_FALSE(Matches(both, "m5.large", "us-east-1a"));
  // spotkeeper's lifecycle attribute, and exists.
  EXPECT_TRUE(Matches("attribute:spotkeeper.lifecycle == on-demand", "m5.large", "a", "on-demand"));
  EXPECT_FALSE(Matches("attribute:spotkeeper.lifecycle == on-demand", "m5.large", "a", "spot"));
  EXPECT_TRUE(Matches("attribute:ecs.os-type exists", "m5.large", "a"));
  EXPECT_TRUE(Matches("attribute:custom.team !exists", "m5.large", "a"));
}

TEST(Expression, BadExpressionsAreRejectedWithTheReason) {
  for (const char* bad : {"", "ecs.instance-type == t2.small", "attribute:ecs.instance-type",
                          "attribute:ecs.instance-type ~= t2", "attribute:ecs.instance-type ==",
                          "attribute:ecs.availability-zone in us-east-1a",
                          "attribute:ecs.instance-type =~ (unclosed"}) {
    auto e = Expression::Parse(bad);
    EXPECT_FALSE(e.ok()) << bad;
    if (!e.ok()) {
      EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
      EXPECT_FALSE(e.status().message().empty());
    }
  }
  EXPECT_FALSE(MakeStrategy("binpack", "disk").ok());
  EXPECT_FALSE(MakeStrategy("spread", "zone").ok());
  EXPECT_FALSE(MakeStrategy("pack", "cpu").ok());
}

}  // namespace
}  // namespace spk::sim
