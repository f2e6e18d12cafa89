#include "report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>

#include "report/chart.h"
#include "report/contract.h"

namespace spk::report {
namespace {

// Legend and drawing caps: beyond these, the smallest pools of a lifecycle are
// drawn as one "other" layer and only the worst services get a small chart.
constexpr size_t kMaxSpotLayers = 8;
constexpr size_t kMaxOnDemandLayers = 4;
constexpr size_t kMaxOtherLayers = 2;
constexpr size_t kMaxServiceCharts = 12;
constexpr size_t kMaxServiceRows = 50;
constexpr size_t kMaxEventRows = 200;

const char* const kSpotColors[] = {"#1f77b4", "#17becf", "#2f4b7c", "#5fa2dd",
                                   "#3d9970", "#0b6e4f", "#6baed6", "#4a6fa5"};
const char* const kOnDemandColors[] = {"#ff7f0e", "#c44e00", "#fdae6b", "#8c2d04"};
const char* const kOtherColors[] = {"#9467bd", "#c5b0d5"};
// No red: red marks missing tasks and interruptions.
const char* const kPolicyColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd",
                                     "#8c564b", "#e377c2", "#7f7f7f", "#17becf"};
constexpr const char* kRunningColor = "#8fd19e";
constexpr const char* kDesiredColor = "#1b5e20";
constexpr const char* kShortColor = "#e53935";
constexpr const char* kCostColor = "#6a3d9a";
constexpr const char* kFailedColor = "#b71c1c";

enum class Lifecycle { kSpot, kOnDemand, kOther };

// The pool key's first word says its lifecycle: "spot m5.large us-east-1a", "on-demand".
Lifecycle LifecycleOf(const std::string& pool) {
  auto starts = [&](const char* prefix) {
    std::string p = prefix;
    if (pool.size() < p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(pool[i])) != p[i]) return false;
    }
    return pool.size() == p.size() || pool[p.size()] == ' ' || pool[p.size()] == '-' ||
           pool[p.size()] == ':' || pool[p.size()] == '/';
  };
  if (starts("spot")) return Lifecycle::kSpot;
  if (starts("on-demand") || starts("ondemand") || starts("od")) return Lifecycle::kOnDemand;
  return Lifecycle::kOther;
}

std::string Percent(double ratio, int decimals) { return FormatFixed(ratio * 100, decimals) + "%"; }
std::string Usd(double v) { return "$" + FormatFixed(v, 2); }
std::string Count(double v) {
  return std::fabs(v - std::round(v)) < 1e-9 ? FormatFixed(v, 0) : FormatFixed(v, 1);
}

double Sum(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}

// The pools of one lifecycle as at most `cap` layers: the largest pools (by
// instance-samples) each, the rest summed into one "other" layer.
void AddLifecycleLayers(std::vector<const NamedSeries*> pools, size_t cap,
                        const char* const* colors, size_t n_colors, const char* other_label,
                        const char* other_color, size_t n_samples,
                        std::vector<ChartSeries>* layers) {
  if (pools.empty()) return;
  std::vector<const NamedSeries*> keep = pools, rest;
  if (pools.size() > cap) {
    std::stable_sort(pools.begin(), pools.end(), [](const NamedSeries* a, const NamedSeries* b) {
      return Sum(a->values) > Sum(b->values);
    });
    keep.assign(pools.begin(), pools.begin() + static_cast<std::ptrdiff_t>(cap - 1));
    rest.assign(pools.begin() + static_cast<std::ptrdiff_t>(cap - 1), pools.end());
    std::sort(keep.begin(), keep.end(),
              [](const NamedSeries* a, const NamedSeries* b) { return a->name < b->name; });
  }
  for (size_t i = 0; i < keep.size(); ++i) {
    layers->push_back({keep[i]->name, colors[i % n_colors], keep[i]->values, Reduce::kMean, false});
  }
  if (!rest.empty()) {
    ChartSeries other{fmt::format("{} ({} pools)", other_label, rest.size()), other_color,
                      std::vector<double>(n_samples, 0.0), Reduce::kMean, false};
    for (const NamedSeries* s : rest) {
      for (size_t i = 0; i < n_samples; ++i) other.values[i] += s->values[i];
    }
    layers->push_back(std::move(other));
  }
}

