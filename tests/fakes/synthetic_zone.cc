#include "fakes/synthetic_zone.h"

#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"

namespace dp::testing {
namespace {

using PacketPtr = CPtr<ldns_pkt, ldns_pkt_free>;
using RdfPtr = CPtr<ldns_rdf, ldns_rdf_deep_free>;
using RrPtr = CPtr<ldns_rr, ldns_rr_free>;

constexpr const char* kSoa = "test. 3600 IN SOA ns.test. admin.test. 1 3600 600 86400 300";

// The zone is fixed, so a parse failure is a bug in this file: throw loudly.
RrPtr rr_parse(const std::string& text) {
  ldns_rr* raw = nullptr;
  ldns_status st = ldns_rr_new_frm_str(&raw, text.c_str(), 0, nullptr, nullptr);
  if (st != LDNS_STATUS_OK) {
    throw std::logic_error("zone_answer: bad RR '" + text + "': " + ldns_get_errorstr_by_id(st));
  }
  return RrPtr(raw);
}

// An RR whose owner is a copy of `owner` (so the answer keeps the question's case).
RrPtr rr_at(const ldns_rdf* owner, const std::string& rest) {
  RrPtr rr = rr_parse("placeholder.test. " + rest);
  ldns_rdf* old = ldns_rr_owner(rr.get());
  ldns_rr_set_owner(rr.get(), ldns_rdf_clone(owner));
  ldns_rdf_deep_free(old);
  return rr;
}

RdfPtr dname(const char* text) {
  ldns_rdf* rdf = ldns_dname_new_frm_str(text);
  if (rdf == nullptr) throw std::logic_error(std::string("zone_answer: bad name ") + text);
  return RdfPtr(rdf);
}

// At or below `apex` (case-insensitive).
bool in_zone(const ldns_rdf* name, const ldns_rdf* apex) {
  return ldns_dname_compare(name, apex) == 0 || ldns_dname_is_subdomain(name, apex);
}

void put_u16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 8);
  out[at + 1] = static_cast<std::uint8_t>(v & 0xff);
}

void append_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

// Written by hand rather than through ldns so the padding length is exact.
void append_padded_opt(std::vector<std::uint8_t>& wire, bool dnssec_ok,
                       const ZoneAnswerOptions& options) {
  constexpr std::size_t kOptFixed = 11;     // root, type, class, ttl, rdlength
  constexpr std::size_t kOptionHeader = 4;  // code, length
  std::vector<std::uint8_t> extra;          // options before the padding
  if (options.keepalive_timeout_units) {
    append_u16(extra, kEdnsKeepaliveCode);
    append_u16(extra, 2);
    append_u16(extra, *options.keepalive_timeout_units);
  }
  const std::size_t base = wire.size() + kOptFixed + extra.size() + kOptionHeader;
  const std::size_t pad = (kZonePaddingBlock - base % kZonePaddingBlock) % kZonePaddingBlock;
  wire.push_back(0);  // root owner
  append_u16(wire, LDNS_RR_TYPE_OPT);
  append_u16(wire, kZoneEdnsUdpSize);
  append_u16(wire, 0);  // extended RCODE, version
  append_u16(wire, dnssec_ok ? 0x8000 : 0);
  append_u16(wire, static_cast<std::uint16_t>(extra.size() + kOptionHeader + pad));
  wire.insert(wire.end(), extra.begin(), extra.end());
  append_u16(wire, kEdnsPaddingCode);  // last, so it pads everything before it
  append_u16(wire, static_cast<std::uint16_t>(pad));
  wire.insert(wire.end(), pad, 0);  // RFC 7830 §3: padding octets SHOULD be 0x00
  put_u16(wire, 10, static_cast<std::uint16_t>(((wire[10] << 8) | wire[11]) + 1));  // ARCOUNT
}

std::vector<std::uint8_t> header_only(std::span<const std::uint8_t> query, ldns_pkt_rcode rcode) {
  std::vector<std::uint8_t> out(12, 0);
  out[0] = query[0];
  out[1] = query[1];
  out[2] = static_cast<std::uint8_t>(0x80 | (query[2] & 0x79));  // QR, opcode and RD kept
  out[3] = static_cast<std::uint8_t>(0x80 | (rcode & 0x0f));     // RA
  return out;
}

