#include "dnssec/denial.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dp::dnssec {
namespace {

constexpr std::size_t kSha1Size = 20;  // RFC 5155 §11: the hash algorithm 1 output
constexpr std::string_view kWildcardLabel{"\1*", 2};

DenialVerdict secure(DsAbsence absence = DsAbsence::kNotACut) {
  DenialVerdict out;
  out.verdict.status = Status::kSecure;
  out.ds_absence = absence;
  return out;
}

DenialVerdict fail(Status status, std::optional<Ede> ede, std::string reason) {
  DenialVerdict out;
  out.verdict.status = status;
  out.verdict.ede = ede;
  out.verdict.reason = std::move(reason);
  return out;
}

DenialVerdict bogus(Ede ede, std::string reason) {
  return fail(Status::kBogus, ede, std::move(reason));
}

// RFC 5155 §9.2: an opt-out span may hide unsigned delegations, so it proves nothing secure.
DenialVerdict opt_out_insecure(std::string_view name) {
  return fail(Status::kInsecure, std::nullopt,
              "an NSEC3 opt-out span covers " + name_to_text(name));
}

std::size_t labels_of(std::string_view name) { return name_common_labels(name, name); }

bool name_strictly_under(std::string_view name, std::string_view ancestor) {
  return name_is_under(name, ancestor) && !name_equal(name, ancestor);
}

std::string wildcard_of(std::string_view closest_encloser) {
  std::string out(kWildcardLabel);
  out.append(closest_encloser);
  return out;
}

struct NsecRecord {
  std::string_view owner;
  Nsec nsec;
  bool has(std::uint16_t type) const { return type_bitmap_has(nsec.types, type); }
};

struct Nsec3Record {
  Bytes owner_hash;
  Nsec3 nsec3;
  bool has(std::uint16_t type) const { return type_bitmap_has(nsec3.types, type); }
};

// The usable records of `zone` among the denials, parsed; they point into the RRs.
struct Denials {
  std::vector<NsecRecord> nsecs;
  std::vector<Nsec3Record> nsec3s;
  std::span<const std::uint8_t> salt;  // shared by all nsec3s
  std::uint16_t iterations = 0;
};

// Fails with EDE 6 on a malformed record of `zone` or NSEC3 parameters that differ.
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

// ---- NSEC (RFC 4035 §5.4) ----

class NsecProver {
 public:
  NsecProver(std::string_view zone, const Denials& denials) : zone_(zone), denials_(denials) {}

  const NsecRecord* matching(std::string_view name) const {
    for (const NsecRecord& r : denials_.nsecs) {
      if (name_equal(r.owner, name)) return &r;
    }
    return nullptr;
  }

  // The NSEC whose span holds `name` strictly between owner and next (the last NSEC's next is
  // the apex: its span runs to the end of the zone), and which may deny names there.
  const NsecRecord* covering(std::string_view name) const {
    for (const NsecRecord& r : denials_.nsecs) {
      if (blocks(r, name)) continue;
      const bool after_owner = name_compare(r.owner, name) < 0;
      const bool before_next = name_compare(name, r.nsec.next) < 0;
      const bool wraps = name_compare(r.owner, r.nsec.next) >= 0;
      if (wraps ? (after_owner || before_next) : (after_owner && before_next)) return &r;
    }
    return nullptr;
  }

  // The closest encloser of `name`, which `cover` covers: the longest ancestor that the NSEC's
  // owner or next name shares with it (both exist, and nothing between them does).
  std::string_view closest_encloser(std::string_view name, const NsecRecord& cover) const {
    std::size_t common =
        std::max(name_common_labels(name, cover.owner), name_common_labels(name, cover.nsec.next));
    common = std::max(common, labels_of(zone_));
    return name_suffix(name, common);
  }

  // The next name is below `name`: `name` is an empty non-terminal, so it exists.
  static bool proves_empty_non_terminal(const NsecRecord& cover, std::string_view name) {
    return name_strictly_under(cover.nsec.next, name);
  }

 private:
  // RFC 6840 §4.1: an NSEC at a delegation (NS, no SOA) or a DNAME comes from above a zone cut
  // or a redirection; names below its owner are not this zone's to deny.
  static bool blocks(const NsecRecord& r, std::string_view name) {
    if (!name_strictly_under(name, r.owner)) return false;
    return (r.has(kTypeNs) && !r.has(kTypeSoa)) || r.has(kTypeDname);
  }

