// CloudWatchClient: reading and writing metrics over the query protocol
// (Version 2010-08-01; request lists as "Name.member.N"), which every endpoint
// and moto_server serve. Shapes checked against botocore's cloudwatch/2010-08-01
// model. Errors: the AwsClient's Status (error.h). Thread-safe (as AwsClient).
//
// The reference system reads AWS/EC2Spot metrics (namespace "AWS/EC2Spot",
// dimension FleetRequestId, e.g. PendingCapacity, FulfilledCapacity,
// TargetCapacity). moto_server has none built in: tests put them with
// PutMetricData first.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aws/client.h"
#include "base/clock.h"
#include "base/status.h"

namespace spk::aws {

struct MetricDimension {
  std::string name;
  std::string value;
};

struct GetMetricStatisticsRequest {
  std::string namespace_;  // "AWS/EC2Spot"
  std::string metric_name;
  std::vector<MetricDimension> dimensions;
  WallTime start_time;
  WallTime end_time;
  int64_t period_seconds = 60;
  // "SampleCount", "Average", "Sum", "Minimum", "Maximum" (at most 5).
  std::vector<std::string> statistics = {"Average"};
  std::string unit;  // "" for any
};

struct Datapoint {
  WallTime timestamp;
  std::optional<double> sample_count;
  std::optional<double> average;
  std::optional<double> sum;
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::string unit;
};

// One MetricDataQuery: either a metric with a statistic, or an expression.
struct MetricDataQuery {
  std::string id;  // starts with a lower-case letter
  // Metric form:
  std::string namespace_;
  std::string metric_name;
  std::vector<MetricDimension> dimensions;
  int64_t period_seconds = 60;
  std::string stat;  // "Maximum", "Average", "p99", ...
  std::string unit;
  // Expression form (when non-empty the metric fields are ignored):
  std::string expression;
  std::string label;
  bool return_data = true;
};

struct MetricDataResult {
  std::string id;
  std::string label;
  std::string status_code;  // Complete | InternalError | PartialData | Forbidden
  // Points as the service returns them (newest first unless asked otherwise);
  // timestamps[i] goes with values[i].
  std::vector<WallTime> timestamps;
  std::vector<double> values;
};

struct MetricDatum {
  std::string metric_name;
  std::vector<MetricDimension> dimensions;
  double value = 0;
  std::optional<WallTime> timestamp;  // absent: the time the service receives it
  std::string unit;                   // "Count", "Seconds", ...; "" for None
  int storage_resolution = 0;         // 1 for high resolution; 0: not sent (60)
};

class CloudWatchClient {
 public:
  // `client` must outlive this object.
  explicit CloudWatchClient(AwsClient& client) : client_(client) {}

  // Datapoints of one metric, sorted by timestamp (oldest first; the service
  // returns them unordered).
  Result<std::vector<Datapoint>> GetMetricStatistics(const GetMetricStatisticsRequest& request);

  // Results of up to 500 queries (the API's limit; more is kInvalidArgument:
  // splitting would break expressions that refer to other queries' ids), all
  // pages merged per query id, in the order of `queries`' returned results.
  Result<std::vector<MetricDataResult>> GetMetricData(const std::vector<MetricDataQuery>& queries,
                                                      WallTime start_time, WallTime end_time);

  // Publishes `data` under `namespace_`, 1000 data per call (the API's limit);
  // stops at the first failing batch.
  Status PutMetricData(const std::string& namespace_, const std::vector<MetricDatum>& data);

 private:
  AwsClient& client_;
};

}  // namespace spk::aws
