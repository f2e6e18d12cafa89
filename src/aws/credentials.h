// AWS credentials and the provider chain, in the order every AWS SDK uses:
//   1. environment   AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN]
//   2. profile       shared credentials file, then config file (AWS_PROFILE, default "default")
//   3. container     ECS task role: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI,
//                    with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]
//   4. imds          the instance profile's role over IMDSv2 (v1 where v2 is not served)
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/env.h"
#include "base/status.h"
#include "net/http.h"

namespace spk::aws {

class ImdsClient;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;           // empty for long-term keys
  std::optional<WallTime> expiration;  // nullopt: does not expire
  // Where they came from: "environment", "profile NAME (credentials file)",
  // "profile NAME (config file)", "container", "imds role NAME".
  std::string source;
};

class CredentialProvider {
 public:
  virtual ~CredentialProvider() = default;
  // Credentials, or:
  //   kNotFound  this source is not configured (the chain moves on);
  //   any other  the source is configured but broken (the chain stops and reports it).
  virtual Result<Credentials> Resolve() = 0;
  // "environment", "profile", "container", "imds".
  virtual std::string name() const = 0;
  // Forgets cached credentials (after the service rejected them as expired).
  virtual void Invalidate() {}
  // How the chain names this source in its messages; "profile NAME" for profiles.
  virtual std::string label() const { return name(); }
};

class EnvironmentProvider final : public CredentialProvider {
 public:
  explicit EnvironmentProvider(const Env& env) : env_(env) {}
  Result<Credentials> Resolve() override;
  std::string name() const override { return "environment"; }

 private:
  const Env& env_;
};

// Static keys from the shared credentials file (AWS_SHARED_CREDENTIALS_FILE,
// default ~/.aws/credentials) or the config file (AWS_CONFIG_FILE, default
// ~/.aws/config, section "[profile NAME]" or "[default]"), for AWS_PROFILE.
class ProfileProvider final : public CredentialProvider {
 public:
  explicit ProfileProvider(const Env& env) : env_(env) {}
  Result<Credentials> Resolve() override;
  std::string name() const override { return "profile"; }
  std::string label() const override;

 private:
  const Env& env_;
};

// The ECS container credentials endpoint.
class ContainerProvider final : public CredentialProvider {
 public:
  ContainerProvider(const Env& env, net::HttpTransport& http) : env_(env), http_(http) {}
  Result<Credentials> Resolve() override;
  std::string name() const override { return "container"; }

 private:
  const Env& env_;
  net::HttpTransport& http_;
};

// The instance profile's role credentials from IMDS.
class ImdsProvider final : public CredentialProvider {
 public:
  explicit ImdsProvider(ImdsClient& imds) : imds_(imds) {}
  Result<Credentials> Resolve() override;
  std::string name() const override { return "imds"; }

 private:
  ImdsClient& imds_;
};

// Tries providers in order; caches what it found and resolves again once the
// credentials are within `refresh_before` of their expiry. Thread-safe.
class CredentialChain final : public CredentialProvider {
 public:
  struct Attempt {
    std::string provider;
    Status status;  // kNotFound: not configured; ok: used
  };

  CredentialChain(std::vector<std::unique_ptr<CredentialProvider>> providers, const Clock& clock,
                  Duration refresh_before = std::chrono::minutes(5));

  // The SDK-order chain over the given environment, transport and IMDS client.
  static std::unique_ptr<CredentialChain> Default(const Env& env, net::HttpTransport& http,
                                                  ImdsClient& imds, const Clock& clock);

  // Cached credentials, or the first configured provider's. Fails with
  // kUnauthenticated naming every source tried when none is configured.
  Result<Credentials> Resolve() override;
  std::string name() const override { return "chain"; }

  // What the last resolution tried, in order.
  std::vector<Attempt> attempts() const;
  // Drops the cache (after the service rejected the credentials as expired).
  void Invalidate() override;

 private:
  std::vector<std::unique_ptr<CredentialProvider>> providers_;
  const Clock& clock_;
  Duration refresh_before_;
  mutable std::mutex mu_;
  std::optional<Credentials> cached_;
  std::vector<Attempt> attempts_;
};

}  // namespace spk::aws
