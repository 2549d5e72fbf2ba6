#include "dns/reply.h"

#include <algorithm>

#include "dns/wire.h"

namespace dp::dns {
namespace {

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

// Appends the EDE option `ede` (RFC 8914 §2: INFO-CODE only, no EXTRA-TEXT) to the OPT RR that
// starts at `opt_start` and ends `out`, and grows that OPT's RDLENGTH to match.
void opt_ede_append(std::vector<std::uint8_t>& out, std::size_t opt_start, Ede ede) {
  for (const std::uint16_t field :
       {wire::kOptionEde, std::uint16_t{2}, static_cast<std::uint16_t>(ede)}) {
    wire::append_u16(out, field);
  }
  const std::size_t rdlength = out.size() - opt_start - wire::kOptFixedSize;
  wire::write_u16(out, opt_start + wire::kOptFixedSize - 2, static_cast<std::uint16_t>(rdlength));
}

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
    const std::size_t opt_start = out.size();
    wire::append_opt(out, kMaxUdpReplyEdns, rcode_high(rcode), query.dnssec_ok);
    if (ede) opt_ede_append(out, opt_start, *ede);
    wire::write_u16(out, wire::kArCount, 1);
  }
  return out;
}

std::vector<std::uint8_t> ede_option_build(std::uint16_t info_code, std::string_view extra_text) {
  const std::string_view text = extra_text.substr(0, kEdeTextMax);
  std::vector<std::uint8_t> out;
  out.reserve(6 + text.size());
  wire::append_u16(out, wire::kOptionEde);
  wire::append_u16(out, static_cast<std::uint16_t>(2 + text.size()));
  wire::append_u16(out, info_code);
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

std::vector<std::uint8_t> reply_truncated(const Query& query) {
  std::vector<std::uint8_t> out = reply_error(query, Rcode::kNoError);
  out[wire::kFlags1] |= wire::kTcBit;
  return out;
}

void reply_build(const AnswerView& answer, const Query& query, const ReplyShape& shape,
                 std::vector<std::uint8_t>& out) {
  const auto question = wire::read_question(answer.wire, kHeaderSize);
  if (!question || question->size() != query.question_wire.size()) {
    out = reply_error(query, Rcode::kServFail);
    return;
  }
  const std::size_t question_end = kHeaderSize + question->size();

  out.assign(answer.wire.begin(), answer.wire.end());
  wire::write_u16(out, 0, query.id);
  out[wire::kFlags1] = (out[wire::kFlags1] & ~wire::kRdBit) | (query.rd ? wire::kRdBit : 0);
  // Same length and equal ignoring case, so compression offsets into it stay valid.
  std::copy(query.question_wire.begin(), query.question_wire.end(), out.begin() + kHeaderSize);
  // RFC 6840 §5.8: AD only for a client that says it understands it (DO=1 or AD=1). CD is
  // the client's own (RFC 4035 §3.2.2): the upstream saw CD=1 when we validate.
  std::uint8_t flags2 = out[wire::kFlags2] & static_cast<std::uint8_t>(~wire::kCdBit);
  if (query.cd) flags2 |= wire::kCdBit;
  if (!query.dnssec_ok && !query.ad) flags2 &= static_cast<std::uint8_t>(~wire::kAdBit);
  out[wire::kFlags2] = flags2;
  for (const std::uint16_t offset : answer.ttl_offsets) {
    const std::uint32_t ttl = wire::read_u32(out, offset);
    wire::write_u32(
        out, offset,
        shape.stale ? kStaleTtl : (ttl > shape.age_seconds ? ttl - shape.age_seconds : 0));
  }

  const std::size_t opt_start = out.size();
  std::uint16_t additional = wire::read_u16(out, wire::kArCount);
  if (query.has_edns) {
    wire::append_opt(out, kMaxUdpReplyEdns, answer.extended_rcode, query.dnssec_ok,
                     answer.ede_options);
    if (shape.stale) opt_ede_append(out, opt_start, Ede::kStaleAnswer);  // RFC 8914 §4.4
    wire::write_u16(out, wire::kArCount, ++additional);
  } else if (answer.extended_rcode != 0) {
    // RFC 6891 §6.1.3: an extended rcode cannot be told to a client without EDNS.
    out[wire::kFlags2] = static_cast<std::uint8_t>((out[wire::kFlags2] & 0xf0) |
                                                   static_cast<std::uint8_t>(Rcode::kServFail));
  }

  if (out.size() > shape.max_size) {
    // RFC 1035 §4.2.1, RFC 2181 §9: keep the question and our OPT, set TC, retry over TCP.
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(question_end),
              out.begin() + static_cast<std::ptrdiff_t>(opt_start));
    out[wire::kFlags1] |= wire::kTcBit;
    wire::write_u16(out, wire::kAnCount, 0);
    wire::write_u16(out, wire::kNsCount, 0);
    wire::write_u16(out, wire::kArCount, query.has_edns ? 1 : 0);
  }
}

}  // namespace dp::dns
