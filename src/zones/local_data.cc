#include "zones/local_data.h"

#include <algorithm>

#include "common/check.h"
#include "dns/wire.h"
#include "zones/hosts_file.h"
#include "zones/route_table.h"

namespace dp::zones {
namespace {

using dns::kClassAny;
using dns::kClassIn;
using dns::kQnamePointer;
using dns::kTypeAny;
using dns::kTypeCname;

}  // namespace

const LocalData::Name* LocalData::name_find(std::string_view qname_lower) const {
  const auto it = std::lower_bound(names_.begin(), names_.end(), qname_lower,
                                   [](const Name& n, std::string_view q) { return n.owner < q; });
  if (it == names_.end() || it->owner != qname_lower) return nullptr;
  return &*it;
}

bool LocalData::name_has_data(std::string_view qname_lower) const {
  return name_find(qname_lower) != nullptr;
}

std::size_t LocalData::record_count() const {
  std::size_t n = 0;
  for (const Name& name : names_) n += name.records.size();
  return n;
}

std::optional<std::string> LocalData::record_add(const dns::RecordText& record) {
  auto it = std::lower_bound(names_.begin(), names_.end(), record.owner,
                             [](const Name& n, const std::string& o) { return n.owner < o; });
  if (it == names_.end() || it->owner != record.owner)
    it = names_.insert(it, Name{record.owner, {}});
  for (const Record& r : it->records) {
    if (r.type == record.type && r.rdata == record.rdata) return std::nullopt;  // a repeat
    if ((r.type == kTypeCname) != (record.type == kTypeCname) || r.type == kTypeCname)
      return name_wire_to_text(record.owner) +
             " would have a CNAME and other data (RFC 1034 §3.6.2)";
  }
  it->records.push_back(Record{record.type, record.ttl, record.rdata});
  return std::nullopt;
}

std::optional<std::vector<std::uint8_t>> LocalData::answer(const dns::Query& query,
                                                           std::size_t max_size,
                                                           bool in_local_zone) const {
  if (names_.empty()) return std::nullopt;
  const Name* name = name_find(query.question.qname_lower);
  if (name == nullptr) return std::nullopt;
  const std::uint16_t qclass = query.question.qclass;
  if (qclass != kClassIn && qclass != kClassAny) return std::nullopt;
  const std::uint16_t qtype = query.question.qtype;
  const auto wanted = [&](const Record& r) { return qtype == kTypeAny || r.type == qtype; };
  bool cname = false;
  bool nodata = false;
  if (std::none_of(name->records.begin(), name->records.end(), wanted)) {
    // RFC 1034 §3.6.2: a name with a CNAME has no other data; the CNAME is the answer.
    cname = name->records.front().type == kTypeCname;
    nodata = !cname;
    if (nodata && !in_local_zone) return std::nullopt;
  }
  // query_parse guarantees the question is qname + type + class.
  if (DP_BUG(query.question_wire.size() != query.question.qname_lower.size() + 4))
    return std::nullopt;

  // One allocation: the reply's size is known before it is written.
  constexpr std::size_t kRrFixed = 2 + 2 + 2 + 4 + 2;  // pointer, type, class, TTL, RDLENGTH
  std::size_t size = dns::kHeaderSize + query.question_wire.size() +
                     (query.has_edns ? dns::wire::kOptFixedSize : 0);
  for (const Record& r : name->records) {
    if (!nodata && (cname || wanted(r))) size += kRrFixed + r.rdata.size();
  }
  std::vector<std::uint8_t> out;
  out.reserve(size);
  out.resize(dns::kHeaderSize, 0);
  dns::wire::write_u16(out, 0, query.id);
  out[dns::wire::kFlags1] =
      dns::wire::kQrBit | dns::wire::kAaBit | (query.rd ? dns::wire::kRdBit : 0);
  out[dns::wire::kFlags2] = dns::wire::kRaBit | (query.cd ? dns::wire::kCdBit : 0);
  dns::wire::write_u16(out, dns::wire::kQdCount, 1);
  out.insert(out.end(), query.question_wire.begin(), query.question_wire.end());
  const std::size_t question_end = out.size();

  std::uint16_t answers = 0;
  for (const Record& r : name->records) {
    if (nodata || (!cname && !wanted(r))) continue;
    dns::wire::append_u16(out, kQnamePointer);
    dns::wire::append_u16(out, r.type);
    dns::wire::append_u16(out, kClassIn);
    dns::wire::append_u32(out, r.ttl);
    dns::wire::append_u16(out, static_cast<std::uint16_t>(r.rdata.size()));
    out.insert(out.end(), r.rdata.begin(), r.rdata.end());
    ++answers;
  }
  const std::size_t opt_size = query.has_edns ? dns::wire::kOptFixedSize : 0;
  if (out.size() + opt_size > max_size) {
    out.resize(question_end);  // RFC 2181 §9: TC=1 and no partial RRset
    out[dns::wire::kFlags1] |= dns::wire::kTcBit;
    answers = 0;
  }
  dns::wire::write_u16(out, dns::wire::kAnCount, answers);
  if (query.has_edns) {
    // RFC 6891 §7: an OPT only to a client that sent one.
    dns::wire::append_opt(out, dns::kMaxUdpReplyEdns, 0, query.dnssec_ok);
    dns::wire::write_u16(out, dns::wire::kArCount, 1);
  }
  return out;
}

Result<LocalData, std::string> local_data_build(const std::vector<std::string>& lines,
                                                const std::vector<std::string>& hosts_files) {
  LocalData out;
  for (const std::string& line : lines) {
    const std::string where = "--local-data '" + line + "': ";
    const auto record = dns::record_text_parse(line);
    if (!record) return unexpected(where + record.error());
    if (auto problem = out.record_add(*record)) return unexpected(where + *problem);
  }
  for (const std::string& path : hosts_files) {
    auto records = hosts_file_read(path);
    if (!records) return unexpected(records.error());
    for (const HostsRecord& r : *records) {
      if (auto problem = out.record_add(r.record)) return unexpected(r.where + ": " + *problem);
    }
  }
  return out;
}

}  // namespace dp::zones
