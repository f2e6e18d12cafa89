#include "net/ca_bundle.h"

#include <unistd.h>

namespace spk::net {

const std::vector<std::string>& KnownCaBundlePaths() {
  static const std::vector<std::string> paths = {
      "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu
      "/etc/pki/tls/certs/ca-bundle.crt",                   // Amazon Linux 2023, RHEL, Fedora
      "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // the same, where the above is absent
      "/etc/ssl/ca-bundle.pem",                             // SUSE
      "/etc/ssl/cert.pem",                                  // Alpine
  };
  return paths;
}

CaBundleChoice ChooseCaBundle(const Env& env,
                              const std::function<bool(const std::string&)>& readable) {
  for (const char* name : {"AWS_CA_BUNDLE", "SSL_CERT_FILE"}) {
    std::string value = env.GetOr(name, "");
    if (!value.empty()) return {value, name};
  }
  for (const std::string& path : KnownCaBundlePaths()) {
    if (readable(path)) return {path, "system"};
  }
  return {"", "libcurl default"};
}

CaBundleChoice ChooseCaBundle() {
  return ChooseCaBundle(ProcessEnv::Instance(),
                        [](const std::string& path) { return access(path.c_str(), R_OK) == 0; });
}

}  // namespace spk::net