struct ServiceView {
  const ServiceSeries* series;
  double availability;  // from the run's services list, else from the series
  double lost;
};

// What one run's panel draws, built before rendering so scales can be shared.
struct RunView {
  const Run* run;
  ChartSpec capacity, services, cost, failed;
  ChartSeries desired_total, running_total;
  std::vector<ServiceView> worst;  // small multiples, worst availability first
  std::vector<ChartSpec> service_charts;
  std::vector<std::unique_ptr<ChartSeries>> keep_alive;  // band series of small multiples
};

ChartSpec BaseSpec(const std::string& kind, const Run& run, double t_end) {
  ChartSpec spec;
  spec.kind = kind;
  spec.policy = run.policy;
  spec.t_begin = 0;
  spec.t_end = t_end;
  spec.t = &run.series.t;
  spec.events = &run.events;
  return spec;
}

std::vector<ServiceView> ServicesWorstFirst(const Run& run) {
  std::map<std::string, const ServiceResult*> results;
  for (const auto& s : run.services) results[s.name] = &s;
  std::vector<ServiceView> out;
  for (const auto& s : run.series.services) {
    ServiceView v{&s, 1.0, 0};
    auto it = results.find(s.name);
    if (it != results.end()) {
      v.availability = it->second->availability;
      v.lost = it->second->tasks_lost_without_drain;
    } else {
      double desired = Sum(s.desired);
      if (desired > 0) v.availability = std::min(1.0, Sum(s.running) / desired);
    }
    out.push_back(v);
  }
  std::stable_sort(out.begin(), out.end(), [](const ServiceView& a, const ServiceView& b) {
    return a.availability < b.availability;
  });
  return out;
}

void BuildRunView(const Run& run, double t_end, RunView* v) {
  const size_t n = run.series.t.size();
  v->run = &run;

  v->capacity = BaseSpec("capacity", run, t_end);
  v->capacity.y_label = "instances";
  std::vector<const NamedSeries*> spot, on_demand, other;
  for (const auto& pool : run.series.capacity) {
    switch (LifecycleOf(pool.name)) {
      case Lifecycle::kSpot:
        spot.push_back(&pool);
        break;
      case Lifecycle::kOnDemand:
        on_demand.push_back(&pool);
        break;
      case Lifecycle::kOther:
        other.push_back(&pool);
        break;
    }
  }
  AddLifecycleLayers(spot, kMaxSpotLayers, kSpotColors, std::size(kSpotColors), "other spot",
                     "#9ecae1", n, &v->capacity.stacked);
  AddLifecycleLayers(other, kMaxOtherLayers, kOtherColors, std::size(kOtherColors), "other",
                     "#bbbbbb", n, &v->capacity.stacked);
  AddLifecycleLayers(on_demand, kMaxOnDemandLayers, kOnDemandColors, std::size(kOnDemandColors),
                     "other on-demand", "#fdd0a2", n, &v->capacity.stacked);

  v->desired_total = {"desired tasks", kDesiredColor, std::vector<double>(n, 0.0), Reduce::kMax,
                      true};
  v->running_total = {"running tasks", kRunningColor, std::vector<double>(n, 0.0), Reduce::kMin,
                      false};
  for (const auto& s : run.series.services) {
    for (size_t i = 0; i < n; ++i) {
      v->desired_total.values[i] += s.desired[i];
      v->running_total.values[i] += s.running[i];
    }
  }
  v->services = BaseSpec("services", run, t_end);
  v->services.y_label = "tasks (all services)";
  v->services.stacked = {v->running_total};
  v->services.lines = {v->desired_total};
  v->services.band_upper = &v->desired_total;
  v->services.band_lower = &v->running_total;
  v->services.band_color = kShortColor;
  v->services.event_tooltips = false;  // the capacity chart above has them

  v->cost = BaseSpec("cost", run, t_end);
  v->cost.y_label = "USD (cumulative)";
  v->cost.height = 200;
  v->cost.event_tooltips = false;
  v->cost.lines = {{"cost", kCostColor, run.series.cost, Reduce::kLast, false}};

  v->failed = BaseSpec("failed", run, t_end);
  v->failed.y_label = "requests (cumulative)";
  v->failed.height = 200;
  v->failed.event_tooltips = false;
  v->failed.lines = {
      {"failed requests", kFailedColor, run.series.failed_requests, Reduce::kLast, false}};

  std::vector<ServiceView> all = ServicesWorstFirst(run);
  v->worst.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(
                                                 std::min(all.size(), kMaxServiceCharts)));
  for (const ServiceView& s : v->worst) {
    ChartSpec spec = BaseSpec("service", run, t_end);
    spec.width = 300;
    spec.height = 130;
    spec.event_tooltips = false;
    spec.event_marks = false;
    auto desired = std::make_unique<ChartSeries>(
        ChartSeries{"desired", kDesiredColor, s.series->desired, Reduce::kMax, true});
    auto running = std::make_unique<ChartSeries>(
        ChartSeries{"running", kRunningColor, s.series->running, Reduce::kMin, false});
    spec.stacked = {*running};
    spec.lines = {*desired};
    spec.band_upper = desired.get();
    spec.band_lower = running.get();
    spec.band_color = kShortColor;
    v->keep_alive.push_back(std::move(desired));
    v->keep_alive.push_back(std::move(running));
    v->service_charts.push_back(std::move(spec));
  }
}

