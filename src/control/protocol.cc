#include "control/protocol.h"

#include <array>
#include <cstdio>
#include <vector>

#include "common/ascii.h"
#include "dns/question_text.h"

namespace dp::control {
namespace {

struct CommandSpec {
  Command command;
  const char* name;
  const char* usage;  // for the "usage:" error
  std::size_t min_args;
  std::size_t max_args;
};

constexpr std::array<CommandSpec, 8> kCommands{{
    {Command::kFlush, "flush", "flush NAME [TYPE]", 1, 2},
    {Command::kFlushZone, "flush-zone", "flush-zone NAME", 1, 1},
    {Command::kFlushAll, "flush-all", "flush-all", 0, 0},
    {Command::kCacheDump, "cache-dump", "cache-dump [NAME]", 0, 1},
    {Command::kUpstreams, "upstreams", "upstreams", 0, 0},
    {Command::kStats, "stats", "stats", 0, 0},
    {Command::kReload, "reload", "reload", 0, 0},
    {Command::kStatus, "status", "status", 0, 0},
}};

std::vector<std::string_view> words_split(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
    std::size_t end = pos;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
    if (end > pos) words.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return words;
}

std::string command_list() {
  std::string out;
  for (const CommandSpec& spec : kCommands)
    out += (out.empty() ? "" : ", ") + std::string(spec.name);
  return out;
}

}  // namespace

const char* command_name(Command command) {
  for (const CommandSpec& spec : kCommands) {
    if (spec.command == command) return spec.name;
  }
  return "unknown";
}

Result<std::string, std::string> name_parse(std::string_view text) {
  if (text.empty()) return unexpected(std::string("empty name"));
  if (text == ".") return std::string(1, '\0');
  if (text.back() == '.') text.remove_suffix(1);
  std::string wire;
  while (true) {
    const std::size_t dot = std::min(text.find('.'), text.size());
    const std::string_view label = text.substr(0, dot);
    if (label.empty()) return unexpected(std::string("empty label"));
    if (label.size() > 63) return unexpected(std::string("label longer than 63 bytes"));
    wire.push_back(static_cast<char>(label.size()));
    for (const char c : label) {
      const auto byte = static_cast<unsigned char>(c);
      if (byte <= ' ' || byte >= 0x7f) return unexpected(std::string("not printable ASCII"));
      if (c == '\\') return unexpected(std::string("escapes are not supported"));
      wire.push_back(ascii_lower(c));
    }
    if (dot == text.size()) break;
    text.remove_prefix(dot + 1);
  }
  wire.push_back('\0');
  if (wire.size() > 255)
    return unexpected(std::string("longer than 255 bytes"));  // RFC 1035 §2.3.4
  return wire;
}

Result<Request, std::string> request_parse(std::string_view line) {
  for (const char c : line) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < ' ' && c != '\t') || byte == 0x7f) {
      return unexpected(std::string("request has control characters"));
    }
  }
  const std::vector<std::string_view> words = words_split(line);
  if (words.empty()) return unexpected(std::string("empty request"));
  const CommandSpec* spec = nullptr;
  for (const CommandSpec& candidate : kCommands) {
    if (words[0] == candidate.name) spec = &candidate;
  }
  if (spec == nullptr) {
    // Only printable bytes reach here; a long word is cut so the reason stays one short line.
    const std::string_view shown = words[0].substr(0, 64);
    return unexpected("unknown command '" + std::string(shown) + "' (try: " + command_list() + ")");
  }
  const std::size_t args = words.size() - 1;
  if (args < spec->min_args || args > spec->max_args) {
    return unexpected("usage: " + std::string(spec->usage));
  }
  Request request;
  request.command = spec->command;
  if (args >= 1) {
    auto qname = name_parse(words[1]);
    if (!qname) {
      return unexpected("bad name '" + std::string(words[1].substr(0, 300)) +
                        "': " + qname.error());
    }
    request.qname = std::move(qname).value();
  }
  if (args >= 2) {
    request.qtype = dns::rr_type_parse(words[2]);
    if (!request.qtype)
      return unexpected("unknown type '" + std::string(words[2].substr(0, 64)) + "'");
  }
  return request;
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (byte < 0x20 || byte >= 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(byte));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string json_string(std::string_view text) { return '"' + json_escape(text) + '"'; }

std::string reply_ok(std::string_view summary) {
  return summary.empty() ? std::string("ok\n") : "ok " + std::string(summary) + "\n";
}

std::string reply_error(std::string_view reason) {
  std::string line = "error ";
  for (const char c : reason) line += (c == '\n' || c == '\r') ? ' ' : c;
  return line + "\n";
}

}  // namespace dp::control
