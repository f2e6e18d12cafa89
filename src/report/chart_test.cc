#include "report/chart.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace spk::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ChartTest, EscapeHtml) {
  EXPECT_EQ(EscapeHtml("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  // Control characters, NUL included, become spaces.
  EXPECT_EQ(EscapeHtml(std::string("x\x01y\x7fz\tq\n\0", 9)), "x y z\tq\n ");
  EXPECT_EQ(EscapeHtml("m5.large us-east-1a ü"), "m5.large us-east-1a ü");
}

TEST(ChartTest, FormatFixedHasNoNegativeZeroAndNoLocale) {
  EXPECT_EQ(FormatFixed(-0.04, 1), "0.0");
  EXPECT_EQ(FormatFixed(1234.56, 1), "1234.6");
  EXPECT_EQ(FormatFixed(-2.5, 2), "-2.50");
}

// 10,000 samples of 10 with one sample of 0: a chart ~430 points wide.
ChartSpec DipChart(Reduce reduce, std::vector<double>* t) {
  t->clear();
  for (int i = 0; i < 10000; ++i) t->push_back(i * 60.0);
  ChartSeries s{"running", "#000", std::vector<double>(10000, 10.0), reduce, false};
  s.values[5000] = 0;
  ChartSpec spec;
  spec.kind = "test";
  spec.t = t;
  spec.t_end = t->back();
  spec.lines = {s};
  return spec;
}

TEST(ChartTest, MinReductionKeepsAOneSampleDip) {
  std::vector<double> t;
  // The plot's bottom (value 0) is at y = 240 - 26 = 214.
  EXPECT_THAT(RenderChart(DipChart(Reduce::kMin, &t)), HasSubstr(",214.0"));
  EXPECT_THAT(RenderChart(DipChart(Reduce::kMean, &t)), Not(HasSubstr(",214.0")));
}

TEST(ChartTest, EventsShareMarkersAndEscapeTheirText) {
  std::vector<double> t = {0, 300, 600};
  std::vector<Event> events;
  for (int i = 0; i < 50; ++i) {
    events.push_back({300, "spot-interruption", "<pool>", "i-" + std::to_string(i)});
  }
  ChartSpec spec;
  spec.kind = "test";
  spec.t = &t;
  spec.t_end = 600;
  spec.events = &events;
  std::string svg = RenderChart(spec);
  // 50 events at one instant: one rule, one mark whose tooltip lists 3 and counts the rest.
  EXPECT_EQ(svg.find("<title>"), svg.rfind("<title>"));
  EXPECT_THAT(svg, HasSubstr("0:05:00 spot-interruption &lt;pool&gt; i-0\n"));
  EXPECT_THAT(svg, HasSubstr("... and 47 more</title>"));
  EXPECT_THAT(svg, Not(HasSubstr("<pool>")));
}

TEST(ChartTest, SharedScaleIsAtLeastTheGivenMax) {
  std::vector<double> t = {0, 300};
  ChartSpec spec;
  spec.kind = "test";
  spec.t = &t;
  spec.t_end = 300;
  spec.lines = {{"a", "#000", {1, 2}, Reduce::kMean, false}};
  EXPECT_EQ(DataMax(spec), 2);
  spec.y_max = 40;
  // The top tick reads 40.
  EXPECT_THAT(RenderChart(spec), HasSubstr(">40</text>"));
}

TEST(ChartTest, AllZerosGetAnAxisToOne) {
  std::vector<double> t = {0, 300};
  ChartSpec spec;
  spec.kind = "test";
  spec.t = &t;
  spec.t_end = 300;
  spec.lines = {{"a", "#000", {0, 0}, Reduce::kMax, false}};
  std::string svg = RenderChart(spec);
  EXPECT_THAT(svg, HasSubstr(">1</text>"));
  EXPECT_THAT(svg, HasSubstr(">0.25</text>"));
}

}  // namespace
}  // namespace spk::report
