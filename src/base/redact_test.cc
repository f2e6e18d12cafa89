#include "base/redact.h"

#include <gtest/gtest.h>

namespace spk {
namespace {

TEST(RedactUrlTest, KeepsSchemeAndHostOnly) {
  struct Case {
    const char* url;
    const char* want;
  };
  const Case cases[] = {
      // Slack: the path is the secret.
      {"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
       "https://hooks.slack.com/...redacted"},
      // Teams / Power Automate incoming webhooks: path and signature in the query.
      {"https://example.webhook.office.com/webhookb2/1f2e@3d4c/IncomingWebhook/abc/def",
       "https://example.webhook.office.com/...redacted"},
      {"https://prod-00.westeurope.logic.azure.com:443/workflows/123/triggers/manual/"
       "paths/invoke?api-version=2016-06-01&sig=s3cr3t",
       "https://prod-00.westeurope.logic.azure.com:443/...redacted"},
      // User info, query, fragment.
      {"https://user:p4ss@example.com/hook", "https://example.com/...redacted"},
      {"https://user:p4ss@example.com", "https://example.com"},
      {"http://example.com?token=s3cr3t", "http://example.com/...redacted"},
      {"http://example.com/#frag", "http://example.com/...redacted"},
      // Nothing secret to hide: unchanged.
      {"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
      {"http://127.0.0.1:8080/", "http://127.0.0.1:8080/"},
      {"http://[::1]:8080/x", "http://[::1]:8080/...redacted"},
      // Not a URL: all of it may be a secret.
      {"s3cr3t-token", "...redacted"},
      {"://host/x", "...redacted"},
      {"ht tp://host/x", "...redacted"},
      {"", "...redacted"},
  };
  for (const auto& c : cases) EXPECT_EQ(RedactUrl(c.url), c.want) << c.url;
}

TEST(RedactUrlTest, NoSecretSurvives) {
  for (const char* url : {"https://a:SECRET@h/p", "https://h/SECRET", "https://h?x=SECRET",
                          "https://h#SECRET", "https://h/a/b/SECRET?c=SECRET", "SECRET"}) {
    EXPECT_EQ(RedactUrl(url).find("SECRET"), std::string::npos) << url;
  }
}

TEST(TruncateTest, CapsWithAMarker) {
  EXPECT_EQ(Truncate("short"), "short");
  EXPECT_EQ(Truncate(std::string(512, 'a')), std::string(512, 'a'));
  const std::string big(10000, 'b');
  const std::string t = Truncate(big);
  EXPECT_EQ(t, std::string(512, 'b') + "...[truncated, 10000 bytes]");
  EXPECT_EQ(Truncate("abcdef", 3), "abc...[truncated, 6 bytes]");
}

TEST(TruncateTest, NeverSplitsAUtf8Character) {
  // "é" is two bytes: a cut after 3 bytes of "aéé" falls inside the second.
  EXPECT_EQ(Truncate("a\xC3\xA9\xC3\xA9", 4), "a\xC3\xA9...[truncated, 5 bytes]");
  EXPECT_EQ(Truncate("\xE2\x82\xAC\xE2\x82\xAC", 4), "\xE2\x82\xAC...[truncated, 6 bytes]");
}

}  // namespace
}  // namespace spk
