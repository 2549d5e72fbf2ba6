#include "dns/blocked_reply.h"

#include "dns/reply.h"
#include "dns/wire.h"

namespace dp::dns {
namespace {}  // namespace

std::string_view blocked_answer_name(BlockedAnswer answer) {
  return answer == BlockedAnswer::kNull ? "null" : "nxdomain";
}

std::optional<BlockedAnswer> blocked_answer_parse(std::string_view text) {
  if (text == "nxdomain") return BlockedAnswer::kNxDomain;
  if (text == "null") return BlockedAnswer::kNull;
  return std::nullopt;
}

std::vector<std::uint8_t> reply_blocked(const Query& query, BlockedAnswer answer) {
  const bool nxdomain = answer == BlockedAnswer::kNxDomain;
  std::vector<std::uint8_t> out =
      reply_error(query, nxdomain ? Rcode::kNxDomain : Rcode::kNoError, Ede::kBlocked);
  out[wire::kFlags1] |= wire::kAaBit;  // our own answer: we are its authority
  if (nxdomain) return out;
  const std::uint16_t qtype = query.question.qtype;
  const std::uint16_t qclass = query.question.qclass;
  if ((qtype != kTypeA && qtype != kTypeAaaa) || (qclass != kClassIn && qclass != kClassAny) ||
      query.question_wire.empty()) {
    return out;  // NODATA
  }
  // The record goes between the question and our OPT: owner, type, class, TTL, RDLENGTH, and
  // an RDATA of zeros (0.0.0.0 or ::).
  const std::size_t address_size = qtype == kTypeA ? 4 : 16;
  const std::size_t at = kHeaderSize + query.question_wire.size();
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(at), 12 + address_size, 0);
  wire::write_u16(out, at, kQnamePointer);
  wire::write_u16(out, at + 2, qtype);
  wire::write_u16(out, at + 4, kClassIn);
  wire::write_u32(out, at + 6, kBlockedTtl);
  wire::write_u16(out, at + 10, static_cast<std::uint16_t>(address_size));
  wire::write_u16(out, wire::kAnCount, 1);
  return out;
}

}  // namespace dp::dns
