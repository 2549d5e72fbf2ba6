// What dotproxy checks in an upstream answer before any of it is used: a response, to the
// question that was asked (RFC 5452 §9.1), whose records parse; and the RFC 7828 keepalive
// the upstream announces in it for our connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>

#include "common/result.h"
#include "dns/message.h"

namespace dp::dns {

// Why an upstream answer is discarded. Names double as metric labels (answer_error_name).
enum class AnswerError {
  kMalformed,         // ldns cannot parse it
  kNotResponse,       // QR=0 or opcode != QUERY
  kQuestionMismatch,  // not the question we asked (RFC 5452 §9.1)
};
const char* answer_error_name(AnswerError error);

// Checks an upstream answer against the question that was sent (the ID is matched by the
// caller). A checked answer's question is stored uncompressed, so that replies can overwrite
// it with the client's bytes. Errors: every AnswerError.
Result<void, AnswerError> answer_check(std::span<const std::uint8_t> answer, const Question& asked);

// The idle timeout an upstream announces in an RFC 7828 edns-tcp-keepalive option of its
// answer's OPT RR (0 means "close now"); nullopt when the answer carries none.
std::optional<std::chrono::milliseconds> answer_keepalive(std::span<const std::uint8_t> answer);

}  // namespace dp::dns
