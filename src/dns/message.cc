#include "dns/message.h"

#include <algorithm>

#include "common/ascii.h"
#include "common/c_ptr.h"
#include "dns/ldns_include.h"
#include "dns/record_check.h"
#include "dns/wire.h"

namespace dp::dns {
namespace {}  // namespace

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

namespace {

// The checks both halves start with: everything decided by the header alone.
std::optional<QueryError> header_check(std::span<const std::uint8_t> wire) {
  if (wire.size() < kHeaderSize) return QueryError::kTooShort;
  if ((wire[wire::kFlags1] & wire::kQrBit) != 0) return QueryError::kIsResponse;
  // Opcode first: NOTIFY/UPDATE lay out their sections differently and deserve NOTIMP
  // ("the requested kind of query" is not supported, RFC 1035 §4.1.1), not FORMERR.
  if (wire::opcode(wire) != LDNS_PACKET_QUERY) return QueryError::kNotQuery;
  if (wire::read_u16(wire, wire::kQdCount) != 1) return QueryError::kQdCount;
  if (wire::read_u16(wire, wire::kAnCount) != 0 || wire::read_u16(wire, wire::kNsCount) != 0) {
    return QueryError::kAnswerOrAuthority;
  }
  return std::nullopt;
}

// The checks both halves end with, on the question and EDNS already read.
std::optional<QueryError> question_check(const Query& query, std::uint8_t edns_version) {
  if (query.has_edns && edns_version != 0) return QueryError::kBadEdnsVersion;  // RFC 6891 §6.1.3
  if (query.question.qtype == kTypeAxfr || query.question.qtype == kTypeIxfr) {
    return QueryError::kZoneTransfer;
  }
  if (query.question.qclass != kClassIn && query.question.qclass != kClassCh &&
      query.question.qclass != kClassAny) {
    return QueryError::kBadClass;
  }
  return std::nullopt;
}

// Fills question_wire (name as sent, then type and class) and qname_lower from the name bytes,
// in the strings' existing room when it suffices.
void question_fill(Query& query, const std::uint8_t* name, std::size_t name_size) {
  query.question_wire.resize(name_size + 4);
  query.question.qname_lower.resize(name_size);
  for (std::size_t i = 0; i < name_size; ++i) {
    const char c = static_cast<char>(name[i]);
    query.question_wire[i] = c;
    query.question.qname_lower[i] = ascii_lower(c);  // the whole wire form: see ascii.h
  }
  query.question_wire[name_size] = static_cast<char>(query.question.qtype >> 8);
  query.question_wire[name_size + 1] = static_cast<char>(query.question.qtype & 0xff);
  query.question_wire[name_size + 2] = static_cast<char>(query.question.qclass >> 8);
  query.question_wire[name_size + 3] = static_cast<char>(query.question.qclass & 0xff);
}

// Whether `options` is a whole sequence of EDNS options (RFC 6891 §6.1.2: code, length, data).
bool options_well_formed(std::span<const std::uint8_t> options) {
  std::size_t pos = 0;
  while (pos < options.size()) {
    if (pos + 4 > options.size()) return false;
    pos += 4 + wire::read_u16(options, pos + 2);
  }
  return pos == options.size();
}

// Reads a query of the common shape into `query` (kCommon; `error` set if it is refused), or
// says it is of another shape (kOther) and leaves ldns to judge it.
enum class Shape { kCommon, kOther };
Shape common_shape_read(std::span<const std::uint8_t> wire, Query& query,
                        std::optional<QueryError>& error) {
  error = header_check(wire);
  if (error) return Shape::kCommon;
  const std::uint16_t arcount = wire::read_u16(wire, wire::kArCount);
  if (arcount > 1) return Shape::kOther;

  // The name: plain labels only (no pointer, no reserved label type), at most 255 bytes.
  std::size_t pos = kHeaderSize;
  for (;;) {
    if (pos >= wire.size()) return Shape::kOther;
    const std::uint8_t label = wire[pos];
    if (label > 63) return Shape::kOther;
    pos += 1 + label;
    if (pos - kHeaderSize > 255) return Shape::kOther;  // RFC 1035 §3.1
    if (label == 0) break;
  }
  const std::size_t name_end = pos;
  if (name_end + 4 > wire.size()) return Shape::kOther;

  query.id = wire::read_u16(wire, 0);
  query.rd = (wire[wire::kFlags1] & wire::kRdBit) != 0;
  query.cd = (wire[wire::kFlags2] & wire::kCdBit) != 0;
  query.ad = (wire[wire::kFlags2] & wire::kAdBit) != 0;
  query.question.qtype = wire::read_u16(wire, name_end);
  query.question.qclass = wire::read_u16(wire, name_end + 2);
  pos = name_end + 4;

  query.has_edns = false;
  query.dnssec_ok = false;
  query.edns_udp_size = 0;
  std::uint8_t edns_version = 0;
  if (arcount == 1) {
    // Only a root-owned OPT with whole options; anything else in the additional section is
    // ldns's to judge.
    if (pos + wire::kOptFixedSize > wire.size() || wire[pos] != 0) return Shape::kOther;
    if (wire::read_u16(wire, pos + 1) != wire::kTypeOpt) return Shape::kOther;
    const std::uint16_t rdlength = wire::read_u16(wire, pos + 9);
    if (pos + wire::kOptFixedSize + rdlength != wire.size()) return Shape::kOther;
    if (!options_well_formed(wire.subspan(pos + wire::kOptFixedSize, rdlength))) {
      return Shape::kOther;
    }
    query.has_edns = true;
    query.edns_udp_size = wire::read_u16(wire, pos + 3);
    edns_version = wire[pos + 6];
    query.dnssec_ok = (wire::read_u16(wire, pos + 7) & wire::kDoBit) != 0;
  } else if (pos != wire.size()) {
    return Shape::kOther;  // bytes after the question: ldns decides what they are
  }
  question_fill(query, wire.data() + kHeaderSize, name_end - kHeaderSize);
  error = question_check(query, edns_version);
  return Shape::kCommon;
}

}  // namespace

Result<Query, QueryError> query_parse(std::span<const std::uint8_t> wire) {
  Query query;
  const auto parsed = query_parse_into(wire, query);
  if (!parsed) return dp::unexpected(parsed.error());
  return query;
}

Result<void, QueryError> query_parse_into(std::span<const std::uint8_t> wire, Query& query) {
  std::optional<QueryError> error;
  if (common_shape_read(wire, query, error) == Shape::kOther) {
    auto full = query_parse_ldns(wire);
    if (!full) return dp::unexpected(full.error());
    query = std::move(full).value();
    return {};
  }
  if (error) return dp::unexpected(*error);
  return {};
}

std::optional<Result<Query, QueryError>> query_parse_common_shape(
    std::span<const std::uint8_t> wire) {
  Query query;
  std::optional<QueryError> error;
  if (common_shape_read(wire, query, error) == Shape::kOther) return std::nullopt;
  if (error) return Result<Query, QueryError>(dp::unexpected(*error));
  return Result<Query, QueryError>(std::move(query));
}

Result<Query, QueryError> query_parse_ldns(std::span<const std::uint8_t> wire) {
  if (const auto error = header_check(wire)) return dp::unexpected(*error);
  auto question = records_check(wire);
  if (!question) return dp::unexpected(QueryError::kMalformed);

  Query query;
  query.id = wire::read_u16(wire, 0);
  query.rd = (wire[wire::kFlags1] & wire::kRdBit) != 0;
  query.cd = (wire[wire::kFlags2] & wire::kCdBit) != 0;
  query.ad = (wire[wire::kFlags2] & wire::kAdBit) != 0;
  int opt_count = 0;
  std::uint8_t edns_version = 0;
  const bool walked = wire::for_each_rr(wire, [&](wire::Section section, const wire::RrView& rr) {
    if (section != wire::Section::kAdditional || rr.type != wire::kTypeOpt) return;
    ++opt_count;
    query.edns_udp_size = rr.rrclass;  // RFC 6891 §6.1.2: class is the UDP size, TTL the flags
    edns_version = static_cast<std::uint8_t>(rr.ttl >> 16);
    query.dnssec_ok = (rr.ttl & wire::kDoBit) != 0;
  });
  if (!walked) return dp::unexpected(QueryError::kMalformed);
  if (opt_count > 1) return dp::unexpected(QueryError::kDuplicateOpt);  // RFC 6891 §6.1.1
  query.has_edns = opt_count == 1;

  query.question.qtype = question->qtype;
  query.question.qclass = question->qclass;
  // ldns gives the name uncompressed and in the case sent, which we must echo (0x20 bits).
  question_fill(query, reinterpret_cast<const std::uint8_t*>(question->name.data()),
                question->name.size());
  if (const auto error = question_check(query, edns_version)) return dp::unexpected(*error);
  return query;
}

}  // namespace dp::dns