std::string Legend(const std::vector<ChartSeries>& items) {
  std::string out = "<ul class=\"legend\">";
  for (const auto& s : items) {
    out += fmt::format("<li><i class=\"{}\" style=\"background:{}\"></i>{}</li>",
                       s.dashed ? "dash" : "sw", s.color, EscapeHtml(s.label));
  }
  return out + "</ul>";
}

std::string EventLegend(const std::vector<Event>& events) {
  std::map<std::string, size_t> counts;
  for (const auto& e : events) ++counts[e.kind];
  std::string out = "<ul class=\"legend events\">";
  for (const auto& kind : EventKinds()) {
    auto it = counts.find(kind);
    out += fmt::format("<li><i class=\"ev\" style=\"background:{}\"></i>{} ({})</li>",
                       EventColor(kind), kind, it == counts.end() ? 0 : it->second);
  }
  return out + "</ul>";
}

std::string Figure(const std::string& title, const std::string& svg, const std::string& legend) {
  return fmt::format("<figure><figcaption>{}</figcaption>{}{}</figure>\n", title, svg, legend);
}

std::string SummaryTable(const SimResult& r) {
  struct Column {
    const char* title;
    double (*get)(const RunSummary&);
    int best;  // +1 higher is better, -1 lower is better, 0 none
  };
  const Column cols[] = {
      {"availability", [](const RunSummary& s) { return s.availability; }, +1},
      {"worst service", [](const RunSummary& s) { return s.worst_service_availability; }, +1},
      {"tasks lost (no drain)", [](const RunSummary& s) { return s.tasks_lost_without_drain; }, -1},
      {"min below target", [](const RunSummary& s) { return s.minutes_below_target; }, -1},
      {"interruptions", [](const RunSummary& s) { return s.interruptions; }, 0},
      {"spot inst.-h", [](const RunSummary& s) { return s.spot_instance_hours; }, 0},
      {"on-demand inst.-h", [](const RunSummary& s) { return s.on_demand_instance_hours; }, 0},
      {"cost", [](const RunSummary& s) { return s.cost; }, -1},
      {"all-on-demand cost", [](const RunSummary& s) { return s.all_on_demand_cost; }, 0},
      {"savings", [](const RunSummary& s) { return s.savings; }, +1},
      {"failed requests", [](const RunSummary& s) { return s.failed_requests; }, -1},
      {"failed per million", [](const RunSummary& s) { return s.failed_requests_per_million; }, -1},
  };
  std::string out = "<div class=\"scroll\"><table class=\"summary\"><thead><tr><th>policy</th>";
  for (const auto& c : cols) out += fmt::format("<th>{}</th>", c.title);
  out += "</tr></thead><tbody>\n";
  for (size_t i = 0; i < r.runs.size(); ++i) {
    const RunSummary& s = r.runs[i].summary;
    out += fmt::format("<tr><th><i class=\"sw\" style=\"background:{}\"></i>{}</th>",
                       kPolicyColors[i % std::size(kPolicyColors)], EscapeHtml(r.runs[i].policy));
    for (size_t c = 0; c < std::size(cols); ++c) {
      double v = cols[c].get(s);
      // Best: no run does better and some run does worse.
      bool best = cols[c].best != 0, someone_worse = false;
      for (const Run& other : r.runs) {
        double o = cols[c].get(other.summary);
        if (cols[c].best > 0 ? o > v : o < v) best = false;
        if (cols[c].best > 0 ? o < v : o > v) someone_worse = true;
      }
      best = best && someone_worse;
      std::string text;
      switch (c) {
        case 0:
          text = Percent(v, 3);
          break;
        case 1:
          text = EscapeHtml(s.worst_service) + " " + Percent(v, 2);
          break;
        case 5:
        case 6:
          text = FormatFixed(v, 1);
          break;
        case 3:
          text = FormatFixed(v, 1);
          break;
        case 7:
        case 8:
          text = Usd(v);
          break;
        case 9:
          text = Percent(v, 1);
          break;
        case 10:
          text = FormatFixed(v, 0);
          break;
        case 11:
          text = FormatFixed(v, 1);
          break;
        default:
          text = Count(v);
      }
      out += fmt::format("<td{}>{}</td>", best ? " class=\"best\"" : "", text);
    }
    out += "</tr>\n";
  }
  out += "</tbody></table></div>\n";
  return out;
}

