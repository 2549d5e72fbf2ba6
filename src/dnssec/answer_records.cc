#include "dnssec/answer_records.h"

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ascii.h"
#include "common/c_ptr.h"
#include "dns/ldns_include.h"

namespace dp::dnssec {
namespace {

using PacketPtr = CPtr<ldns_pkt, ldns_pkt_free>;
using BufferPtr = CPtr<ldns_buffer, ldns_buffer_free>;

constexpr std::size_t kHeaderSize = 12;
constexpr std::size_t kMaxMessage = 65535;
constexpr std::uint16_t kTypeOpt = 41;
constexpr std::uint16_t kTypeTsig = 250;
constexpr std::uint8_t kAdBit = 0x20;  // header byte 3

bool rr_convert(const ldns_rr* rr, ldns_buffer* buffer, Rr& out) {
  const ldns_rdf* owner = ldns_rr_owner(rr);
  if (owner == nullptr) return false;
  out.owner.assign(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner));
  out.type = ldns_rr_get_type(rr);
  out.rclass = ldns_rr_get_class(rr);
  out.ttl = ldns_rr_ttl(rr);
  ldns_buffer_clear(buffer);
  if (ldns_rr_rdata2buffer_wire(buffer, rr) != LDNS_STATUS_OK) return false;
  const std::uint8_t* data = ldns_buffer_begin(buffer);
  out.rdata.assign(data, data + ldns_buffer_position(buffer));
  return true;
}

bool section_convert(const ldns_rr_list* list, ldns_buffer* buffer, std::vector<Rr>& out) {
  const std::size_t count = list == nullptr ? 0 : ldns_rr_list_rr_count(list);
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(list, i);
    if (ldns_rr_get_type(rr) == kTypeTsig) continue;
    if (!rr_convert(rr, buffer, out.emplace_back())) return false;
  }
  return true;
}

// The OPT RR's bytes in `wire`: ldns keeps its fields apart and would rewrite its options.
Bytes opt_find(std::span<const std::uint8_t> wire) {
  std::size_t pos = kHeaderSize;
  auto skip_name = [&]() {
    while (pos < wire.size()) {
      const std::uint8_t label = wire[pos];
      if ((label & 0xc0) == 0xc0) {
        pos += 2;
        return pos <= wire.size();
      }
      pos += label + 1;
      if (label == 0) return pos <= wire.size();
    }
    return false;
  };
  auto u16 = [&](std::size_t at) {
    return static_cast<std::uint16_t>(wire[at] << 8 | wire[at + 1]);
  };
  const std::size_t records = std::size_t{u16(6)} + u16(8) + u16(10);
  for (std::uint16_t i = u16(4); i > 0; --i) {
    if (!skip_name() || pos + 4 > wire.size()) return {};
    pos += 4;
  }
  for (std::size_t i = 0; i < records; ++i) {
    const std::size_t start = pos;
    if (!skip_name() || pos + 10 > wire.size()) return {};
    const std::uint16_t type = u16(pos);
    const std::size_t end = pos + 10 + u16(pos + 8);
    if (end > wire.size()) return {};
    if (type == kTypeOpt && i >= records - u16(10)) {
      const auto opt = wire.subspan(start, end - start);
      return Bytes(opt.begin(), opt.end());
    }
    pos = end;
  }
  return {};
}

void append_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

// Owner names written compressed (RFC 1035 §4.1.4) against the question's and earlier owners',
// matched byte for byte so that every name reads back exactly as the upstream wrote it (its
// case too; a reply rebuilt for a client then carries the client's question bytes, and owners
// pointing at it the client's case, as in any compressed answer). RDATA is copied as it came: names
// in it stay whole (RFC 3597 §4 allows compression only in RFC 1035's types; an RRSIG's signer
// never, RFC 4034 §3.1.7). An answer a validator rewrote would otherwise grow by every repeated
// owner and meet a UDP client's limit sooner.
class OwnerNames {
 public:
  // `name` (wire form, uncompressed) was written whole at `offset`.
  void remember(std::string_view name, std::size_t offset) {
    remember_prefix(name, name.size(), offset);
  }

  void write(std::string_view name, std::vector<std::uint8_t>& out) {
    const std::size_t start = out.size();
    for (std::size_t at = 0; at < name.size() && name[at] != 0;
         at += 1 + static_cast<unsigned char>(name[at])) {
      const std::optional<std::uint16_t> earlier = find(name.substr(at));
      if (!earlier) continue;
      out.insert(out.end(), name.begin(), name.begin() + static_cast<std::ptrdiff_t>(at));
      append_u16(out, static_cast<std::uint16_t>(kPointer | *earlier));
      remember_prefix(name, at, start);
      return;
    }
    out.insert(out.end(), name.begin(), name.end());
    remember(name, start);
  }

 private:
  static constexpr std::uint16_t kPointer = 0xc000;
  static constexpr std::size_t kMaxOffset = 0x3fff;  // a pointer holds 14 bits
  static constexpr std::size_t kMaxKept = 256;       // bounds the search on large answers