void fill_answer(const ldns_rr* question, ldns_pkt* answer) {
  const ldns_rdf* qname = ldns_rr_owner(question);
  const ldns_rr_type qtype = ldns_rr_get_type(question);
  RdfPtr apex = dname("test.");
  RdfPtr nx = dname("nx.test.");
  RdfPtr servfail = dname("servfail.test.");
  RdfPtr big = dname("big.test.");

  if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN || !in_zone(qname, apex.get())) {
    ldns_pkt_set_rcode(answer, LDNS_RCODE_REFUSED);
    return;
  }
  ldns_pkt_set_aa(answer, true);
  auto add = [&](ldns_pkt_section section, RrPtr rr) {
    ldns_pkt_push_rr(answer, section, rr.release());  // the packet owns it from here
  };
  if (in_zone(qname, servfail.get())) {  // an upstream that cannot resolve the name
    ldns_pkt_set_aa(answer, false);
    ldns_pkt_set_rcode(answer, LDNS_RCODE_SERVFAIL);
    return;
  }
  if (in_zone(qname, nx.get())) {
    ldns_pkt_set_rcode(answer, LDNS_RCODE_NXDOMAIN);
    add(LDNS_SECTION_AUTHORITY, rr_parse(kSoa));
    return;
  }
  if (qtype == LDNS_RR_TYPE_A && ldns_dname_compare(qname, big.get()) == 0) {
    for (int i = 0; i < 100; ++i) {
      add(LDNS_SECTION_ANSWER, rr_at(qname, "300 IN A 198.51.100." + std::to_string(i)));
    }
    return;
  }
  switch (qtype) {
    case LDNS_RR_TYPE_A:
      add(LDNS_SECTION_ANSWER, rr_at(qname, "60 IN A 192.0.2.1"));
      return;
    case LDNS_RR_TYPE_AAAA:
      add(LDNS_SECTION_ANSWER, rr_at(qname, "60 IN AAAA 2001:db8::1"));
      return;
    case LDNS_RR_TYPE_TXT:
      add(LDNS_SECTION_ANSWER, rr_at(qname, "60 IN TXT \"hello\""));
      return;
    case LDNS_RR_TYPE_SOA:
      if (ldns_dname_compare(qname, apex.get()) == 0) {
        add(LDNS_SECTION_ANSWER, rr_at(qname, kSoa + 6));  // kSoa without its "test. " owner
        return;
      }
      break;
    default:
      break;
  }
  add(LDNS_SECTION_AUTHORITY, rr_parse(kSoa));  // NODATA (RFC 2308 §2.2)
}

}  // namespace

std::vector<std::uint8_t> zone_answer(std::span<const std::uint8_t> query,
                                      const ZoneAnswerOptions& options) {
  if (query.size() < 12) return {};
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, query.data(), query.size()) != LDNS_STATUS_OK) {
    return header_only(query, LDNS_RCODE_FORMERR);
  }
  PacketPtr q(raw);
  if (ldns_pkt_get_opcode(q.get()) != LDNS_PACKET_QUERY) {
    return header_only(query, LDNS_RCODE_NOTIMPL);
  }
  if (ldns_pkt_qdcount(q.get()) != 1) return header_only(query, LDNS_RCODE_FORMERR);

  PacketPtr answer(ldns_pkt_new());
  if (answer == nullptr) throw std::bad_alloc();
  ldns_pkt_set_id(answer.get(), ldns_pkt_id(q.get()));
  ldns_pkt_set_qr(answer.get(), true);
  ldns_pkt_set_ra(answer.get(), true);
  ldns_pkt_set_rd(answer.get(), ldns_pkt_rd(q.get()));
  ldns_pkt_set_cd(answer.get(), ldns_pkt_cd(q.get()));
  ldns_pkt_set_opcode(answer.get(), LDNS_PACKET_QUERY);
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(q.get()), 0);
  ldns_pkt_push_rr(answer.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  fill_answer(question, answer.get());

  std::uint8_t* wire = nullptr;
  std::size_t size = 0;
  ldns_status st = ldns_pkt2wire(&wire, answer.get(), &size);
  if (st != LDNS_STATUS_OK) {
    throw std::runtime_error(std::string("zone_answer: pkt2wire: ") + ldns_get_errorstr_by_id(st));
  }
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);  // ldns allocates with malloc (LDNS_XMALLOC)
  if (ldns_pkt_edns(q.get())) append_padded_opt(out, ldns_pkt_edns_do(q.get()), options);
  return out;
}

std::optional<std::vector<std::uint8_t>> query_option(std::span<const std::uint8_t> query,
                                                      std::uint16_t code) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, query.data(), query.size()) != LDNS_STATUS_OK) return std::nullopt;
  PacketPtr q(raw);
  const ldns_rdf* data = ldns_pkt_edns_data(q.get());  // the OPT RDATA; null when empty
  if (!ldns_pkt_edns(q.get()) || data == nullptr) return std::nullopt;
  // Walked by hand: the raw RDATA keeps options exactly as sent, duplicates included.
  const std::uint8_t* p = ldns_rdf_data(data);
  const std::size_t size = ldns_rdf_size(data);
  for (std::size_t pos = 0; pos + 4 <= size;) {
    const std::uint16_t opt_code = static_cast<std::uint16_t>((p[pos] << 8) | p[pos + 1]);
    const std::size_t len = static_cast<std::size_t>((p[pos + 2] << 8) | p[pos + 3]);
    if (pos + 4 + len > size) return std::nullopt;  // truncated option
    if (opt_code == code) return std::vector<std::uint8_t>(p + pos + 4, p + pos + 4 + len);
    pos += 4 + len;
  }
  return std::nullopt;
}

std::optional<std::string> query_name(std::span<const std::uint8_t> query) {
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, query.data(), query.size()) != LDNS_STATUS_OK) return std::nullopt;
  PacketPtr q(raw);
  if (ldns_pkt_qdcount(q.get()) < 1) return std::nullopt;
  char* text = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(q.get()), 0)));
  if (text == nullptr) return std::nullopt;
  std::string name = text;
  std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  return name;
}

}  // namespace dp::testing