// A measure's p50 with its p5-p95 range, and a bar of that range on a scale
// common to every policy ([lo, hi]).
std::string RangeCell(const Percentiles& p, double lo, double hi,
                      const std::function<std::string(double)>& text) {
  auto at = [&](double v) { return hi > lo ? 100 * (v - lo) / (hi - lo) : 50.0; };
  return fmt::format(
      "<td>{} <span class=\"meta\">({} – {})</span><div class=\"range\"><i "
      "style=\"left:{:.1f}%;width:{:.1f}%\"></i><b style=\"left:{:.1f}%\"></b></div></td>",
      text(p.p50), text(p.p5), text(p.p95), at(p.p5), std::max(0.5, at(p.p95) - at(p.p5)),
      at(p.p50));
}

std::string SpreadTable(const std::vector<Distribution>& d) {
  struct Column {
    const char* title;
    const Percentiles& (*get)(const Distribution&);
    std::string (*text)(double);
  };
  const Column cols[] = {
      {"availability", [](const Distribution& x) -> const Percentiles& { return x.availability; },
       [](double v) { return Percent(v, 3); }},
      {"tasks lost (no drain)",
       [](const Distribution& x) -> const Percentiles& { return x.tasks_lost_without_drain; },
       [](double v) { return FormatFixed(v, 1); }},
      {"cost", [](const Distribution& x) -> const Percentiles& { return x.cost; },
       [](double v) { return Usd(v); }},
      {"failed requests",
       [](const Distribution& x) -> const Percentiles& { return x.failed_requests; },
       [](double v) { return FormatFixed(v, 0); }},
  };
  std::string out = fmt::format(
      "<h2>Spread over {} seeds</h2>\n<p class=\"note\">Each policy under every seed: the median "
      "(p50), and from the 5th to the 95th percentile as a bar, on one scale per column.</p>\n"
      "<div class=\"scroll\"><table class=\"summary spread\"><thead><tr><th>policy</th>",
      Count(d.front().seeds));
  for (const Column& c : cols) out += fmt::format("<th>{}</th>", c.title);
  out += "</tr></thead><tbody>\n";
  for (size_t i = 0; i < d.size(); ++i) {
    out += fmt::format("<tr><th><i class=\"sw\" style=\"background:{}\"></i>{}</th>",
                       kPolicyColors[i % std::size(kPolicyColors)], EscapeHtml(d[i].policy));
    for (const Column& c : cols) {
      double lo = c.get(d[i]).p5, hi = c.get(d[i]).p95;
      for (const Distribution& other : d) {
        lo = std::min(lo, c.get(other).p5);
        hi = std::max(hi, c.get(other).p95);
      }
      out += RangeCell(c.get(d[i]), lo, hi, c.text);
    }
    out += "</tr>\n";
  }
  return out + "</tbody></table></div>\n";
}

