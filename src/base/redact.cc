#include "base/redact.h"

#include <cctype>

namespace spk {

std::string RedactUrl(std::string_view url) {
  constexpr std::string_view kRedacted = "...redacted";
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::string(kRedacted);
  const std::string_view scheme = url.substr(0, sep);
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return std::string(kRedacted);
    }
  }
  std::string_view rest = url.substr(sep + 3);
  const size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  const std::string_view tail = end == std::string_view::npos ? "" : rest.substr(end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  std::string out = std::string(scheme) + "://" + std::string(authority);
  if (tail.empty() || tail == "/") return out + std::string(tail);
  return out + "/" + std::string(kRedacted);
}

std::string Truncate(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  size_t cut = max;
  // Back up over UTF-8 continuation bytes to the start of a character.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...[truncated, " + std::to_string(text.size()) +
         " bytes]";
}

}  // namespace spk
