#include "dnssec/denial_nsec3.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace dp::dnssec::denial_detail {
namespace {

// RFC 5155 §9.2: an opt-out span may hide unsigned delegations, so it proves nothing secure.
DenialVerdict opt_out_insecure(std::string_view name) {
  return fail(Status::kInsecure, std::nullopt,
              "an NSEC3 opt-out span covers " + name_to_text(name));
}

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

}  // namespace

DenialVerdict nsec3_nxdomain(std::string_view qname, std::string_view zone, const Denials& denials,
                             const ValidationOptions& options) {
  Nsec3Prover p(zone, denials, options);
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

DenialVerdict nsec3_nodata(std::string_view qname, std::uint16_t qtype, std::string_view zone,
                           const Denials& denials, const ValidationOptions& options) {
  Nsec3Prover p(zone, denials, options);
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
                                    std::string_view zone, const Denials& denials,
                                    const ValidationOptions& options) {
  Nsec3Prover p(zone, denials, options);
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

DenialVerdict nsec3_ds_absence(std::string_view name, std::string_view zone, const Denials& denials,
                               const ValidationOptions& options) {
  Nsec3Prover p(zone, denials, options);
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

}  // namespace dp::dnssec::denial_detail
