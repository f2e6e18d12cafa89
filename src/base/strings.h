// Small string helpers shared by every layer (ASCII only, locale-independent).
#pragma once

#include <string>
#include <string_view>

namespace spk {

// `s` without leading and trailing ASCII whitespace.
std::string Trim(std::string_view s);
// `s` with A-Z turned into a-z.
std::string AsciiLower(std::string_view s);

}  // namespace spk
