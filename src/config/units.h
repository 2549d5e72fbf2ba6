// Parsing and printing of the units used in settings: whole numbers, durations and byte sizes.
// Strict on purpose: no signs, spaces, fractions or unknown suffixes, so typos fail at start-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dp::config {

// Decimal digits only ("0", "42"). nullopt if empty, signed, not a number or above 2^64-1.
std::optional<std::uint64_t> count_parse(std::string_view text);

// "500ms", "3s", "1m", "1h", "1d"; a bare whole number means seconds. nullopt on anything else,
// including values whose milliseconds would not fit in 63 bits.
std::optional<std::chrono::milliseconds> duration_parse(std::string_view text);

// The largest unit that divides exactly: 3000ms -> "3s", 90s -> "90s", 500ms -> "500ms".
std::string duration_format(std::chrono::milliseconds d);

// "4096", "512B", "64KiB", "64MiB", "1GiB", and "64K", "64M", "1G" as the same binary units.
// nullopt on anything else (SI "KB", lowercase, fractions) or on overflow.
std::optional<std::uint64_t> size_parse(std::string_view text);

// The largest binary unit that divides exactly: 67108864 -> "64MiB", 1000 -> "1000B".
std::string size_format(std::uint64_t bytes);

}  // namespace dp::config
