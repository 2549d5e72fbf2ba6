// The question of a message as text, for the query log: the name as dig writes it (dots,
// non-printable bytes as \DDD) and the type's mnemonic (ldns's, else TYPEnnn per RFC 3597).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dp::dns {

struct QuestionText {
  std::string name;  // "www.example.com."
  std::string type;  // "A", "TYPE65534"
};

// nullopt when the message has no readable, uncompressed question.
std::optional<QuestionText> question_text(std::span<const std::uint8_t> wire);

// An uncompressed name in wire form as dig writes it: "www.example.com.", the root ".", bytes
// that are dots, backslashes, blanks or not printable as \DDD (RFC 1035 §5.1).
std::string name_text(std::string_view wire);

// A type's mnemonic ("A", "HTTPS"; ldns's list), else "TYPE65534" (RFC 3597 §5).
std::string rr_type_text(std::uint16_t type);
// "a", "AAAA", "TYPE65" (RFC 3597 §5) -> the type; nullopt for anything else.
std::optional<std::uint16_t> rr_type_parse(std::string_view text);
// "IN", "CH", "HS", "NONE", "ANY", else "CLASS42" (RFC 3597 §5).
std::string rr_class_text(std::uint16_t qclass);

// "NOERROR", "SERVFAIL", ..., "RCODE12" for the header's 4-bit rcode.
std::string rcode_text(std::uint8_t rcode);

}  // namespace dp::dns
