// Reading JSON documents that come from outside (SNS/SQS message bodies,
// EventBridge events, IMDS, the ECS agent, AWS replies, the agent's own child
// processes), where any member may be missing or of the wrong type, and the
// text itself may be hostile: huge, nested a hundred thousand deep, invalid
// UTF-8, truncated.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"

namespace spk {

// The deepest nesting of arrays and objects ParseJson accepts by default: far
// more than any AWS event or reply uses (an SNS-in-SQS EventBridge event is 6).
inline constexpr int kMaxJsonDepth = 64;
// The largest message body SQS, SNS and EventBridge carry: 256 KiB.
inline constexpr size_t kMaxEventBytes = 256 * 1024;
// The largest AWS JSON reply read (a page of DescribeServices, ListTasks...).
inline constexpr size_t kMaxAwsReplyBytes = 16 * 1024 * 1024;
// The largest document from IMDS, the ECS agent or an agent child process.
inline constexpr size_t kMaxLocalDocumentBytes = 1024 * 1024;

// Parses `text` as one JSON document. kInvalidArgument, with a message that
// names `what` ("SQS message body is 300000 bytes, more than 262144",
// "... is nested deeper than 64", "... is not JSON"), when `text` is larger
// than `max_bytes`, nests arrays/objects deeper than `max_depth` (checked on
// the text before parsing, so no parser or destructor recursion is ever
// deep), or is not valid JSON (including invalid UTF-8 in a string and
// numbers outside a double's range). Duplicate keys: the last one wins, as
// in every AWS SDK. Never throws.
Result<nlohmann::json> ParseJson(std::string_view text, size_t max_bytes, std::string_view what,
                                 int max_depth = kMaxJsonDepth);

// ParseJson's document, or a discarded value (is_discarded()) for anything it
// rejects: for callers that only need "JSON or not". Never throws.
nlohmann::json ParseJsonOrDiscarded(std::string_view text, size_t max_bytes,
                                    int max_depth = kMaxJsonDepth);

// The deepest nesting of '[' and '{' in `text` outside strings, stopping
// early (returning a value > limit) once `limit` is exceeded. Linear, never
// throws; does not validate the rest of the syntax.
int JsonNestingDepth(std::string_view text, int limit);

// The string member `key` of `j`; "" when `j` is not an object or the member
// is missing or not a string. Never throws.
inline std::string JsonStringField(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return std::string();
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// j.dump() that never throws: invalid UTF-8 (which only strings put in from
// outside JSON can carry) is replaced by U+FFFD.
std::string JsonDumpSafe(const nlohmann::json& j, int indent = -1);

}  // namespace spk
