#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "base/strings.h"

namespace spk::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// Lower-case hex of `size` bytes at `data`.
std::string HexEncode(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(size * 2, '\0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 15];
  }
  return out;
}

// SHA-256, fetched once: OpenSSL 3 otherwise looks the algorithm up on every call.
const EVP_MD* Sha256() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// An HMAC-SHA256 context with no key, fetched and configured once; every HMAC
// starts from a copy of it. Only read after construction, so thread-safe.
const EVP_MAC_CTX* HmacTemplate() {
  static const EVP_MAC_CTX* ctx = [] {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* c = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context keeps its own reference
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                           OSSL_PARAM_construct_end()};
    EVP_MAC_CTX_set_params(c, params);
    return c;
  }();
  return ctx;
}

// Raw HMAC-SHA256 of `data` under `key` (32 bytes).
std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t size = 0;
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(HmacTemplate());
  EVP_MAC_init(ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr);
  EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  EVP_MAC_final(ctx, mac, &size, sizeof mac);
  EVP_MAC_CTX_free(ctx);
  return std::string(reinterpret_cast<const char*>(mac), size);
}

// "20150830T123600Z": the request timestamp of X-Amz-Date (UTC, whole seconds).
std::string AmzDate(WallTime time) {
  std::time_t t = std::chrono::system_clock::to_time_t(
      std::chrono::time_point_cast<std::chrono::seconds>(time));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Removes every header named `name` (case-insensitive).
void RemoveHeader(net::Headers& headers, const std::string& name) {
  std::erase_if(headers, [&](const auto& h) { return net::HeaderNameEquals(h.first, name); });
}

bool HasHeader(const net::Headers& headers, const std::string& name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return net::HeaderNameEquals(h.first, name); });
}

// RFC 3986 remove_dot_segments, with empty segments ("//") dropped too.
// Keeps a trailing '/' (also the one implied by a final "." or ".."); always
// starts with '/'.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> kept;
  bool trailing_slash = false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    std::string_view segment = path.substr(start, end - start);
    start = end + 1;
    trailing_slash = segment.empty() || segment == "." || segment == "..";
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
    } else if (!trailing_slash) {
      kept.push_back(segment);
    }
  }
  std::string out;
  for (auto segment : kept) {
    out += '/';
    out += segment;
  }
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

// The canonical URI: the (optionally normalised) path, each segment encoded.
std::string CanonicalUri(const std::string& path, bool normalize) {
  std::string p = normalize ? NormalizePath(path) : path;
  if (p.empty()) p = "/";
  return net::UriEncode(p, /*keep_slash=*/true);
}

// The canonical query string: each key and value decoded and encoded again,
// sorted by key, then value; "key" without '=' becomes "key=".
std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = std::min(query.find('&', start), query.size());
    std::string_view param = query.substr(start, end - start);
    start = end + 1;
    if (param.empty()) continue;
    size_t eq = param.find('=');
    std::string key(param.substr(0, eq));
    std::string value(eq == std::string_view::npos ? "" : param.substr(eq + 1));
    params.emplace_back(net::UriEncode(net::UriDecode(key)), net::UriEncode(net::UriDecode(value)));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

// A header value as signed: trimmed, every run of whitespace (line folds
// included) collapsed to one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

struct CanonicalHeaders {
  std::string block;           // "name:value\n" per header, sorted by name
  std::string signed_headers;  // "name1;name2"
};

// Headers the AWS SDKs never sign: proxies and tracing rewrite them, and a
// service that recomputes the signature from the request leaves them out.
bool IsUnsignedHeader(const std::string& lower_name) {
  return lower_name == "user-agent" || lower_name == "expect" || lower_name == "x-amzn-trace-id";
}

// Lower-cases the names, joins duplicates with ',' in order, sorts by name.
CanonicalHeaders CanonicalizeHeaders(const net::Headers& headers) {
  std::map<std::string, std::string> merged;
  for (const auto& [name, value] : headers) {
    std::string key = CanonicalHeaderValue(AsciiLower(name));
    if (IsUnsignedHeader(key)) continue;
    auto [it, inserted] = merged.try_emplace(std::move(key), CanonicalHeaderValue(value));
    if (!inserted) {
      it->second += ',';
      it->second += CanonicalHeaderValue(value);
    }
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : merged) {
    out.block += name + ':' + value + '\n';
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += name;
  }
  return out;
}

// The credential scope: "20150830/us-east-1/service/aws4_request".
std::string Scope(const std::string& amz_date, const SigningParams& params) {
  return amz_date.substr(0, 8) + '/' + params.region + '/' + params.service + "/aws4_request";
}

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
std::string SigningKey(const std::string& secret, const std::string& date,
                       const SigningParams& params) {
  std::string key = HmacSha256("AWS4" + secret, date);
  key = HmacSha256(key, params.region);
  key = HmacSha256(key, params.service);
  return HmacSha256(key, "aws4_request");
}

// Sets the headers the signer owns before the canonical request is built.
void AddSigningHeaders(net::HttpRequest& request, const net::Url& url,
                       const Credentials& credentials, const SigningParams& params,
                       const std::string& amz_date, const std::string& payload_hash) {
  for (const char* name : {"Authorization", "X-Amz-Date", "X-Amz-Security-Token"})
    RemoveHeader(request.headers, name);
  if (params.sign_body_header) RemoveHeader(request.headers, "X-Amz-Content-Sha256");
  if (!HasHeader(request.headers, "Host")) request.headers.emplace_back("Host", url.Authority());
  request.headers.emplace_back("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty() && !params.omit_session_token)
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  if (params.sign_body_header) request.headers.emplace_back("X-Amz-Content-Sha256", payload_hash);
}

}  // namespace

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, Sha256(), nullptr);
  return HexEncode(digest, size);
}

SigningResult SignRequest(net::HttpRequest& request, const Credentials& credentials,
                          const SigningParams& params) {
  net::Url url;
  net::ParseUrl(request.url, &url);
  const std::string amz_date = AmzDate(params.time);
  const std::string payload_hash = Sha256Hex(request.body);
  AddSigningHeaders(request, url, credentials, params, amz_date, payload_hash);

  CanonicalHeaders headers = CanonicalizeHeaders(request.headers);
  SigningResult result;
  result.canonical_request = request.method + '\n' + CanonicalUri(url.path, params.normalize_path) +
                             '\n' + CanonicalQuery(url.query) + '\n' + headers.block + '\n' +
                             headers.signed_headers + '\n' + payload_hash;

  const std::string scope = Scope(amz_date, params);
  result.string_to_sign = std::string(kAlgorithm) + '\n' + amz_date + '\n' + scope + '\n' +
                          Sha256Hex(result.canonical_request);

  const std::string key = SigningKey(credentials.secret_access_key, amz_date.substr(0, 8), params);
  const std::string mac = HmacSha256(key, result.string_to_sign);
  result.signature = HexEncode(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());

  result.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id +
                         '/' + scope + ", SignedHeaders=" + headers.signed_headers +
                         ", Signature=" + result.signature;
  request.headers.emplace_back("Authorization", result.authorization);
  if (!credentials.session_token.empty() && params.omit_session_token)
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  return result;
}

}  // namespace spk::aws
