#include "sim/placement.h"

#include <algorithm>
#include <limits>
#include <regex>

#include "base/strings.h"

namespace spk::sim {
namespace {

std::string TrimCopy(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

// Splits `text` on the word `sep` (surrounded by spaces) or the symbol `sym`.
std::vector<std::string> SplitOn(const std::string& text, const std::string& word,
                                 const std::string& sym) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, sym.size(), sym) == 0) {
      parts.push_back(text.substr(start, i - start));
      i += sym.size();
      start = i;
      continue;
    }
    std::string w = " " + word + " ";
    if (text.compare(i, w.size(), w) == 0) {
      parts.push_back(text.substr(start, i - start));
      i += w.size();
      start = i;
      continue;
    }
    ++i;
  }
  parts.push_back(text.substr(start));
  return parts;
}

std::vector<std::string> ParseList(const std::string& text, bool* ok) {
  std::string t = TrimCopy(text);
  std::vector<std::string> values;
  if (t.size() < 2 || t.front() != '[' || t.back() != ']') {
    *ok = false;
    return values;
  }
  std::string inner = t.substr(1, t.size() - 2);
  size_t start = 0;
  for (size_t i = 0; i <= inner.size(); ++i) {
    if (i == inner.size() || inner[i] == ',') {
      std::string v = TrimCopy(std::string_view(inner).substr(start, i - start));
      if (!v.empty()) values.push_back(v);
      start = i + 1;
    }
  }
  *ok = !values.empty();
  return values;
}

bool RegexFullMatch(const std::string& pattern, std::string_view value) {
  try {
    return std::regex_match(value.begin(), value.end(), std::regex(pattern));
  } catch (const std::regex_error&) {
    return false;  // rejected at Parse; unreachable
  }
}

}  // namespace

std::string_view AttributeValue(const Expression::Attributes& attributes, std::string_view name) {
  if (name == "ecs.instance-type") return attributes.instance_type;
  if (name == "ecs.availability-zone") return attributes.zone;
  if (name == "spotkeeper.lifecycle") return attributes.lifecycle;
  if (name == "ecs.os-type") return "linux";
  if (name == "ecs.cpu-architecture") return "x86_64";
  return {};
}

Result<Expression> Expression::Parse(const std::string& text) {
  Expression expression;
  expression.text_ = text;
  if (TrimCopy(text).empty()) return InvalidArgumentError("empty memberOf expression");
  for (const std::string& alternative : SplitOn(text, "or", "||")) {
    std::vector<Clause> all_of;
    for (const std::string& raw : SplitOn(alternative, "and", "&&")) {
      std::string c = TrimCopy(raw);
      auto bad = [&](const std::string& why) {
        return InvalidArgumentError("memberOf expression \"" + text + "\": " + why + " in \"" + c +
                                    "\"");
      };
      if (c.rfind("attribute:", 0) != 0) return bad("a clause must start with attribute:NAME");
      size_t space = c.find(' ');
      Clause clause;
      clause.attribute = c.substr(10, space == std::string::npos ? std::string::npos : space - 10);
      if (clause.attribute.empty()) return bad("no attribute name");
      std::string rest = space == std::string::npos ? "" : TrimCopy(c.substr(space));
      size_t op_end = rest.find(' ');
      std::string op = rest.substr(0, op_end);
      std::string value = op_end == std::string::npos ? "" : TrimCopy(rest.substr(op_end));
      if (op == "exists" || op == "!exists") {
        if (!value.empty()) return bad("exists takes no value");
        clause.op = op == "exists" ? Op::kExists : Op::kNotExists;
      } else if (op == "in" || op == "not_in") {
        bool ok = true;
        clause.values = ParseList(value, &ok);
        if (!ok) return bad("in needs a list [a, b]");
        clause.op = op == "in" ? Op::kIn : Op::kNotIn;
      } else if (op == "==" || op == "equals" || op == "!=" || op == "not_equals" || op == "=~" ||
                 op == "matches" || op == "!~" || op == "not_matches") {
        if (value.empty()) return bad("operator " + op + " needs a value");
        clause.values = {value};
        if (op == "==" || op == "equals") clause.op = Op::kEq;
        if (op == "!=" || op == "not_equals") clause.op = Op::kNe;
        if (op == "=~" || op == "matches" || op == "!~" || op == "not_matches") {
          clause.op = (op == "=~" || op == "matches") ? Op::kMatch : Op::kNotMatch;
          try {
            std::regex check(value);
          } catch (const std::regex_error&) {
            return bad("not a regular expression: " + value);
          }
        }
      } else {
        return bad(op.empty() ? "no operator" : "unknown operator " + op);
      }
      all_of.push_back(std::move(clause));
    }
    expression.any_of_.push_back(std::move(all_of));
  }
  return expression;
}

