#include "net/http.h"

#include <cctype>
#include <charconv>

namespace spk::net {

bool HeaderNameEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::optional<std::string> HttpResponse::Header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (HeaderNameEquals(k, name)) return v;
  return std::nullopt;
}

std::string Url::Authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  bool default_port =
      port == 0 || (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
  return default_port ? h : h + ":" + std::to_string(port);
}

bool ParseUrl(const std::string& url, Url* out) {
  auto sep = url.find("://");
  if (sep == std::string::npos) return false;
  Url u;
  u.scheme = url.substr(0, sep);
  for (auto& c : u.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (u.scheme != "http" && u.scheme != "https") return false;
  size_t start = sep + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (authority.empty()) return false;
  std::string port;
  if (authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return false;
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return false;
      port = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return false;
  if (!port.empty()) {
    if (port.size() > 5) return false;
    auto [end_of_port, error] = std::from_chars(port.data(), port.data() + port.size(), u.port);
    if (error != std::errc() || end_of_port != port.data() + port.size()) return false;
    if (u.port <= 0 || u.port > 65535) return false;
  }
  std::string rest = end == std::string::npos ? "" : url.substr(end);
  auto hash = rest.find('#');
  if (hash != std::string::npos) rest.resize(hash);
  auto q = rest.find('?');
  u.path = rest.substr(0, q);
  if (q != std::string::npos) u.query = rest.substr(q + 1);
  if (u.path.empty()) u.path = "/";
  *out = std::move(u);
  return true;
}

std::string UriEncode(const std::string& s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (unsigned char c : s) {
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string FormEncode(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  size_t start = 0;
  for (size_t sp = s.find(' '); sp != std::string::npos; sp = s.find(' ', start)) {
    out += UriEncode(s.substr(start, sp - start));
    out += '+';
    start = sp + 1;
  }
  return out + UriEncode(s.substr(start));
}

std::string UriDecode(const std::string& s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      unsigned value = 0;
      std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);  // two hex digits, checked
      out.push_back(static_cast<char>(value));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace spk::net
