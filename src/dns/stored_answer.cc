#include "dns/stored_answer.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "dns/wire.h"

namespace dp::dns {
namespace {

constexpr std::uint16_t kTypeSoa = 6;
constexpr std::size_t kSoaFixedTail = 20;  // SERIAL REFRESH RETRY EXPIRE MINIMUM (RFC 1035 §3.3.13)
constexpr std::size_t kTtlFromRdata = 6;   // TTL (4) + RDLENGTH (2) sit just before RDATA

std::uint32_t read_u32(std::span<const std::uint8_t> wire, std::size_t pos) {
  return (std::uint32_t{wire::read_u16(wire, pos)} << 16) | wire::read_u16(wire, pos + 2);
}

void write_u32(std::span<std::uint8_t> wire, std::size_t pos, std::uint32_t value) {
  wire::write_u16(wire, pos, static_cast<std::uint16_t>(value >> 16));
  wire::write_u16(wire, pos + 2, static_cast<std::uint16_t>(value & 0xffff));
}

// RFC 2181 §8: a TTL with the most significant bit set is to be treated as zero.
std::uint32_t ttl_sanitized(std::uint32_t ttl) { return (ttl & 0x8000'0000U) != 0 ? 0 : ttl; }

AnswerKind kind_of(std::uint16_t rcode, std::uint16_t ancount) {
  if (rcode == static_cast<std::uint16_t>(Rcode::kNxDomain)) return AnswerKind::kNegative;
  if (rcode != static_cast<std::uint16_t>(Rcode::kNoError)) return AnswerKind::kFailure;
  return ancount == 0 ? AnswerKind::kNegative : AnswerKind::kPositive;  // RFC 2308 §2.2 NODATA
}

}  // namespace

TtlPolicy TtlPolicy::as_sent() {
  constexpr auto kMax = std::numeric_limits<std::uint32_t>::max();
  return TtlPolicy{0, kMax, kMax, kMax};
}

Result<StoredAnswer, AnswerError> stored_answer_make(std::span<const std::uint8_t> answer,
                                                     const TtlPolicy& policy) {
  StoredAnswer out;
  if (!stored_answer_make_into(answer, policy, out)) return dp::unexpected(AnswerError::kMalformed);
  return out;
}

bool stored_answer_make_into(std::span<const std::uint8_t> answer, const TtlPolicy& policy,
                             StoredAnswer& out) {
  out.wire.clear();
  out.ttl_offsets.clear();
  out.ede_options.clear();
  out.extended_rcode = 0;
  out.kind = AnswerKind::kPositive;
  out.cache_ttl = 0;
  if (answer.size() < kHeaderSize || wire::read_u16(answer, wire::kQdCount) != 1) return false;
  const auto question = wire::read_question(answer, kHeaderSize);
  if (!question) return false;

  // Records are kept verbatim up to the first OPT or TSIG of the additional section. What
  // follows it is dropped with it: its compression pointers could point past the removed
  // bytes, and additional data may be left out without TC (RFC 2181 §9).
  std::size_t records_end = kHeaderSize + question->size();
  std::uint16_t additional_kept = 0;
  bool cut = false;
  std::optional<wire::RrView> opt;
  std::optional<wire::RrView> soa;
  const bool walked = wire::for_each_rr(answer, [&](wire::Section section, const wire::RrView& rr) {
    if (section == wire::Section::kAdditional) {
      if (rr.type == wire::kTypeOpt && !opt) opt = rr;
      cut = cut || rr.type == wire::kTypeOpt || rr.type == wire::kTypeTsig;
      if (cut) return;
      ++additional_kept;
    }
    if (section == wire::Section::kAuthority && rr.type == kTypeSoa && !soa) soa = rr;
    out.ttl_offsets.push_back(static_cast<std::uint16_t>(rr.rdata - kTtlFromRdata));
    records_end = rr.end;
  });
  if (!walked) return false;
  out.wire.assign(answer.begin(), answer.begin() + static_cast<std::ptrdiff_t>(records_end));
  wire::write_u16(out.wire, wire::kArCount, additional_kept);

  if (opt) {
    out.extended_rcode = static_cast<std::uint8_t>(opt->ttl >> 24);
    // OPT belongs to one transaction (RFC 6891 §6.1.1); only EDE (RFC 8914) is meant for the
    // client. Padding, keepalive and cookies belong to our upstream connection.
    const std::size_t rdata_end = opt->rdata + opt->rdlength;
    for (std::size_t pos = opt->rdata; pos + 4 <= rdata_end;) {
      const std::uint16_t code = wire::read_u16(answer, pos);
      const std::size_t option_end = pos + 4 + wire::read_u16(answer, pos + 2);
      if (option_end > rdata_end) break;
      if (code == wire::kOptionEde) {
        out.ede_options.insert(out.ede_options.end(),
                               answer.begin() + static_cast<std::ptrdiff_t>(pos),
                               answer.begin() + static_cast<std::ptrdiff_t>(option_end));
      }
      pos = option_end;
    }
  }

  const auto rcode =
      static_cast<std::uint16_t>((out.extended_rcode << 4) | (out.wire[wire::kFlags2] & 0x0f));
  out.kind = kind_of(rcode, wire::read_u16(out.wire, wire::kAnCount));

  // The most any record may say, so that no client caches longer than we do.
  std::uint32_t ceiling = policy.max_ttl;
  std::uint32_t floor = policy.min_ttl;
  bool cacheable = true;
  if (out.kind == AnswerKind::kNegative) {
    floor = 0;
    ceiling = policy.max_negative_ttl;
    if (soa && soa->rdlength >= kSoaFixedTail + 2) {
      // RFC 2308 §5: the negative TTL is the lesser of the SOA's TTL and its MINIMUM field.
      const std::uint32_t minimum = ttl_sanitized(read_u32(answer, soa->end - 4));
      ceiling = std::min({ceiling, ttl_sanitized(soa->ttl), minimum});
    } else {
      cacheable = false;  // RFC 2308 §5: without an SOA a negative answer is not cached
    }
  } else if (out.kind == AnswerKind::kFailure) {
    floor = 0;
    ceiling = policy.failure_ttl;
  }

  std::uint32_t smallest = ceiling;
  for (const std::uint16_t offset : out.ttl_offsets) {
    const std::uint32_t ttl =
        std::clamp(ttl_sanitized(read_u32(out.wire, offset)), std::min(floor, ceiling), ceiling);
    write_u32(out.wire, offset, ttl);
    smallest = std::min(smallest, ttl);
  }
  // A failure lives failure_ttl whatever its records say; TC=1 is never complete (RFC 2181 §9).
  if (out.kind == AnswerKind::kFailure) smallest = policy.failure_ttl;
  const bool truncated = (out.wire[wire::kFlags1] & wire::kTcBit) != 0;
  out.cache_ttl = cacheable && !truncated ? smallest : 0;
  return true;
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
  for (const std::uint16_t offset : answer.ttl_offsets) {
    const std::uint32_t ttl = read_u32(out, offset);
    write_u32(out, offset,
              shape.stale ? kStaleTtl : (ttl > shape.age_seconds ? ttl - shape.age_seconds : 0));
  }

  const std::size_t opt_start = out.size();
  std::uint16_t additional = wire::read_u16(out, wire::kArCount);
  if (query.has_edns) {
    wire::append_opt(out, kMaxUdpReplyEdns, answer.extended_rcode, query.dnssec_ok,
                     answer.ede_options);
    if (shape.stale) {  // RFC 8914 §4.4: EDE 3 Stale Answer
      const auto code = static_cast<std::uint16_t>(Ede::kStaleAnswer);
      for (const std::uint16_t field : {wire::kOptionEde, std::uint16_t{2}, code}) {
        wire::append_u16(out, field);
      }
    }
    const std::size_t rdlength = out.size() - opt_start - wire::kOptFixedSize;
    wire::write_u16(out, opt_start + wire::kOptFixedSize - 2, static_cast<std::uint16_t>(rdlength));
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
