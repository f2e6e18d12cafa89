// Inline SVG time-series charts for the HTML report, drawn from plain data.
//
// A chart has a time axis shared by the report (scenario start to end), stacked
// areas (drawn bottom first), lines over them and event markers on the time axis.
// Long series are reduced for drawing to about one point per two pixels: each
// bucket of samples becomes one value chosen by the series' Reduce rule, so a
// 30-day run draws as fast and weighs as little as a day. Output depends only on
// the input (fixed-precision numbers, no locale): same data, same bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report/contract.h"

namespace spk::report {

// `s` escaped for HTML text and attribute values (& < > " '). ASCII control
// characters other than tab and newline become spaces.
std::string EscapeHtml(std::string_view s);

// `v` with `decimals` fixed decimals ("-0.0" prints as "0.0"), locale-independent.
std::string FormatFixed(double v, int decimals);

// How a bucket of samples becomes one drawn value.
enum class Reduce { kMean, kMin, kMax, kLast };

struct ChartSeries {
  std::string label;           // plain text; escaped when drawn
  std::string color;           // a CSS color written by this program, never user input
  std::vector<double> values;  // one per sample time
  Reduce reduce = Reduce::kMean;
  bool dashed = false;
};

struct ChartSpec {
  std::string kind;    // written as data-chart="kind"
  std::string policy;  // written as data-policy (escaped); "" for none
  int width = 920;     // SVG user units; the page scales it to the column width
  int height = 240;
  double t_begin = 0;  // time axis domain, seconds
  double t_end = 1;
  std::string y_label;
  double y_max = 0;  // 0: from the data; else at least this (shared scales across policies)
  const std::vector<double>* t = nullptr;  // sample times; REQUIRES: non-null
  std::vector<ChartSeries> stacked;        // stacked areas, bottom first
  std::vector<ChartSeries> lines;          // lines over the areas
  // Optional shortfall band: filled between `band_upper` and `band_lower` where upper > lower.
  const ChartSeries* band_upper = nullptr;
  const ChartSeries* band_lower = nullptr;
  std::string band_color;
  const std::vector<Event>* events = nullptr;  // markers on the time axis; may be null
  bool event_marks = true;                     // marks above the plot as well as rules through it
  bool event_tooltips = true;  // a <title> per marker (bytes: one chart per panel has them)
};

// The chart as an <svg> element (inline HTML, no namespace URL needed).
std::string RenderChart(const ChartSpec& spec);

// The largest value a chart of `spec` would draw on its y axis (stack total, lines)
// before rounding to a nice scale; used to share one scale across policies.
double DataMax(const ChartSpec& spec);

// The CSS color of event `kind` markers.
const char* EventColor(std::string_view kind);

}  // namespace spk::report