bool Expression::Matches(const Attributes& attributes) const {
  for (const auto& all_of : any_of_) {
    bool all = true;
    for (const Clause& c : all_of) {
      std::string_view v = AttributeValue(attributes, c.attribute);
      bool ok = false;
      switch (c.op) {
        case Op::kEq:
          ok = v == c.values[0];
          break;
        case Op::kNe:
          ok = v != c.values[0];
          break;
        case Op::kMatch:
          ok = !v.empty() && RegexFullMatch(c.values[0], v);
          break;
        case Op::kNotMatch:
          ok = v.empty() || !RegexFullMatch(c.values[0], v);
          break;
        case Op::kIn:
          ok = std::find(c.values.begin(), c.values.end(), v) != c.values.end();
          break;
        case Op::kNotIn:
          ok = std::find(c.values.begin(), c.values.end(), v) == c.values.end();
          break;
        case Op::kExists:
          ok = !v.empty();
          break;
        case Op::kNotExists:
          ok = v.empty();
          break;
      }
      if (!ok) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

Result<PlacementStrategy> MakeStrategy(const std::string& type, const std::string& field) {
  PlacementStrategy s;
  s.field = field;
  if (type == "binpack") {
    s.type = PlacementStrategy::Type::kBinpack;
    if (field != "cpu" && field != "memory") {
      return InvalidArgumentError("binpack field must be cpu or memory, not \"" + field + "\"");
    }
  } else if (type == "spread") {
    s.type = PlacementStrategy::Type::kSpread;
    if (field != "instanceId" && field != "host" && field.rfind("attribute:", 0) != 0) {
      return InvalidArgumentError(
          "spread field must be instanceId, host or attribute:NAME, not \"" + field + "\"");
    }
  } else if (type == "random") {
    s.type = PlacementStrategy::Type::kRandom;
  } else {
    return InvalidArgumentError(
        "placement strategy type must be binpack, spread or random, not \"" + type + "\"");
  }
  return s;
}

int ChooseHost(const std::vector<Host>& hosts, int cpu, int memory,
               const std::vector<PlacementStrategy>& strategies, bool distinct_instance,
               Random& random) {
  std::vector<int> candidates;
  candidates.reserve(hosts.size());
  for (size_t i = 0; i < hosts.size(); ++i) {
    const Host& h = hosts[i];
    if (!h.member || h.free_cpu < cpu || h.free_memory < memory) continue;
    if (distinct_instance && h.group_tasks > 0) continue;
    candidates.push_back(static_cast<int>(i));
  }
  if (candidates.empty()) return -1;
  for (const PlacementStrategy& s : strategies) {
    if (candidates.size() == 1) break;
    std::vector<int> kept;
    switch (s.type) {
      case PlacementStrategy::Type::kBinpack: {
        int best = std::numeric_limits<int>::max();
        for (int i : candidates) {
          int left = s.field == "cpu" ? hosts[i].free_cpu : hosts[i].free_memory;
          if (left < best) {
            best = left;
            kept.clear();
          }
          if (left == best) kept.push_back(i);
        }
        break;
      }
      case PlacementStrategy::Type::kSpread: {
        if (s.field == "instanceId" || s.field == "host") {
          int best = std::numeric_limits<int>::max();
          for (int i : candidates) {
            if (hosts[i].group_tasks < best) {
              best = hosts[i].group_tasks;
              kept.clear();
            }
            if (hosts[i].group_tasks == best) kept.push_back(i);
          }
          break;
        }
        // Tasks of the group per value over all hosts. Values are few (zones,
        // types) and usually the same strings, so they are grouped by address
        // first and by content only for an address not seen yet.
        std::string_view attribute = std::string_view(s.field).substr(10);
        struct Alias {
          const char* data;
          size_t size;
          int group;
        };
        std::vector<Alias> aliases;
        std::vector<std::string_view> values;
        std::vector<int> counts;
        auto group_of = [&](std::string_view v) {
          for (const Alias& alias : aliases) {
            if (alias.data == v.data() && alias.size == v.size()) return alias.group;
          }
          int group = -1;
          for (size_t k = 0; k < values.size(); ++k) {
            if (values[k] == v) group = static_cast<int>(k);
          }
          if (group < 0) {
            group = static_cast<int>(values.size());
            values.push_back(v);
            counts.push_back(0);
          }
          aliases.push_back({v.data(), v.size(), group});
          return group;
        };
        std::vector<int> host_group(hosts.size());
        for (size_t i = 0; i < hosts.size(); ++i) {
          host_group[i] = group_of(AttributeValue(hosts[i].attributes, attribute));
          counts[host_group[i]] += hosts[i].group_tasks;
        }
        int best = std::numeric_limits<int>::max();
        for (int i : candidates) best = std::min(best, counts[host_group[i]]);
        for (int i : candidates) {
          if (counts[host_group[i]] == best) kept.push_back(i);
        }
        break;
      }
      case PlacementStrategy::Type::kRandom: {
        size_t pick =
            static_cast<size_t>(random.Uniform() * static_cast<double>(candidates.size()));
        kept.push_back(candidates[std::min(pick, candidates.size() - 1)]);
        break;
      }
    }
    candidates = std::move(kept);
  }
  return candidates.front();
}

}  // namespace spk::sim