  // Every suffix of `name` that starts before `end` (a label boundary) is at offset + start.
  void remember_prefix(std::string_view name, std::size_t end, std::size_t offset) {
    for (std::size_t at = 0; at < end && at < name.size() && name[at] != 0;
         at += 1 + static_cast<unsigned char>(name[at])) {
      if (offset + at > kMaxOffset || kept_.size() >= kMaxKept) return;
      kept_.emplace_back(name.substr(at), static_cast<std::uint16_t>(offset + at));
    }
  }
  std::optional<std::uint16_t> find(std::string_view suffix) const {
    for (const auto& [name, offset] : kept_) {
      if (name == suffix) return offset;
    }
    return std::nullopt;
  }

  std::vector<std::pair<std::string_view, std::uint16_t>> kept_;
};

std::uint16_t section_write(const std::vector<Rr>& rrs, bool keep_dnssec, std::uint16_t qtype,
                            OwnerNames& names, std::vector<std::uint8_t>& out) {
  std::uint16_t count = 0;
  for (const Rr& rr : rrs) {
    if (!keep_dnssec && type_is_dnssec(rr.type) && rr.type != qtype) continue;
    names.write(rr.owner, out);
    append_u16(out, rr.type);
    append_u16(out, rr.rclass);
    append_u16(out, static_cast<std::uint16_t>(rr.ttl >> 16));
    append_u16(out, static_cast<std::uint16_t>(rr.ttl));
    append_u16(out, static_cast<std::uint16_t>(rr.rdata.size()));
    out.insert(out.end(), rr.rdata.begin(), rr.rdata.end());
    ++count;
  }
  return count;
}

}  // namespace

bool type_is_dnssec(std::uint16_t type) {
  return type == kTypeRrsig || type == kTypeNsec || type == kTypeNsec3;
}

std::optional<AnswerRecords> answer_records_parse(std::span<const std::uint8_t> wire) {
  if (wire.size() < kHeaderSize || wire.size() > kMaxMessage) return std::nullopt;
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, wire.data(), wire.size()) != LDNS_STATUS_OK) return std::nullopt;
  const PacketPtr packet(raw);
  if (ldns_rr_list_rr_count(ldns_pkt_question(packet.get())) != 1) return std::nullopt;

  AnswerRecords out;
  out.header.assign(wire.begin(), wire.begin() + kHeaderSize);
  out.rcode = wire[3] & 0x0f;
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(packet.get()), 0);
  const ldns_rdf* qname = ldns_rr_owner(question);
  out.qname = name_lower(
      std::string_view(reinterpret_cast<const char*>(ldns_rdf_data(qname)), ldns_rdf_size(qname)));
  out.qtype = ldns_rr_get_type(question);
  out.question.assign(ldns_rdf_data(qname), ldns_rdf_data(qname) + ldns_rdf_size(qname));
  append_u16(out.question, out.qtype);
  append_u16(out.question, ldns_rr_get_class(question));

  const BufferPtr buffer(ldns_buffer_new(512));
  if (!buffer || !section_convert(ldns_pkt_answer(packet.get()), buffer.get(), out.answer) ||
      !section_convert(ldns_pkt_authority(packet.get()), buffer.get(), out.authority) ||
      !section_convert(ldns_pkt_additional(packet.get()), buffer.get(), out.additional)) {
    return std::nullopt;
  }
  out.opt = opt_find(wire);
  return out;
}

bool answer_records_write(const AnswerRecords& records, bool keep_dnssec, bool ad,
                          std::vector<std::uint8_t>& out) {
  out.assign(records.header.begin(), records.header.end());
  out[3] = static_cast<std::uint8_t>(ad ? (out[3] | kAdBit) : (out[3] & ~kAdBit));
  out.insert(out.end(), records.question.begin(), records.question.end());
  OwnerNames names;
  constexpr std::size_t kQuestionTail = 4;  // QTYPE, QCLASS
  if (records.question.size() > kQuestionTail) {
    names.remember(std::string_view(reinterpret_cast<const char*>(records.question.data()),
                                    records.question.size() - kQuestionTail),
                   kHeaderSize);
  }
  const std::uint16_t answers =
      section_write(records.answer, keep_dnssec, records.qtype, names, out);
  const std::uint16_t authority =
      section_write(records.authority, keep_dnssec, records.qtype, names, out);
  std::uint16_t additional =
      section_write(records.additional, keep_dnssec, records.qtype, names, out);
  if (!records.opt.empty()) {
    out.insert(out.end(), records.opt.begin(), records.opt.end());
    ++additional;
  }
  const std::uint16_t counts[] = {1, answers, authority, additional};
  for (std::size_t i = 0; i < 4; ++i) {
    out[4 + 2 * i] = static_cast<std::uint8_t>(counts[i] >> 8);
    out[5 + 2 * i] = static_cast<std::uint8_t>(counts[i]);
  }
  return out.size() <= kMaxMessage;
}

}  // namespace dp::dnssec
