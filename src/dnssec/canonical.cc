#include "dnssec/canonical.h"

#include <algorithm>

#include "common/ascii.h"

namespace dp::dnssec {
namespace {

// Types whose RDATA holds names (RFC 4034 §6.2 item 3, RFC 6840 §5.1, RFC 3597 §7).
enum : std::uint16_t {
  kNs = 2,
  kMd = 3,
  kMf = 4,
  kCname = 5,
  kSoa = 6,
  kMb = 7,
  kMg = 8,
  kMr = 9,
  kPtr = 12,
  kMinfo = 14,
  kMx = 15,
  kRp = 17,
  kAfsdb = 18,
  kRt = 21,
  kSig = 24,
  kPx = 26,
  kNxt = 30,
  kSrv = 33,
  kNaptr = 35,
  kKx = 36,
  kA6 = 38,
  kDname = 39,
};

constexpr std::size_t kLabelMaxSize = 63;
constexpr std::size_t kNameMaxSize = 255;

// Lowers the uncompressed name at `at`; the offset after it, or nullopt when there is none.
std::optional<std::size_t> name_lower_at(Bytes& rdata, std::size_t at) {
  const std::size_t start = at;
  while (at < rdata.size() && at - start < kNameMaxSize) {
    const std::size_t label = rdata[at];
    if (label == 0) return at + 1;
    if (label > kLabelMaxSize || at + 1 + label > rdata.size()) return std::nullopt;
    for (std::size_t i = at + 1; i <= at + label; ++i) {
      rdata[i] = static_cast<std::uint8_t>(ascii_lower(static_cast<char>(rdata[i])));
    }
    at += label + 1;
  }
  return std::nullopt;
}

// Lowers `count` names one after the other from `at`; the offset after them.
std::optional<std::size_t> names_lower_at(Bytes& rdata, std::size_t at, int count) {
  std::optional<std::size_t> end = at;
  for (int i = 0; i < count && end; ++i) end = name_lower_at(rdata, *end);
  return end;
}

// The offset after the <character-string> at `at` (RFC 1035 §3.3).
std::optional<std::size_t> string_skip(const Bytes& rdata, std::size_t at) {
  if (at >= rdata.size() || at + 1 + rdata[at] > rdata.size()) return std::nullopt;
  return at + 1 + rdata[at];
}

// Fixed-size fields end at `end` in a well-formed RDATA (SOA's five counters, SIG's signature
// aside): anything shorter is malformed.
bool ends_within(const std::optional<std::size_t>& end, const Bytes& rdata, std::size_t tail) {
  return end && *end + tail <= rdata.size();
}

void u16_append(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void u32_append(Bytes& out, std::uint32_t v) {
  u16_append(out, static_cast<std::uint16_t>(v >> 16));
  u16_append(out, static_cast<std::uint16_t>(v));
}

}  // namespace

bool rdata_canonicalize(std::uint16_t type, Bytes& rdata) {
  switch (type) {
    case kNs:
    case kMd:
    case kMf:
    case kCname:
    case kMb:
    case kMg:
    case kMr:
    case kPtr:
    case kDname:
      return ends_within(name_lower_at(rdata, 0), rdata, 0);
    case kSoa:
      return ends_within(names_lower_at(rdata, 0, 2), rdata, 20);  // serial .. minimum
    case kMinfo:
    case kRp:
      return ends_within(names_lower_at(rdata, 0, 2), rdata, 0);
    case kMx:
    case kAfsdb:
    case kRt:
    case kKx:
      return rdata.size() > 2 && ends_within(name_lower_at(rdata, 2), rdata, 0);
    case kPx:
      return rdata.size() > 2 && ends_within(names_lower_at(rdata, 2, 2), rdata, 0);
    case kSrv:
      return rdata.size() > 6 && ends_within(name_lower_at(rdata, 6), rdata, 0);
    case kSig:
    case kTypeRrsig:
      return rdata.size() > 18 && ends_within(name_lower_at(rdata, 18), rdata, 0);
    case kNxt:
      return ends_within(name_lower_at(rdata, 0), rdata, 0);
    case kNaptr: {
      std::optional<std::size_t> at =
          rdata.size() >= 4 ? std::optional<std::size_t>(4) : std::nullopt;
      for (int i = 0; i < 3 && at; ++i) at = string_skip(rdata, *at);  // flags services regexp
      return at && ends_within(name_lower_at(rdata, *at), rdata, 0);
    }
    case kA6: {
      // RFC 2874 §3.1.1: prefix length, the address suffix's bytes, the prefix name if any.
      if (rdata.empty() || rdata[0] > 128) return false;
      const std::size_t prefix = rdata[0];
      const std::size_t at = 1 + (128 - prefix + 7) / 8;
      if (prefix == 0) return at <= rdata.size();
      return ends_within(name_lower_at(rdata, at), rdata, 0);
    }
    default:
      return true;
  }
}

std::optional<std::vector<Bytes>> rrset_canonical_rdatas(std::span<const Rr> rrset) {
  std::vector<Bytes> rdatas;
  rdatas.reserve(rrset.size());
  for (const Rr& rr : rrset) {
    rdatas.push_back(rr.rdata);
    if (!rdata_canonicalize(rr.type, rdatas.back())) return std::nullopt;
  }
  // RFC 4034 §6.3: RDATA as left-justified unsigned octet sequences, a missing octet sorting
  // first: std::vector<std::uint8_t>'s operator<. Equal RRs are one RR (RFC 2181 §5).
  std::sort(rdatas.begin(), rdatas.end());
  rdatas.erase(std::unique(rdatas.begin(), rdatas.end()), rdatas.end());
  return rdatas;
}

void signed_data_build(std::span<const std::uint8_t> rrsig_rdata, const Rrsig& rrsig,
                       std::string_view owner, std::uint16_t type, std::uint16_t rclass,
                       const std::vector<Bytes>& rdatas, Bytes& out) {
  out.clear();
  constexpr std::size_t kRrsigFixedSize = 18;
  out.insert(out.end(), rrsig_rdata.begin(), rrsig_rdata.begin() + kRrsigFixedSize);
  for (const char c : rrsig.signer) out.push_back(static_cast<std::uint8_t>(ascii_lower(c)));

  std::string signed_owner;
  if (rrsig.labels < name_label_count(owner)) {
    signed_owner = "\1*";
    signed_owner.append(name_suffix(owner, rrsig.labels));
  } else {
    signed_owner.assign(owner);
  }
  for (char& c : signed_owner) c = ascii_lower(c);

  for (const Bytes& rdata : rdatas) {
    out.insert(out.end(), signed_owner.begin(), signed_owner.end());
    u16_append(out, type);
    u16_append(out, rclass);
    u32_append(out, rrsig.original_ttl);
    u16_append(out, static_cast<std::uint16_t>(rdata.size()));
    out.insert(out.end(), rdata.begin(), rdata.end());
  }
}

}  // namespace dp::dnssec
