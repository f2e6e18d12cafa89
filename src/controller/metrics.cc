#include "controller/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace spk::controller {

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  // Shortest representation that reads back the same.
  for (int precision = 1; precision <= 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof shorter, "%.*g", precision, value);
    if (std::strtod(shorter, nullptr) == value) return shorter;
  }
  return buf;
}

namespace {

std::string LabelText(const MetricLabels& labels, const std::string& le = "") {
  if (labels.empty() && le.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (!le.empty()) {
    if (!first) out += ",";
    out += "le=\"" + le + "\"";
  }
  return out + "}";
}

}  // namespace

void MetricsRegistry::Define(const std::string& name, const std::string& help, Type type,
                             std::vector<double> buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Family& f : families_) {
    if (f.name == name) return;
  }
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  if (!buckets.empty() && std::isinf(buckets.back())) buckets.pop_back();
  Family f;
  f.name = name;
  f.help = help;
  f.type = type;
  f.buckets = std::move(buckets);
  families_.push_back(std::move(f));
}

void MetricsRegistry::DefineCounter(const std::string& name, const std::string& help) {
  Define(name, help, Type::kCounter, {});
}
void MetricsRegistry::DefineGauge(const std::string& name, const std::string& help) {
  Define(name, help, Type::kGauge, {});
}
void MetricsRegistry::DefineHistogram(const std::string& name, const std::string& help,
                                      std::vector<double> buckets) {
  Define(name, help, Type::kHistogram, std::move(buckets));
}

MetricsRegistry::Family* MetricsRegistry::Find(const std::string& name, Type type) {
  for (Family& f : families_) {
    if (f.name == name) return f.type == type ? &f : nullptr;
  }
  return nullptr;
}

const MetricsRegistry::Family* MetricsRegistry::Find(const std::string& name) const {
  for (const Family& f : families_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void MetricsRegistry::Add(const std::string& name, const MetricLabels& labels, double value) {
  if (!(value >= 0)) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (Family* f = Find(name, Type::kCounter)) f->series[labels].value += value;
}

void MetricsRegistry::SetTotal(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Family* f = Find(name, Type::kCounter)) f->series[labels].value = value;
}

void MetricsRegistry::Set(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Family* f = Find(name, Type::kGauge)) f->series[labels].value = value;
}

void MetricsRegistry::Observe(const std::string& name, const MetricLabels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* f = Find(name, Type::kHistogram);
  if (!f) return;
  Series& s = f->series[labels];
  s.bucket_hits.resize(f->buckets.size());
  auto it = std::lower_bound(f->buckets.begin(), f->buckets.end(), value);
  if (it != f->buckets.end()) ++s.bucket_hits[it - f->buckets.begin()];
  ++s.count;
  s.sum += value;
}

void MetricsRegistry::Remove(const std::string& name, const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Family& f : families_) {
    if (f.name == name) f.series.erase(labels);
  }
}

std::vector<MetricLabels> MetricsRegistry::SeriesOf(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<MetricLabels> out;
  if (const Family* f = Find(name)) {
    for (const auto& [labels, series] : f->series) out.push_back(labels);
  }
  return out;
}

double MetricsRegistry::Value(const std::string& name, const MetricLabels& labels) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Family* f = Find(name);
  if (!f) return 0;
  auto it = f->series.find(labels);
  if (it == f->series.end()) return 0;
  return f->type == Type::kHistogram ? static_cast<double>(it->second.count) : it->second.value;
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const Family& f : families_) {
    const char* type = f.type == Type::kCounter ? "counter"
                       : f.type == Type::kGauge ? "gauge"
                                                : "histogram";
    out += "# HELP " + f.name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + f.name + " " + type + "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::kHistogram) {
        out += f.name + LabelText(labels) + " " + FormatMetricValue(s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.buckets.size(); ++i) {
        cumulative += i < s.bucket_hits.size() ? s.bucket_hits[i] : 0;
        out += f.name + "_bucket" + LabelText(labels, FormatMetricValue(f.buckets[i])) + " " +
               std::to_string(cumulative) + "\n";
      }
      out += f.name + "_bucket" + LabelText(labels, "+Inf") + " " + std::to_string(s.count) + "\n";
      out += f.name + "_sum" + LabelText(labels) + " " + FormatMetricValue(s.sum) + "\n";
      out += f.name + "_count" + LabelText(labels) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace spk::controller