  std::string_view zone_;
  const Denials& denials_;
};

DenialVerdict nsec_nxdomain(std::string_view qname, const NsecProver& p) {
  if (p.matching(qname) != nullptr) {
    return bogus(Ede::kDnssecBogus, "an NSEC proves " + name_to_text(qname) + " exists");
  }
  const NsecRecord* cover = p.covering(qname);
  if (cover == nullptr) return bogus(Ede::kNsecMissing, "no NSEC covers " + name_to_text(qname));
  if (NsecProver::proves_empty_non_terminal(*cover, qname)) {
    return bogus(Ede::kDnssecBogus, name_to_text(qname) + " is an empty non-terminal");
  }
  const std::string wildcard = wildcard_of(p.closest_encloser(qname, *cover));
  if (p.matching(wildcard) != nullptr) {
    return bogus(Ede::kDnssecBogus, "the wildcard " + name_to_text(wildcard) + " exists");
  }
  if (p.covering(wildcard) == nullptr) {
    return bogus(Ede::kNsecMissing, "no NSEC denies the wildcard " + name_to_text(wildcard));
  }
  return secure();
}

// Whether the types of existing `name` prove NODATA for `qtype`: nullopt when they do, else
// why not.
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

DenialVerdict nsec_nodata(std::string_view qname, std::uint16_t qtype, const NsecProver& p) {
  if (const NsecRecord* m = p.matching(qname)) {
    const bool has_qtype = qtype != kTypeCname && m->has(qtype);
    if (auto failure = bitmap_denies(has_qtype, m->has(kTypeCname), m->has(kTypeNs),
                                     m->has(kTypeSoa), qtype, qname)) {
      return *failure;
    }
    return secure();
  }
  const NsecRecord* cover = p.covering(qname);
  if (cover == nullptr) return bogus(Ede::kNsecMissing, "no NSEC for " + name_to_text(qname));
  if (NsecProver::proves_empty_non_terminal(*cover, qname)) return secure();
  // RFC 4035 §3.1.3.4: qname does not exist, a wildcard that would match it does, without qtype.
  const std::string wildcard = wildcard_of(p.closest_encloser(qname, *cover));
  const NsecRecord* w = p.matching(wildcard);
  if (w == nullptr) {
    return bogus(Ede::kNsecMissing, "no NSEC proves NODATA for " + name_to_text(qname));
  }
  if (auto failure = bitmap_denies(qtype != kTypeCname && w->has(qtype), w->has(kTypeCname), false,
                                   false, qtype, wildcard)) {
    return *failure;
  }
  return secure();
}

DenialVerdict nsec_wildcard_answer(std::string_view qname, std::string_view closest_encloser,
                                   const NsecProver& p) {
  if (p.matching(qname) != nullptr) {
    return bogus(Ede::kDnssecBogus, name_to_text(qname) + " exists: no wildcard applies");
  }
  const NsecRecord* cover = p.covering(qname);
  if (cover == nullptr) return bogus(Ede::kNsecMissing, "no NSEC covers " + name_to_text(qname));
  if (NsecProver::proves_empty_non_terminal(*cover, qname)) {
    return bogus(Ede::kDnssecBogus, name_to_text(qname) + " is an empty non-terminal");
  }
  // Nothing between the NSEC's owner and next exists, so the closest encloser it shows is the
  // true one; another means a closer name exists, or the claimed one does not.
  if (!name_equal(p.closest_encloser(qname, *cover), closest_encloser)) {
    return bogus(Ede::kNsecMissing, "the NSEC does not prove " + name_to_text(closest_encloser) +
                                        " the closest encloser of " + name_to_text(qname));
  }
  return secure();
}

DenialVerdict nsec_ds_absence(std::string_view name, const NsecProver& p) {
  if (const NsecRecord* m = p.matching(name)) {
    if (m->has(kTypeDs)) return bogus(Ede::kDnssecBogus, name_to_text(name) + " has a DS");
    if (m->has(kTypeSoa)) {
      return bogus(Ede::kDnssecBogus,
                   "DS denied by the child's apex NSEC at " + name_to_text(name));
    }
    return secure(m->has(kTypeNs) ? DsAbsence::kInsecureDelegation : DsAbsence::kNotACut);
  }
  const NsecRecord* cover = p.covering(name);
  if (cover == nullptr) return bogus(Ede::kNsecMissing, "no NSEC for " + name_to_text(name));
  if (NsecProver::proves_empty_non_terminal(*cover, name)) return secure(DsAbsence::kNotACut);
  const std::string wildcard = wildcard_of(p.closest_encloser(name, *cover));
  if (const NsecRecord* w = p.matching(wildcard)) {
    if (w->has(kTypeDs)) return bogus(Ede::kDnssecBogus, "the wildcard has a DS");
    return secure(DsAbsence::kNameMissing);
  }
  if (p.covering(wildcard) == nullptr) {
    return bogus(Ede::kNsecMissing, "no NSEC denies the wildcard " + name_to_text(wildcard));
  }
  return secure(DsAbsence::kNameMissing);
}

// ---- NSEC3 (RFC 5155 §8) ----

// RFC 5155 §8.3: the closest encloser proof for a name that does not exist.
struct ClosestEncloser {
  std::string_view closest_encloser;
  std::string_view next_closer;
  const Nsec3Record* next_closer_cover = nullptr;
};

class Nsec3Prover {
 public:
  Nsec3Prover(std::string_view zone, const Denials& denials, const ValidationOptions& options)
      : zone_(zone), denials_(denials), options_(options) {}

