#include "aws/service_util.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

namespace spk::aws::internal {

std::optional<int64_t> ParseInt(const std::string& s) {
  int64_t v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || begin == end) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(const std::string& s) {
  double v = 0;
  const char* begin = s.data();
  const char* end = s.data() + s.size();
  if (begin != end && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end || begin == end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> IntegralDouble(double d) {
  // 2^63 is exactly representable; every double below it converts.
  constexpr double kLimit = 9223372036854775808.0;
  if (!(d >= -kLimit && d < kLimit) || std::floor(d) != d) return std::nullopt;
  return static_cast<int64_t>(d);
}

std::optional<WallTime> EpochSeconds(double seconds) {
  // 2201-01-01T00:00:00Z: the clock counts nanoseconds in 64 bits (to 2262);
  // the same last year as ISO 8601 times (kMaxIso8601Year).
  constexpr double kYear2201 = 7289654400.0;
  if (!(seconds >= 0 && seconds < kYear2201)) return std::nullopt;
  auto since_epoch = std::chrono::duration<double>(seconds);
  return WallTime(std::chrono::duration_cast<WallTime::duration>(since_epoch));
}

std::optional<bool> ParseBool(const std::string& s) {
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "true") return true;
  if (lower == "false") return false;
  return std::nullopt;
}

std::string FormatDouble(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "0";
  return std::string(buf, ptr);
}

Result<pugi::xml_node> QueryResultNode(const XmlReply& reply, const std::string& action) {
  if (!reply) return InternalError(action + ": empty reply");
  pugi::xml_node root = reply->document_element();
  if (std::string(root.name()) != action + "Response") {
    return InternalError(action + ": reply root is <" + std::string(root.name()) + ">, expected <" +
                         action + "Response>");
  }
  pugi::xml_node result = root.child((action + "Result").c_str());
  return result ? result : root;
}

// ---- XmlFields ----

void XmlFields::Fail(const char* name, const std::string& problem) {
  if (!status_.ok()) return;
  status_ = InternalError("reply's " + what_ + "." + name + " " + problem);
}

bool XmlFields::Has(const char* name) const { return static_cast<bool>(node_.child(name)); }

std::string XmlFields::Str(const char* name) const { return node_.child(name).text().get(); }

int64_t XmlFields::Int(const char* name) {
  auto v = OptInt(name);
  if (!v) {
    Fail(name, "is missing");
    return 0;
  }
  return *v;
}

double XmlFields::Double(const char* name) {
  auto v = OptDouble(name);
  if (!v) {
    Fail(name, "is missing");
    return 0;
  }
  return *v;
}

std::optional<int64_t> XmlFields::OptInt(const char* name) {
  if (!Has(name)) return std::nullopt;
  std::string text = Str(name);
  auto v = ParseInt(text);
  if (!v) {
    // Some services write integral values as "6.0".
    auto d = ParseDouble(text);
    if (d) {
      if (auto i = IntegralDouble(*d)) return i;
    }
    Fail(name, "is not an integer: \"" + text + "\"");
  }
  return v;
}

std::optional<double> XmlFields::OptDouble(const char* name) {
  if (!Has(name)) return std::nullopt;
  std::string text = Str(name);
  auto v = ParseDouble(text);
  if (!v) Fail(name, "is not a number: \"" + text + "\"");
  return v;
}

std::optional<bool> XmlFields::OptBool(const char* name) {
  if (!Has(name)) return std::nullopt;
  std::string text = Str(name);
  auto v = ParseBool(text);
  if (!v) Fail(name, "is not a boolean: \"" + text + "\"");
  return v;
}

std::optional<WallTime> XmlFields::OptTime(const char* name) {
  if (!Has(name)) return std::nullopt;
  std::string text = Str(name);
  WallTime t;
  if (!ParseIso8601(text, &t)) {
    Fail(name, "is not an ISO 8601 time: \"" + text + "\"");
    return std::nullopt;
  }
  return t;
}

// ---- JsonFields ----

JsonFields::JsonFields(const nlohmann::json& object, std::string what)
    : object_(object), what_(std::move(what)) {
  if (!object_.is_object()) {
    status_ = InternalError("reply's " + what_ + " is not a JSON object");
  }
}

void JsonFields::Fail(const char* name, const std::string& problem) {
  if (!status_.ok()) return;
  status_ = InternalError("reply's " + what_ + "." + name + " " + problem);
}

const nlohmann::json* JsonFields::Member(const char* name) const {
  if (!object_.is_object()) return nullptr;
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool JsonFields::Has(const char* name) const { return Member(name) != nullptr; }

std::string JsonFields::Str(const char* name) {
  const nlohmann::json* m = Member(name);
  if (!m) return "";
  if (!m->is_string()) {
    Fail(name, "is not a string");
    return "";
  }
  return m->get<std::string>();
}

int64_t JsonFields::Int(const char* name) {
  auto v = OptInt(name);
  if (!v) {
    Fail(name, "is missing");
    return 0;
  }
  return *v;
}

std::optional<int64_t> JsonFields::OptInt(const char* name) {
  const nlohmann::json* m = Member(name);
  if (!m) return std::nullopt;
  if (m->is_number_integer()) return m->get<int64_t>();
  if (m->is_number_float()) {
    if (auto i = IntegralDouble(m->get<double>())) return i;
  }
  Fail(name, "is not an integer");
  return std::nullopt;
}

std::optional<double> JsonFields::OptDouble(const char* name) {
  const nlohmann::json* m = Member(name);
  if (!m) return std::nullopt;
  if (m->is_number()) return m->get<double>();
  Fail(name, "is not a number");
  return std::nullopt;
}

bool JsonFields::Bool(const char* name, bool fallback) {
  const nlohmann::json* m = Member(name);
  if (!m) return fallback;
  if (!m->is_boolean()) {
    Fail(name, "is not a boolean");
    return fallback;
  }
  return m->get<bool>();
}

std::optional<WallTime> JsonFields::OptEpochTime(const char* name) {
  const nlohmann::json* m = Member(name);
  if (!m) return std::nullopt;
  if (!m->is_number()) {
    Fail(name, "is not a timestamp (epoch seconds)");
    return std::nullopt;
  }
  std::optional<WallTime> t = EpochSeconds(m->get<double>());
  if (!t) Fail(name, "is not a timestamp (epoch seconds from 1970 to 2200)");
  return t;
}

const nlohmann::json& JsonFields::Array(const char* name) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const nlohmann::json* m = Member(name);
  if (!m) return kEmpty;
  if (!m->is_array()) {
    Fail(name, "is not an array");
    return kEmpty;
  }
  return *m;
}

const nlohmann::json& JsonFields::Object(const char* name) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const nlohmann::json* m = Member(name);
  if (!m) return kEmpty;
  if (!m->is_object()) {
    Fail(name, "is not an object");
    return kEmpty;
  }
  return *m;
}

std::vector<std::string> JsonFields::StrArray(const char* name) {
  std::vector<std::string> out;
  for (const auto& v : Array(name)) {
    if (!v.is_string()) {
      Fail(name, "has a non-string element");
      return {};
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

// ---- paging and batching ----

Status FollowPages(const std::function<Result<std::string>(const std::string& token)>& page,
                   int max_pages) {
  std::set<std::string> seen;
  std::string token;
  for (int n = 0; n < max_pages; ++n) {
    Result<std::string> next = page(token);
    if (!next.ok()) return next.status();
    if (next->empty()) return Status::Ok();
    if (!seen.insert(*next).second) {
      return InternalError("pagination token repeated after " + std::to_string(n + 1) +
                           " pages: the listing does not end");
    }
    token = std::move(next).value();
  }
  return InternalError("listing did not end after " + std::to_string(max_pages) + " pages");
}

std::vector<std::vector<std::string>> Batches(const std::vector<std::string>& items, size_t size) {
  std::vector<std::vector<std::string>> out;
  if (size == 0) size = 1;
  for (size_t i = 0; i < items.size(); i += size) {
    size_t end = std::min(items.size(), i + size);
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

void AddList(QueryParams& params, const std::string& prefix,
             const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    params[prefix + "." + std::to_string(i + 1)] = values[i];
  }
}

bool SplitArn(const std::string& arn, std::vector<std::string>* fields, std::string* resource) {
  fields->clear();
  size_t start = 0;
  while (fields->size() < 5) {
    const size_t colon = arn.find(':', start);
    if (colon == std::string::npos) return false;
    fields->push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  *resource = arn.substr(start);
  return true;
}

bool IsRegionName(const std::string& s) {
  if (s.empty() || s.size() > 32 || s[0] < 'a' || s[0] > 'z') return false;
  return s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
}

Status CheckSameRegion(const std::string& kind, const std::string& found, const std::string& region,
                       const std::string& why) {
  if (found.empty() || region.empty() || found == region) return Status::Ok();
  return InvalidArgumentError("names a " + kind + " in " + found + ", but the AWS region is " +
                              region + ": " + why + " (set the region to " + found + ", or use a " +
                              kind + " of " + region + ")");
}

}  // namespace spk::aws::internal
