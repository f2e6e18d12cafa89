#include "aws/endpoint.h"

#include <cctype>

#include "aws/config_file.h"
#include "aws/imds.h"
#include "base/strings.h"
#include "net/http.h"

namespace spk::aws {
namespace {

// Region names are lower-case letters, digits and '-' ("us-east-1", "cn-north-1").
bool ValidRegion(const std::string& r) {
  if (r.empty() || r.front() == '-' || r.back() == '-') return false;
  for (char c : r) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

Result<ResolvedRegion> Checked(std::string region, std::string source) {
  region = Trim(region);
  if (!ValidRegion(region)) {
    return InvalidArgumentError("region '" + region + "' from " + source +
                                " is not a valid AWS region name");
  }
  return ResolvedRegion{std::move(region), std::move(source)};
}

// botocore's key for a service in a [services NAME] section: "ecs", "auto_scaling".
std::string SnakeCaseId(const ServiceInfo& s) {
  std::string out = AsciiLower(s.id);
  for (auto& c : out) {
    if (c == ' ' || c == '-') c = '_';
  }
  return out;
}

}  // namespace

Result<ResolvedRegion> ResolveRegion(const Env& env, ImdsClient* imds) {
  if (auto v = env.Get("AWS_REGION"); v && !Trim(*v).empty()) return Checked(*v, "AWS_REGION");
  if (auto v = env.Get("AWS_DEFAULT_REGION"); v && !Trim(*v).empty())
    return Checked(*v, "AWS_DEFAULT_REGION");
  const std::string profile = ActiveProfileName(env);
  auto settings = LoadConfigProfile(env, profile);
  if (auto it = settings.find("region"); it != settings.end() && !Trim(it->second).empty()) {
    return Checked(it->second, "profile " + profile);
  }
  std::string imds_reason = "not consulted";
  if (imds != nullptr) {
    auto r = imds->Get("/latest/meta-data/placement/region");
    if (r.ok() && !Trim(*r).empty()) return Checked(*r, "imds");
    imds_reason = r.ok() ? "empty reply" : r.status().message();
  }
  std::string config_path = ConfigFilePath(env);
  return NotFoundError(
      "no AWS region configured; looked at: AWS_REGION (not set), AWS_DEFAULT_REGION (not set), "
      "profile " +
      profile + " in " + (config_path.empty() ? "~/.aws/config" : config_path) +
      " (no region), imds (" + imds_reason + ")");
}

EndpointResolver::EndpointResolver(const Env& env, std::string region) : region_(Trim(region)) {
  const std::string profile = ActiveProfileName(env);
  std::map<std::string, std::string> settings;
  std::optional<IniFile> config = ReadIniFile(ConfigFilePath(env));
  if (config) {
    if (auto p = FindConfigProfile(*config, profile)) settings = std::move(*p);
  }

  // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS wins over the profile's setting.
  bool ignore = false;
  if (auto v = env.Get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); v && !Trim(*v).empty()) {
    ignore = AsciiLower(Trim(*v)) == "true";
  } else if (auto it = settings.find("ignore_configured_endpoint_urls"); it != settings.end()) {
    ignore = AsciiLower(Trim(it->second)) == "true";
  }
  if (ignore) return;

  for (const ServiceInfo* s : services::All()) {
    const std::string var = "AWS_ENDPOINT_URL_" + s->EnvSuffix();
    if (auto v = env.Get(var); v && !Trim(*v).empty())
      per_service_env_[s->EnvSuffix()] = {Trim(*v), var};
  }
  if (auto v = env.Get("AWS_ENDPOINT_URL"); v && !Trim(*v).empty()) {
    global_env_ = Configured{Trim(*v), "AWS_ENDPOINT_URL"};
  }
  if (auto it = settings.find("endpoint_url"); it != settings.end() && !Trim(it->second).empty()) {
    global_profile_ = Configured{Trim(it->second), "profile " + profile};
  }
  if (auto it = settings.find("services"); it != settings.end() && !Trim(it->second).empty()) {
    const std::string section = Trim(it->second);
    auto sec = config->find("services " + section);
    if (sec == config->end()) {
      profile_error_ = "profile " + profile + " names services section '" + section +
                       "', which is not in " + ConfigFilePath(env);
      return;
    }
    for (const ServiceInfo* s : services::All()) {
      auto entry = sec->second.find(SnakeCaseId(*s));
      if (entry == sec->second.end()) continue;
      auto nested = ParseNestedValue(entry->second);
      auto url = nested.find("endpoint_url");
      if (url != nested.end() && !url->second.empty()) {
        per_service_profile_[s->EnvSuffix()] = {url->second,
                                                "profile " + profile + " services " + section};
      }
    }
  }
}

Result<ResolvedEndpoint> EndpointResolver::Resolve(const ServiceInfo& service) const {
  if (!profile_error_.empty()) return InvalidArgumentError(profile_error_);
  const Configured* chosen = nullptr;
  if (auto it = per_service_env_.find(service.EnvSuffix()); it != per_service_env_.end()) {
    chosen = &it->second;
  } else if (global_env_) {
    chosen = &*global_env_;
  } else if (auto ps = per_service_profile_.find(service.EnvSuffix());
             ps != per_service_profile_.end()) {
    chosen = &ps->second;
  } else if (global_profile_) {
    chosen = &*global_profile_;
  }
  if (chosen != nullptr) {
    std::string url = chosen->url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    net::Url parsed;
    if (!net::ParseUrl(url, &parsed)) {
      return InvalidArgumentError("endpoint URL '" + chosen->url + "' from " + chosen->source +
                                  " is not a valid http(s) URL");
    }
    if (!parsed.query.empty() || url.find('#') != std::string::npos) {
      return InvalidArgumentError("endpoint URL '" + chosen->url + "' from " + chosen->source +
                                  " must not carry a query or fragment");
    }
    return ResolvedEndpoint{std::move(url), chosen->source};
  }
  if (!ValidRegion(region_)) {
    return InvalidArgumentError(
        "no endpoint for " + service.id + ": " +
        (region_.empty() ? std::string("no region") : "invalid region '" + region_ + "'"));
  }
  const std::string suffix = region_.rfind("cn-", 0) == 0 ? ".amazonaws.com.cn" : ".amazonaws.com";
  return ResolvedEndpoint{"https://" + service.endpoint_prefix + "." + region_ + suffix, "default"};
}

}  // namespace spk::aws