  // H(name), computed once per call; nullopt when the hash budget is spent.
  std::optional<Bytes> hash(std::string_view name) {
    for (const auto& [known, digest] : hashes_) {
      if (name_equal(known, name)) return digest;
    }
    if (hashes_.size() >= options_.max_nsec3_hashes) return std::nullopt;
    hashes_.emplace_back(std::string(name), nsec3_hash(name, denials_.salt, denials_.iterations));
    return hashes_.back().second;
  }

  const Nsec3Record* matching(const Bytes& hash) const {
    for (const Nsec3Record& r : denials_.nsec3s) {
      if (r.owner_hash == hash) return &r;
    }
    return nullptr;
  }

  // The NSEC3 whose span holds `hash` strictly between owner and next hashed owner (the last
  // one's span wraps around to the first).
  const Nsec3Record* covering(const Bytes& hash) const {
    for (const Nsec3Record& r : denials_.nsec3s) {
      const std::span<const std::uint8_t> next = r.nsec3.next_hashed;
      const bool after_owner = r.owner_hash < hash;
      const bool before_next =
          std::lexicographical_compare(hash.begin(), hash.end(), next.begin(), next.end());
      const bool wraps = !std::lexicographical_compare(r.owner_hash.begin(), r.owner_hash.end(),
                                                       next.begin(), next.end());
      if (wraps ? (after_owner || before_next) : (after_owner && before_next)) return &r;
    }
    return nullptr;
  }

  // RFC 5155 §8.3 for `name`, which must not exist: an NSEC3 matches its closest encloser
  // (walking up from `name`), another covers the next closer name.
  std::variant<ClosestEncloser, DenialVerdict> closest_encloser_prove(std::string_view name) {
    std::string_view next_closer;
    for (std::string_view sname = name;; next_closer = sname, sname = name_parent(sname)) {
      const auto h = hash(sname);
      if (!h) return budget_spent();
      const Nsec3Record* m = matching(*h);
      if (m == nullptr) {
        if (name_equal(sname, zone_)) break;  // the apex's own NSEC3 is missing
        continue;
      }
      if (next_closer.empty()) {
        return bogus(Ede::kDnssecBogus, "an NSEC3 proves " + name_to_text(name) + " exists");
      }
      // RFC 6840 §4.1 as for NSEC: a delegation's or a DNAME's NSEC3 is no closest encloser
      // for names below it, which belong to another zone or are redirected.
      if ((m->has(kTypeNs) && !m->has(kTypeSoa)) || m->has(kTypeDname)) {
        return bogus(Ede::kDnssecBogus,
                     "the closest encloser " + name_to_text(sname) + " is a delegation or DNAME");
      }
      const auto nh = hash(next_closer);  // already hashed on the way up
      if (!nh) return budget_spent();
      const Nsec3Record* cover = covering(*nh);
      if (cover == nullptr) {
        return bogus(Ede::kNsecMissing, "no NSEC3 covers " + name_to_text(next_closer));
      }
      return ClosestEncloser{sname, next_closer, cover};
    }
    return bogus(Ede::kNsecMissing, "no NSEC3 matches a closest encloser of " + name_to_text(name));
  }

  DenialVerdict budget_spent() const {
    return bogus(
        Ede::kDnssecBogus,
        "the proof needs more than " + std::to_string(options_.max_nsec3_hashes) + " NSEC3 hashes");
  }

