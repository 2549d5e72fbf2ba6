#include "dns/question_text.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "dns/ldns_include.h"
#include "dns/wire.h"

namespace dp::dns {

std::optional<QuestionText> question_text(std::span<const std::uint8_t> wire) {
  if (wire.size() < kHeaderSize || wire::read_u16(wire, wire::kQdCount) == 0) return std::nullopt;
  const auto question = wire::read_question(wire, kHeaderSize);
  if (!question) return std::nullopt;
  QuestionText out;
  const auto& q = *question;
  const std::string_view bytes(reinterpret_cast<const char*>(q.data()), q.size());
  out.name = name_text(bytes);
  std::size_t pos = 0;
  while (q[pos] != 0) pos += 1 + q[pos];
  out.type = rr_type_text(wire::read_u16(q, pos + 1));
  return out;
}

std::string name_text(std::string_view wire) {
  std::string out;
  std::size_t pos = 0;
  while (pos < wire.size() && wire[pos] != 0) {
    const auto length = static_cast<std::uint8_t>(wire[pos++]);
    for (std::uint8_t i = 0; i < length && pos < wire.size(); ++i, ++pos) {
      const auto c = static_cast<std::uint8_t>(wire[pos]);
      if (c == '.' || c == '\\' || c <= ' ' || c >= 0x7f) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\%03u", static_cast<unsigned>(c));
        out += escaped;
      } else {
        out += static_cast<char>(c);
      }
    }
    out += '.';
  }
  if (out.empty()) out = ".";
  return out;
}

std::string rr_type_text(std::uint16_t type) {
  const ldns_rr_descriptor* descriptor = ldns_rr_descript(type);
  if (descriptor != nullptr && descriptor->_name != nullptr) return descriptor->_name;
  return "TYPE" + std::to_string(type);
}

std::optional<std::uint16_t> rr_type_parse(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  std::string upper;
  for (const char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return std::nullopt;
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (upper.size() > 4 && upper.compare(0, 4, "TYPE") == 0) {  // RFC 3597 §5
    unsigned value = 0;
    for (std::size_t i = 4; i < upper.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(upper[i]))) return std::nullopt;
      value = value * 10 + static_cast<unsigned>(upper[i] - '0');
      if (value > 65535) return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
  }
  // ldns answers 0 for a name it does not know; its own "TYPE0" is no type to ask for either.
  const ldns_rr_type type = ldns_get_rr_type_by_name(upper.c_str());
  if (type == 0) return std::nullopt;
  return static_cast<std::uint16_t>(type);
}

std::string rr_class_text(std::uint16_t qclass) {
  switch (qclass) {
    case 1:
      return "IN";
    case 3:
      return "CH";
    case 4:
      return "HS";
    case 254:
      return "NONE";
    case 255:
      return "ANY";
    default:
      return "CLASS" + std::to_string(qclass);
  }
}

std::string rcode_text(std::uint8_t rcode) {
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                           "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                           "NXRRSET", "NOTAUTH", "NOTZONE"};
  return rcode < std::size(kNames) ? kNames[rcode] : "RCODE" + std::to_string(rcode);
}

}  // namespace dp::dns
