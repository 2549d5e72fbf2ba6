#include "dnssec/denial_records.h"

#include <algorithm>

namespace dp::dnssec::denial_detail {
namespace {
constexpr std::size_t kSha1Size = 20;  // RFC 5155 §11: the hash algorithm 1 output
constexpr std::string_view kWildcardLabel{"\1*", 2};
}  // namespace

std::string wildcard_of(std::string_view closest_encloser) {
  std::string out(kWildcardLabel);
  out.append(closest_encloser);
  return out;
}

std::optional<DenialVerdict> denials_collect(std::string_view zone, std::span<const Rr> rrs,
                                             Denials& out) {
  for (const Rr& rr : rrs) {
    if (rr.type != kTypeNsec && rr.type != kTypeNsec3) continue;
    if (!name_valid(rr.owner)) return bogus(Ede::kDnssecBogus, "malformed NSEC/NSEC3 owner");
    if (rr.type == kTypeNsec) {
      if (!name_is_under(rr.owner, zone)) continue;
      const auto nsec = nsec_parse(rr.rdata);
      if (!nsec) return bogus(Ede::kDnssecBogus, "malformed NSEC at " + name_to_text(rr.owner));
      out.nsecs.push_back({rr.owner, *nsec});
      continue;
    }
    // RFC 5155 §7.1: an NSEC3's owner is the hash as one label directly under the apex.
    if (name_equal(rr.owner, zone) || !name_equal(name_parent(rr.owner), zone)) continue;
    const auto nsec3 = nsec3_parse(rr.rdata);
    if (!nsec3) return bogus(Ede::kDnssecBogus, "malformed NSEC3 at " + name_to_text(rr.owner));
    // RFC 5155 §8.2: unknown hash algorithms and flags are for other validators.
    if (nsec3->hash_algorithm != Nsec3::kHashSha1 || (nsec3->flags & ~Nsec3::kFlagOptOut) != 0) {
      continue;
    }
    const auto owner_hash =
        base32hex_decode(rr.owner.substr(1, static_cast<std::uint8_t>(rr.owner[0])));
    if (!owner_hash || owner_hash->size() != kSha1Size || nsec3->next_hashed.size() != kSha1Size) {
      return bogus(Ede::kDnssecBogus, "NSEC3 hash of the wrong form at " + name_to_text(rr.owner));
    }
    if (out.nsec3s.empty()) {
      out.salt = nsec3->salt;
      out.iterations = nsec3->iterations;
    } else if (out.iterations != nsec3->iterations ||
               !std::equal(out.salt.begin(), out.salt.end(), nsec3->salt.begin(),
                           nsec3->salt.end())) {
      // RFC 5155 §7.2: one zone, one salt and iteration count.
      return bogus(Ede::kDnssecBogus, "NSEC3 records with different parameters");
    }
    out.nsec3s.push_back({*owner_hash, *nsec3});
  }
  return std::nullopt;
}

std::optional<DenialVerdict> bitmap_denies(bool has_qtype, bool has_cname, bool has_ns,
                                           bool has_soa, std::uint16_t qtype,
                                           std::string_view name) {
  const std::string where = name_to_text(name);
  if (has_qtype) return bogus(Ede::kDnssecBogus, "the denial says " + where + " has the type");
  // RFC 6840 §4.3: a CNAME would have been followed, not denied.
  if (has_cname) return bogus(Ede::kDnssecBogus, "the denial says " + where + " is a CNAME");
  if (qtype == kTypeDs && has_soa) {
    // RFC 4035 §5.2: the child's apex record cannot speak for the parent's DS.
    return bogus(Ede::kDnssecBogus, "DS denied by the child's apex record at " + where);
  }
  if (qtype != kTypeDs && has_ns && !has_soa) {
    // RFC 4035 §3.1.4.1: the parent side of a cut is authoritative only for DS and NSEC.
    return bogus(Ede::kDnssecBogus, "denial from the parent side of the cut at " + where);
  }
  return std::nullopt;
}

}  // namespace dp::dnssec::denial_detail
