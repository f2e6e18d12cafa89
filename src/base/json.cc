#include "base/json.h"

#include <string>

namespace spk {

int JsonNestingDepth(std::string_view text, int limit) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<nlohmann::json> ParseJson(std::string_view text, size_t max_bytes, std::string_view what,
                                 int max_depth) {
  const std::string name(what);
  if (text.size() > max_bytes) {
    return InvalidArgumentError(name + " is " + std::to_string(text.size()) + " bytes, more than " +
                                std::to_string(max_bytes));
  }
  if (JsonNestingDepth(text, max_depth) > max_depth) {
    return InvalidArgumentError(name + " is nested deeper than " + std::to_string(max_depth));
  }
  nlohmann::json doc = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                             /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError(name + " is not JSON");
  return doc;
}

nlohmann::json ParseJsonOrDiscarded(std::string_view text, size_t max_bytes, int max_depth) {
  auto doc = ParseJson(text, max_bytes, "document", max_depth);
  if (!doc.ok()) return nlohmann::json(nlohmann::json::value_t::discarded);
  return *std::move(doc);
}

std::string JsonDumpSafe(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace spk