std::string ServiceTable(const Run& run) {
  std::vector<ServiceResult> rows = run.services;
  std::stable_sort(rows.begin(), rows.end(), [](const ServiceResult& a, const ServiceResult& b) {
    return a.availability < b.availability;
  });
  std::string out =
      "<table class=\"services\"><thead><tr><th>service</th><th>availability</th>"
      "<th>tasks lost without drain</th><th>requests served</th><th>failed requests</th>"
      "<th>failed per million</th></tr></thead><tbody>";
  for (size_t i = 0; i < rows.size() && i < kMaxServiceRows; ++i) {
    const ServiceResult& r = rows[i];
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        EscapeHtml(r.name), Percent(r.availability, 3), Count(r.tasks_lost_without_drain),
        FormatFixed(r.requests_served, 0), FormatFixed(r.failed_requests, 0),
        FormatFixed(r.failed_requests_per_million, 1));
  }
  out += "</tbody></table>";
  if (rows.size() > kMaxServiceRows) {
    out += fmt::format("<p class=\"note\">{} more services, all with higher availability.</p>",
                       rows.size() - kMaxServiceRows);
  }
  return out;
}

std::string EventTable(const Run& run) {
  if (run.events.empty()) return "<p class=\"note\">No events.</p>";
  std::vector<const Event*> events;
  for (const auto& e : run.events) events.push_back(&e);
  std::stable_sort(events.begin(), events.end(),
                   [](const Event* a, const Event* b) { return a->t < b->t; });
  std::string out = fmt::format(
      "<details><summary>{} events</summary><table class=\"events\">"
      "<thead><tr><th>t (s)</th><th>kind</th><th>pool</th>"
      "<th>instance</th></tr></thead><tbody>",
      events.size());
  for (size_t i = 0; i < events.size() && i < kMaxEventRows; ++i) {
    const Event& e = *events[i];
    out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", Count(e.t),
                       EscapeHtml(e.kind), EscapeHtml(e.pool), EscapeHtml(e.instance));
  }
  out += "</tbody></table>";
  if (events.size() > kMaxEventRows) {
    out +=
        fmt::format("<p class=\"note\">First {} of {} events.</p>", kMaxEventRows, events.size());
  }
  return out + "</details>";
}

