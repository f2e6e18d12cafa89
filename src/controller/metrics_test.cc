#include "controller/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace spk::controller {
namespace {

TEST(MetricsTest, CounterWithAndWithoutLabels) {
  MetricsRegistry m;
  m.DefineCounter("spk_drains_total", "Container instances drained.");
  m.DefineCounter("spk_notices_total", "Notices by kind.");
  m.Add("spk_drains_total", {}, 3);
  m.Add("spk_notices_total", {{"kind", "spot-interruption"}, {"source", "agent"}});
  m.Add("spk_notices_total", {{"kind", "spot-interruption"}, {"source", "agent"}});
  m.Add("spk_notices_total", {{"kind", "rebalance-recommendation"}, {"source", "eventbridge"}});
  m.Add("spk_drains_total", {}, -1);  // ignored: counters only go up
  EXPECT_EQ(m.Render(),
            "# HELP spk_drains_total Container instances drained.\n"
            "# TYPE spk_drains_total counter\n"
            "spk_drains_total 3\n"
            "# HELP spk_notices_total Notices by kind.\n"
            "# TYPE spk_notices_total counter\n"
            "spk_notices_total{kind=\"rebalance-recommendation\",source=\"eventbridge\"} 1\n"
            "spk_notices_total{kind=\"spot-interruption\",source=\"agent\"} 2\n");
  EXPECT_EQ(m.Value("spk_notices_total", {{"kind", "spot-interruption"}, {"source", "agent"}}), 2);
}

TEST(MetricsTest, DefinedFamilyWithoutSeriesRendersHelpAndTypeOnly) {
  MetricsRegistry m;
  m.DefineGauge("spk_up", "Up.");
  EXPECT_EQ(m.Render(), "# HELP spk_up Up.\n# TYPE spk_up gauge\n");
}

TEST(MetricsTest, GaugeIsSetNotAdded) {
  MetricsRegistry m;
  m.DefineGauge("spk_on_demand_desired", "Desired.");
  m.Set("spk_on_demand_desired", {}, 4);
  m.Set("spk_on_demand_desired", {}, 2.5);
  EXPECT_EQ(m.Render(),
            "# HELP spk_on_demand_desired Desired.\n"
            "# TYPE spk_on_demand_desired gauge\n"
            "spk_on_demand_desired 2.5\n");
}

TEST(MetricsTest, ARemovedSeriesIsNoLongerRendered) {
  MetricsRegistry m;
  m.DefineGauge("spk_tasks", "Tasks.");
  m.Set("spk_tasks", {{"pair", "a"}}, 1);
  m.Set("spk_tasks", {{"pair", "b"}}, 2);
  EXPECT_EQ(m.SeriesOf("spk_tasks"), (std::vector<MetricLabels>{{{"pair", "a"}}, {{"pair", "b"}}}));
  m.Remove("spk_tasks", {{"pair", "a"}});
  m.Remove("spk_tasks", {{"pair", "absent"}});
  m.Remove("spk_undefined", {{"pair", "b"}});
  EXPECT_EQ(m.Render(),
            "# HELP spk_tasks Tasks.\n"
            "# TYPE spk_tasks gauge\n"
            "spk_tasks{pair=\"b\"} 2\n");
  EXPECT_TRUE(m.SeriesOf("spk_undefined").empty());
}

TEST(MetricsTest, HistogramHasCumulativeLeBucketsSumAndCount) {
  MetricsRegistry m;
  m.DefineHistogram("spk_latency_seconds", "Latency.", {1, 0.5, 2});  // sorted on definition
  for (double v : {0.2, 0.5, 0.7, 1.5, 3.0}) m.Observe("spk_latency_seconds", {}, v);
  EXPECT_EQ(m.Render(),
            "# HELP spk_latency_seconds Latency.\n"
            "# TYPE spk_latency_seconds histogram\n"
            "spk_latency_seconds_bucket{le=\"0.5\"} 2\n"
            "spk_latency_seconds_bucket{le=\"1\"} 3\n"
            "spk_latency_seconds_bucket{le=\"2\"} 4\n"
            "spk_latency_seconds_bucket{le=\"+Inf\"} 5\n"
            "spk_latency_seconds_sum 5.9\n"
            "spk_latency_seconds_count 5\n");
  EXPECT_EQ(m.Value("spk_latency_seconds"), 5);
}

TEST(MetricsTest, HistogramWithLabelsPutsLeLast) {
  MetricsRegistry m;
  m.DefineHistogram("spk_h", "H.", {1});
  m.Observe("spk_h", {{"queue", "q"}}, 0.5);
  EXPECT_EQ(m.Render(),
            "# HELP spk_h H.\n"
            "# TYPE spk_h histogram\n"
            "spk_h_bucket{queue=\"q\",le=\"1\"} 1\n"
            "spk_h_bucket{queue=\"q\",le=\"+Inf\"} 1\n"
            "spk_h_sum{queue=\"q\"} 0.5\n"
            "spk_h_count{queue=\"q\"} 1\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeHelp("a\\b\"c\nd"), "a\\\\b\"c\\nd");
  MetricsRegistry m;
  m.DefineCounter("spk_errors_total", "Errors \\ by\ncode.");
  m.Add("spk_errors_total", {{"code", "Bad \"Thing\"\n"}});
  EXPECT_EQ(m.Render(),
            "# HELP spk_errors_total Errors \\\\ by\\ncode.\n"
            "# TYPE spk_errors_total counter\n"
            "spk_errors_total{code=\"Bad \\\"Thing\\\"\\n\"} 1\n");
}

TEST(MetricsTest, ValueFormatting) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(42), "42");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(0.1), "0.1");
  EXPECT_EQ(FormatMetricValue(1e20), "1e+20");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
}

TEST(MetricsTest, UndefinedOrMistypedNamesAreIgnored) {
  MetricsRegistry m;
  m.DefineCounter("spk_c_total", "C.");
  m.Set("spk_c_total", {}, 5);                // not a gauge
  m.Observe("spk_c_total", {}, 1);            // not a histogram
  m.Add("spk_unknown_total", {}, 1);          // not defined
  m.DefineGauge("spk_c_total", "redefined");  // first definition wins
  EXPECT_EQ(m.Render(), "# HELP spk_c_total C.\n# TYPE spk_c_total counter\n");
}

TEST(MetricsTest, SetTotalMirrorsACounterKeptElsewhere) {
  MetricsRegistry m;
  m.DefineCounter("spk_aws_errors_total", "E.");
  m.SetTotal("spk_aws_errors_total", {{"service", "ecs"}, {"code", "ThrottlingException"}}, 3);
  m.SetTotal("spk_aws_errors_total", {{"service", "ecs"}, {"code", "ThrottlingException"}}, 4);
  EXPECT_EQ(m.Value("spk_aws_errors_total", {{"service", "ecs"}, {"code", "ThrottlingException"}}),
            4);
}

}  // namespace
}  // namespace spk::controller
