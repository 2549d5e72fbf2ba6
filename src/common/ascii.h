// ASCII case folding for DNS names: RFC 4343 §3 makes names compare case-insensitively for
// the letters A-Z alone, whatever the locale says a letter is (so never std::tolower).
#pragma once

#include <cstddef>
#include <string_view>

namespace dp {

// 'A'-'Z' as 'a'-'z'; every other byte unchanged. Wire-form names may be lowered whole: label
// length bytes are at most 63 (RFC 1035 §2.3.4), below 'A'.
constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Whether `text`, lowered, is `lower` (which the caller keeps lowercase). No copy is made.
constexpr bool ascii_lower_equal(std::string_view text, std::string_view lower) noexcept {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (ascii_lower(text[i]) != lower[i]) return false;
  }
  return true;
}

}  // namespace dp