std::string RunPanel(const RunView& v, size_t index) {
  const Run& run = *v.run;
  std::string out = fmt::format("<section class=\"panel\" id=\"panel-{}\">\n<h2>{}</h2>\n", index,
                                EscapeHtml(run.policy));
  const RunSummary& s = run.summary;
  out += fmt::format(
      "<p class=\"kpi\">availability <b>{}</b> · tasks lost without drain <b>{}</b> · "
      "failed requests <b>{}</b> ({} per million) · minutes below target <b>{}</b> · cost "
      "<b>{}</b> (savings {})</p>\n",
      Percent(s.availability, 3), Count(s.tasks_lost_without_drain),
      FormatFixed(s.failed_requests, 0), FormatFixed(s.failed_requests_per_million, 1),
      FormatFixed(s.minutes_below_target, 1), Usd(s.cost), Percent(s.savings, 1));

  std::string target;
  if (!run.series.target_units.empty()) {
    auto [lo, hi] =
        std::minmax_element(run.series.target_units.begin(), run.series.target_units.end());
    target = *lo == *hi ? fmt::format(" · target capacity {} units", Count(*lo))
                        : fmt::format(" · target capacity {} to {} units", Count(*lo), Count(*hi));
  }
  std::string cap_legend = Legend(v.capacity.stacked);
  if (v.capacity.stacked.empty()) cap_legend = "<p class=\"note\">No capacity pools.</p>";
  out += Figure("Running instances by lifecycle and pool (spot below, on-demand on top)" + target,
                RenderChart(v.capacity), cap_legend + EventLegend(run.events));
  out += Figure("Running against desired tasks, all services (red: tasks missing)",
                RenderChart(v.services),
                Legend({v.running_total,
                        v.desired_total,
                        {"missing (desired − running)", kShortColor, {}, Reduce::kMean, false}}));

  out += fmt::format(
      "<h3>Per service, worst availability first ({} of {})</h3>\n<div class=\"multiples\">",
      v.worst.size(), run.series.services.size());
  for (size_t i = 0; i < v.worst.size(); ++i) {
    out += fmt::format("<figure><figcaption>{} <span>{}</span></figcaption>{}</figure>",
                       EscapeHtml(v.worst[i].series->name), Percent(v.worst[i].availability, 2),
                       RenderChart(v.service_charts[i]));
  }
  if (v.worst.empty()) out += "<p class=\"note\">No services.</p>";
  out += "</div>\n";
  out +=
      Figure(fmt::format("Cumulative cost (USD), final {}", Usd(s.cost)), RenderChart(v.cost), "");
  out += Figure(fmt::format("Failed requests, cumulative (load-balanced services), final {}",
                            FormatFixed(s.failed_requests, 0)),
                RenderChart(v.failed), "");
  out += "<h3>Services</h3>" + ServiceTable(run) + "\n<h3>Events</h3>" + EventTable(run);
  return out + "\n</section>\n";
}

// Charts with every policy on one axis: cost, missing tasks and failed requests.
std::string Comparison(const std::vector<RunView>& views, double t_end) {
  if (views.size() < 2) return "";
  // Both charts need one time base; runs of one simulation share it, so the first
  // run's is used and a run sampled differently is left out of the overlay.
  const std::vector<double>& t = views[0].run->series.t;
  ChartSpec cost, missing, failed;
  cost.kind = "compare-cost";
  missing.kind = "compare-missing";
  failed.kind = "compare-failed";
  for (ChartSpec* spec : {&cost, &missing, &failed}) {
    spec->t = &t;
    spec->t_end = t_end;
    spec->height = 220;
  }
  cost.y_label = "USD (cumulative)";
  missing.y_label = "tasks missing";
  failed.y_label = "requests (cumulative)";
  std::string skipped;
  for (size_t i = 0; i < views.size(); ++i) {
    const Run& run = *views[i].run;
    const char* color = kPolicyColors[i % std::size(kPolicyColors)];
    if (run.series.t != t) {
      skipped += (skipped.empty() ? "" : ", ") + EscapeHtml(run.policy);
      continue;
    }
    cost.lines.push_back({run.policy, color, run.series.cost, Reduce::kLast, false});
    ChartSeries m{run.policy, color, std::vector<double>(t.size(), 0.0), Reduce::kMax, false};
    for (size_t k = 0; k < t.size(); ++k) {
      m.values[k] =
          std::max(0.0, views[i].desired_total.values[k] - views[i].running_total.values[k]);
    }
    missing.lines.push_back(std::move(m));
    failed.lines.push_back({run.policy, color, run.series.failed_requests, Reduce::kLast, false});
  }
  std::string out = "<section class=\"compare\"><h2>Policies compared</h2><div class=\"pair\">";
  out += Figure("Cumulative cost (USD)", RenderChart(cost), Legend(cost.lines));
  out += Figure("Tasks missing (desired − running, all services)", RenderChart(missing),
                Legend(missing.lines));
  out += Figure("Failed requests, cumulative (load-balanced services)", RenderChart(failed),
                Legend(failed.lines));
  out += "</div>";
  if (!skipped.empty()) {
    out += "<p class=\"note\">Not overlaid (sampled at other times): " + skipped + ".</p>";
  }
  return out + "</section>\n";
}

