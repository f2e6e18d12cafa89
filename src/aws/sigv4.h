// AWS Signature Version 4, header signing.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
#pragma once

#include <string>

#include "aws/credentials.h"
#include "base/clock.h"
#include "net/http.h"

namespace spk::aws {

struct SigningParams {
  std::string region;
  std::string service;  // signing name
  WallTime time;
  // Normalise the path (RFC 3986 remove_dot_segments, collapse "//") before
  // encoding. True for every service but S3.
  bool normalize_path = true;
  // Add x-amz-content-sha256 (S3-style). Off for the services spotkeeper calls.
  bool sign_body_header = false;
  // Add X-Amz-Security-Token after signing, unsigned (aws-c-auth's
  // omit_session_token; the suite's post-sts-header-after case). Default: the
  // token is signed like every other header.
  bool omit_session_token = false;
};

// The intermediate products, for tests and for explaining a SignatureDoesNotMatch.
struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header value
};

// Signs `request` in place: adds X-Amz-Date, X-Amz-Security-Token (when the
// credentials carry a session token) and Authorization; adds Host from the URL
// when absent. Every header present is signed except User-Agent, Expect and
// X-Amzn-Trace-Id, which the AWS SDKs never sign. Multi-line values are folded,
// sequential spaces collapsed, duplicate names joined with ',' in order.
// Headers the signer sets (X-Amz-Date, X-Amz-Security-Token, Authorization,
// and x-amz-content-sha256 with `sign_body_header`) replace any already present,
// so a request may be signed again (on retry) without duplicates.
// The URL's path and query are taken as they are on the wire (already
// percent-encoded): the path is encoded once more, which is the double encoding
// every service but S3 expects; query keys and values are decoded and encoded
// again, then sorted.
// REQUIRES: request.url parses (net::ParseUrl).
SigningResult SignRequest(net::HttpRequest& request, const Credentials& credentials,
                          const SigningParams& params);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);

}  // namespace spk::aws
