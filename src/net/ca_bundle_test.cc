#include "net/ca_bundle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace spk::net {
namespace {

auto ReadableAmong(std::set<std::string> files) {
  return [files](const std::string& path) { return files.count(path) > 0; };
}

TEST(CaBundleTest, AwsCaBundleWinsOverEverything) {
  MapEnv env({{"AWS_CA_BUNDLE", "/opt/ca.pem"}, {"SSL_CERT_FILE", "/other.pem"}});
  CaBundleChoice c = ChooseCaBundle(env, ReadableAmong({"/etc/ssl/certs/ca-certificates.crt"}));
  EXPECT_EQ(c.path, "/opt/ca.pem");
  EXPECT_EQ(c.source, "AWS_CA_BUNDLE");
}

TEST(CaBundleTest, SslCertFileWhenAwsCaBundleUnsetOrEmpty) {
  MapEnv env({{"AWS_CA_BUNDLE", ""}, {"SSL_CERT_FILE", "/other.pem"}});
  CaBundleChoice c = ChooseCaBundle(env, ReadableAmong({}));
  EXPECT_EQ(c.path, "/other.pem");
  EXPECT_EQ(c.source, "SSL_CERT_FILE");
}

TEST(CaBundleTest, ExplicitPathIsKeptEvenWhenUnreadable) {
  MapEnv env;
  env.Set("SSL_CERT_FILE", "/missing.pem");
  EXPECT_EQ(ChooseCaBundle(env, ReadableAmong({"/etc/ssl/cert.pem"})).path, "/missing.pem");
}

TEST(CaBundleTest, AmazonLinuxBundleFoundWhereDebiansIsAbsent) {
  MapEnv env;
  CaBundleChoice c = ChooseCaBundle(env, ReadableAmong({"/etc/pki/tls/certs/ca-bundle.crt"}));
  EXPECT_EQ(c.path, "/etc/pki/tls/certs/ca-bundle.crt");
  EXPECT_EQ(c.source, "system");
}

TEST(CaBundleTest, DebianBundlePreferredWhenBothExist) {
  MapEnv env;
  CaBundleChoice c = ChooseCaBundle(env, ReadableAmong({"/etc/pki/tls/certs/ca-bundle.crt",
                                                        "/etc/ssl/certs/ca-certificates.crt"}));
  EXPECT_EQ(c.path, "/etc/ssl/certs/ca-certificates.crt");
}

TEST(CaBundleTest, NoneFoundLeavesLibcurlDefault) {
  MapEnv env;
  CaBundleChoice c = ChooseCaBundle(env, ReadableAmong({"/somewhere/else.pem"}));
  EXPECT_EQ(c.path, "");
  EXPECT_EQ(c.source, "libcurl default");
}

TEST(CaBundleTest, KnownPathsIncludeAmazonLinux2023) {
  const auto& paths = KnownCaBundlePaths();
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/etc/pki/tls/certs/ca-bundle.crt"), paths.end());
}

}  // namespace
}  // namespace spk::net
