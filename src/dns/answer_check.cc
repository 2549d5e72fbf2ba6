#include "dns/answer_check.h"

#include <string_view>

#include "common/ascii.h"
#include "dns/ldns_include.h"
#include "dns/record_check.h"
#include "dns/wire.h"

namespace dp::dns {
namespace {

std::string_view as_chars(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Whether the answer's question is `asked`, stored uncompressed, letters in any case.
bool question_is(std::span<const std::uint8_t> answer, const Question& asked) {
  if (answer.size() < kHeaderSize) return false;
  const auto stored = wire::read_question(answer, kHeaderSize);
  const std::size_t name_size = asked.qname_lower.size();
  if (!stored || stored->size() != name_size + 4) return false;
  return ascii_lower_equal(as_chars(stored->first(name_size)), asked.qname_lower) &&
         wire::read_u16(*stored, name_size) == asked.qtype &&
         wire::read_u16(*stored, name_size + 2) == asked.qclass;
}

bool is_response(std::span<const std::uint8_t> answer) {
  return (answer[wire::kFlags1] & wire::kQrBit) != 0 && wire::opcode(answer) == LDNS_PACKET_QUERY;
}

}  // namespace

const char* answer_error_name(AnswerError error) {
  switch (error) {
    case AnswerError::kMalformed:
      return "malformed";
    case AnswerError::kNotResponse:
      return "not_response";
    case AnswerError::kQuestionMismatch:
      return "question_mismatch";
  }
  return "unknown";
}

Result<void, AnswerError> answer_check(std::span<const std::uint8_t> answer,
                                       const Question& asked) {
  if (answer.size() >= kHeaderSize && wire::read_u16(answer, wire::kQdCount) != 1) {
    return dp::unexpected(AnswerError::kQuestionMismatch);
  }
  if (question_is(answer, asked)) {
    // The question is the one we sent (a name ldns read when the client's query came in):
    // ldns need only read the records, and gives the verdict the full check below would.
    if (!section_records_check(answer)) return dp::unexpected(AnswerError::kMalformed);
    if (!is_response(answer)) return dp::unexpected(AnswerError::kNotResponse);
    return {};
  }
  const auto question = records_check(answer);
  if (!question) return dp::unexpected(AnswerError::kMalformed);
  if (!is_response(answer)) return dp::unexpected(AnswerError::kNotResponse);
  if (question->qtype != asked.qtype || question->qclass != asked.qclass ||
      !ascii_lower_equal(question->name, asked.qname_lower)) {
    return dp::unexpected(AnswerError::kQuestionMismatch);  // RFC 5452 §9.1
  }
  // Replies overwrite the question in place (dns/reply.h), so it must be stored uncompressed.
  const auto stored = wire::read_question(answer, kHeaderSize);
  if (!stored || stored->size() != asked.qname_lower.size() + 4) {
    return dp::unexpected(AnswerError::kQuestionMismatch);
  }
  return {};
}

std::optional<std::chrono::milliseconds> answer_keepalive(std::span<const std::uint8_t> answer) {
  std::optional<std::chrono::milliseconds> timeout;
  wire::for_each_rr(answer, [&](wire::Section section, const wire::RrView& rr) {
    if (section != wire::Section::kAdditional || rr.type != wire::kTypeOpt) return;
    for (std::size_t pos = rr.rdata; pos + 4 <= rr.end;) {
      const std::uint16_t code = wire::read_u16(answer, pos);
      const std::uint16_t length = wire::read_u16(answer, pos + 2);
      if (pos + 4 + length > rr.end) return;
      if (code == wire::kOptionKeepalive && length == 2) {
        // RFC 7828 §3.1: the idle timeout in units of 100 ms.
        timeout = std::chrono::milliseconds(100 * wire::read_u16(answer, pos + 4));
      }
      pos += 4 + length;
    }
  });
  return timeout;
}

}  // namespace dp::dns
