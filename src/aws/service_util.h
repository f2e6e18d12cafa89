// Helpers shared by the typed service clients (ec2.h, ecs.h, ...): reading
// fields of query-protocol XML replies and JSON replies strictly, formatting
// query parameters, following pagination tokens and splitting batches.
//
// Strictness: a field the caller decides on (a capacity, a count) that is
// absent or malformed is an error (kInternal naming the field), never a silent
// 0; the reference system's "failed read becomes capacity 0" is the defect this
// avoids. Optional fields read as std::optional or "".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "aws/client.h"
#include "base/clock.h"
#include "base/status.h"

namespace spk::aws::internal {

// Parses a whole string as a number; nullopt when malformed or empty.
std::optional<int64_t> ParseInt(const std::string& s);
std::optional<double> ParseDouble(const std::string& s);
// `d` as an integer when it is one that int64_t holds; nullopt otherwise
// (a fraction, NaN, infinity, or out of range: converting those is undefined).
std::optional<int64_t> IntegralDouble(double d);
// Epoch seconds as a WallTime when they are a time from 1970 to 2200 (as
// ISO 8601 times; the clock overflows in 2262); nullopt otherwise.
std::optional<WallTime> EpochSeconds(double seconds);
// "true"/"false" (any case); nullopt otherwise.
std::optional<bool> ParseBool(const std::string& s);

// A double as the shortest text that reads back the same ("2", "0.5", "1e-05").
std::string FormatDouble(double v);
// An integer or "true"/"false" as a query parameter value.
inline std::string FormatBool(bool b) { return b ? "true" : "false"; }

// The element of a query reply that holds the result: <ActionResult> inside
// <ActionResponse> for the query protocol, <ActionResponse> itself for EC2.
// kInternal when the reply's root is not <ActionResponse>.
Result<pugi::xml_node> QueryResultNode(const XmlReply& reply, const std::string& action);

// Reads the direct children of one XML element; remembers the first problem.
class XmlFields {
 public:
  // `what` names the element in error messages ("SpotFleetRequestConfig").
  XmlFields(pugi::xml_node node, std::string what) : node_(node), what_(std::move(what)) {}

  bool Has(const char* name) const;
  // Text of the child; "" when absent.
  std::string Str(const char* name) const;
  // Required: absent or malformed records an error and returns 0.
  int64_t Int(const char* name);
  double Double(const char* name);
  // Optional: nullopt when absent; malformed records an error.
  std::optional<int64_t> OptInt(const char* name);
  std::optional<double> OptDouble(const char* name);
  std::optional<bool> OptBool(const char* name);
  bool Bool(const char* name, bool fallback) { return OptBool(name).value_or(fallback); }
  // ISO 8601 timestamp; nullopt when absent; malformed records an error.
  std::optional<WallTime> OptTime(const char* name);

  // Ok, or kInternal naming the first bad field.
  Status status() const { return status_; }

 private:
  void Fail(const char* name, const std::string& problem);

  pugi::xml_node node_;
  std::string what_;
  Status status_;
};

// The same over a JSON object (a reply of the JSON protocols).
class JsonFields {
 public:
  JsonFields(const nlohmann::json& object, std::string what);

  bool Has(const char* name) const;
  // A string member; "" when absent or null; a non-string records an error.
  std::string Str(const char* name);
  int64_t Int(const char* name);
  std::optional<int64_t> OptInt(const char* name);
  std::optional<double> OptDouble(const char* name);
  bool Bool(const char* name, bool fallback);
  // Epoch seconds (a JSON number, as the JSON protocols send timestamps).
  std::optional<WallTime> OptEpochTime(const char* name);
  // A member that must be an array when present; an empty array when absent.
  const nlohmann::json& Array(const char* name);
  // A member that must be an object when present; an empty object when absent.
  const nlohmann::json& Object(const char* name);
  // A string array member; empty when absent.
  std::vector<std::string> StrArray(const char* name);

  Status status() const { return status_; }

 private:
  const nlohmann::json* Member(const char* name) const;
  void Fail(const char* name, const std::string& problem);

  const nlohmann::json& object_;
  std::string what_;
  Status status_;
};

// Follows a paginated API: calls `page(token)` with "" first, then with each
// token it returns, until it returns "". kInternal when a token repeats or
// after `max_pages` pages (a service that never ends a listing).
Status FollowPages(const std::function<Result<std::string>(const std::string& token)>& page,
                   int max_pages = 10000);

// Splits `items` into consecutive slices of at most `size` (size > 0).
std::vector<std::vector<std::string>> Batches(const std::vector<std::string>& items, size_t size);

// Adds "<prefix>.1", "<prefix>.2", ... for `values` to `params`.
void AddList(QueryParams& params, const std::string& prefix,
             const std::vector<std::string>& values);

// An ARN, "arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE", split at its
// first five colons into `fields` (the resource, colons and all, is the
// rest); false when it has fewer than five.
bool SplitArn(const std::string& arn, std::vector<std::string>* fields, std::string* resource);

// A region's name as AWS spells them: lower-case letters, digits and dashes,
// beginning with a letter, at most 32 (us-east-1, cn-north-1, us-gov-west-1).
bool IsRegionName(const std::string& s);

// Ok when `found` (the region a queue URL or topic ARN names; "" for none) is
// empty or `region`; else kInvalidArgument: "names a KIND in FOUND, but the
// AWS region is REGION: WHY (set the region to FOUND, or use a KIND of
// REGION)".
Status CheckSameRegion(const std::string& kind, const std::string& found, const std::string& region,
                       const std::string& why);

}  // namespace spk::aws::internal
