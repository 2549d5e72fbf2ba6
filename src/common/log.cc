#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace dp::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<int> g_format{static_cast<int>(Format::kLogfmt)};

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20)
      return true;
  }
  return false;
}

// A quoted string with quotes, backslashes, newlines and tabs escaped; other control bytes
// become \u00XX in JSON (RFC 8259 §7) and '?' in logfmt, so none reaches a terminal raw.
void append_quoted(std::string& out, std::string_view v, Format format) {
  out.push_back('"');
  for (const char c : v) {
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x20) {
          out.push_back(c);
        } else if (format == Format::kJson) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out.append(escaped);
        } else {
          out.push_back('?');
        }
    }
  }
  out.push_back('"');
}

void append_json(std::string& out, std::string_view v) { append_quoted(out, v, Format::kJson); }

void append_value(std::string& out, std::string_view v) {
  if (needs_quotes(v)) {
    append_quoted(out, v, Format::kLogfmt);
  } else {
    out.append(v);
  }
}

}  // namespace

void set_level(Level level) noexcept { g_level.store(static_cast<int>(level)); }
void set_format(Format format) noexcept { g_format.store(static_cast<int>(format)); }

std::optional<Format> format_parse(std::string_view name) {
  if (name == "logfmt") return Format::kLogfmt;
  if (name == "json") return Format::kJson;
  return std::nullopt;
}

std::string_view format_name(Format format) { return format == Format::kJson ? "json" : "logfmt"; }

bool enabled(Level level) noexcept {
  return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

std::optional<Level> level_parse(std::string_view name) {
  if (name == "error") return Level::kError;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "info") return Level::kInfo;
  if (name == "debug") return Level::kDebug;
  return std::nullopt;
}

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kError:
      return "error";
    case Level::kWarn:
      return "warn";
    case Level::kInfo:
      return "info";
    case Level::kDebug:
      return "debug";
  }
  return "info";
}

std::string format(Level level, std::string_view msg, std::initializer_list<Field> fields,
                   Format format) {
  std::string line;
  line.reserve(128);
  if (format == Format::kJson) {
    line.append("{\"level\":\"").append(level_name(level)).append("\",\"msg\":");
    append_json(line, msg);
    for (const Field& f : fields) {
      line.push_back(',');
      append_json(line, f.key);
      line.push_back(':');
      append_json(line, f.value);
    }
    line.push_back('}');
    return line;
  }
  line.append("level=").append(level_name(level)).append(" msg=");
  append_value(line, msg);
  for (const Field& f : fields) {
    line.push_back(' ');
    line.append(f.key).push_back('=');
    append_value(line, f.value);
  }
  return line;
}

std::string utc_now_text() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return stamp;
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  const auto style = static_cast<Format>(g_format.load(std::memory_order_relaxed));
  std::string line = style == Format::kJson ? "{\"time\":\"" + utc_now_text() + "\","
                                            : "time=" + utc_now_text() + " ";
  const std::string body = format(level, msg, fields, style);
  line.append(style == Format::kJson ? std::string_view(body).substr(1) : std::string_view(body));
  line.push_back('\n');
  // One write(2): atomic for lines under PIPE_BUF, never interleaved mid-line in practice.
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;  // stderr gone: nothing sensible to do
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace dp::log
