#include "dns/reply.h"

#include <algorithm>

#include "common/ascii.h"
#include "common/c_ptr.h"
#include "dns/ldns_include.h"
#include "dns/record_check.h"
#include "dns/stored_answer.h"
#include "dns/wire.h"

namespace dp::dns {
namespace {

constexpr std::size_t kPaddingBlock = 128;  // RFC 8467 §4.1: queries padded to 128 bytes

Rcode rejection_rcode(QueryError error) {
  switch (error) {
    case QueryError::kNotQuery:
    case QueryError::kZoneTransfer:
      return Rcode::kNotImp;
    case QueryError::kBadEdnsVersion:
      return Rcode::kBadVers;
    case QueryError::kBadClass:
      return Rcode::kRefused;
    default:
      return Rcode::kFormErr;
  }
}

std::uint8_t rcode_low(Rcode rcode) { return static_cast<std::uint8_t>(rcode) & 0x0f; }
std::uint8_t rcode_high(Rcode rcode) { return static_cast<std::uint8_t>(rcode) >> 4; }

}  // namespace

std::vector<std::uint8_t> reply_for_rejection(std::span<const std::uint8_t> query_wire,
                                              QueryError error) {
  if (error == QueryError::kTooShort || error == QueryError::kIsResponse ||
      query_wire.size() < kHeaderSize) {
    return {};  // dropped: answering may feed a reflection loop
  }
  const Rcode rcode = rejection_rcode(error);
  std::vector<std::uint8_t> out(kHeaderSize, 0);
  out[0] = query_wire[0];
  out[1] = query_wire[1];
  // Keep opcode (0x78) and RD; every other flag is ours.
  out[wire::kFlags1] = wire::kQrBit | (query_wire[wire::kFlags1] & (0x78 | wire::kRdBit));
  out[wire::kFlags2] = rcode_low(rcode);

  if (wire::read_u16(query_wire, wire::kQdCount) == 1) {
    if (const auto question = wire::read_question(query_wire, kHeaderSize)) {
      out.insert(out.end(), question->begin(), question->end());
      wire::write_u16(out, wire::kQdCount, 1);
    }
  }

  // RFC 6891 §7: answer with an OPT only if the query had one; BADVERS cannot be said without.
  std::optional<wire::RrView> opt;
  (void)wire::for_each_rr(query_wire, [&](wire::Section section, const wire::RrView& rr) {
    if (section == wire::Section::kAdditional && rr.type == wire::kTypeOpt && !opt) opt = rr;
  });
  if (opt || rcode == Rcode::kBadVers) {
    const bool dnssec_ok = opt && (opt->ttl & wire::kDoBit) != 0;  // RFC 3225 §3: DO copied
    wire::append_opt(out, kMaxUdpReplyEdns, rcode_high(rcode), dnssec_ok);
    wire::write_u16(out, wire::kArCount, 1);
  }
  return out;
}

std::vector<std::uint8_t> reply_error(const Query& query, Rcode rcode, std::optional<Ede> ede) {
  std::vector<std::uint8_t> out(kHeaderSize, 0);
  out.reserve(kHeaderSize + query.question_wire.size() + wire::kOptFixedSize + 6);
  wire::write_u16(out, 0, query.id);
  out[wire::kFlags1] = wire::kQrBit | (query.rd ? wire::kRdBit : 0);
  out[wire::kFlags2] = wire::kRaBit | (query.cd ? wire::kCdBit : 0) | rcode_low(rcode);
  if (!query.question_wire.empty()) {
    out.insert(out.end(), query.question_wire.begin(), query.question_wire.end());
    wire::write_u16(out, wire::kQdCount, 1);
  }
  if (query.has_edns) {
    std::uint8_t option[6] = {};
    std::size_t option_size = 0;
    if (ede) {  // RFC 8914 §2: INFO-CODE only, no EXTRA-TEXT
      const auto code = static_cast<std::uint16_t>(*ede);
      const std::uint8_t bytes[6] = {0,
                                     wire::kOptionEde,
                                     0,
                                     2,
                                     static_cast<std::uint8_t>(code >> 8),
                                     static_cast<std::uint8_t>(code & 0xff)};
      std::copy(std::begin(bytes), std::end(bytes), option);
      option_size = sizeof(option);
    }
    wire::append_opt(out, kMaxUdpReplyEdns, rcode_high(rcode), query.dnssec_ok,
                     std::span<const std::uint8_t>(option, option_size));
    wire::write_u16(out, wire::kArCount, 1);
  }
  return out;
}

std::vector<std::uint8_t> reply_truncated(const Query& query) {
  std::vector<std::uint8_t> out = reply_error(query, Rcode::kNoError);
  out[wire::kFlags1] |= wire::kTcBit;
  return out;
}

std::vector<std::uint8_t> upstream_query_build(const Query& query) {
  std::vector<std::uint8_t> out;
  upstream_query_build_into(query, out);
  return out;
}

void upstream_query_build_into(const Query& query, std::vector<std::uint8_t>& out) {
  const std::string& qname = query.question.qname_lower;
  // Options: edns-tcp-keepalive (4 bytes, no timeout from a client: RFC 7828 §3.2.1), then
  // the padding option's 4-byte header.
  const std::size_t unpadded = kHeaderSize + qname.size() + 4 + wire::kOptFixedSize + 4 + 4;
  const std::size_t padding = (kPaddingBlock - unpadded % kPaddingBlock) % kPaddingBlock;

  out.assign(kHeaderSize, 0);
  out.reserve(unpadded + padding);
  out[wire::kFlags1] = wire::kRdBit;
  out[wire::kFlags2] = query.cd ? wire::kCdBit : 0;
  wire::write_u16(out, wire::kQdCount, 1);
  wire::write_u16(out, wire::kArCount, 1);
  out.insert(out.end(), qname.begin(), qname.end());
  wire::append_u16(out, query.question.qtype);
  wire::append_u16(out, query.question.qclass);
  wire::append_opt(out, kMaxUdpReplyEdns, 0, query.dnssec_ok);
  // RFC 7830 §3: padding option of zero bytes; its length goes into the OPT RDLENGTH too.
  wire::write_u16(out, out.size() - 2, static_cast<std::uint16_t>(4 + 4 + padding));
  wire::append_u16(out, wire::kOptionKeepalive);
  wire::append_u16(out, 0);
  wire::append_u16(out, wire::kOptionPadding);
  wire::append_u16(out, static_cast<std::uint16_t>(padding));
  out.resize(out.size() + padding, 0);
}

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

namespace {

// Whether the answer's question is `asked`, stored uncompressed, letters in any case.
bool question_is(std::span<const std::uint8_t> answer, const Question& asked) {
  if (answer.size() < kHeaderSize) return false;
  const auto stored = wire::read_question(answer, kHeaderSize);
  const std::size_t name_size = asked.qname_lower.size();
  if (!stored || stored->size() != name_size + 4) return false;
  if (!ascii_lower_equal({reinterpret_cast<const char*>(stored->data()), name_size},
                         asked.qname_lower)) {
    return false;
  }
  return wire::read_u16(*stored, name_size) == asked.qtype &&
         wire::read_u16(*stored, name_size + 2) == asked.qclass;
}

}  // namespace

Result<void, AnswerError> answer_check(std::span<const std::uint8_t> answer,
                                       const Question& asked) {
  if (answer.size() >= kHeaderSize && wire::read_u16(answer, wire::kQdCount) != 1) {
    return dp::unexpected(AnswerError::kQuestionMismatch);
  }
  if (question_is(answer, asked)) {
    // The question is the one we sent (a name ldns read when the client's query came in):
    // ldns need only read the records, and gives the verdict the full check below would.
    if (!section_records_check(answer)) return dp::unexpected(AnswerError::kMalformed);
    if ((answer[wire::kFlags1] & wire::kQrBit) == 0 || wire::opcode(answer) != LDNS_PACKET_QUERY) {
      return dp::unexpected(AnswerError::kNotResponse);
    }
    return {};
  }
  const auto question = records_check(answer);
  if (!question) return dp::unexpected(AnswerError::kMalformed);
  if ((answer[wire::kFlags1] & wire::kQrBit) == 0 || wire::opcode(answer) != LDNS_PACKET_QUERY) {
    return dp::unexpected(AnswerError::kNotResponse);
  }
  if (question->qtype != asked.qtype || question->qclass != asked.qclass ||
      !ascii_lower_equal(question->name, asked.qname_lower)) {
    return dp::unexpected(AnswerError::kQuestionMismatch);  // RFC 5452 §9.1
  }
  // reply_from_answer overwrites the question in place, so it must be stored uncompressed.
  const auto stored = wire::read_question(answer, kHeaderSize);
  if (!stored || stored->size() != asked.qname_lower.size() + 4) {
    return dp::unexpected(AnswerError::kQuestionMismatch);
  }
  return {};
}

std::vector<std::uint8_t> reply_from_answer(std::span<const std::uint8_t> answer,
                                            const Query& query, std::size_t max_size) {
  // answer_check has vetted the answer; anything unexpected here still gets SERVFAIL, not UB.
  const auto stored = stored_answer_make(answer, TtlPolicy::as_sent());
  if (!stored) return reply_error(query, Rcode::kServFail);
  std::vector<std::uint8_t> out;
  reply_build(stored->view(), query, ReplyShape{.max_size = max_size}, out);
  return out;
}

std::uint16_t wire_get_id(std::span<const std::uint8_t> wire) {
  return wire.size() < 2 ? 0 : wire::read_u16(wire, 0);
}

void wire_set_id(std::span<std::uint8_t> wire, std::uint16_t id) {
  if (wire.size() >= 2) wire::write_u16(wire, 0, id);
}

Rcode wire_get_rcode(std::span<const std::uint8_t> wire) {
  if (wire.size() <= wire::kFlags2) return Rcode::kFormErr;  // not even a header
  return static_cast<Rcode>(wire[wire::kFlags2] & 0x0f);
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
