#include "report/chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace spk::report {
namespace {

constexpr double kMarginLeft = 54;
constexpr double kMarginRight = 14;
constexpr double kMarginTop = 16;
constexpr double kMarginBottom = 26;
constexpr double kPixelsPerPoint = 2;   // one drawn point per this many SVG units
constexpr double kPixelsPerMarker = 4;  // events closer than this share one marker
constexpr size_t kMaxTooltipLines = 3;

struct Plot {
  double x0, x1, y0, y1;  // left, right, top, bottom
  double t_begin, t_end, y_max;
  double X(double t) const {
    double x = x0 + (t - t_begin) / (t_end - t_begin) * (x1 - x0);
    return std::clamp(x, x0, x1);
  }
  double Y(double v) const {
    double y = y1 - v / y_max * (y1 - y0);
    return std::clamp(y, y0 - 1, y1);
  }
};

// Sample index ranges [begin, end) that become one drawn point each.
std::vector<std::pair<size_t, size_t>> Buckets(size_t n, size_t max_buckets) {
  std::vector<std::pair<size_t, size_t>> out;
  if (n == 0) return out;
  if (n <= max_buckets) {
    for (size_t i = 0; i < n; ++i) out.push_back({i, i + 1});
    return out;
  }
  for (size_t b = 0; b < max_buckets; ++b) {
    size_t begin = b * n / max_buckets, end = (b + 1) * n / max_buckets;
    if (end > begin) out.push_back({begin, end});
  }
  return out;
}

double ReduceRange(const std::vector<double>& v, std::pair<size_t, size_t> r, Reduce how) {
  auto first = v.begin() + static_cast<std::ptrdiff_t>(r.first);
  auto last = v.begin() + static_cast<std::ptrdiff_t>(r.second);
  switch (how) {
    case Reduce::kMin:
      return *std::min_element(first, last);
    case Reduce::kMax:
      return *std::max_element(first, last);
    case Reduce::kLast:
      return *(last - 1);
    case Reduce::kMean:
      break;
  }
  double sum = 0;
  for (auto it = first; it != last; ++it) sum += *it;
  return sum / static_cast<double>(r.second - r.first);
}

// The drawn x positions and each series' drawn values, bucket by bucket. A single
// sample is held across the whole axis so it draws as a flat line, not a dot.
struct Drawn {
  std::vector<double> x;
  std::vector<double> Values(const ChartSeries& s,
                             const std::vector<std::pair<size_t, size_t>>& buckets) const {
    std::vector<double> out;
    out.reserve(x.size());
    for (const auto& b : buckets) out.push_back(ReduceRange(s.values, b, s.reduce));
    if (out.size() == 1) out.push_back(out[0]);
    return out;
  }
};

std::string Points(const std::vector<double>& x, const std::vector<double>& y, const Plot& p) {
  std::string out;
  out.reserve(x.size() * 12);
  for (size_t i = 0; i < x.size(); ++i) {
    if (i) out += ' ';
    out += FormatFixed(x[i], 1);
    out += ',';
    out += FormatFixed(p.Y(y[i]), 1);
  }
  return out;
}

double NiceStep(double max, int target) {
  double raw = max / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * mag;
}

// "12", "2.5", "1.2k", "3.4M": short labels for y ticks.
std::string ShortNumber(double v) {
  double a = std::fabs(v);
  auto trim = [](std::string s) {
    if (s.find('.') != std::string::npos) {
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
    }
    return s;
  };
  if (a >= 1e6) return trim(FormatFixed(v / 1e6, 2)) + "M";
  if (a >= 1e4) return trim(FormatFixed(v / 1e3, 1)) + "k";
  return trim(FormatFixed(v, 2));
}

std::string TimeTickLabel(double t, double step) {
  auto whole_or_one = [](double v) {
    return std::fabs(v - std::round(v)) < 1e-9 ? FormatFixed(v, 0) : FormatFixed(v, 1);
  };
  if (step >= 86400) return whole_or_one(t / 86400) + "d";
  if (step >= 3600) return whole_or_one(t / 3600) + "h";
  long long s = std::llround(t);
  return fmt::format("{}:{:02}", s / 3600, (s % 3600) / 60);
}

double TimeStep(double span) {
  static const double kSteps[] = {60,     120,     300,     600,     900,     1800,   3600,
                                  7200,   10800,   21600,   43200,   86400,   172800, 432000,
                                  604800, 1209600, 2592000, 7776000, 31536000};
  for (double s : kSteps) {
    if (span / s <= 8) return s;
  }
  return NiceStep(span, 8);
}

// "3:05:00" or "2d 03:05:00": a time since the scenario start.
std::string Clock(double t) {
  long long s = std::llround(std::max(0.0, t));
  long long d = s / 86400;
  s %= 86400;
  if (d > 0) return fmt::format("{}d {:02}:{:02}:{:02}", d, s / 3600, (s % 3600) / 60, s % 60);
  return fmt::format("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60);
}

void DrawAxes(const ChartSpec& spec, const Plot& p, double y_step, std::string* out) {
  *out += "<g class=\"grid\">";
  for (double v = 0; v <= p.y_max + y_step * 1e-6; v += y_step) {
    double y = p.Y(v);
    *out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", FormatFixed(p.x0, 1),
                        FormatFixed(y, 1), FormatFixed(p.x1, 1), FormatFixed(y, 1));
    *out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"yl\">{}</text>", FormatFixed(p.x0 - 4, 1),
                        FormatFixed(y + 3.5, 1), ShortNumber(v));
  }
  double step = TimeStep(p.t_end - p.t_begin);
  for (double t = std::ceil(p.t_begin / step) * step; t <= p.t_end + step * 1e-6; t += step) {
    double x = p.X(t);
    *out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>", FormatFixed(x, 1),
                        FormatFixed(p.y1, 1), FormatFixed(x, 1), FormatFixed(p.y1 + 4, 1));
    *out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"xl\">{}</text>", FormatFixed(x, 1),
                        FormatFixed(p.y1 + 15, 1), TimeTickLabel(t, step));
  }
  *out += "</g>";
  *out += fmt::format("<rect class=\"frame\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                      FormatFixed(p.x0, 1), FormatFixed(p.y0, 1), FormatFixed(p.x1 - p.x0, 1),
                      FormatFixed(p.y1 - p.y0, 1));
  if (!spec.y_label.empty()) {
    *out += fmt::format(
        "<text class=\"axis-title\" transform=\"translate(12 {}) rotate(-90)\">{}</text>",
        FormatFixed((p.y0 + p.y1) / 2, 1), EscapeHtml(spec.y_label));
  }
}

