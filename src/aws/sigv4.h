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
// when absent. Every header present is signed. Multi-line values are folded,
// sequential spaces collapsed, duplicate names joined with ',' in order.
// REQUIRES: request.url parses (net::ParseUrl).
SigningResult SignRequest(net::HttpRequest& request, const Credentials& credentials,
                          const SigningParams& params);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);

}  // namespace spk::aws
