// Which file of trusted CA certificates TLS connections verify servers against.
//
// libcurl's compiled-in default is the build machine's path (Debian:
// /etc/ssl/certs/ca-certificates.crt), which does not exist on Amazon Linux 2023
// (the Lambda `provided.al2023` runtime) or other RPM-based hosts, so a binary
// built here would fail every HTTPS request there. ChooseCaBundle picks the file
// explicitly, in this order:
//   1. AWS_CA_BUNDLE (what the AWS CLI and SDKs read), if set and non-empty;
//   2. SSL_CERT_FILE (OpenSSL's convention), if set and non-empty;
//   3. the first readable file of KnownCaBundlePaths() (Debian/Ubuntu,
//      Amazon Linux/RHEL/Fedora, SUSE, Alpine);
//   4. none: "" means "leave libcurl's default".
// An explicitly configured path is used as given, even when it cannot be read:
// the TLS error then names that path instead of silently trusting another file.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/env.h"

namespace spk::net {

struct CaBundleChoice {
  std::string path;    // "" when none was found: keep libcurl's default
  std::string source;  // "AWS_CA_BUNDLE", "SSL_CERT_FILE", "system" or "libcurl default"
};

// The system locations tried in step 3, in order.
const std::vector<std::string>& KnownCaBundlePaths();

// `readable` says whether a file can be opened for reading (injected for tests).
CaBundleChoice ChooseCaBundle(const Env& env,
                              const std::function<bool(const std::string&)>& readable);

// ChooseCaBundle over the process environment and the real file system.
CaBundleChoice ChooseCaBundle();

}  // namespace spk::net