 private:
  std::string_view zone_;
  const Denials& denials_;
  const ValidationOptions& options_;
  std::vector<std::pair<std::string, Bytes>> hashes_;
};

DenialVerdict nsec3_nxdomain(std::string_view qname, Nsec3Prover& p) {
  auto proof = p.closest_encloser_prove(qname);
  if (auto* failure = std::get_if<DenialVerdict>(&proof)) return std::move(*failure);
  const auto& ce = std::get<ClosestEncloser>(proof);
  const std::string wildcard = wildcard_of(ce.closest_encloser);
  const auto wh = p.hash(wildcard);
  if (!wh) return p.budget_spent();
  if (p.matching(*wh) != nullptr) {
    return bogus(Ede::kDnssecBogus, "the wildcard " + name_to_text(wildcard) + " exists");
  }
  if (p.covering(*wh) == nullptr) {
    return bogus(Ede::kNsecMissing, "no NSEC3 denies the wildcard " + name_to_text(wildcard));
  }
  if (ce.next_closer_cover->nsec3.opt_out()) return opt_out_insecure(ce.next_closer);
  return secure();
}

DenialVerdict nsec3_nodata(std::string_view qname, std::uint16_t qtype, Nsec3Prover& p) {
  const auto h = p.hash(qname);
  if (!h) return p.budget_spent();
  // RFC 5155 §8.5, §8.6 with a match; an empty non-terminal has an NSEC3 with no types (§7.1).
  if (const Nsec3Record* m = p.matching(*h)) {
    const bool has_qtype = qtype != kTypeCname && m->has(qtype);
    if (auto failure = bitmap_denies(has_qtype, m->has(kTypeCname), m->has(kTypeNs),
                                     m->has(kTypeSoa), qtype, qname)) {
      return *failure;
    }
    return secure();
  }
  auto proof = p.closest_encloser_prove(qname);
  if (auto* failure = std::get_if<DenialVerdict>(&proof)) return std::move(*failure);
  const auto& ce = std::get<ClosestEncloser>(proof);
  // RFC 5155 §8.6: no DS at a name in an opt-out span, which may be an unsigned delegation.
  if (qtype == kTypeDs && ce.next_closer_cover->nsec3.opt_out()) {
    return opt_out_insecure(ce.next_closer);
  }
  // RFC 5155 §8.7: the wildcard at the closest encloser exists without qtype.
  const std::string wildcard = wildcard_of(ce.closest_encloser);
  const auto wh = p.hash(wildcard);
  if (!wh) return p.budget_spent();
  const Nsec3Record* w = p.matching(*wh);
  if (w == nullptr) {
    return bogus(Ede::kNsecMissing, "no NSEC3 proves NODATA for " + name_to_text(qname));
  }
  if (auto failure = bitmap_denies(qtype != kTypeCname && w->has(qtype), w->has(kTypeCname), false,
                                   false, qtype, wildcard)) {
    return *failure;
  }
  if (ce.next_closer_cover->nsec3.opt_out()) return opt_out_insecure(ce.next_closer);
  return secure();
}

DenialVerdict nsec3_wildcard_answer(std::string_view qname, std::string_view closest_encloser,
                                    Nsec3Prover& p) {
  // RFC 5155 §8.8: the next closer name is covered; the RRSIG's labels gave the encloser.
  const std::string_view next_closer = name_suffix(qname, labels_of(closest_encloser) + 1);
  const auto h = p.hash(next_closer);
  if (!h) return p.budget_spent();
  if (p.matching(*h) != nullptr) {
    return bogus(Ede::kDnssecBogus, name_to_text(next_closer) + " exists: no wildcard applies");
  }
  const Nsec3Record* cover = p.covering(*h);
  if (cover == nullptr) {
    return bogus(Ede::kNsecMissing, "no NSEC3 covers " + name_to_text(next_closer));
  }
  if (cover->nsec3.opt_out()) return opt_out_insecure(next_closer);
  return secure();
}

DenialVerdict nsec3_ds_absence(std::string_view name, Nsec3Prover& p) {
  const auto h = p.hash(name);
  if (!h) return p.budget_spent();
  if (const Nsec3Record* m = p.matching(*h)) {
    if (m->has(kTypeDs)) return bogus(Ede::kDnssecBogus, name_to_text(name) + " has a DS");
    if (m->has(kTypeSoa)) {
      return bogus(Ede::kDnssecBogus,
                   "DS denied by the child's apex NSEC3 at " + name_to_text(name));
    }
    return secure(m->has(kTypeNs) ? DsAbsence::kInsecureDelegation : DsAbsence::kNotACut);
  }
  auto proof = p.closest_encloser_prove(name);
  if (auto* failure = std::get_if<DenialVerdict>(&proof)) return std::move(*failure);
  const auto& ce = std::get<ClosestEncloser>(proof);
  // RFC 5155 §8.6: whatever is in an opt-out span, no secure delegation is.
  if (ce.next_closer_cover->nsec3.opt_out()) return secure(DsAbsence::kInsecureDelegation);
  const std::string wildcard = wildcard_of(ce.closest_encloser);
  const auto wh = p.hash(wildcard);
  if (!wh) return p.budget_spent();
  if (const Nsec3Record* w = p.matching(*wh)) {
    if (w->has(kTypeDs)) return bogus(Ede::kDnssecBogus, "the wildcard has a DS");
    return secure(DsAbsence::kNameMissing);
  }
  if (p.covering(*wh) == nullptr) {
    return bogus(Ede::kNsecMissing, "no NSEC3 denies the wildcard " + name_to_text(wildcard));
  }
  return secure(DsAbsence::kNameMissing);
}

// The checks every proof shares, then the NSEC or the NSEC3 variant.
template <class NsecFn, class Nsec3Fn>
DenialVerdict denial_prove(std::string_view name, std::string_view zone, std::span<const Rr> rrs,
                           const ValidationOptions& options, NsecFn&& nsec_fn, Nsec3Fn&& nsec3_fn) {
  if (!name_valid(name) || !name_valid(zone) || !name_is_under(name, zone)) {
    return bogus(Ede::kDnssecBogus, name_to_text(name) + " is not in the zone denying it");
  }
  Denials denials;
  if (auto failure = denials_collect(zone, rrs, denials)) return std::move(*failure);
  if (!denials.nsecs.empty()) return nsec_fn(NsecProver(zone, denials));
  if (denials.nsec3s.empty()) {
    return bogus(Ede::kNsecMissing, "no NSEC or NSEC3 of " + name_to_text(zone));
  }
  if (denials.iterations > options.max_nsec3_iterations) {
    return fail(Status::kInsecure, Ede::kUnsupportedNsec3Iterations,
                "NSEC3 iterations " + std::to_string(denials.iterations) + " above " +
                    std::to_string(options.max_nsec3_iterations));
  }
  Nsec3Prover prover(zone, denials, options);
  return nsec3_fn(prover);
}

}  // namespace

