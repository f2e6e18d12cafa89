#include "sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "base/clock.h"
#include "base/json.h"

namespace spk::sim {

const char* AllocationStrategyName(AllocationStrategy s) {
  switch (s) {
    case AllocationStrategy::kLowestPrice:
      return "lowestPrice";
    case AllocationStrategy::kDiversified:
      return "diversified";
    case AllocationStrategy::kCapacityOptimized:
      return "capacityOptimized";
    case AllocationStrategy::kPriceCapacityOptimized:
      return "priceCapacityOptimized";
  }
  return "?";
}

const char* SpotSourceTypeName(SpotSourceType t) {
  switch (t) {
    case SpotSourceType::kSpotFleet:
      return "spot-fleet";
    case SpotSourceType::kEc2Fleet:
      return "ec2-fleet";
    case SpotSourceType::kAutoScalingGroup:
      return "auto-scaling-group";
  }
  return "?";
}

const char* ReplacementStrategyName(ReplacementStrategy r) {
  switch (r) {
    case ReplacementStrategy::kNone:
      return "none";
    case ReplacementStrategy::kLaunch:
      return "launch";
    case ReplacementStrategy::kLaunchBeforeTerminate:
      return "launch-before-terminate";
  }
  return "?";
}

bool ParseDuration(const std::string& text, SimTime* out) {
  // One or more NUMBER[UNIT] parts: "90", "90s", "15m", "10h30m", "1.5h", "500ms".
  if (text.empty()) return false;
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t begin = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == begin) return false;
    double value = 0;
    auto [end, ec] = std::from_chars(text.data() + begin, text.data() + i, value);
    if (ec != std::errc() || end != text.data() + i || !std::isfinite(value)) return false;
    size_t unit_begin = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_begin, i - unit_begin);
    double scale = 0;
    if (unit.empty() || unit == "s")
      scale = kSecond;
    else if (unit == "ms")
      scale = 1;
    else if (unit == "m" || unit == "min")
      scale = kMinute;
    else if (unit == "h")
      scale = kHour;
    else if (unit == "d")
      scale = kDay;
    else
      return false;
    if (unit.empty() && (begin != 0 || i != text.size())) return false;  // "90" alone only
    total += value * scale;
  }
  if (!(total >= 0) || total > static_cast<double>(kMaxScenarioDuration)) return false;
  *out = static_cast<SimTime>(std::llround(total));
  return true;
}