const char* kStyle = R"css(
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:18px 0 6px}h3{font-size:15px;margin:14px 0 6px}
.meta,.note{color:#555}.note{font-size:12px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th:first-child,td:first-child{text-align:left}thead th{background:#f3f3f3;font-weight:600}
td.best{font-weight:700;background:#e8f5e9}
.scroll{overflow-x:auto}.summary th{white-space:nowrap}.summary thead th{white-space:normal}
.summary th i.sw{display:inline-block;width:10px;height:10px;margin-right:6px}
figure{margin:8px 0 14px}figcaption{font-weight:600;margin-bottom:2px}
svg.chart{width:100%;height:auto;display:block;font-size:11px}
.grid line{stroke:#e4e4e4}.grid text{fill:#555}.yl{text-anchor:end}.xl{text-anchor:middle}
.frame{fill:none;stroke:#bbb}.axis-title{text-anchor:middle;fill:#555}.nodata{text-anchor:middle;fill:#999;font-size:14px}
polyline.line{fill:none;stroke-width:1.6}polyline.dashed{stroke-dasharray:5 3}
polygon.band{opacity:.75}
path.evr{fill:none;stroke-width:1;opacity:.55}path.evr.ev-mass-reclaim,path.evr.ev-pool-dry,path.evr.ev-pool-restored{stroke-width:2;stroke-dasharray:4 3;opacity:.8}
ul.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:wrap;gap:2px 14px;font-size:12px}
ul.legend i{display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-2px}
ul.legend i.dash{height:3px;vertical-align:3px}ul.legend i.ev{width:3px}
.multiples{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:4px 14px}
.multiples figure{margin:2px 0}.multiples figcaption{font-weight:400;font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.multiples figcaption span{color:#555}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:0 24px}
.tabs>input{position:absolute;opacity:0}
.tabs>label{display:inline-block;padding:6px 14px;border:1px solid #ccc;border-bottom:none;border-radius:6px 6px 0 0;background:#f3f3f3;cursor:pointer;margin-right:2px}
.tabs>input:checked+label{background:#fff;font-weight:700;border-color:#888}
.panels{border-top:1px solid #888;padding-top:4px}
.panel{display:none;min-width:0}
#tab-all:checked~.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:0 28px}
#tab-all:checked~.panels .panel{display:block}
details summary{cursor:pointer}
.range{position:relative;height:8px;min-width:120px;background:#f3f3f3;margin-top:3px}
.range i{position:absolute;top:0;height:8px;background:#90caf9}.range b{position:absolute;top:-2px;width:2px;height:12px;background:#0d47a1}
)css";

}  // namespace

Result<std::string> RenderHtmlReport(const nlohmann::json& result) {
  SPK_ASSIGN_OR_RETURN(SimResult r, ParseSimResult(result));

  double t_end = r.scenario.duration_s;
  for (const Run& run : r.runs) {
    if (!run.series.t.empty()) t_end = std::max(t_end, run.series.t.back());
  }
  if (t_end <= 0) t_end = std::max(1.0, r.scenario.sample_interval_s);

  std::vector<RunView> views(r.runs.size());
  for (size_t i = 0; i < r.runs.size(); ++i) BuildRunView(r.runs[i], t_end, &views[i]);
  // One y scale per chart kind across policies, so panels compare at a glance.
  double cap_max = 0, svc_max = 0, cost_max = 0, failed_max = 0;
  std::map<std::string, double> per_service_max;
  for (const RunView& v : views) {
    cap_max = std::max(cap_max, DataMax(v.capacity));
    svc_max = std::max(svc_max, DataMax(v.services));
    cost_max = std::max(cost_max, DataMax(v.cost));
    failed_max = std::max(failed_max, DataMax(v.failed));
    for (size_t i = 0; i < v.worst.size(); ++i) {
      double& m = per_service_max[v.worst[i].series->name];
      m = std::max(m, DataMax(v.service_charts[i]));
    }
  }
  for (RunView& v : views) {
    v.capacity.y_max = cap_max;
    v.services.y_max = svc_max;
    v.cost.y_max = cost_max;
    v.failed.y_max = failed_max;
    for (size_t i = 0; i < v.worst.size(); ++i) {
      v.service_charts[i].y_max = per_service_max[v.worst[i].series->name];
    }
  }

  const ScenarioInfo& sc = r.scenario;
  std::string out;
  out.reserve(64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  // Nothing may load from anywhere, and no script may run.
  out +=
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += fmt::format("<title>spotkeeper simulation: {}</title>\n", EscapeHtml(sc.name));
  // The CSS for each policy tab: its radio button shows its panel.
  std::string tab_css;
  for (size_t i = 0; i < views.size(); ++i) {
    tab_css += fmt::format("#tab-{0}:checked~.panels #panel-{0}{{display:block}}\n", i);
  }
  out += fmt::format("<style>{}{}</style>\n</head>\n<body>\n", kStyle, tab_css);
  out += fmt::format("<h1>spotkeeper simulation: {}</h1>\n", EscapeHtml(sc.name));
  if (!sc.description.empty()) out += fmt::format("<p>{}</p>\n", EscapeHtml(sc.description));
  out += fmt::format(
      "<p class=\"meta\">seed {} · duration {} s ({} h) · sampled every {} s · {} "
      "polic{}</p>\n",
      Count(sc.seed), Count(sc.duration_s), FormatFixed(sc.duration_s / 3600, 1),
      Count(sc.sample_interval_s), r.runs.size(), r.runs.size() == 1 ? "y" : "ies");

  out += "<h2>Summary</h2>\n";
  if (r.runs.empty()) {
    out += "<p class=\"note\">The result has no runs.</p>\n</body>\n</html>\n";
    return out;
  }
  out += SummaryTable(r);
  if (!r.distribution.empty()) out += SpreadTable(r.distribution);
  out += Comparison(views, t_end);

  out += "<h2>Policies</h2>\n<div class=\"tabs\">\n";
  out +=
      "<input type=\"radio\" name=\"policy\" id=\"tab-all\" checked>"
      "<label for=\"tab-all\">all, side by side</label>\n";
  for (size_t i = 0; i < views.size(); ++i) {
    out += fmt::format(
        "<input type=\"radio\" name=\"policy\" id=\"tab-{0}\">"
        "<label for=\"tab-{0}\">{1}</label>\n",
        i, EscapeHtml(r.runs[i].policy));
  }
  out += "<div class=\"panels\">\n";
  for (size_t i = 0; i < views.size(); ++i) out += RunPanel(views[i], i);
  out += "</div>\n</div>\n";
  out += fmt::format(
      "<p class=\"note\">Charts draw about one point per two pixels. With more samples than that, "
      "a point stands for a bucket of samples: instances per pool show the bucket's mean, running "
      "tasks its minimum, desired tasks its maximum, cost and failed requests their last value. "
      "Failed requests: sent to a target that died before its health checks took it out, in "
      "flight on a target that died, shed by too few tasks, or with no target. Markers on the "
      "time "
      "axis: spot interruptions (red), rebalance recommendations (amber), capacity "
      "rebalancing's replacements (magenta) and terminations (brown), pool-wide events "
      "(dashed: mass reclaim, pool dry, pool restored); hover a marker above the capacity chart "
      "for the events it stands for. At most {} spot, {} on-demand pools are drawn apart; the rest "
      "are summed.</p>\n",
      kMaxSpotLayers, kMaxOnDemandLayers);
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace spk::report
