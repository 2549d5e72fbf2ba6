// Levelled logging to stderr, one line per event (time, level, msg, fields), as logfmt
// (key=value) or as one JSON object per line.
// Callers use DP_LOG so that nothing is formatted for a level that is not emitted.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace dp::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

struct Field {
  std::string_view key;
  std::string_view value;
};

enum class Format { kLogfmt, kJson };

void set_level(Level level) noexcept;
void set_format(Format format) noexcept;
// "logfmt", "json"; nullopt for anything else.
std::optional<Format> format_parse(std::string_view name);
std::string_view format_name(Format format);
bool enabled(Level level) noexcept;

// "error", "warn", "info", "debug"; nullopt for anything else.
std::optional<Level> level_parse(std::string_view name);
std::string_view level_name(Level level);

// The current UTC time as 2026-12-02T06:52:44.123Z (milliseconds), as every log line has it.
std::string utc_now_text();

// Formats and writes one line with a single write(2), so lines from threads never interleave.
void write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

// The line write() would emit in `format`, without the time stamp (for tests).
std::string format(Level level, std::string_view msg, std::initializer_list<Field> fields,
                   Format format = Format::kLogfmt);

}  // namespace dp::log

#define DP_LOG(lvl, msg, ...)                                      \
  do {                                                             \
    if (::dp::log::enabled(::dp::log::Level::lvl))                 \
      ::dp::log::write(::dp::log::Level::lvl, msg, {__VA_ARGS__}); \
  } while (0)
