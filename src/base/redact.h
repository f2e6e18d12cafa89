// What may leave the process in a log line or an error message: URLs without
// their secrets, outside text cut to a size a person can read.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace spk {

// `url` with only its scheme and host (and port) kept: user info is dropped,
// and a path other than "/", a query string or a fragment become
// "/...redacted". Webhook URLs carry their secret in any of those (Slack
// hooks.slack.com/services/T../B../SECRET, Teams and Discord incoming webhooks,
// ?token=, https://user:password@host).
//   https://hooks.slack.com/services/T0/B0/abc -> https://hooks.slack.com/...redacted
//   http://127.0.0.1:8080                      -> http://127.0.0.1:8080
// Text that is not scheme://host... becomes "...redacted" (all of it may be secret).
std::string RedactUrl(std::string_view url);

// The longest outside text (a response body, a remote error message) put into
// an error or a log line.
inline constexpr size_t kMaxOutsideText = 512;

// `text` when it is at most `max` bytes; else its first `max` bytes (never
// cutting a UTF-8 character in two) followed by "...[truncated, N bytes]"
// with N the full size.
std::string Truncate(std::string_view text, size_t max = kMaxOutsideText);

}  // namespace spk