DenialVerdict nxdomain_prove(std::string_view qname, std::string_view zone,
                             std::span<const Rr> denials, const ValidationOptions& options) {
  return denial_prove(
      qname, zone, denials, options, [&](const NsecProver& p) { return nsec_nxdomain(qname, p); },
      [&](Nsec3Prover& p) { return nsec3_nxdomain(qname, p); });
}

DenialVerdict nodata_prove(std::string_view qname, std::uint16_t qtype, std::string_view zone,
                           std::span<const Rr> denials, const ValidationOptions& options) {
  return denial_prove(
      qname, zone, denials, options,
      [&](const NsecProver& p) { return nsec_nodata(qname, qtype, p); },
      [&](Nsec3Prover& p) { return nsec3_nodata(qname, qtype, p); });
}

DenialVerdict wildcard_answer_prove(std::string_view qname, std::string_view closest_encloser,
                                    std::string_view zone, std::span<const Rr> denials,
                                    const ValidationOptions& options) {
  if (!name_valid(closest_encloser) || !name_valid(qname) ||
      !name_strictly_under(qname, closest_encloser) || !name_is_under(closest_encloser, zone)) {
    return bogus(Ede::kDnssecBogus, "the wildcard's closest encloser is not above " +
                                        name_to_text(qname) + " in the zone");
  }
  return denial_prove(
      qname, zone, denials, options,
      [&](const NsecProver& p) { return nsec_wildcard_answer(qname, closest_encloser, p); },
      [&](Nsec3Prover& p) { return nsec3_wildcard_answer(qname, closest_encloser, p); });
}

DenialVerdict ds_absence_prove(std::string_view name, std::string_view zone,
                               std::span<const Rr> denials, const ValidationOptions& options) {
  if (name_valid(name) && name_valid(zone) && name_equal(name, zone)) {
    return bogus(Ede::kDnssecBogus, "a zone cannot deny its own DS");
  }
  return denial_prove(
      name, zone, denials, options, [&](const NsecProver& p) { return nsec_ds_absence(name, p); },
      [&](Nsec3Prover& p) { return nsec3_ds_absence(name, p); });
}

}  // namespace dp::dnssec