void DrawEvents(const ChartSpec& spec, const Plot& p, std::string* out) {
  if (spec.events == nullptr || spec.events->empty()) return;
  std::vector<const Event*> events;
  for (const Event& e : *spec.events) events.push_back(&e);
  std::stable_sort(events.begin(), events.end(), [](const Event* a, const Event* b) {
    return std::tie(a->t, a->kind, a->pool, a->instance) <
           std::tie(b->t, b->kind, b->pool, b->instance);
  });
  // One marker per (pixel column, kind): thousands of events stay a few hundred marks.
  std::map<std::pair<long, std::string>, std::vector<const Event*>> groups;
  for (const Event* e : events) {
    long column = std::lround(p.X(e->t) / kPixelsPerMarker);
    groups[{column, e->kind}].push_back(e);
  }
  // Per kind: one path of vertical rules through the plot and one of marks above it;
  // with tooltips, each mark is its own element with a <title> listing its events.
  std::map<std::string, std::string> rules, marks;
  std::string tooltips;
  for (const auto& [key, group] : groups) {
    const std::string& kind = key.second;
    const double x = p.X(group.front()->t);
    const bool pool_wide = kind == "mass-reclaim" || kind == "pool-dry" || kind == "pool-restored";
    const double h = pool_wide ? 7 : 5;
    rules[kind] +=
        fmt::format("M{} {}V{}", FormatFixed(x, 1), FormatFixed(p.y0, 1), FormatFixed(p.y1, 1));
    const std::string mark =
        fmt::format("M{} {}l{} {}h{}z", FormatFixed(x - h / 2, 1), FormatFixed(p.y0 - h - 1, 1),
                    FormatFixed(h / 2, 1), FormatFixed(h, 1), FormatFixed(-h, 1));
    if (!spec.event_tooltips) {
      if (spec.event_marks) marks[kind] += mark;
      continue;
    }
    std::string title;
    for (size_t i = 0; i < group.size() && i < kMaxTooltipLines; ++i) {
      const Event& e = *group[i];
      if (i) title += '\n';
      title += fmt::format("{} {} {}", Clock(e.t), e.kind, e.pool);
      if (!e.instance.empty()) title += " " + e.instance;
    }
    if (group.size() > kMaxTooltipLines) {
      title += fmt::format("\n... and {} more", group.size() - kMaxTooltipLines);
    }
    tooltips +=
        fmt::format("<path class=\"evm ev-{}\" fill=\"{}\" d=\"{}\"><title>{}</title></path>",
                    EscapeHtml(kind), EventColor(kind), mark, EscapeHtml(title));
  }
  *out += "<g class=\"events\">";
  for (const auto& [kind, d] : rules) {
    *out += fmt::format("<path class=\"evr ev-{}\" stroke=\"{}\" d=\"{}\"/>", EscapeHtml(kind),
                        EventColor(kind), d);
  }
  for (const auto& [kind, d] : marks) {
    *out += fmt::format("<path class=\"evm ev-{}\" fill=\"{}\" d=\"{}\"/>", EscapeHtml(kind),
                        EventColor(kind), d);
  }
  *out += tooltips;
  *out += "</g>";
}

}  // namespace

std::string EscapeHtml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
          out += ' ';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string FormatFixed(double v, int decimals) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.{}f}", v, decimals);
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

