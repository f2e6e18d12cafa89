// MetricsRegistry: counters, gauges and histograms with labels, rendered in
// the Prometheus text exposition format (version 0.0.4), written here: Debian
// has no Prometheus client library for C++.
//
//   MetricsRegistry m;
//   m.DefineCounter("spotkeeper_drains_total", "Container instances set to DRAINING.");
//   m.Add("spotkeeper_drains_total", {}, 1);
//   m.Render();
//   # HELP spotkeeper_drains_total Container instances set to DRAINING.
//   # TYPE spotkeeper_drains_total counter
//   spotkeeper_drains_total 1
//
// Families render in the order they were defined, series in label order.
// Label values are escaped (\\, \", \n); HELP text escapes \\ and \n.
// Histograms render cumulative `_bucket{le="..."}` series ending with
// le="+Inf", then `_sum` and `_count`. Thread-safe: the loop updates while
// the /metrics handler renders.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace spk::controller {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  void DefineCounter(const std::string& name, const std::string& help);
  void DefineGauge(const std::string& name, const std::string& help);
  // `buckets`: upper bounds, ascending (+Inf is added).
  void DefineHistogram(const std::string& name, const std::string& help,
                       std::vector<double> buckets);

  // Counter += value (value >= 0). A name not defined (or of another type) is ignored.
  void Add(const std::string& name, const MetricLabels& labels, double value = 1);
  // Counter mirrored from a total kept elsewhere (e.g. AwsClient stats): sets it.
  void SetTotal(const std::string& name, const MetricLabels& labels, double value);
  // Gauge = value.
  void Set(const std::string& name, const MetricLabels& labels, double value);
  // Histogram observation.
  void Observe(const std::string& name, const MetricLabels& labels, double value);

  // Drops one series (it is no longer rendered); nothing when absent.
  void Remove(const std::string& name, const MetricLabels& labels);
  // The label sets of a family's series, in label order.
  std::vector<MetricLabels> SeriesOf(const std::string& name) const;

  // The value of a counter or gauge series (0 when absent), or a histogram's
  // count. For tests.
  double Value(const std::string& name, const MetricLabels& labels = {}) const;

  // The whole exposition, text format 0.0.4.
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;                   // counter, gauge
    std::vector<uint64_t> bucket_hits;  // histogram, per bucket (not cumulative)
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    std::string name;
    std::string help;
    Type type = Type::kCounter;
    std::vector<double> buckets;
    std::map<MetricLabels, Series> series;
  };
  Family* Find(const std::string& name, Type type);
  const Family* Find(const std::string& name) const;
  void Define(const std::string& name, const std::string& help, Type type,
              std::vector<double> buckets);

  mutable std::mutex mu_;
  std::vector<Family> families_;
};

// Prometheus text-format helpers (exposed for tests).
std::string EscapeLabelValue(const std::string& value);
std::string EscapeHelp(const std::string& help);
// "1", "0.25", "1e+06", "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double value);

}  // namespace spk::controller
