// The control channel's protocol (README "Control"): a request is one line, "COMMAND [ARGS]",
// at most kMaxRequestBytes; a reply is zero or more data lines (each one JSON object) and a
// final line "ok [SUMMARY]" or "error REASON". Pure: parsing and formatting only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dp::control {

inline constexpr std::size_t kMaxRequestBytes = 1024;  // without the "\n"

enum class Command {
  kFlush,      // flush NAME [TYPE]
  kFlushZone,  // flush-zone NAME
  kFlushAll,   // flush-all
  kCacheDump,  // cache-dump [NAME]
  kUpstreams,  // upstreams
  kStats,      // stats
  kReload,     // reload
  kStatus,     // status
  kLast = kStatus
};

const char* command_name(Command command);  // "flush", "flush-zone", ...

struct Request {
  Command command = Command::kStatus;
  std::string qname;                   // lowercased wire form; "" when the command takes none
  std::optional<std::uint16_t> qtype;  // flush's TYPE
};

// One request line (without its "\n"). Errors, as the reply's REASON: "empty request",
// "unknown command 'X' (try: ...)", "usage: flush NAME [TYPE]", "bad name 'X': WHY",
// "unknown type 'X'", "request has control characters".
Result<Request, std::string> request_parse(std::string_view line);

// A name as text ("www.example.com", a final dot optional, "." the root) in lowercased wire
// form. Labels of 1 to 63 printable ASCII bytes other than '\' (no escapes), 255 bytes in all.
// Errors say why.
Result<std::string, std::string> name_parse(std::string_view text);

// `text` as the inside of a JSON string (RFC 8259 §7): quote, backslash and control bytes
// escaped, bytes from 0x7f up as \u00XX (names are bytes, not UTF-8).
std::string json_escape(std::string_view text);
// `text` as a JSON string, quotes included.
std::string json_string(std::string_view text);

// The final lines.
std::string reply_ok(std::string_view summary = {});  // "ok\n" or "ok SUMMARY\n"
std::string reply_error(std::string_view reason);     // "error REASON\n", one line

}  // namespace dp::control
