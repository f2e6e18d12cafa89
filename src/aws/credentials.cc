#include "aws/credentials.h"

#include <arpa/inet.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "aws/config_file.h"
#include "aws/imds.h"
#include "base/json.h"
#include "base/redact.h"
#include "base/strings.h"

namespace spk::aws {
namespace {

using Section = std::map<std::string, std::string>;

Status UnimplementedError(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }

std::string Get(const Section& s, const std::string& key) {
  auto it = s.find(key);
  return it == s.end() ? "" : it->second;
}

bool Has(const Section& s, const std::string& key) { return !Get(s, key).empty(); }

// "path" or "path (absent)".
std::string Describe(const std::string& path, bool exists) {
  if (path.empty()) return "(no HOME)";
  return exists ? path : path + " (absent)";
}

// Static keys from one file's section; nullopt when the section holds none.
Result<std::optional<Credentials>> StaticKeys(const Section& s, const std::string& profile,
                                              const std::string& path, const std::string& source) {
  const bool has_id = Has(s, "aws_access_key_id");
  const bool has_secret = Has(s, "aws_secret_access_key");
  if (!has_id && !has_secret) return std::optional<Credentials>();
  if (!has_id || !has_secret) {
    return FailedPreconditionError("profile " + profile + " in " + path + " sets " +
                                   (has_id ? "aws_access_key_id but not aws_secret_access_key"
                                           : "aws_secret_access_key but not aws_access_key_id"));
  }
  Credentials c;
  c.access_key_id = Get(s, "aws_access_key_id");
  c.secret_access_key = Get(s, "aws_secret_access_key");
  c.session_token = Get(s, "aws_session_token");
  if (c.session_token.empty()) c.session_token = Get(s, "aws_security_token");
  c.source = source;
  return std::optional<Credentials>(std::move(c));
}

// Parses the JSON document a container endpoint or IMDS returns.
Result<Credentials> ParseCredentialJson(const std::string& body, const std::string& what) {
  auto j = ParseJsonOrDiscarded(body, kMaxLocalDocumentBytes);
  if (j.is_discarded() || !j.is_object())
    return InternalError(what + " answered a reply that is not a JSON object");
  auto str = [&j](const char* key) { return JsonStringField(j, key); };
  Credentials c;
  c.access_key_id = str("AccessKeyId");
  c.secret_access_key = str("SecretAccessKey");
  c.session_token = str("Token");
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return InternalError(what + " answered JSON without AccessKeyId/SecretAccessKey");
  }
  std::string exp = str("Expiration");
  if (!exp.empty()) {
    WallTime t;
    if (!ParseIso8601(exp, &t))
      return InternalError(what + " answered an unparsable Expiration '" + exp + "'");
    c.expiration = t;
  }
  return c;
}

// The hosts AWS_CONTAINER_CREDENTIALS_FULL_URI may name over plain http (as botocore).
bool AllowedContainerHost(const std::string& host) {
  std::string h = AsciiLower(host);
  if (h == "localhost" || h == "169.254.170.2" || h == "169.254.170.23" || h == "fd00:ec2::23")
    return true;
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
    in6_addr ecs{};
    return inet_pton(AF_INET6, "fd00:ec2::23", &ecs) == 1 &&
           std::equal(v6.s6_addr, v6.s6_addr + 16, ecs.s6_addr);
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------- environment

Result<Credentials> EnvironmentProvider::Resolve() {
  const std::string id = env_.GetOr("AWS_ACCESS_KEY_ID", "");
  const std::string secret = env_.GetOr("AWS_SECRET_ACCESS_KEY", "");
  if (id.empty() && secret.empty()) return NotFoundError("AWS_ACCESS_KEY_ID not set");
  if (id.empty())
    return FailedPreconditionError("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (secret.empty())
    return FailedPreconditionError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  Credentials c;
  c.access_key_id = id;
  c.secret_access_key = secret;
  c.session_token = env_.GetOr("AWS_SESSION_TOKEN", env_.GetOr("AWS_SECURITY_TOKEN", ""));
  std::string exp = env_.GetOr("AWS_CREDENTIAL_EXPIRATION", "");
  if (!exp.empty()) {
    WallTime t;
    if (!ParseIso8601(exp, &t)) {
      return FailedPreconditionError("AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time: '" + exp +
                                     "'");
    }
    c.expiration = t;
  }
  c.source = "environment";
  return c;
}

// ---------------------------------------------------------------- profile

std::string ProfileProvider::label() const { return "profile " + ActiveProfileName(env_); }

Result<Credentials> ProfileProvider::Resolve() {
  const std::string profile = ActiveProfileName(env_);
  const std::string creds_path = CredentialsFilePath(env_);
  const std::string config_path = ConfigFilePath(env_);
  const auto creds_file = ReadIniFile(creds_path);
  const auto config_file = ReadIniFile(config_path);

  std::optional<Section> creds;
  if (creds_file) {
    if (auto it = creds_file->find(profile); it != creds_file->end()) creds = it->second;
  }
  std::optional<Section> config;
  if (config_file) config = FindConfigProfile(*config_file, profile);

  const std::string where = Describe(creds_path, creds_file.has_value()) + " or " +
                            Describe(config_path, config_file.has_value());
  const bool web_identity_env = !env_.GetOr("AWS_WEB_IDENTITY_TOKEN_FILE", "").empty() &&
                                !env_.GetOr("AWS_ROLE_ARN", "").empty();
  const Status web_identity_unsupported = UnimplementedError(
      "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (web identity) are set; spotkeeper supports "
      "static keys only");
  if (!creds && !config) {
    if (ProfileExplicitlySet(env_)) {
      const char* var =
          env_.GetOr("AWS_PROFILE", "").empty() ? "AWS_DEFAULT_PROFILE" : "AWS_PROFILE";
      return FailedPreconditionError(std::string(var) + " names profile '" + profile +
                                     "', which is not in " + where);
    }
    if (web_identity_env) return web_identity_unsupported;
    return NotFoundError("no [" + profile + "] in " + where);
  }

  // The same precedence as botocore: assume-role and web identity first, then
  // SSO, the credentials file's static keys, credential_process, and the config
  // file's static keys. The ones spotkeeper does not implement fail loudly
  // instead of silently falling through to another identity.
  Section merged = config.value_or(Section{});
  if (creds) {
    for (const auto& [k, v] : *creds) merged[k] = v;
  }
  const std::string hint =
      "; spotkeeper supports static keys only (try `aws configure export-credentials --profile " +
      profile + " --format env`)";
  if (Has(merged, "role_arn")) {
    const char* how = Has(merged, "web_identity_token_file")
                          ? "role_arn with web_identity_token_file (web identity)"
                          : "role_arn (assume role)";
    return UnimplementedError("profile " + profile + " uses " + how + hint);
  }
  if (web_identity_env) return web_identity_unsupported;
  if (config) {
    for (const char* key : {"sso_session", "sso_start_url", "sso_account_id", "sso_role_name"}) {
      if (Has(*config, key))
        return UnimplementedError("profile " + profile + " uses " + key + " (SSO)" + hint);
    }
  }
  if (creds) {
    SPK_ASSIGN_OR_RETURN(auto c, StaticKeys(*creds, profile, creds_path,
                                            "profile " + profile + " (credentials file)"));
    if (c) return std::move(*c);
  }
  if (config && Has(*config, "login_session")) {
    return UnimplementedError("profile " + profile + " uses login_session (aws login)" + hint);
  }
  if (Has(merged, "credential_process")) {
    return UnimplementedError("profile " + profile + " uses credential_process" + hint);
  }
  if (config) {
    SPK_ASSIGN_OR_RETURN(
        auto c, StaticKeys(*config, profile, config_path, "profile " + profile + " (config file)"));
    if (c) return std::move(*c);
  }
  return NotFoundError("[" + profile + "] in " + where + " has no aws_access_key_id");
}

// ---------------------------------------------------------------- container

Result<Credentials> ContainerProvider::Resolve() {
  const std::string relative = env_.GetOr("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "");
  const std::string full = env_.GetOr("AWS_CONTAINER_CREDENTIALS_FULL_URI", "");
  if (relative.empty() && full.empty()) return NotFoundError("AWS_CONTAINER_CREDENTIALS_* not set");

  std::string url;
  if (!relative.empty()) {
    url = "http://169.254.170.2" + std::string(relative[0] == '/' ? "" : "/") + relative;
  } else {
    url = full;
    net::Url u;
    if (!net::ParseUrl(full, &u)) {
      return FailedPreconditionError("AWS_CONTAINER_CREDENTIALS_FULL_URI is not a valid URL: '" +
                                     full + "'");
    }
    if (u.scheme != "https" && !AllowedContainerHost(u.host)) {
      return FailedPreconditionError("AWS_CONTAINER_CREDENTIALS_FULL_URI host '" + u.host +
                                     "' is not allowed over http: use https, a loopback address, "
                                     "169.254.170.2, 169.254.170.23 or fd00:ec2::23");
    }
  }

  net::HttpRequest req;
  req.method = "GET";
  req.url = url;
  req.headers.emplace_back("Accept", "application/json");
  req.connect_timeout = std::chrono::seconds(2);
  req.total_timeout = std::chrono::seconds(5);
  std::string token;
  if (auto file = env_.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file && !file->empty()) {
    auto text = ReadFileToString(*file);
    if (!text) {
      return FailedPreconditionError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + *file);
    }
    token = Trim(*text);
  } else {
    token = env_.GetOr("AWS_CONTAINER_AUTHORIZATION_TOKEN", "");
  }
  if (token.find_first_of("\r\n") != std::string::npos) {
    return FailedPreconditionError("the container authorization token contains a line break");
  }
  if (!token.empty()) req.headers.emplace_back("Authorization", token);

  const std::string what = "container credentials endpoint " + url;
  Result<net::HttpResponse> reply = UnavailableError("not tried");
  for (int attempt = 0; attempt < 2; ++attempt) {
    reply = http_.Send(req);
    if (reply.ok() && reply->status < 500) break;
  }
  if (!reply.ok()) return reply.status().WithContext(what);
  if (reply->status != 200) {
    const std::string body = Truncate(Trim(reply->body), 200);
    std::string m = what + " answered HTTP " + std::to_string(reply->status) +
                    (body.empty() ? "" : ": " + body);
    if (reply->status >= 500) return UnavailableError(m);
    if (reply->status == 401 || reply->status == 403) return UnauthenticatedError(m);
    return FailedPreconditionError(m);
  }
  SPK_ASSIGN_OR_RETURN(Credentials c, ParseCredentialJson(reply->body, what));
  c.source = "container";
  return c;
}

// ---------------------------------------------------------------- imds

Result<Credentials> ImdsProvider::Resolve() {
  static const std::string kRoles = "/latest/meta-data/iam/security-credentials/";
  auto roles = imds_.Get(kRoles);
  if (!roles.ok()) {
    const Status& s = roles.status();
    switch (s.code()) {
      case StatusCode::kFailedPrecondition:
        return NotFoundError("disabled by AWS_EC2_METADATA_DISABLED");
      case StatusCode::kNotFound:
        return NotFoundError("no IAM role attached to the instance");
      case StatusCode::kUnavailable:
      case StatusCode::kDeadlineExceeded:
        // Not on EC2 (or IMDS is off): this source is not configured.
        return NotFoundError("not reachable: " + s.message());
      default:
        return s.WithContext("IMDS role credentials");
    }
  }
  std::string role = Trim(*roles);
  if (auto nl = role.find('\n'); nl != std::string::npos) role = Trim(role.substr(0, nl));
  if (role.empty()) return NotFoundError("no IAM role attached to the instance");

  auto doc = imds_.Get(kRoles + role);
  if (!doc.ok()) {
    if (doc.status().code() == StatusCode::kNotFound) {
      return UnavailableError("IMDS lists role " + role + " but has no credentials for it");
    }
    return doc.status().WithContext("IMDS credentials of role " + role);
  }
  const std::string what = "IMDS role " + role;
  auto j = ParseJsonOrDiscarded(*doc, kMaxLocalDocumentBytes);
  if (j.is_object() && j.contains("Code") && j["Code"].is_string() &&
      j["Code"].get<std::string>() != "Success") {
    std::string message =
        j.contains("Message") && j["Message"].is_string() ? j["Message"].get<std::string>() : "";
    return FailedPreconditionError(what + " answered Code " + j["Code"].get<std::string>() +
                                   (message.empty() ? "" : ": " + message));
  }
  SPK_ASSIGN_OR_RETURN(Credentials c, ParseCredentialJson(*doc, what));
  c.source = "imds role " + role;
  return c;
}

// ---------------------------------------------------------------- chain

CredentialChain::CredentialChain(std::vector<std::unique_ptr<CredentialProvider>> providers,
                                 const Clock& clock, Duration refresh_before)
    : providers_(std::move(providers)), clock_(clock), refresh_before_(refresh_before) {}

std::unique_ptr<CredentialChain> CredentialChain::Default(const Env& env, net::HttpTransport& http,
                                                          ImdsClient& imds, const Clock& clock) {
  std::vector<std::unique_ptr<CredentialProvider>> p;
  p.push_back(std::make_unique<EnvironmentProvider>(env));
  p.push_back(std::make_unique<ProfileProvider>(env));
  p.push_back(std::make_unique<ContainerProvider>(env, http));
  p.push_back(std::make_unique<ImdsProvider>(imds));
  return std::make_unique<CredentialChain>(std::move(p), clock);
}

Result<Credentials> CredentialChain::Resolve() {
  std::lock_guard<std::mutex> l(mu_);
  const WallTime now = clock_.WallNow();
  if (cached_ && (!cached_->expiration || now + refresh_before_ < *cached_->expiration))
    return *cached_;

  std::vector<Attempt> attempts;
  std::string tried;
  std::optional<Status> failure;
  for (auto& provider : providers_) {
    Result<Credentials> r = provider->Resolve();
    attempts.push_back({provider->name(), r.status()});
    if (r.ok()) {
      attempts_ = std::move(attempts);
      cached_ = std::move(r).value();
      return *cached_;
    }
    if (r.status().code() != StatusCode::kNotFound) {
      failure = r.status().WithContext("AWS credentials from " + provider->label());
      break;
    }
    if (!tried.empty()) tried += ", ";
    tried += provider->label() + " (" + r.status().message() + ")";
  }
  attempts_ = std::move(attempts);
  // A failed refresh keeps serving credentials that have not expired yet.
  if (cached_ && cached_->expiration && now < *cached_->expiration) return *cached_;
  cached_.reset();
  if (failure) return *failure;
  return UnauthenticatedError("no AWS credentials found; tried: " +
                              (tried.empty() ? "nothing" : tried));
}

std::vector<CredentialChain::Attempt> CredentialChain::attempts() const {
  std::lock_guard<std::mutex> l(mu_);
  return attempts_;
}

void CredentialChain::Invalidate() {
  std::lock_guard<std::mutex> l(mu_);
  cached_.reset();
}

}  // namespace spk::aws