const char* EventColor(std::string_view kind) {
  if (kind == "spot-interruption") return "#d62728";
  if (kind == "mass-reclaim") return "#7b0d0d";
  if (kind == "rebalance-recommendation") return "#e0a100";
  // Colours no pool, policy or series uses.
  if (kind == "rebalance-replacement") return "#b5179e";
  if (kind == "rebalance-termination") return "#6b4423";
  if (kind == "pool-dry") return "#ff7f0e";
  if (kind == "pool-restored") return "#2ca02c";
  return "#777777";
}

double DataMax(const ChartSpec& spec) {
  double max = 0;
  const size_t n = spec.t ? spec.t->size() : 0;
  for (size_t i = 0; i < n; ++i) {
    double total = 0;
    for (const auto& s : spec.stacked) total += std::max(0.0, s.values[i]);
    max = std::max(max, total);
    for (const auto& s : spec.lines) max = std::max(max, s.values[i]);
    if (spec.band_upper) max = std::max(max, spec.band_upper->values[i]);
  }
  return max;
}

std::string RenderChart(const ChartSpec& spec) {
  Plot p;
  p.x0 = kMarginLeft;
  p.x1 = spec.width - kMarginRight;
  p.y0 = kMarginTop;
  p.y1 = spec.height - kMarginBottom;
  p.t_begin = spec.t_begin;
  p.t_end = spec.t_end > spec.t_begin ? spec.t_end : spec.t_begin + 1;
  double max = std::max(DataMax(spec), spec.y_max);
  if (max <= 0) max = 1;  // all zeros: an axis from 0 to 1, not to a quarter
  double y_step = NiceStep(max, 4);
  p.y_max = std::max(y_step, std::ceil(max / y_step - 1e-9) * y_step);

  std::string out;
  out += fmt::format("<svg class=\"chart\" data-chart=\"{}\"{} viewBox=\"0 0 {} {}\" role=\"img\">",
                     EscapeHtml(spec.kind),
                     spec.policy.empty() ? "" : " data-policy=\"" + EscapeHtml(spec.policy) + "\"",
                     spec.width, spec.height);
  DrawAxes(spec, p, y_step, &out);

  const std::vector<double> empty;
  const std::vector<double>& t = spec.t ? *spec.t : empty;
  if (t.empty()) {
    out += fmt::format("<text class=\"nodata\" x=\"{}\" y=\"{}\">no samples</text>",
                       FormatFixed((p.x0 + p.x1) / 2, 1), FormatFixed((p.y0 + p.y1) / 2, 1));
  } else {
    auto buckets = Buckets(t.size(), static_cast<size_t>((p.x1 - p.x0) / kPixelsPerPoint));
    Drawn d;
    for (const auto& b : buckets) d.x.push_back(p.X((t[b.first] + t[b.second - 1]) / 2));
    if (d.x.size() == 1) d.x = {p.x0, p.x1};

    // Stacked areas: each layer is drawn as its cumulative total down to zero, top
    // layer first, so every layer shows between its own top and the one below.
    std::vector<std::vector<double>> cumulative;
    for (const auto& s : spec.stacked) {
      std::vector<double> v = d.Values(s, buckets);
      for (double& x : v) x = std::max(0.0, x);
      if (!cumulative.empty()) {
        for (size_t i = 0; i < v.size(); ++i) v[i] += cumulative.back()[i];
      }
      cumulative.push_back(std::move(v));
    }
    for (size_t k = cumulative.size(); k-- > 0;) {
      out +=
          fmt::format("<polygon fill=\"{}\" points=\"{} {},{} {},{}\"><title>{}</title></polygon>",
                      spec.stacked[k].color, Points(d.x, cumulative[k], p),
                      FormatFixed(d.x.back(), 1), FormatFixed(p.y1, 1), FormatFixed(d.x.front(), 1),
                      FormatFixed(p.y1, 1), EscapeHtml(spec.stacked[k].label));
    }
    if (spec.band_upper && spec.band_lower) {
      std::vector<double> up = d.Values(*spec.band_upper, buckets);
      std::vector<double> low = d.Values(*spec.band_lower, buckets);
      for (size_t i = 0; i < up.size(); ++i) low[i] = std::min(low[i], up[i]);
      std::vector<double> rx(d.x.rbegin(), d.x.rend()), rlow(low.rbegin(), low.rend());
      out += fmt::format("<polygon class=\"band\" fill=\"{}\" points=\"{} {}\"/>", spec.band_color,
                         Points(d.x, up, p), Points(rx, rlow, p));
    }
    for (const auto& s : spec.lines) {
      out += fmt::format(
          "<polyline class=\"line{}\" stroke=\"{}\" points=\"{}\"><title>{}</title></polyline>",
          s.dashed ? " dashed" : "", s.color, Points(d.x, d.Values(s, buckets), p),
          EscapeHtml(s.label));
    }
  }
  DrawEvents(spec, p, &out);
  out += "</svg>";
  return out;
}

}  // namespace spk::report
