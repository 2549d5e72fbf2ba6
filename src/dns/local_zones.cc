#include "dns/local_zones.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/check.h"
#include "dns/reply.h"
#include "dns/wire.h"

namespace dp::dns {
namespace {

constexpr std::uint16_t kPointer = 0xc000;  // RFC 1035 §4.1.4: compression pointer bits
constexpr std::size_t kMaxNameSize = 255;   // RFC 1035 §2.3.4

// RFC 6303 §3: "@ 10800 IN SOA @ nobody.invalid. 1 3600 1200 604800 10800".
constexpr std::uint32_t kSoaSerial = 1;
constexpr std::uint32_t kSoaRefresh = 3600;
constexpr std::uint32_t kSoaRetry = 1200;
constexpr std::uint32_t kSoaExpire = 604800;
constexpr std::uint32_t kSoaMinimum = 10800;                         // negative TTL (RFC 2308 §4)
constexpr std::size_t kSoaCountersSize = 5 * sizeof(std::uint32_t);  // serial .. minimum
constexpr std::uint8_t kNobodyInvalid[] = {6,   'n', 'o', 'b', 'o', 'd', 'y', 7,
                                           'i', 'n', 'v', 'a', 'l', 'i', 'd', 0};
constexpr std::uint8_t kLocalhost[] = {9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0};
constexpr std::uint8_t kLoopbackV4[] = {127, 0, 0, 1};
constexpr std::uint8_t kLoopbackV6[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

// "a.b" -> wire form of "a.b.". Start-up only, on our own constants.
std::string name_to_wire(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const std::size_t dot = std::min(text.find('.'), text.size());
    DP_ASSERT(dot > 0 && dot <= 63);
    out.push_back(static_cast<char>(dot));
    out.append(text.substr(0, dot));
    text.remove_prefix(std::min(dot + 1, text.size()));
  }
  out.push_back('\0');
  DP_ASSERT(out.size() <= kMaxNameSize);
  return out;
}

// True if `suffix` is `name` or one of its ancestors (a label-aligned suffix). Both are valid
// uncompressed wire names.
bool name_ends_with(std::string_view name, std::string_view suffix) {
  if (suffix.size() > name.size()) return false;
  std::size_t pos = 0;
  while (pos < name.size()) {
    if (name.size() - pos == suffix.size()) return name.substr(pos) == suffix;
    const auto label = static_cast<std::uint8_t>(name[pos]);
    if (label == 0) break;
    pos += 1 + label;
  }
  return false;
}

// Type, class IN, TTL and RDLENGTH of a record whose owner was just written.
void append_rr_fixed(std::vector<std::uint8_t>& out, std::uint16_t type, std::size_t rdlength) {
  wire::append_u16(out, type);
  wire::append_u16(out, kClassIn);
  wire::append_u32(out, LocalZones::kLocalTtl);
  wire::append_u16(out, static_cast<std::uint16_t>(rdlength));
}

void append_bytes(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// The zone's SOA, its owner and MNAME a pointer to `zone_offset` (the zone's name inside the
// question). RFC 6303 §3 makes MNAME the zone itself.
void append_soa(std::vector<std::uint8_t>& out, std::uint16_t zone_offset) {
  const auto pointer = static_cast<std::uint16_t>(kPointer | zone_offset);
  wire::append_u16(out, pointer);
  append_rr_fixed(out, kTypeSoa, 2 + sizeof(kNobodyInvalid) + kSoaCountersSize);
  wire::append_u16(out, pointer);
  append_bytes(out, kNobodyInvalid);
  for (const std::uint32_t field : {kSoaSerial, kSoaRefresh, kSoaRetry, kSoaExpire, kSoaMinimum}) {
    wire::append_u32(out, field);
  }
}

}  // namespace

LocalZones::LocalZones(std::vector<Zone> zones) : zones_(std::move(zones)) {
  std::stable_sort(zones_.begin(), zones_.end(),
                   [](const Zone& a, const Zone& b) { return a.name.size() < b.name.size(); });
  DP_ASSERT(zones_.size() < 256);
  first_of_size_.fill(static_cast<std::uint8_t>(zones_.size()));
  for (std::size_t i = zones_.size(); i-- > 0;) {
    first_of_size_[zones_[i].name.size()] = static_cast<std::uint8_t>(i);
  }
  for (const Zone& zone : zones_) {
    // A zone inside another would make the answer depend on which one the search meets first.
    for (const Zone& other : zones_) {
      DP_ASSERT(&zone == &other || !name_ends_with(zone.name, other.name));
    }
    DP_ASSERT(zone.ptr_name.empty() || name_ends_with(zone.ptr_name, zone.name));
  }
}

LocalZones LocalZones::none() { return LocalZones({}); }

LocalZones LocalZones::defaults() { return LocalZones(default_zones()); }

LocalZones LocalZones::defaults_except(const std::vector<std::string>& apexes_wire) {
  std::vector<Zone> zones = default_zones();
  std::erase_if(zones, [&](const Zone& zone) {
    return std::find(apexes_wire.begin(), apexes_wire.end(), zone.name) != apexes_wire.end();
  });
  return LocalZones(std::move(zones));
}

std::vector<std::string> LocalZones::default_apexes() {
  std::vector<std::string> out;
  for (Zone& zone : default_zones()) out.push_back(std::move(zone.name));
  return out;
}

bool LocalZones::apex_always_local(std::string_view apex_wire) {
  // The zones with synthesized records (localhost's addresses, the loopback PTRs) and invalid.
  for (const Zone& zone : default_zones()) {
    if (zone.name != apex_wire) continue;
    return zone.kind == Kind::kLocalhost || !zone.ptr_name.empty() ||
           apex_wire == name_to_wire("invalid");
  }
  return false;
}

std::vector<LocalZones::Zone> LocalZones::default_zones() {
  std::vector<Zone> zones;
  const auto add = [&zones](std::string_view name, Kind kind = Kind::kEmpty,
                            std::string_view ptr_name = {}) {
    zones.push_back(
        Zone{name_to_wire(name), kind, ptr_name.empty() ? std::string() : name_to_wire(ptr_name)});
  };
  add("localhost", Kind::kLocalhost);  // RFC 6761 §6.3
  add("invalid");                      // RFC 6761 §6.4
  add("home.arpa");                    // RFC 8375: a locally served zone; empty by default

  // RFC 6303 §4.1: RFC 1918 space.
  add("10.in-addr.arpa");
  for (int octet = 16; octet <= 31; ++octet) {
    add(std::to_string(octet) + ".172.in-addr.arpa");
  }
  add("168.192.in-addr.arpa");
  // RFC 6303 §4.2: RFC 5735 special-use IPv4 space.
  add("0.in-addr.arpa");                                            // "this" network
  add("127.in-addr.arpa", Kind::kEmpty, "1.0.0.127.in-addr.arpa");  // loopback
  add("254.169.in-addr.arpa");                                      // link local
  add("2.0.192.in-addr.arpa");                                      // TEST-NET-1
  add("100.51.198.in-addr.arpa");                                   // TEST-NET-2
  add("113.0.203.in-addr.arpa");                                    // TEST-NET-3
  add("255.255.255.255.in-addr.arpa");                              // broadcast
  // RFC 6303 §4.3: the unspecified (::) and loopback (::1) addresses, one name each.
  std::string zeros;
  for (int nibble = 0; nibble < 31; ++nibble) zeros += "0.";
  add("0." + zeros + "ip6.arpa");
  const std::string loopback = "1." + zeros + "ip6.arpa";
  add(loopback, Kind::kEmpty, loopback);
  // RFC 6303 §4.4: IPv6 locally assigned local addresses (fd00::/8).
  add("d.f.ip6.arpa");
  // RFC 6303 §4.5: IPv6 link-local addresses (fe80::/10).
  add("8.e.f.ip6.arpa");
  add("9.e.f.ip6.arpa");
  add("a.e.f.ip6.arpa");
  add("b.e.f.ip6.arpa");
  // RFC 6303 §4.6: IPv6 example prefix 2001:db8::/32.
  add("8.b.d.0.1.0.0.2.ip6.arpa");
  return zones;
}

const LocalZones::Zone* LocalZones::zone_find(std::string_view qname_lower) const {
  std::size_t pos = 0;
  while (pos < qname_lower.size()) {
    const std::size_t rest = qname_lower.size() - pos;
    if (rest < first_of_size_.size()) {
      const std::string_view suffix = qname_lower.substr(pos);
      for (std::size_t i = first_of_size_[rest]; i < zones_.size() && zones_[i].name.size() == rest;
           ++i) {
        if (zones_[i].name == suffix) return &zones_[i];
      }
    }
    const auto label = static_cast<std::uint8_t>(qname_lower[pos]);
    if (label == 0) break;
    pos += 1 + label;
  }
  return nullptr;
}

std::optional<std::vector<std::uint8_t>> LocalZones::answer(const Query& query) const {
  const std::string_view qname = query.question.qname_lower;
  const Zone* zone = zone_find(qname);
  if (zone == nullptr) return std::nullopt;
  const std::uint16_t qclass = query.question.qclass;
  if (qclass != kClassIn && qclass != kClassAny) {
    return reply_error(query, Rcode::kRefused);  // the zones are IN only (CH stays local too)
  }
  // query_parse guarantees the question is qname + type + class; anything else is our bug.
  if (DP_BUG(query.question_wire.size() != qname.size() + 4)) {
    return reply_error(query, Rcode::kServFail);
  }

  const std::uint16_t qtype = query.question.qtype;
  const bool apex = qname.size() == zone->name.size();
  const bool has_address = zone->kind == Kind::kLocalhost;
  const bool has_ptr = !zone->ptr_name.empty() && qname == zone->ptr_name;
  // An ancestor of the PTR name inside the zone is an empty non-terminal: NODATA, not
  // NXDOMAIN, which would deny the PTR name too (RFC 8020 §2).
  const bool exists = apex || has_address || name_ends_with(zone->ptr_name, qname);
  const auto wants = [qtype](std::uint16_t type) { return qtype == type || qtype == kTypeAny; };

  std::vector<std::uint8_t> out(kHeaderSize, 0);
  out.reserve(kMaxUdpReplyNoEdns);
  wire::write_u16(out, 0, query.id);
  out[wire::kFlags1] = wire::kQrBit | wire::kAaBit | (query.rd ? wire::kRdBit : 0);
  out[wire::kFlags2] = wire::kRaBit | (query.cd ? wire::kCdBit : 0);
  wire::write_u16(out, wire::kQdCount, 1);
  out.insert(out.end(), query.question_wire.begin(), query.question_wire.end());

  const auto zone_offset =
      static_cast<std::uint16_t>(kHeaderSize + qname.size() - zone->name.size());
  std::uint16_t answers = 0;
  if (has_address && wants(kTypeA)) {
    wire::append_u16(out, kQnamePointer);
    append_rr_fixed(out, kTypeA, sizeof(kLoopbackV4));
    append_bytes(out, kLoopbackV4);
    ++answers;
  }
  if (has_address && wants(kTypeAaaa)) {
    wire::append_u16(out, kQnamePointer);
    append_rr_fixed(out, kTypeAaaa, sizeof(kLoopbackV6));
    append_bytes(out, kLoopbackV6);
    ++answers;
  }
  if (has_ptr && wants(kTypePtr)) {
    wire::append_u16(out, kQnamePointer);
    append_rr_fixed(out, kTypePtr, sizeof(kLocalhost));
    append_bytes(out, kLocalhost);
    ++answers;
  }
  if (apex && wants(kTypeSoa)) {
    append_soa(out, zone_offset);
    ++answers;
  }
  if (answers > 0) {
    wire::write_u16(out, wire::kAnCount, answers);
  } else {
    // RFC 2308 §3: NXDOMAIN and NODATA carry the zone's SOA so that they can be cached.
    append_soa(out, zone_offset);
    wire::write_u16(out, wire::kNsCount, 1);
    if (!exists) out[wire::kFlags2] |= static_cast<std::uint8_t>(Rcode::kNxDomain);
  }
  if (query.has_edns) {
    wire::append_opt(out, kMaxUdpReplyEdns, 0, query.dnssec_ok);  // RFC 6891 §7: only if asked
    wire::write_u16(out, wire::kArCount, 1);
  }
  return out;
}

}  // namespace dp::dns
