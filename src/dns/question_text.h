// The question of a message as text, for the query log: the name as dig writes it (dots,
// non-printable bytes as \DDD) and the type's mnemonic (ldns's, else TYPEnnn per RFC 3597).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace dp::dns {

struct QuestionText {
  std::string name;  // "www.example.com."
  std::string type;  // "A", "TYPE65534"
};

// nullopt when the message has no readable, uncompressed question.
std::optional<QuestionText> question_text(std::span<const std::uint8_t> wire);

// "NOERROR", "SERVFAIL", ..., "RCODE12" for the header's 4-bit rcode.
std::string rcode_text(std::uint8_t rcode);

}  // namespace dp::dns
