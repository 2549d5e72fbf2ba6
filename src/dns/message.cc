#include "dns/message.h"

#include <algorithm>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"
#include "dns/wire.h"

namespace dp::dns {
namespace {

using PacketPtr = CPtr<ldns_pkt, ldns_pkt_free>;

constexpr std::uint16_t kTypeIxfr = 251;  // RFC 1995
constexpr std::uint16_t kTypeAxfr = 252;  // RFC 5936
constexpr std::uint16_t kClassIn = 1;
constexpr std::uint16_t kClassCh = 3;
constexpr std::uint16_t kClassAny = 255;

}  // namespace

const char* query_error_name(QueryError error) {
  switch (error) {
    case QueryError::kTooShort:
      return "too_short";
    case QueryError::kIsResponse:
      return "is_response";
    case QueryError::kMalformed:
      return "malformed";
    case QueryError::kQdCount:
      return "qdcount";
    case QueryError::kAnswerOrAuthority:
      return "answer_or_authority";
    case QueryError::kDuplicateOpt:
      return "duplicate_opt";
    case QueryError::kNotQuery:
      return "not_query";
    case QueryError::kBadEdnsVersion:
      return "bad_edns_version";
    case QueryError::kZoneTransfer:
      return "zone_transfer";
    case QueryError::kBadClass:
      return "bad_class";
  }
  return "unknown";
}

std::size_t Query::udp_reply_limit() const {
  if (!has_edns) return kMaxUdpReplyNoEdns;
  // RFC 6891 §6.2.3: a size below 512 is treated as 512.
  return std::clamp<std::size_t>(edns_udp_size, kMaxUdpReplyNoEdns, kMaxUdpReplyEdns);
}

Result<Query, QueryError> query_parse(std::span<const std::uint8_t> wire) {
  if (wire.size() < kHeaderSize) return dp::unexpected(QueryError::kTooShort);
  if ((wire[wire::kFlags1] & wire::kQrBit) != 0) return dp::unexpected(QueryError::kIsResponse);
  // Opcode first: NOTIFY/UPDATE lay out their sections differently and deserve NOTIMP
  // ("the requested kind of query" is not supported, RFC 1035 §4.1.1), not FORMERR.
  if (wire::opcode(wire) != LDNS_PACKET_QUERY) return dp::unexpected(QueryError::kNotQuery);
  if (wire::read_u16(wire, wire::kQdCount) != 1) return dp::unexpected(QueryError::kQdCount);
  if (wire::read_u16(wire, wire::kAnCount) != 0 || wire::read_u16(wire, wire::kNsCount) != 0) {
    return dp::unexpected(QueryError::kAnswerOrAuthority);
  }

  if (!wire::safe_for_ldns(wire)) return dp::unexpected(QueryError::kMalformed);
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, wire.data(), wire.size()) != LDNS_STATUS_OK) {
    return dp::unexpected(QueryError::kMalformed);
  }
  const PacketPtr pkt(raw);

  // ldns folds every OPT RR into the packet's EDNS fields (the last one wins) and lowers
  // ldns_pkt_arcount by one per OPT, but also by one per TSIG, so count OPTs on the wire.
  int opt_count = 0;
  const bool walked = wire::for_each_rr(wire, [&](wire::Section section, const wire::RrView& rr) {
    if (section == wire::Section::kAdditional && rr.type == wire::kTypeOpt) ++opt_count;
  });
  if (!walked) return dp::unexpected(QueryError::kMalformed);
  if (opt_count > 1) return dp::unexpected(QueryError::kDuplicateOpt);  // RFC 6891 §6.1.1

  Query query;
  query.id = ldns_pkt_id(pkt.get());
  query.rd = ldns_pkt_rd(pkt.get());
  query.cd = ldns_pkt_cd(pkt.get());
  query.has_edns = opt_count == 1;
  if (query.has_edns) {
    if (ldns_pkt_edns_version(pkt.get()) != 0) {
      return dp::unexpected(QueryError::kBadEdnsVersion);  // RFC 6891 §6.1.3
    }
    query.dnssec_ok = ldns_pkt_edns_do(pkt.get());
    query.edns_udp_size = ldns_pkt_edns_udp_size(pkt.get());
  }

  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0);
  const ldns_rdf* owner = question != nullptr ? ldns_rr_owner(question) : nullptr;
  if (owner == nullptr || ldns_rdf_size(owner) == 0) return dp::unexpected(QueryError::kMalformed);
  query.question.qtype = static_cast<std::uint16_t>(ldns_rr_get_type(question));
  query.question.qclass = static_cast<std::uint16_t>(ldns_rr_get_class(question));
  if (query.question.qtype == kTypeAxfr || query.question.qtype == kTypeIxfr) {
    return dp::unexpected(QueryError::kZoneTransfer);
  }
  if (query.question.qclass != kClassIn && query.question.qclass != kClassCh &&
      query.question.qclass != kClassAny) {
    return dp::unexpected(QueryError::kBadClass);
  }

  // ldns keeps the name uncompressed and in the case sent, which we must echo (0x20 bits).
  const auto* name = ldns_rdf_data(owner);
  query.question_wire.assign(name, name + ldns_rdf_size(owner));
  // Label length bytes are <= 63, so lowering the whole wire form only touches letters.
  query.question.qname_lower = query.question_wire;
  for (char& c : query.question.qname_lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (const std::uint16_t field : {query.question.qtype, query.question.qclass}) {
    query.question_wire.push_back(static_cast<char>(field >> 8));
    query.question_wire.push_back(static_cast<char>(field & 0xff));
  }
  return query;
}

}  // namespace dp::dns
