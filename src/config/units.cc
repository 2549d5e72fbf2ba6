#include "config/units.h"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace dp::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Longest suffixes first so that "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 5> kDurationUnits{
    {{"ms", 1}, {"s", 1'000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
// K, M and G are binary too, as in Unbound's and dnsmasq's cache sizes; size_format() writes
// the first three, so only they need be listed before the single letters.
constexpr std::array<Unit, 7> kSizeUnits{{{"GiB", 1ULL << 30},
                                          {"MiB", 1ULL << 20},
                                          {"KiB", 1ULL << 10},
                                          {"B", 1},
                                          {"G", 1ULL << 30},
                                          {"M", 1ULL << 20},
                                          {"K", 1ULL << 10}}};

// Splits "64MiB" into 64 and "MiB"; nullopt if the leading digits are missing or overflow.
std::optional<std::pair<std::uint64_t, std::string_view>> number_and_suffix(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const auto number = count_parse(text.substr(0, digits));
  if (!number) return std::nullopt;
  return std::pair{*number, text.substr(digits)};
}

template <std::size_t N>
std::optional<std::uint64_t> scaled(std::uint64_t n, std::string_view suffix,
                                    const std::array<Unit, N>& units, std::uint64_t max) {
  for (const Unit& u : units) {
    if (suffix != u.suffix) continue;
    if (n > max / u.factor) return std::nullopt;
    return n * u.factor;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> count_parse(std::string_view text) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::chrono::milliseconds> duration_parse(std::string_view text) {
  const auto parts = number_and_suffix(text);
  if (!parts) return std::nullopt;
  const std::string_view suffix = parts->second.empty() ? "s" : parts->second;
  const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const auto ms = scaled(parts->first, suffix, kDurationUnits, max);
  if (!ms) return std::nullopt;
  return std::chrono::milliseconds(static_cast<std::int64_t>(*ms));
}

std::string duration_format(std::chrono::milliseconds d) {
  const auto ms = static_cast<std::uint64_t>(d.count());
  for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
    if (ms != 0 && ms % it->factor == 0)
      return std::to_string(ms / it->factor) + std::string(it->suffix);
  }
  return std::to_string(d.count()) + "ms";
}

std::optional<std::uint64_t> size_parse(std::string_view text) {
  const auto parts = number_and_suffix(text);
  if (!parts) return std::nullopt;
  const std::string_view suffix = parts->second.empty() ? "B" : parts->second;
  return scaled(parts->first, suffix, kSizeUnits, std::numeric_limits<std::uint64_t>::max());
}

std::string size_format(std::uint64_t bytes) {
  for (const Unit& u : kSizeUnits) {
    if (bytes != 0 && bytes % u.factor == 0)
      return std::to_string(bytes / u.factor) + std::string(u.suffix);
  }
  return "0B";
}

}  // namespace dp::config