namespace {

// Thrown inside this file only: one line naming the key; ParseScenario turns it into a Status.
struct ScenarioError {
  std::string message;
};

[[noreturn]] void Fail(const std::string& path, const std::string& why) {
  throw ScenarioError{(path.empty() ? std::string("scenario") : path) + ": " + why};
}

// A YAML mapping whose keys are checked against the ones read.
class Map {
 public:
  Map(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {
    if (!node.IsMap()) Fail(path_, "must be a mapping");
  }
  ~Map() = default;

  std::string Key(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  // Fails on any key not in `allowed`.
  void Only(std::initializer_list<const char*> allowed) const {
    std::set<std::string> ok(allowed.begin(), allowed.end());
    for (const auto& kv : node_) {
      std::string k = kv.first.as<std::string>();
      if (!ok.count(k)) Fail("", "unknown key " + Key(k));
    }
  }
  bool Has(const std::string& key) const { return static_cast<bool>(node_[key]); }
  YAML::Node Get(const std::string& key) const { return node_[key]; }

  std::string String(const std::string& key, const std::string& def) const {
    YAML::Node n = node_[key];
    if (!n) return def;
    if (!n.IsScalar()) Fail(Key(key), "must be a string");
    return n.as<std::string>();
  }
  double Number(const std::string& key, double def, double lo, double hi) const {
    YAML::Node n = node_[key];
    if (!n) return def;
    double v = 0;
    try {
      if (!n.IsScalar()) throw YAML::Exception(YAML::Mark(), "");
      v = n.as<double>();
    } catch (const YAML::Exception&) {
      Fail(Key(key), "must be a number");
    }
    if (!(v >= lo && v <= hi)) {
      Fail(Key(key), "must be between " + Fmt(lo) + " and " + Fmt(hi) + ", not " + Fmt(v));
    }
    return v;
  }
  int Int(const std::string& key, int def, int lo, int hi) const {
    double v = Number(key, def, lo, hi);
    if (v != std::floor(v)) Fail(Key(key), "must be a whole number");
    return static_cast<int>(v);
  }
  bool Bool(const std::string& key, bool def) const {
    YAML::Node n = node_[key];
    if (!n) return def;
    try {
      return n.as<bool>();
    } catch (const YAML::Exception&) {
      Fail(Key(key), "must be true or false");
    }
  }
  SimTime Duration(const std::string& key, SimTime def) const {
    YAML::Node n = node_[key];
    if (!n) return def;
    SimTime t = 0;
    if (!n.IsScalar() || !ParseDuration(n.as<std::string>(), &t)) {
      Fail(Key(key), "must be a duration such as 90, 90s, 15m, 2h or 30d");
    }
    return t;
  }

  static std::string Fmt(double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  }

 private:
  YAML::Node node_;
  std::string path_;
};

double BandToMonthly(const std::string& band, const std::string& path) {
  if (band == "<5%") return 0.025;
  if (band == "5-10%") return 0.075;
  if (band == "10-15%") return 0.125;
  if (band == "15-20%") return 0.175;
  if (band == ">20%") return 0.25;
  Fail(path, "must be one of <5%, 5-10%, 10-15%, 15-20%, >20%, not \"" + band + "\"");
}

PoolSpec ParsePool(const Map& m) {
  m.Only({"type", "zone", "vcpus", "memory_mib", "on_demand_price", "spot_price", "spot_prices",
          "band", "monthly_interruption", "capacity"});
  PoolSpec p;
  p.instance_type = m.String("type", "");
  p.zone = m.String("zone", "");
  if (p.instance_type.empty()) Fail(m.Key("type"), "is required");
  if (p.zone.empty()) Fail(m.Key("zone"), "is required");
  p.vcpus = m.Int("vcpus", 2, 1, 448);
  p.memory_mib = m.Int("memory_mib", p.vcpus * 4096, 512, 24 * 1024 * 1024);
  p.on_demand_price = m.Number("on_demand_price", 0.048 * p.vcpus, 0, 1000);
  if (m.Has("spot_prices")) {
    YAML::Node list = m.Get("spot_prices");
    if (!list.IsSequence() || list.size() == 0)
      Fail(m.Key("spot_prices"), "must be a list of [time, price]");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string path = m.Key("spot_prices") + "[" + std::to_string(i) + "]";
      if (!list[i].IsSequence() || list[i].size() != 2) Fail(path, "must be [time, price]");
      SimTime t = 0;
      if (!list[i][0].IsScalar() || !ParseDuration(list[i][0].as<std::string>(), &t)) {
        Fail(path, "time must be a duration");
      }
      double price = 0;
      try {
        price = list[i][1].as<double>();
      } catch (const YAML::Exception&) {
        Fail(path, "price must be a number");
      }
      if (!(price >= 0) || !std::isfinite(price)) Fail(path, "price must be a number >= 0");
      p.spot_prices.emplace_back(t, price);
    }
    std::stable_sort(p.spot_prices.begin(), p.spot_prices.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    p.spot_prices.front().first = 0;
  } else {
    p.spot_prices = {{0, m.Number("spot_price", p.on_demand_price * 0.35, 0, 1000)}};
  }
  p.monthly_interruption = 0.025;
  if (m.Has("band")) p.monthly_interruption = BandToMonthly(m.String("band", ""), m.Key("band"));
  p.monthly_interruption = m.Number("monthly_interruption", p.monthly_interruption, 0, 0.999);
  p.capacity = m.Int("capacity", -1, -1, 10000000);
  return p;
}

int FindPool(const Scenario& s, const std::string& name, const std::string& path) {
  for (size_t i = 0; i < s.pools.size(); ++i) {
    if (s.pools[i].name() == name) return static_cast<int>(i);
  }
  Fail(path,
       "no pool \"" + name + "\" (pools are named \"TYPE ZONE\", e.g. \"m5.large us-east-1a\")");
}

// The Spot Fleet API's names (lowestPrice, ...) or the EC2 Fleet and Auto
// Scaling APIs' (lowest-price, ...); an Auto Scaling group has no diversified.
AllocationStrategy ParseAllocation(const std::string& text, const std::string& path,
                                   SpotSourceType type) {
  static const std::pair<const char*, AllocationStrategy> kHyphenated[] = {
      {"lowest-price", AllocationStrategy::kLowestPrice},
      {"diversified", AllocationStrategy::kDiversified},
      {"capacity-optimized", AllocationStrategy::kCapacityOptimized},
      {"price-capacity-optimized", AllocationStrategy::kPriceCapacityOptimized}};
  if (type == SpotSourceType::kAutoScalingGroup) {
    for (const auto& [name, strategy] : kHyphenated) {
      if (strategy != AllocationStrategy::kDiversified &&
          (text == name || text == AllocationStrategyName(strategy)))
        return strategy;
    }
    Fail(path,
         "an auto-scaling-group takes lowest-price, capacity-optimized or "
         "price-capacity-optimized, not \"" +
             text + "\"");
  }
  for (const auto& [name, strategy] : kHyphenated) {
    if (text == name || text == AllocationStrategyName(strategy)) return strategy;
  }
  Fail(path,
       "must be lowestPrice, diversified, capacityOptimized or priceCapacityOptimized (or "
       "lowest-price, capacity-optimized, price-capacity-optimized), not \"" +
           text + "\"");
}

SpotSourceType ParseSourceType(const std::string& text, const std::string& path) {
  for (auto t :
       {SpotSourceType::kSpotFleet, SpotSourceType::kEc2Fleet, SpotSourceType::kAutoScalingGroup}) {
    if (text == SpotSourceTypeName(t)) return t;
  }
  Fail(path, "must be spot-fleet, ec2-fleet or auto-scaling-group, not \"" + text + "\"");
}

// The target group's health check, within the ranges ELBv2 accepts (interval
// 5-300 s, unhealthy threshold 2-10, timeout 2-120 s and shorter than the interval).
void ParseHealthCheck(const Map& m, ServiceSpec* s) {
  m.Only({"interval", "unhealthy_threshold", "timeout"});
  s->health_check_interval = m.Duration("interval", s->health_check_interval);
  if (s->health_check_interval < 5 * kSecond || s->health_check_interval > 300 * kSecond) {
    Fail(m.Key("interval"), "must be between 5s and 300s (as ELBv2 allows)");
  }
  s->unhealthy_threshold = m.Int("unhealthy_threshold", s->unhealthy_threshold, 2, 10);
  s->health_check_timeout = m.Duration("timeout", s->health_check_timeout);
  if (s->health_check_timeout < 2 * kSecond || s->health_check_timeout > 120 * kSecond) {
    Fail(m.Key("timeout"), "must be between 2s and 120s (as ELBv2 allows)");
  }
  if (s->health_check_timeout >= s->health_check_interval) {
    Fail(m.Key("timeout"), "must be shorter than the interval (timeout defaults to 6s)");
  }
}

ServiceSpec ParseService(const Map& m) {
  m.Only({"name", "desired", "cpu", "memory", "start_time", "minimum_healthy_percent",
          "maximum_percent", "placement_strategy", "placement_constraints", "load_balancer",
          "requests_per_second", "request_duration", "max_requests_per_task",
          "capacity_provider_strategy"});
  ServiceSpec s;
  s.name = m.String("name", "");
  if (s.name.empty()) Fail(m.Key("name"), "is required");
  s.desired = m.Int("desired", 1, 0, 1000000);
  s.cpu = m.Int("cpu", 256, 0, 448 * 1024);
  s.memory = m.Int("memory", 512, 0, 24 * 1024 * 1024);
  s.start_time = m.Duration("start_time", s.start_time);
  s.minimum_healthy_percent = m.Int("minimum_healthy_percent", 100, 0, 100);
  s.maximum_percent = m.Int("maximum_percent", 200, 100, 400);
  if (m.Has("placement_strategy")) {
    YAML::Node list = m.Get("placement_strategy");
    if (!list.IsSequence()) Fail(m.Key("placement_strategy"), "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      Map item(list[i], m.Key("placement_strategy") + "[" + std::to_string(i) + "]");
      item.Only({"type", "field"});
      auto strategy = MakeStrategy(item.String("type", ""), item.String("field", ""));
      if (!strategy.ok()) Fail(item.Key("type"), strategy.status().message());
      s.strategies.push_back(*strategy);
    }
  }
  if (m.Has("placement_constraints")) {
    YAML::Node list = m.Get("placement_constraints");
    if (!list.IsSequence()) Fail(m.Key("placement_constraints"), "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      Map item(list[i], m.Key("placement_constraints") + "[" + std::to_string(i) + "]");
      item.Only({"type", "expression"});
      std::string type = item.String("type", "");
      if (type == "distinctInstance") {
        s.distinct_instance = true;
      } else if (type == "memberOf") {
        auto e = Expression::Parse(item.String("expression", ""));
        if (!e.ok()) Fail(item.Key("expression"), e.status().message());
        s.member_of.push_back(*e);
      } else {
        Fail(item.Key("type"), "must be distinctInstance or memberOf, not \"" + type + "\"");
      }
    }
  }
  if (m.Has("load_balancer")) {
    Map lb(m.Get("load_balancer"), m.Key("load_balancer"));
    lb.Only({"deregistration_delay", "health_check"});
    s.load_balanced = true;
    s.deregistration_delay = lb.Duration("deregistration_delay", s.deregistration_delay);
    if (lb.Has("health_check"))
      ParseHealthCheck(Map(lb.Get("health_check"), lb.Key("health_check")), &s);
  }
  for (const char* key : {"requests_per_second", "request_duration", "max_requests_per_task"}) {
    if (m.Has(key) && !s.load_balanced) {
      Fail(m.Key(key), "needs load_balancer (requests are counted behind a load balancer)");
    }
  }
  if (s.load_balanced) {
    s.requests_per_second =
        m.Number("requests_per_second", kDefaultRequestsPerTask * s.desired, 0, 1e9);
  }
  s.request_duration = m.Duration("request_duration", s.request_duration);
  if (s.request_duration > kHour) Fail(m.Key("request_duration"), "must be at most 1h");
  if (m.Has("max_requests_per_task")) {
    s.max_requests_per_task = m.Number("max_requests_per_task", 0, 0, 1e9);
    if (!(s.max_requests_per_task > 0)) Fail(m.Key("max_requests_per_task"), "must be more than 0");
  }
  if (m.Has("capacity_provider_strategy")) {
    const std::string key = m.Key("capacity_provider_strategy");
    YAML::Node list = m.Get("capacity_provider_strategy");
    if (!list.IsSequence() || list.size() == 0 || list.size() > 2)
      Fail(key, "must be a list of one or two {provider, base, weight}");
    int bases = 0, weights = 0;
    for (size_t i = 0; i < list.size(); ++i) {
      Map item(list[i], key + "[" + std::to_string(i) + "]");
      item.Only({"provider", "base", "weight"});
      StrategyItem it;
      const std::string provider = item.String("provider", "");
      if (provider == "spot") {
        it.provider = StrategyItem::Provider::kSpot;
      } else if (provider == "on-demand") {
        it.provider = StrategyItem::Provider::kOnDemand;
      } else {
        Fail(item.Key("provider"), "must be spot or on-demand, not \"" + provider + "\"");
      }
      for (const StrategyItem& other : s.capacity_provider_strategy) {
        if (other.provider == it.provider) Fail(item.Key("provider"), "is listed twice");
      }
      it.base = item.Int("base", 0, 0, 100000);
      it.weight = item.Int("weight", 1, 0, 1000);
      if (it.base > 0 && ++bases > 1) Fail(item.Key("base"), "only one provider may have a base");
      weights += it.weight;
      s.capacity_provider_strategy.push_back(it);
    }
    if (weights == 0) Fail(key, "at least one provider needs a weight above 0");
  }
  return s;
}

// One provider's managed scaling (ECS's ranges: target capacity 1-100,
// step sizes 1-10000, warm-up 0-10000 s).
void ParseManagedScaling(const Map& m, ManagedScalingSpec* ms, bool spot) {
  if (spot) {
    m.Only({"name", "target_capacity", "minimum_scaling_step_size", "maximum_scaling_step_size",
            "instance_warmup", "max_size"});
  } else {
    m.Only({"name", "target_capacity", "minimum_scaling_step_size", "maximum_scaling_step_size",
            "instance_warmup"});
  }
  ms->name = m.String("name", ms->name);
  if (ms->name.empty()) Fail(m.Key("name"), "must not be empty");
  ms->target_capacity = m.Int("target_capacity", ms->target_capacity, 1, 100);
  ms->minimum_scaling_step_size = m.Int("minimum_scaling_step_size", 1, 1, 10000);
  ms->maximum_scaling_step_size = m.Int("maximum_scaling_step_size", 10000, 1, 10000);
  if (ms->maximum_scaling_step_size < ms->minimum_scaling_step_size) {
    Fail(m.Key("maximum_scaling_step_size"), "must be at least minimum_scaling_step_size");
  }
  ms->instance_warmup = m.Duration("instance_warmup", ms->instance_warmup);
  if (ms->instance_warmup > 10000 * kSecond)
    Fail(m.Key("instance_warmup"), "must be at most 10000s");
  if (spot) ms->max_size = m.Int("max_size", ms->max_size, 1, 100000);
}

MarketEvent ParseEvent(const Map& m, const Scenario& s) {
  m.Only({"at", "kind", "pool", "zone", "fraction", "count", "dry_for", "duration"});
  MarketEvent e;
  if (!m.Has("at")) Fail(m.Key("at"), "is required");
  e.at = m.Duration("at", 0);
  std::string kind = m.String("kind", "");
  if (kind == "mass-reclaim")
    e.kind = MarketEvent::Kind::kMassReclaim;
  else if (kind == "pool-dry")
    e.kind = MarketEvent::Kind::kPoolDry;
  else if (kind == "interruption")
    e.kind = MarketEvent::Kind::kInterruption;
  else if (kind == "rebalance-recommendation")
    e.kind = MarketEvent::Kind::kRebalance;
  else
    Fail(m.Key("kind"),
         "must be mass-reclaim, pool-dry, interruption or rebalance-recommendation, not \"" + kind +
             "\"");
  if (m.Has("pool") == m.Has("zone")) Fail(m.Key("pool"), "give exactly one of pool and zone");
  if (m.Has("pool")) {
    e.pools = {FindPool(s, m.String("pool", ""), m.Key("pool"))};
  } else {
    std::string zone = m.String("zone", "");
    for (size_t i = 0; i < s.pools.size(); ++i) {
      if (s.pools[i].zone == zone) e.pools.push_back(static_cast<int>(i));
    }
    if (e.pools.empty()) Fail(m.Key("zone"), "no pool in zone \"" + zone + "\"");
  }
  e.fraction = m.Number("fraction", 1.0, 0, 1);
  e.count = m.Int("count", 1, 1, 1000000);
  e.dry_for = m.Duration(e.kind == MarketEvent::Kind::kPoolDry ? "duration" : "dry_for", 0);
  if (e.kind == MarketEvent::Kind::kPoolDry && e.dry_for <= 0)
    Fail(m.Key("duration"), "is required");
  return e;
}

std::string ReadReferenced(const Map& m, const std::string& key, const FileReader& read_file) {
  std::string path = m.String(key, "");
  if (path.empty()) Fail(m.Key(key), "must be a file path");
  if (!read_file) Fail(m.Key(key), "files cannot be read here");
  Result<std::string> text = read_file(path);
  if (!text.ok()) Fail(m.Key(key), "cannot read " + path + ": " + text.status().message());
  return *text;
}

nlohmann::json ParseJsonFile(const std::string& text, const std::string& path) {
  nlohmann::json j = ParseJsonOrDiscarded(text, kMaxScenarioFileBytes);
  if (j.is_discarded()) Fail(path, "not valid JSON");
  return j;
}

// The JSON of `aws ec2 describe-spot-price-history`: {"SpotPriceHistory": [
// {"AvailabilityZone", "InstanceType", "ProductDescription", "SpotPrice": "0.0361",
//  "Timestamp": "2024-05-01T12:00:00+00:00"}, ...]}. Linux/UNIX entries only.
void ApplyPriceHistory(const Map& market, const std::vector<bool>& price_given, Scenario& s,
                       const FileReader& read_file) {
  const std::string key = market.Key("spot_price_history");
  nlohmann::json j = ParseJsonFile(ReadReferenced(market, "spot_price_history", read_file), key);
  if (!j.is_object() || !j.contains("SpotPriceHistory") || !j["SpotPriceHistory"].is_array()) {
    Fail(key,
         "the file has no SpotPriceHistory list (the JSON of aws ec2 describe-spot-price-history)");
  }
  struct Point {
    WallTime at;
    double price;
  };
  std::map<std::string, std::vector<Point>> by_pool;  // "TYPE ZONE" -> points
  std::optional<WallTime> earliest;
  const auto& list = j["SpotPriceHistory"];
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& e = list[i];
    std::string where = key + ": SpotPriceHistory[" + std::to_string(i) + "]";
    auto text = [&](const char* field) {
      if (!e.is_object() || !e.contains(field) || !e[field].is_string())
        Fail(where, std::string(field) + " must be a string");
      return e[field].get<std::string>();
    };
    std::string product = text("ProductDescription");
    if (product.rfind("Linux/UNIX", 0) != 0) continue;
    WallTime at;
    if (!ParseIso8601(text("Timestamp"), &at)) Fail(where, "Timestamp is not an ISO 8601 time");
    const std::string price_text = text("SpotPrice");
    double price = 0;
    auto [end, ec] =
        std::from_chars(price_text.data(), price_text.data() + price_text.size(), price);
    if (ec != std::errc() || end != price_text.data() + price_text.size() || price_text.empty() ||
        !std::isfinite(price) || price < 0) {
      Fail(where, "SpotPrice is not a number >= 0");
    }
    by_pool[text("InstanceType") + " " + text("AvailabilityZone")].push_back({at, price});
    if (!earliest || at < *earliest) earliest = at;
  }
  if (!earliest) Fail(key, "no Linux/UNIX price in the file");
  WallTime start = *earliest;
  if (market.Has("price_history_start")) {
    if (!ParseIso8601(market.String("price_history_start", ""), &start)) {
      Fail(market.Key("price_history_start"),
           "must be an ISO 8601 time such as 2024-05-01T00:00:00Z");
    }
  }
  for (size_t p = 0; p < s.pools.size(); ++p) {
    auto it = by_pool.find(s.pools[p].name());
    if (price_given[p] || it == by_pool.end()) continue;
    std::vector<Point> points = it->second;
    std::stable_sort(points.begin(), points.end(),
                     [](const Point& a, const Point& b) { return a.at < b.at; });
    std::vector<std::pair<SimTime, double>> prices;
    for (const Point& point : points) {
      SimTime t = std::chrono::duration_cast<std::chrono::milliseconds>(point.at - start).count();
      if (t <= 0) {
        prices.assign(1, {0, point.price});  // the latest price at or before the start
      } else {
        if (prices.empty()) prices.push_back({0, point.price});
        prices.push_back({t, point.price});
      }
    }
    s.pools[p].spot_prices = prices;
  }
}

// spot-advisor-data.json: {"ranges": [{"index", "label", "max"}...], "spot_advisor":
// {"REGION": {"Linux": {"TYPE": {"s": savings %, "r": range index}}}}}.
void ApplyAdvisor(const Map& market, const std::vector<bool>& price_given,
                  const std::vector<bool>& band_given, Scenario& s, const FileReader& read_file) {
  const std::string key = market.Key("spot_advisor");
  nlohmann::json j = ParseJsonFile(ReadReferenced(market, "spot_advisor", read_file), key);
  std::string region = market.String("region", "");
  if (region.empty()) {
    region = s.pools.front().zone;
    if (!region.empty() && std::isalpha(static_cast<unsigned char>(region.back())))
      region.pop_back();
  }
  if (!j.is_object() || !j.contains("spot_advisor") || !j["spot_advisor"].is_object()) {
    Fail(
        key,
        "the file has no spot_advisor object (the Spot Instance Advisor's spot-advisor-data.json)");
  }
  const auto& regions = j["spot_advisor"];
  if (!regions.contains(region) || !regions[region].contains("Linux")) {
    Fail(market.Key("region"), "no Linux data for region \"" + region + "\" in the advisor file");
  }
  const auto& types = regions[region]["Linux"];
  static const double kMidpoints[] = {0.025, 0.075, 0.125, 0.175, 0.25};
  for (size_t p = 0; p < s.pools.size(); ++p) {
    const std::string& type = s.pools[p].instance_type;
    if (!types.contains(type)) continue;
    const auto& e = types[type];
    std::string where = key + ": spot_advisor." + region + ".Linux." + type;
    if (!e.is_object() || !e.contains("r") || !e["r"].is_number_integer() || !e.contains("s") ||
        !e["s"].is_number()) {
      Fail(where, "must be {\"s\": savings, \"r\": range index}");
    }
    int r = e["r"].get<int>();
    if (r < 0 || r > 4) Fail(where, "range index r must be 0 to 4");
    if (!band_given[p]) s.pools[p].monthly_interruption = kMidpoints[r];
    double savings = e["s"].get<double>();
    if (!price_given[p] && !s.pools[p].spot_prices.empty() && s.pools[p].spot_prices.size() == 1 &&
        savings >= 0 && savings < 100) {
      s.pools[p].spot_prices = {{0, s.pools[p].on_demand_price * (1 - savings / 100)}};
    }
  }
}

void ApplyRealData(const Map& market, const YAML::Node& pools, const FileReader& read_file,
                   Scenario& s) {
  std::vector<bool> price_given, band_given;
  for (size_t i = 0; i < pools.size(); ++i) {
    price_given.push_back(pools[i]["spot_price"] || pools[i]["spot_prices"]);
    band_given.push_back(pools[i]["band"] || pools[i]["monthly_interruption"]);
  }
  // The advisor first: a price history, when both are given, wins for prices.
  if (market.Has("spot_advisor")) ApplyAdvisor(market, price_given, band_given, s, read_file);
  std::vector<bool> history_price_given = price_given;
  if (market.Has("spot_price_history"))
    ApplyPriceHistory(market, history_price_given, s, read_file);
}

Scenario ParseRoot(const YAML::Node& root, const FileReader& read_file) {
  Map m(root, "");
  m.Only({"name", "description", "seed", "duration", "sample_interval", "market", "pools", "fleet",
          "on_demand", "ecs", "events", "controller", "reference", "capacity_providers"});
  Scenario s;
  s.name = m.String("name", s.name);
  s.description = m.String("description", "");
  s.seed = static_cast<uint64_t>(m.Number("seed", 42, 0, 9007199254740991.0));
  s.duration = m.Duration("duration", s.duration);
  if (s.duration <= 0 || s.duration > 400 * kDay) Fail("duration", "must be between 1s and 400d");
  s.sample_interval = m.Duration("sample_interval", s.sample_interval);
  if (s.sample_interval < kSecond) Fail("sample_interval", "must be at least 1s");

  if (m.Has("market")) {
    Map mk(m.Get("market"), "market");
    mk.Only({"notice_lead", "short_notice_probability", "short_notice_min", "rebalance_probability",
             "rebalance_lead", "spot_price_history", "price_history_start", "spot_advisor",
             "region"});
    s.market.notice_lead = mk.Duration("notice_lead", s.market.notice_lead);
    s.market.short_notice_probability = mk.Number("short_notice_probability", 0, 0, 1);
    s.market.short_notice_min = mk.Duration("short_notice_min", s.market.short_notice_min);
    s.market.rebalance_probability = mk.Number("rebalance_probability", 0.5, 0, 1);
    s.market.rebalance_lead = mk.Duration("rebalance_lead", s.market.rebalance_lead);
  }

  YAML::Node pools = m.Get("pools");
  if (!pools || !pools.IsSequence() || pools.size() == 0)
    Fail("pools", "a non-empty list is required");
  for (size_t i = 0; i < pools.size(); ++i) {
    Map pm(pools[i], "pools[" + std::to_string(i) + "]");
    s.pools.push_back(ParsePool(pm));
    for (size_t j = 0; j + 1 < s.pools.size(); ++j) {
      if (s.pools[j].name() == s.pools.back().name())
        Fail(pm.Key("type"), "pool \"" + s.pools[j].name() + "\" is listed twice");
    }
  }

  if (m.Has("market")) ApplyRealData(Map(m.Get("market"), "market"), pools, read_file, s);

  if (!m.Has("fleet")) Fail("fleet", "is required");
  Map fm(m.Get("fleet"), "fleet");
  fm.Only({"type", "id", "target_capacity", "allocation_strategy", "pools", "weights",
           "launch_delay", "retry_interval", "capacity_rebalance", "lifecycle_hook",
           "hook_heartbeat_timeout", "replacement_strategy", "termination_delay"});
  s.fleet.type = ParseSourceType(fm.String("type", "spot-fleet"), "fleet.type");
  const bool group = s.fleet.type == SpotSourceType::kAutoScalingGroup;
  s.fleet.id = fm.String("id", s.fleet.type == SpotSourceType::kSpotFleet  ? s.fleet.id
                               : s.fleet.type == SpotSourceType::kEc2Fleet ? "fleet-simulated"
                                                                           : "spot-group");
  if (s.fleet.id.empty()) Fail("fleet.id", "must not be empty");
  s.fleet.target_capacity = fm.Number("target_capacity", 0, 0, 1e7);
  s.fleet.allocation_strategy =
      ParseAllocation(fm.String("allocation_strategy", "capacityOptimized"),
                      "fleet.allocation_strategy", s.fleet.type);
  for (const char* key : {"capacity_rebalance", "lifecycle_hook", "hook_heartbeat_timeout"}) {
    if (!group && fm.Has(key)) {
      Fail(fm.Key(key), std::string("only a fleet of type auto-scaling-group has it, not ") +
                            SpotSourceTypeName(s.fleet.type));
    }
  }
  s.fleet.capacity_rebalance = fm.Bool("capacity_rebalance", false);
  s.fleet.lifecycle_hook = fm.Bool("lifecycle_hook", false);
  if (fm.Has("hook_heartbeat_timeout") && !s.fleet.lifecycle_hook)
    Fail("fleet.hook_heartbeat_timeout", "needs lifecycle_hook: true");
  s.fleet.hook_heartbeat_timeout =
      fm.Duration("hook_heartbeat_timeout", s.fleet.hook_heartbeat_timeout);
  // Auto Scaling's range for a hook's HeartbeatTimeout.
  if (s.fleet.hook_heartbeat_timeout < 30 * kSecond || s.fleet.hook_heartbeat_timeout > 2 * kHour)
    Fail("fleet.hook_heartbeat_timeout", "must be between 30s and 7200s");
  // A fleet's capacity rebalancing (an Auto Scaling group has capacity_rebalance).
  for (const char* key : {"replacement_strategy", "termination_delay"}) {
    if (group && fm.Has(key)) {
      Fail(fm.Key(key),
           "only a spot-fleet or ec2-fleet has it, not auto-scaling-group (which has "
           "capacity_rebalance)");
    }
  }
  if (fm.Has("replacement_strategy")) {
    const std::string text = fm.String("replacement_strategy", "");
    if (text == "launch") {
      s.fleet.replacement_strategy = ReplacementStrategy::kLaunch;
    } else if (text == "launch-before-terminate") {
      s.fleet.replacement_strategy = ReplacementStrategy::kLaunchBeforeTerminate;
    } else {
      Fail("fleet.replacement_strategy",
           "must be launch or launch-before-terminate, not \"" + text + "\"");
    }
  }
  const bool before_terminate =
      s.fleet.replacement_strategy == ReplacementStrategy::kLaunchBeforeTerminate;
  if (fm.Has("termination_delay") && !before_terminate)
    Fail("fleet.termination_delay", "needs replacement_strategy: launch-before-terminate");
  if (before_terminate && !fm.Has("termination_delay"))
    Fail("fleet.termination_delay",
         "is required with replacement_strategy: launch-before-terminate (120s to 7200s)");
  if (before_terminate) {
    s.fleet.termination_delay = fm.Duration("termination_delay", 0);
    // The fleet APIs' range for TerminationDelay.
    if (s.fleet.termination_delay < 120 * kSecond || s.fleet.termination_delay > 2 * kHour)
      Fail("fleet.termination_delay", "must be between 120s and 7200s");
  }
  if (fm.Has("pools")) {
    YAML::Node list = fm.Get("pools");
    if (!list.IsSequence() || list.size() == 0)
      Fail("fleet.pools", "must be a non-empty list of pool names");
    for (size_t i = 0; i < list.size(); ++i) {
      s.fleet.pools.push_back(
          FindPool(s, list[i].as<std::string>(), "fleet.pools[" + std::to_string(i) + "]"));
    }
  } else {
    for (size_t i = 0; i < s.pools.size(); ++i) s.fleet.pools.push_back(static_cast<int>(i));
  }
  for (int p : s.fleet.pools) s.fleet.weights[s.pools[p].instance_type] = s.pools[p].vcpus;
  const bool providers = m.Has("capacity_providers");
  if (providers && fm.Has("weights")) {
    Fail("fleet.weights",
         "a capacity provider's group counts instances (managed scaling): no weights with "
         "capacity_providers");
  }
  if (providers) {
    for (auto& [type, weight] : s.fleet.weights) weight = 1;
  }
  if (fm.Has("weights")) {
    Map wm(fm.Get("weights"), "fleet.weights");
    for (const auto& kv : fm.Get("weights")) {
      std::string type = kv.first.as<std::string>();
      if (!s.fleet.weights.count(type))
        Fail("fleet.weights." + type, "no pool of the fleet has this instance type");
      s.fleet.weights[type] = wm.Number(type, 1, 0.001, 1e6);
    }
  }
  s.fleet.launch_delay = fm.Duration("launch_delay", s.fleet.launch_delay);
  s.fleet.retry_interval = fm.Duration("retry_interval", s.fleet.retry_interval);
  if (s.fleet.retry_interval < kSecond) Fail("fleet.retry_interval", "must be at least 1s");

  if (m.Has("on_demand")) {
    Map om(m.Get("on_demand"), "on_demand");
    om.Only({"name", "instance_type", "zone", "vcpus", "memory_mib", "price", "units", "min", "max",
             "desired", "launch_delay", "cooldown"});
    OnDemandSpec& od = s.on_demand;
    od.name = om.String("name", od.name);
    od.instance_type = om.String("instance_type", od.instance_type);
    od.zone = om.String("zone", s.pools.front().zone);
    const PoolSpec* same = nullptr;
    for (const auto& p : s.pools) {
      if (p.instance_type == od.instance_type) same = &p;
    }
    od.vcpus = om.Int("vcpus", same ? same->vcpus : 2, 1, 448);
    od.memory_mib =
        om.Int("memory_mib", same ? same->memory_mib : od.vcpus * 4096, 512, 24 * 1024 * 1024);
    od.price = om.Number("price", same ? same->on_demand_price : 0.048 * od.vcpus, 0, 1000);
    auto w = s.fleet.weights.find(od.instance_type);
    od.units = om.Number("units", w != s.fleet.weights.end() ? w->second : od.vcpus, 0.001, 1e6);
    od.min_size = om.Int("min", 0, 0, 100000);
    od.max_size = om.Int("max", std::max(10, od.min_size), od.min_size, 100000);
    od.desired = om.Int("desired", od.min_size, od.min_size, od.max_size);
    od.launch_delay = om.Duration("launch_delay", od.launch_delay);
    od.cooldown = om.Duration("cooldown", od.cooldown);
  } else {
    s.on_demand.zone = s.pools.front().zone;
  }

  if (providers) {
    if (s.fleet.type != SpotSourceType::kAutoScalingGroup) {
      Fail("capacity_providers",
           "needs fleet.type: auto-scaling-group (a capacity provider is an Auto Scaling group)");
    }
    Map cp(m.Get("capacity_providers"), "capacity_providers");
    cp.Only({"spot", "on_demand", "provisioning_timeout"});
    CapacityProvidersSpec& c = s.capacity_providers;
    c.enabled = true;
    c.spot.name = "cp-spot";
    c.on_demand.name = "cp-on-demand";
    c.spot.max_size = std::max(10, static_cast<int>(std::ceil(2 * s.fleet.target_capacity)));
    if (cp.Has("spot")) ParseManagedScaling(Map(cp.Get("spot"), cp.Key("spot")), &c.spot, true);
    if (cp.Has("on_demand")) {
      ParseManagedScaling(Map(cp.Get("on_demand"), cp.Key("on_demand")), &c.on_demand, false);
    }
    c.on_demand.max_size = s.on_demand.max_size;
    if (c.spot.name == c.on_demand.name)
      Fail("capacity_providers.on_demand.name", "is the spot provider's name");
    if (s.fleet.target_capacity != std::floor(s.fleet.target_capacity) ||
        s.fleet.target_capacity > c.spot.max_size) {
      Fail("fleet.target_capacity",
           "must be a whole number of instances, at most capacity_providers.spot.max_size");
    }
    c.provisioning_timeout = cp.Duration("provisioning_timeout", c.provisioning_timeout);
    if (c.provisioning_timeout < kMinute || c.provisioning_timeout > kHour)
      Fail("capacity_providers.provisioning_timeout", "must be between 1m and 1h");
  }

  if (!m.Has("ecs")) Fail("ecs", "is required");
  Map em(m.Get("ecs"), "ecs");
  em.Only({"cluster", "registration_delay", "reserved_memory_fraction", "services"});
  s.ecs.cluster = em.String("cluster", s.ecs.cluster);
  s.ecs.registration_delay = em.Duration("registration_delay", s.ecs.registration_delay);
  s.ecs.reserved_memory_fraction = em.Number("reserved_memory_fraction", 0.06, 0, 0.9);
  YAML::Node services = em.Get("services");
  if (!services || !services.IsSequence() || services.size() == 0)
    Fail("ecs.services", "a non-empty list is required");
  for (size_t i = 0; i < services.size(); ++i) {
    s.ecs.services.push_back(
        ParseService(Map(services[i], "ecs.services[" + std::to_string(i) + "]")));
    for (size_t j = 0; j + 1 < s.ecs.services.size(); ++j) {
      if (s.ecs.services[j].name == s.ecs.services.back().name) {
        Fail("ecs.services[" + std::to_string(i) + "].name",
             "service \"" + s.ecs.services[j].name + "\" is listed twice");
      }
    }
  }

  for (size_t i = 0; i < s.ecs.services.size(); ++i) {
    ServiceSpec& sv = s.ecs.services[i];
    if (!providers && !sv.capacity_provider_strategy.empty()) {
      Fail("ecs.services[" + std::to_string(i) + "].capacity_provider_strategy",
           "needs capacity_providers (the cluster has none)");
    }
    if (providers && sv.capacity_provider_strategy.empty()) sv.capacity_provider_strategy = {{}};
  }

  if (m.Has("events")) {
    YAML::Node list = m.Get("events");
    if (!list.IsSequence()) Fail("events", "must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      s.events.push_back(ParseEvent(Map(list[i], "events[" + std::to_string(i) + "]"), s));
    }
  }

  if (m.Has("controller")) {
    Map cm(m.Get("controller"), "controller");
    cm.Only({"notice_latency", "reconcile_interval", "on_rebalance", "settle_window",
             "guard_window", "max_drain_time", "fallback_grace", "fallback_max"});
    s.controller.notice_latency = cm.Duration("notice_latency", s.controller.notice_latency);
    s.controller.reconcile_interval =
        cm.Duration("reconcile_interval", s.controller.reconcile_interval);
    if (s.controller.reconcile_interval < kSecond)
      Fail("controller.reconcile_interval", "must be at least 1s");
    auto rebalance = policy::ParseRebalanceAction(cm.String("on_rebalance", "ignore"));
    if (!rebalance.ok()) Fail("controller.on_rebalance", "must be ignore, drain or prepare");
    s.controller.config.on_rebalance = *rebalance;
    auto ms = [](SimTime t) { return std::chrono::milliseconds(t); };
    s.controller.config.settle_window = ms(cm.Duration("settle_window", 10 * kMinute));
    s.controller.config.guard_window = ms(cm.Duration("guard_window", 10 * kMinute));
    s.controller.config.max_drain_time = ms(cm.Duration("max_drain_time", 15 * kMinute));
    s.controller.fallback.grace = ms(cm.Duration("fallback_grace", 3 * kMinute));
    if (cm.Has("fallback_max")) {
      auto max = policy::ParseFallbackMax(cm.String("fallback_max", ""));
      if (!max.ok()) Fail("controller.fallback_max", max.status().message());
      s.controller.fallback.max = *max;
    }
  }
  s.controller.fallback.settle_window = s.controller.config.settle_window;
  if (m.Has("reference")) {
    Map rm(m.Get("reference"), "reference");
    rm.Only({"notice_latency", "alarm_period", "agent_drain_latency"});
    s.reference.notice_latency = rm.Duration("notice_latency", s.reference.notice_latency);
    s.reference.alarm_period = rm.Duration("alarm_period", s.reference.alarm_period);
    if (s.reference.alarm_period < kSecond) Fail("reference.alarm_period", "must be at least 1s");
    s.reference.agent_drain_latency =
        rm.Duration("agent_drain_latency", s.reference.agent_drain_latency);
  }
  return s;
}

}  // namespace

Result<Scenario> ParseScenario(const std::string& yaml_text, const FileReader& read_file) {
  if (yaml_text.size() > kMaxScenarioFileBytes) {
    return InvalidArgumentError("scenario: the file is larger than " +
                                std::to_string(kMaxScenarioFileBytes) + " bytes");
  }
  if (JsonNestingDepth(yaml_text, kMaxJsonDepth) > kMaxJsonDepth) {
    return InvalidArgumentError("scenario: nested deeper than " + std::to_string(kMaxJsonDepth));
  }
  try {
    YAML::Node root = YAML::Load(yaml_text);
    if (!root || root.IsNull()) return InvalidArgumentError("scenario: the file is empty");
    return ParseRoot(root, read_file);
  } catch (const ScenarioError& e) {
    return InvalidArgumentError(e.message);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("scenario: YAML error at line " + std::to_string(e.mark.line + 1) +
                                ": " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("scenario: cannot be read: ") + e.what());
  }
}

}  // namespace spk::sim
