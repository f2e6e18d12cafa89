#include "report/report.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>

namespace spk::report {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

// A valid result: `policies` runs, `n` samples 300 s apart, `pools` pools (the last
// `on_demand` of them on-demand), `services` services, an interruption every
// `event_every` samples (0: none).
json MakeResult(std::vector<std::string> policies, int n, int pools, int on_demand, int services,
                int event_every) {
  json r;
  r["scenario"] = {{"name", "test"},
                   {"description", "a test scenario"},
                   {"seed", 7},
                   {"duration_s", n * 300},
                   {"sample_interval_s", 300}};
  r["runs"] = json::array();
  for (size_t p = 0; p < policies.size(); ++p) {
    json run;
    run["policy"] = policies[p];
    run["summary"] = {{"availability", 0.99 - 0.01 * p},
                      {"worst_service", "svc0"},
                      {"worst_service_availability", 0.95},
                      {"tasks_lost_without_drain", 3 * p},
                      {"minutes_below_target", 12.5},
                      {"interruptions", 4},
                      {"spot_instance_hours", 100.25},
                      {"on_demand_instance_hours", 8},
                      {"cost", 20.5 + p},
                      {"all_on_demand_cost", 60},
                      {"savings", 0.65},
                      {"requests_served", 1000000 - 2500 * p},
                      {"failed_requests", 2500 * p},
                      {"failed_requests_per_million", 2500 * p}};
    run["services"] = json::array();
    json t = json::array(), target = json::array(), cost = json::array(), failed = json::array();
    for (int i = 0; i < n; ++i) {
      t.push_back(i * 300);
      target.push_back(40);
      cost.push_back(0.05 * i);
      failed.push_back(static_cast<int>(p) * 10 * i);
    }
    json capacity = json::object();
    for (int k = 0; k < pools; ++k) {
      std::string name = k >= pools - on_demand
                             ? "on-demand pool" + std::to_string(k)
                             : "spot m5.large us-east-1a pool" + std::to_string(k);
      json v = json::array();
      for (int i = 0; i < n; ++i) v.push_back((i + k) % 7 == 0 ? 2 : 3);
      capacity[name] = v;
    }
    json svc = json::object();
    for (int k = 0; k < services; ++k) {
      std::string name = "svc" + std::to_string(k);
      json d = json::array(), running = json::array();
      for (int i = 0; i < n; ++i) {
        d.push_back(10);
        running.push_back((i + k + static_cast<int>(p)) % 11 == 0 ? 7 : 10);
      }
      svc[name] = {{"desired", d}, {"running", running}};
      run["services"].push_back({{"name", name},
                                 {"availability", 0.9 + 0.0001 * k},
                                 {"tasks_lost_without_drain", k % 3},
                                 {"requests_served", 5000 + k},
                                 {"failed_requests", 5 * k},
                                 {"failed_requests_per_million", 1000 * k}});
    }
    run["series"] = {{"t", t},          {"capacity", capacity}, {"target_units", target},
                     {"services", svc}, {"cost", cost},         {"failed_requests", failed}};
    run["events"] = json::array();
    for (int i = 0; event_every > 0 && i < n; i += event_every) {
      run["events"].push_back({{"t", i * 300 + 17},
                               {"kind", "spot-interruption"},
                               {"pool", "m5.large us-east-1a"},
                               {"instance", "i-" + std::to_string(i)}});
    }
    run["events"].push_back(
        {{"t", 600}, {"kind", "mass-reclaim"}, {"pool", "m5.large us-east-1a"}, {"instance", ""}});
    r["runs"].push_back(run);
  }
  return r;
}

json Small() { return MakeResult({"none", "spotkeeper"}, 6, 3, 1, 2, 2); }

std::string Render(const json& j) {
  auto html = RenderHtmlReport(j);
  EXPECT_TRUE(html.ok()) << html.status().ToString();
  return html.ok() ? *html : std::string();
}

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// --- contract validation -------------------------------------------------------

// A one-policy "distribution" as `simulate --seeds 30` writes it.
json SpreadOf(const std::string& policy) {
  return json::array({{{"policy", policy},
                       {"seeds", 30},
                       {"availability", {{"p5", 0.99}, {"p50", 0.995}, {"p95", 0.999}}},
                       {"tasks_lost_without_drain", {{"p5", 0}, {"p50", 2}, {"p95", 7.5}}},
                       {"failed_requests", {{"p5", 0}, {"p50", 1200}, {"p95", 56000}}},
                       {"cost", {{"p5", 100}, {"p50", 110}, {"p95", 130}}}}});
}

struct BadCase {
  const char* name;
  std::function<void(json&)> mutate;
  const char* message;  // must appear in the error
};

class ContractTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ContractTest, RejectsWithTheFieldNamed) {
  json j = Small();
  GetParam().mutate(j);
  auto html = RenderHtmlReport(j);
  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(html.status().message(), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Report, ContractTest,
    ::testing::Values(
        BadCase{"NotAnObject", [](json& j) { j = json::array(); }, "expected an object"},
        BadCase{"NoScenario", [](json& j) { j.erase("scenario"); }, "missing field \"scenario\""},
        BadCase{"NoRuns", [](json& j) { j.erase("runs"); }, "missing field \"runs\""},
        BadCase{"RunsNotArray", [](json& j) { j["runs"] = json::object(); },
                "runs: expected an array, got an object"},
        BadCase{"SeedIsString", [](json& j) { j["scenario"]["seed"] = "42"; },
                "scenario.seed: expected a number, got a string"},
        BadCase{"NameIsNumber", [](json& j) { j["scenario"]["name"] = 3; },
                "scenario.name: expected a string, got a number"},
        BadCase{"NoDescription", [](json& j) { j["scenario"].erase("description"); },
                "scenario: missing field \"description\""},
        BadCase{"NoPolicy", [](json& j) { j["runs"][1].erase("policy"); },
                "runs[1]: missing field \"policy\""},
        BadCase{"NoCost", [](json& j) { j["runs"][0]["summary"].erase("cost"); },
                "runs[0].summary: missing field \"cost\""},
        BadCase{"BoolIsNotNumber", [](json& j) { j["runs"][0]["summary"]["availability"] = true; },
                "runs[0].summary.availability: expected a number, got a boolean"},
        BadCase{"NaN", [](json& j) { j["runs"][0]["summary"]["savings"] = std::nan(""); },
                "runs[0].summary.savings: not a finite number"},
        BadCase{"ServiceWithoutName", [](json& j) { j["runs"][0]["services"][1].erase("name"); },
                "runs[0].services[1]: missing field \"name\""},
        BadCase{"CostShorter", [](json& j) { j["runs"][1]["series"]["cost"].erase(0); },
                "runs[1].series.cost: 5 values, series.t has 6"},
        BadCase{"TargetLonger",
                [](json& j) { j["runs"][0]["series"]["target_units"].push_back(1); },
                "runs[0].series.target_units: 7 values, series.t has 6"},
        BadCase{"PoolShorter",
                [](json& j) { j["runs"][0]["series"]["capacity"]["on-demand pool2"].erase(0); },
                "runs[0].series.capacity[\"on-demand pool2\"]: 5 values"},
        BadCase{"RunningShorter",
                [](json& j) { j["runs"][0]["series"]["services"]["svc1"]["running"].erase(0); },
                "runs[0].series.services[\"svc1\"].running: 5 values"},
        BadCase{"NoDesired",
                [](json& j) { j["runs"][0]["series"]["services"]["svc0"].erase("desired"); },
                "runs[0].series.services[\"svc0\"]: missing field \"desired\""},
        BadCase{"NullSample", [](json& j) { j["runs"][0]["series"]["t"][3] = nullptr; },
                "runs[0].series.t[3]: expected a number, got null"},
        BadCase{"StringSample", [](json& j) { j["runs"][0]["series"]["cost"][2] = "1.0"; },
                "runs[0].series.cost[2]: expected a number, got a string"},
        BadCase{"TimeBackwards", [](json& j) { j["runs"][0]["series"]["t"][4] = 10; },
                "runs[0].series.t[4]: time goes backwards"},
        BadCase{"CapacityNotObject",
                [](json& j) { j["runs"][0]["series"]["capacity"] = json::array(); },
                "runs[0].series.capacity: expected an object, got an array"},
        BadCase{"UnknownEventKind", [](json& j) { j["runs"][0]["events"][0]["kind"] = "boom"; },
                "runs[0].events[0].kind: unknown event kind \"boom\""},
        BadCase{"SpreadOutOfOrder",
                [](json& j) {
                  j["distribution"] = SpreadOf("none");
                  j["distribution"][0]["cost"]["p5"] = 200;
                },
                "distribution[0].cost: percentiles out of order"},
        BadCase{"SpreadWithoutSeeds",
                [](json& j) {
                  j["distribution"] = SpreadOf("none");
                  j["distribution"][0].erase("seeds");
                },
                "distribution[0]: missing field \"seeds\""},
        BadCase{"NoFailedRequests",
                [](json& j) { j["runs"][0]["summary"].erase("failed_requests"); },
                "runs[0].summary: missing field \"failed_requests\""},
        BadCase{"NegativeFailedRequests",
                [](json& j) { j["runs"][1]["services"][0]["failed_requests"] = -1; },
                "runs[1].services[0].failed_requests: negative"},
        BadCase{"ServiceWithoutRequestsServed",
                [](json& j) { j["runs"][0]["services"][1].erase("requests_served"); },
                "runs[0].services[1]: missing field \"requests_served\""},
        BadCase{"FailedSeriesShorter",
                [](json& j) { j["runs"][1]["series"]["failed_requests"].erase(0); },
                "runs[1].series.failed_requests: 5 values, series.t has 6"},
        BadCase{"SpreadWithoutFailedRequests",
                [](json& j) {
                  j["distribution"] = SpreadOf("none");
                  j["distribution"][0].erase("failed_requests");
                },
                "distribution[0]: missing field \"failed_requests\""},
        BadCase{"EventWithoutInstance",
                [](json& j) { j["runs"][1]["events"][0].erase("instance"); },
                "runs[1].events[0]: missing field \"instance\""}),
    [](const ::testing::TestParamInfo<BadCase>& p) { return std::string(p.param.name); });

TEST(ReportTest, AcceptsTheSampleFile) {
  std::ifstream in(std::string(SPK_SOURCE_DIR) + "/tests/data/sim_result_sample.json");
  ASSERT_TRUE(in) << "tests/data/sim_result_sample.json";
  std::stringstream text;
  text << in.rdbuf();
  json j = json::parse(text.str());
  std::string html = Render(j);
  EXPECT_THAT(html, HasSubstr("<h1>spotkeeper simulation: sample-four-hours</h1>"));
  for (const char* policy : {"reference", "spotkeeper"}) {
    for (const char* kind : {"capacity", "services", "cost"}) {
      EXPECT_EQ(Count(html, fmt::format("data-chart=\"{}\" data-policy=\"{}\"", kind, policy)), 1u)
          << kind << " " << policy;
    }
    // One small chart per service (3 services).
    EXPECT_EQ(Count(html, fmt::format("data-chart=\"service\" data-policy=\"{}\"", policy)), 3u);
  }
  // The summary numbers are the file's, formatted.
  EXPECT_THAT(html, HasSubstr("97.750%"));
  EXPECT_THAT(html, HasSubstr("$2.64"));
  // reference's four api tasks killed in rotation: 4 x (50/s x 51 s + 5 in flight).
  EXPECT_THAT(html, HasSubstr("failed requests <b>10220</b> (851.7 per million)"));
}

// --- content -----------------------------------------------------------------

TEST(ReportTest, ShowsTheSpreadOverSeedsWhenGiven) {
  json j = Small();
  auto without = RenderHtmlReport(j);
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_EQ(without->find("Spread over"), std::string::npos);
  j["distribution"] = SpreadOf("none");
  auto html = RenderHtmlReport(j);
  ASSERT_TRUE(html.ok()) << html.status().ToString();
  EXPECT_THAT(*html, HasSubstr("<h2>Spread over 30 seeds</h2>"));
  EXPECT_THAT(*html, HasSubstr("99.500% <span class=\"meta\">(99.000% – 99.900%)</span>"));
  EXPECT_THAT(*html, HasSubstr("$110.00 <span class=\"meta\">($100.00 – $130.00)</span>"));
  EXPECT_THAT(*html, HasSubstr("1200 <span class=\"meta\">(0 – 56000)</span>"));
  // One policy: its range is the whole scale.
  EXPECT_THAT(*html, HasSubstr("left:0.0%;width:100.0%"));
}

TEST(ReportTest, OneChartPerKindAndPolicy) {
  json j = MakeResult({"none", "ecs-agent", "reference", "spotkeeper"}, 20, 4, 1, 3, 5);
  std::string html = Render(j);
  for (const char* policy : {"none", "ecs-agent", "reference", "spotkeeper"}) {
    for (const char* kind : {"capacity", "services", "cost", "failed"}) {
      EXPECT_EQ(Count(html, fmt::format("data-chart=\"{}\" data-policy=\"{}\"", kind, policy)), 1u)
          << kind << " " << policy;
    }
  }
  EXPECT_EQ(Count(html, "data-chart=\"capacity\""), 4u);
  EXPECT_EQ(Count(html, "data-chart=\"compare-cost\""), 1u);
  EXPECT_EQ(Count(html, "data-chart=\"compare-missing\""), 1u);
  EXPECT_EQ(Count(html, "data-chart=\"compare-failed\""), 1u);
  // A tab per policy plus "all", and a panel per policy.
  EXPECT_EQ(Count(html, "type=\"radio\""), 5u);
  EXPECT_EQ(Count(html, "class=\"panel\""), 4u);
  // The summary table has one row per policy.
  size_t begin = html.find("<table class=\"summary\">");
  size_t end = html.find("</table>", begin);
  ASSERT_NE(begin, std::string::npos);
  const std::string table = html.substr(begin, end - begin);
  EXPECT_EQ(Count(table, "<tr>"), 5u);  // header + 4
  // The best value of a column is marked: highest availability (none: 0.99), lowest cost
  // (none: 20.5); a column where all runs tie has no mark (interruptions, savings).
  EXPECT_THAT(table, HasSubstr("<td class=\"best\">99.000%</td>"));
  EXPECT_THAT(table, HasSubstr("<td class=\"best\">$20.50</td>"));
  // Availability, tasks lost, cost, failed requests and failed per million (none: 0).
  EXPECT_EQ(Count(table, "class=\"best\""), 5u);
  EXPECT_THAT(table, HasSubstr("<th>failed requests</th><th>failed per million</th>"));
  EXPECT_THAT(table, HasSubstr("<td>7500</td><td>7500.0</td></tr>"));  // spotkeeper: 2500 x 3
  // Interruptions are marked on the time axis.
  EXPECT_GE(Count(html, "class=\"evr ev-spot-interruption\""), 4u * 3);
  EXPECT_GE(Count(html, "class=\"evr ev-mass-reclaim\""), 4u * 3);
  // With a tooltip naming the events on the capacity chart.
  EXPECT_THAT(html, HasSubstr("<title>0:10:00 mass-reclaim m5.large us-east-1a</title>"));
  EXPECT_THAT(html, HasSubstr("0:25:17 spot-interruption m5.large us-east-1a i-5"));
}

TEST(ReportTest, ShowsFailedRequestsPerPolicyAndService) {
  json j = Small();  // none: 0 failed, spotkeeper: 2500; svc1: 5 of 5006
  std::string html = Render(j);
  EXPECT_THAT(html, HasSubstr("failed requests <b>2500</b> (2500.0 per million)"));
  EXPECT_THAT(html, HasSubstr("Failed requests, cumulative (load-balanced services), final 2500"));
  EXPECT_THAT(html, HasSubstr("<th>requests served</th><th>failed requests</th>"
                              "<th>failed per million</th>"));
  EXPECT_THAT(html, HasSubstr("<td>svc1</td><td>90.010%</td><td>1</td><td>5001</td><td>5</td>"
                              "<td>1000.0</td>"));
  EXPECT_EQ(Count(html, "data-chart=\"compare-failed\""), 1u);
  // One y scale for the failed-requests chart of every policy.
  auto axis_top = [&](const std::string& policy) {
    size_t at = html.find("data-chart=\"failed\" data-policy=\"" + policy + "\"");
    EXPECT_NE(at, std::string::npos) << policy;
    size_t end = html.find("</svg>", at);
    return html.substr(at, end - at);
  };
  const std::string none = axis_top("none"), spotkeeper = axis_top("spotkeeper");
  // spotkeeper's largest value, 50 (10 per sample), on a scale to 60 for both;
  // none alone (all zeros) would be drawn from 0 to 1.
  EXPECT_THAT(none, HasSubstr(">60<"));
  EXPECT_THAT(spotkeeper, HasSubstr(">60<"));
}

TEST(ReportTest, StringsFromTheJsonRenderInert) {
  json j = Small();
  const std::string script = "<script>alert(1)</script>";
  j["scenario"]["name"] = script;
  j["scenario"]["description"] = "\"quoted\" & 'single' " + script;
  j["runs"][0]["policy"] = "\"><img src=x onerror=alert(1)>";
  j["runs"][0]["summary"]["worst_service"] = script;
  j["runs"][0]["services"][0]["name"] = script;
  auto& series = j["runs"][0]["series"];
  series["services"][script] = series["services"]["svc0"];
  series["capacity"]["spot <b>pool</b>"] = series["capacity"]["on-demand pool2"];
  j["runs"][0]["events"][0]["pool"] = script;
  j["runs"][0]["events"][0]["instance"] = "i-\"'<>";
  std::string html = Render(j);
  const std::string lower = Lower(html);
  EXPECT_THAT(lower, Not(HasSubstr("<script")));
  EXPECT_THAT(lower, Not(HasSubstr("<img")));
  EXPECT_THAT(lower, Not(HasSubstr("<b>pool")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
  EXPECT_THAT(html, HasSubstr("&quot;quoted&quot; &amp; &#39;single&#39;"));
  EXPECT_THAT(html, HasSubstr("spot &lt;b&gt;pool&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr("i-&quot;&#39;&lt;&gt;"));
}

TEST(ReportTest, LoadsNothingFromTheNetwork) {
  json j = MakeResult({"none", "spotkeeper"}, 30, 5, 1, 4, 3);
  std::string html = Lower(Render(j));
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("href=")));
  EXPECT_THAT(html, Not(HasSubstr("url(")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, HasSubstr("content-security-policy\" content=\"default-src 'none'"));
}

TEST(ReportTest, AUrlInTheDescriptionIsTextNotAResource) {
  json j = Small();
  j["scenario"]["description"] = "see https://example.com/x.png";
  std::string html = Lower(Render(j));
  EXPECT_THAT(html, HasSubstr("<p>see https://example.com/x.png</p>"));
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("href=")));
}

TEST(ReportTest, SameInputSameBytes) {
  json j = MakeResult({"none", "reference", "spotkeeper"}, 500, 6, 2, 5, 7);
  std::string a = Render(j);
  std::string b = Render(json::parse(j.dump()));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

// --- edge cases ----------------------------------------------------------------

bool HasNonFinite(const std::string& html) {
  // fmt prints non-finite numbers as "nan" and "inf"; no other word here ends so.
  const std::string lower = Lower(html);
  for (const char* word : {"nan", "inf"}) {
    for (const char* after : {"\"", ",", " ", "<"}) {
      if (lower.find(std::string(word) + after) != std::string::npos) return true;
    }
  }
  return false;
}

TEST(ReportTest, EmptySeries) {
  json j = MakeResult({"none"}, 0, 0, 0, 0, 0);
  j["runs"][0]["events"] = json::array();
  std::string html = Render(j);
  EXPECT_GE(Count(html, "no samples"), 3u);  // capacity, services, cost
  EXPECT_THAT(html, HasSubstr("No capacity pools."));
  EXPECT_THAT(html, HasSubstr("No services."));
  EXPECT_FALSE(HasNonFinite(html));
}

TEST(ReportTest, NoRuns) {
  json j = Small();
  j["runs"] = json::array();
  std::string html = Render(j);
  EXPECT_THAT(html, HasSubstr("The result has no runs."));
}

TEST(ReportTest, OneSampleDrawsAcrossTheAxis) {
  json j = MakeResult({"none", "spotkeeper"}, 1, 2, 1, 1, 0);
  std::string html = Render(j);
  EXPECT_THAT(html, Not(HasSubstr("no samples")));
  EXPECT_FALSE(HasNonFinite(html));
  // The held value spans the plot: from its left edge (x=54) to its right (920-14).
  EXPECT_THAT(html, HasSubstr("points=\"54.0,"));
  EXPECT_THAT(html, HasSubstr(" 906.0,"));
}

TEST(ReportTest, AllZeros) {
  json j = MakeResult({"none"}, 10, 2, 1, 2, 0);
  auto& run = j["runs"][0];
  for (auto& [k, v] : run["series"]["capacity"].items()) {
    for (auto& x : v) x = 0;
  }
  for (auto& [k, v] : run["series"]["services"].items()) {
    for (auto& x : v["desired"]) x = 0;
    for (auto& x : v["running"]) x = 0;
  }
  for (auto& x : run["series"]["cost"]) x = 0;
  for (auto& x : run["series"]["failed_requests"]) x = 0;
  for (auto& x : run["series"]["t"]) x = 0;  // even all at one instant
  j["scenario"]["duration_s"] = 0;
  for (auto& [k, v] : run["summary"].items()) {
    if (v.is_number()) v = 0;
  }
  std::string html = Render(j);
  EXPECT_FALSE(HasNonFinite(html));
  EXPECT_THAT(html, HasSubstr("data-chart=\"capacity\""));
}

TEST(ReportTest, HundredsOfPoolsAndServicesAreCapped) {
  json j = MakeResult({"none", "spotkeeper"}, 50, 300, 50, 500, 10);
  std::string html = Render(j);
  EXPECT_THAT(html, HasSubstr("other spot (243 pools)"));
  EXPECT_THAT(html, HasSubstr("other on-demand (47 pools)"));
  // 8 spot + 4 on-demand layers per capacity chart, two policies.
  EXPECT_EQ(Count(html, "<polygon fill="), 2u * 12 + 2u * 1 + 2u * 12 * 1);
  EXPECT_EQ(Count(html, "data-chart=\"service\" data-policy=\"none\""), 12u);
  EXPECT_THAT(html, HasSubstr("(12 of 500)"));
  EXPECT_THAT(html, HasSubstr("450 more services"));
}

TEST(ReportTest, ThirtyDaysStayBounded) {
  // 30 days every 300 s: 8,640 samples; 40 pools, 100 services, an interruption
  // every 5 samples (1,728 events), four policies.
  json j = MakeResult({"none", "ecs-agent", "reference", "spotkeeper"}, 8640, 40, 4, 100, 5);
  std::string html = Render(j);
  std::printf("30-day report: %zu bytes\n", html.size());
  EXPECT_LT(html.size(), 2u * 1024 * 1024);
  // No drawn line has more points than about one per two pixels.
  size_t most = 0;
  for (size_t pos = html.find("<polyline"); pos != std::string::npos;
       pos = html.find("<polyline", pos + 1)) {
    size_t begin = html.find("points=\"", pos) + 8;
    size_t end = html.find('"', begin);
    most = std::max(most,
                    static_cast<size_t>(std::count(html.begin() + begin, html.begin() + end, ',')));
  }
  EXPECT_EQ(most, 426u);  // (920 - 54 - 14) / 2 buckets
}

}  // namespace
}  // namespace spk::report
