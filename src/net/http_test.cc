#include "net/http.h"

#include <gtest/gtest.h>

namespace spk::net {
namespace {

TEST(UrlTest, ParsesParts) {
  Url u;
  ASSERT_TRUE(ParseUrl("http://127.0.0.1:5000/a/b?x=1&y=2", &u));
  EXPECT_EQ(u.scheme, "http");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 5000);
  EXPECT_EQ(u.path, "/a/b");
  EXPECT_EQ(u.query, "x=1&y=2");
  EXPECT_EQ(u.Authority(), "127.0.0.1:5000");
  ASSERT_TRUE(ParseUrl("https://ecs.us-east-1.amazonaws.com", &u));
  EXPECT_EQ(u.path, "/");
  EXPECT_EQ(u.port, 0);
  EXPECT_EQ(u.Authority(), "ecs.us-east-1.amazonaws.com");
  ASSERT_TRUE(ParseUrl("http://[::1]:8080/", &u));
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.Authority(), "[::1]:8080");
}

TEST(UrlTest, RejectsMalformed) {
  Url u;
  EXPECT_FALSE(ParseUrl("", &u));
  EXPECT_FALSE(ParseUrl("ftp://x/", &u));
  EXPECT_FALSE(ParseUrl("http://", &u));
  EXPECT_FALSE(ParseUrl("http://host:99999/", &u));
  EXPECT_FALSE(ParseUrl("http://host:12ab/", &u));
  EXPECT_FALSE(ParseUrl("localhost:4566", &u));
}

TEST(UriEncodeTest, EncodesAllButUnreserved) {
  EXPECT_EQ(UriEncode("a-b_c.d~e"), "a-b_c.d~e");
  EXPECT_EQ(UriEncode("a b/c=d"), "a%20b%2Fc%3Dd");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4"), "%E1%88%B4");
  EXPECT_EQ(UriDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(FormEncode("Linux/UNIX (Amazon VPC)"), "Linux%2FUNIX+%28Amazon+VPC%29");
  EXPECT_EQ(FormEncode(" a+b "), "+a%2Bb+");
  EXPECT_EQ(UriDecode("100%"), "100%");
}

TEST(HttpResponseTest, HeaderLookupIgnoresCase) {
  HttpResponse r;
  r.headers = {{"X-Amzn-RequestId", "abc"}};
  EXPECT_EQ(r.Header("x-amzn-requestid"), "abc");
  EXPECT_EQ(r.Header("date"), std::nullopt);
}

}  // namespace
}  // namespace spk::net
