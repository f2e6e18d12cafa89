#include "aws/cloudwatch.h"

#include <algorithm>
#include <map>

#include "aws/service_util.h"

namespace spk::aws {

using internal::XmlFields;

namespace {

constexpr size_t kMaxQueriesPerCall = 500;
constexpr size_t kMaxDataPerCall = 1000;

void AddDimensions(QueryParams& params, const std::string& prefix,
                   const std::vector<MetricDimension>& dims) {
  for (size_t i = 0; i < dims.size(); ++i) {
    std::string p = prefix + ".member." + std::to_string(i + 1);
    params[p + ".Name"] = dims[i].name;
    params[p + ".Value"] = dims[i].value;
  }
}

}  // namespace

Result<std::vector<Datapoint>> CloudWatchClient::GetMetricStatistics(
    const GetMetricStatisticsRequest& request) {
  static const std::string kAction = "GetMetricStatistics";
  QueryParams params{{"Namespace", request.namespace_},
                     {"MetricName", request.metric_name},
                     {"StartTime", FormatIso8601(request.start_time)},
                     {"EndTime", FormatIso8601(request.end_time)},
                     {"Period", std::to_string(request.period_seconds)}};
  AddDimensions(params, "Dimensions", request.dimensions);
  internal::AddList(params, "Statistics.member", request.statistics);
  if (!request.unit.empty()) params["Unit"] = request.unit;
  SPK_ASSIGN_OR_RETURN(XmlReply reply, client_.CallQuery(services::CloudWatch(), kAction, params));
  SPK_ASSIGN_OR_RETURN(pugi::xml_node result, internal::QueryResultNode(reply, kAction));
  std::vector<Datapoint> out;
  for (pugi::xml_node m : result.child("Datapoints").children("member")) {
    XmlFields f(m, "Datapoint");
    Datapoint d;
    auto ts = f.OptTime("Timestamp");
    d.sample_count = f.OptDouble("SampleCount");
    d.average = f.OptDouble("Average");
    d.sum = f.OptDouble("Sum");
    d.minimum = f.OptDouble("Minimum");
    d.maximum = f.OptDouble("Maximum");
    d.unit = f.Str("Unit");
    SPK_RETURN_IF_ERROR(f.status());
    if (!ts) return InternalError("reply's Datapoint has no Timestamp");
    d.timestamp = *ts;
    out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(), [](const Datapoint& a, const Datapoint& b) {
    return a.timestamp < b.timestamp;
  });
  return out;
}

Result<std::vector<MetricDataResult>> CloudWatchClient::GetMetricData(
    const std::vector<MetricDataQuery>& queries, WallTime start_time, WallTime end_time) {
  static const std::string kAction = "GetMetricData";
  if (queries.empty()) return std::vector<MetricDataResult>{};
  if (queries.size() > kMaxQueriesPerCall) {
    return InvalidArgumentError("GetMetricData: " + std::to_string(queries.size()) +
                                " queries, at most 500 per call");
  }
  QueryParams base{{"StartTime", FormatIso8601(start_time)}, {"EndTime", FormatIso8601(end_time)}};
  for (size_t i = 0; i < queries.size(); ++i) {
    const MetricDataQuery& q = queries[i];
    std::string p = "MetricDataQueries.member." + std::to_string(i + 1);
    base[p + ".Id"] = q.id;
    if (!q.expression.empty()) {
      base[p + ".Expression"] = q.expression;
      base[p + ".Period"] = std::to_string(q.period_seconds);
    } else {
      base[p + ".MetricStat.Metric.Namespace"] = q.namespace_;
      base[p + ".MetricStat.Metric.MetricName"] = q.metric_name;
      AddDimensions(base, p + ".MetricStat.Metric.Dimensions", q.dimensions);
      base[p + ".MetricStat.Period"] = std::to_string(q.period_seconds);
      base[p + ".MetricStat.Stat"] = q.stat;
      if (!q.unit.empty()) base[p + ".MetricStat.Unit"] = q.unit;
    }
    if (!q.label.empty()) base[p + ".Label"] = q.label;
    base[p + ".ReturnData"] = internal::FormatBool(q.return_data);
  }

  std::vector<MetricDataResult> out;
  std::map<std::string, size_t> index;  // id -> position in out
  Status st = internal::FollowPages([&](const std::string& token) -> Result<std::string> {
    QueryParams params = base;
    if (!token.empty()) params["NextToken"] = token;
    SPK_ASSIGN_OR_RETURN(XmlReply reply,
                         client_.CallQuery(services::CloudWatch(), kAction, params));
    SPK_ASSIGN_OR_RETURN(pugi::xml_node result, internal::QueryResultNode(reply, kAction));
    for (pugi::xml_node m : result.child("MetricDataResults").children("member")) {
      XmlFields f(m, "MetricDataResult");
      std::string id = f.Str("Id");
      auto [it, inserted] = index.emplace(id, out.size());
      if (inserted) {
        out.emplace_back();
        out.back().id = id;
      }
      MetricDataResult& r = out[it->second];
      if (r.label.empty()) r.label = f.Str("Label");
      r.status_code = f.Str("StatusCode");
      for (pugi::xml_node t : m.child("Timestamps").children("member")) {
        WallTime ts;
        if (!ParseIso8601(t.text().get(), &ts)) {
          return InternalError("reply's MetricDataResult(" + id + ").Timestamps has \"" +
                               t.text().get() + "\"");
        }
        r.timestamps.push_back(ts);
      }
      for (pugi::xml_node v : m.child("Values").children("member")) {
        auto d = internal::ParseDouble(v.text().get());
        if (!d) {
          return InternalError("reply's MetricDataResult(" + id + ").Values has \"" +
                               v.text().get() + "\"");
        }
        r.values.push_back(*d);
      }
      if (r.timestamps.size() != r.values.size()) {
        return InternalError("reply's MetricDataResult(" + id + ") has " +
                             std::to_string(r.timestamps.size()) + " timestamps but " +
                             std::to_string(r.values.size()) + " values");
      }
    }
    return std::string(result.child("NextToken").text().get());
  });
  if (!st.ok()) return st;
  return out;
}

Status CloudWatchClient::PutMetricData(const std::string& namespace_,
                                       const std::vector<MetricDatum>& data) {
  auto batches_total = (data.size() + kMaxDataPerCall - 1) / kMaxDataPerCall;
  for (size_t b = 0; b < batches_total; ++b) {
    QueryParams params{{"Namespace", namespace_}};
    size_t end = std::min(data.size(), (b + 1) * kMaxDataPerCall);
    for (size_t i = b * kMaxDataPerCall, n = 1; i < end; ++i, ++n) {
      const MetricDatum& d = data[i];
      std::string p = "MetricData.member." + std::to_string(n);
      params[p + ".MetricName"] = d.metric_name;
      AddDimensions(params, p + ".Dimensions", d.dimensions);
      params[p + ".Value"] = internal::FormatDouble(d.value);
      if (d.timestamp) params[p + ".Timestamp"] = FormatIso8601(*d.timestamp, /*millis=*/true);
      if (!d.unit.empty()) params[p + ".Unit"] = d.unit;
      if (d.storage_resolution > 0) {
        params[p + ".StorageResolution"] = std::to_string(d.storage_resolution);
      }
    }
    auto reply = client_.CallQuery(services::CloudWatch(), "PutMetricData", params);
    if (!reply.ok()) {
      if (batches_total == 1) return reply.status();
      return reply.status().WithContext("batch " + std::to_string(b + 1) + " of " +
                                        std::to_string(batches_total));
    }
  }
  return Status::Ok();
}

}  // namespace spk::aws
