#include "dns/question_text.h"

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
  std::size_t pos = 0;
  const auto& q = *question;
  while (q[pos] != 0) {
    const std::uint8_t length = q[pos++];
    for (std::uint8_t i = 0; i < length; ++i, ++pos) {
      const std::uint8_t c = q[pos];
      if (c == '.' || c == '\\' || c <= ' ' || c >= 0x7f) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\%03u", static_cast<unsigned>(c));
        out.name += escaped;
      } else {
        out.name += static_cast<char>(c);
      }
    }
    out.name += '.';
  }
  if (out.name.empty()) out.name = ".";
  const std::uint16_t type = wire::read_u16(q, pos + 1);
  const ldns_rr_descriptor* descriptor = ldns_rr_descript(type);
  if (descriptor != nullptr && descriptor->_name != nullptr) {
    out.type = descriptor->_name;
  } else {
    out.type = "TYPE" + std::to_string(type);
  }
  return out;
}

std::string rcode_text(std::uint8_t rcode) {
  static constexpr const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                           "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                           "NXRRSET", "NOTAUTH", "NOTZONE"};
  return rcode < std::size(kNames) ? kNames[rcode] : "RCODE" + std::to_string(rcode);
}

}  // namespace dp::dns
