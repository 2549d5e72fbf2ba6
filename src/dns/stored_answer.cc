#include "dns/stored_answer.h"

#include <algorithm>
#include <optional>

#include "dns/wire.h"

namespace dp::dns {
namespace {

constexpr std::size_t kSoaFixedTail = 20;  // SERIAL REFRESH RETRY EXPIRE MINIMUM (RFC 1035 §3.3.13)
constexpr std::size_t kTtlFromRdata = 6;   // TTL (4) + RDLENGTH (2) sit just before RDATA

// RFC 2181 §8: a TTL with the most significant bit set is to be treated as zero.
std::uint32_t ttl_sanitized(std::uint32_t ttl) { return (ttl & 0x8000'0000U) != 0 ? 0 : ttl; }

AnswerKind kind_of(std::uint16_t rcode, std::uint16_t ancount) {
  if (rcode == static_cast<std::uint16_t>(Rcode::kNxDomain)) return AnswerKind::kNegative;
  if (rcode != static_cast<std::uint16_t>(Rcode::kNoError)) return AnswerKind::kFailure;
  return ancount == 0 ? AnswerKind::kNegative : AnswerKind::kPositive;  // RFC 2308 §2.2 NODATA
}

}  // namespace

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
  // RFC 1035 §4.1.1: AA says the responder is an authority for the name. dotproxy hands on
  // the upstream's answer or its cache's copy and is neither (Unbound and Knot Resolver clear
  // it too). Cleared here, once per upstream answer, so a miss and every hit carry it cleared
  // and a hit costs nothing for it.
  out.wire[wire::kFlags1] &= static_cast<std::uint8_t>(~wire::kAaBit);

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
      const std::uint32_t minimum = ttl_sanitized(wire::read_u32(answer, soa->end - 4));
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
    const std::uint32_t ttl = std::clamp(ttl_sanitized(wire::read_u32(out.wire, offset)),
                                         std::min(floor, ceiling), ceiling);
    wire::write_u32(out.wire, offset, ttl);
    smallest = std::min(smallest, ttl);
  }
  // A failure lives failure_ttl whatever its records say; TC=1 is never complete (RFC 2181 §9).
  if (out.kind == AnswerKind::kFailure) smallest = policy.failure_ttl;
  const bool truncated = (out.wire[wire::kFlags1] & wire::kTcBit) != 0;
  out.cache_ttl = cacheable && !truncated ? smallest : 0;
  return true;
}

void stored_answer_clear_ad(StoredAnswer& answer) {
  if (answer.wire.size() > wire::kFlags2) {
    answer.wire[wire::kFlags2] &= static_cast<std::uint8_t>(~wire::kAdBit);
  }
}

}  // namespace dp::dns
