// Names for the blocklist's tests and bench: a text name in wire form, and a million distinct
// seeded names of 20-35 characters, so the test's load bound and the bench measure the same.
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/ascii.h"

namespace dp::testing {

// "www.example.com" -> "\3www\7example\3com\0", lowercased as query_parse does; "." is the root.
inline std::string wire(std::string_view text) {
  std::string out;
  while (!text.empty() && text != ".") {
    const std::size_t dot = std::min(text.find('.'), text.size());
    out.push_back(static_cast<char>(dot));
    for (const char c : text.substr(0, dot)) out.push_back(ascii_lower(c));
    text.remove_prefix(std::min(dot + 1, text.size()));
  }
  out.push_back('\0');
  return out;
}

// `count` distinct names like "q3x-kfwz.examplez.com", seeded: the same every run.
inline std::vector<std::string> generated_names(std::size_t count) {
  static constexpr const char* kTlds[] = {"com", "net", "org", "io", "de", "info"};
  std::mt19937 rng(6);
  const auto label = [&rng](std::size_t min, std::size_t max) {
    std::string out(std::uniform_int_distribution<std::size_t>(min, max)(rng), 'a');
    for (char& c : out) c = static_cast<char>('a' + rng() % 26);
    return out;
  };
  std::vector<std::string> names;
  names.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::string unique;
    for (std::size_t n = i; n > 0 || unique.empty(); n /= 36) {
      unique.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]);
    }
    names.push_back(unique + "-" + label(3, 8) + "." + label(5, 12) + "." + kTlds[i % 6]);
  }
  return names;
}

}  // namespace dp::testing
