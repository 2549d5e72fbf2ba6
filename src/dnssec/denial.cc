#include "dnssec/denial.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "dnssec/denial_nsec3.h"
#include "dnssec/denial_records.h"

namespace dp::dnssec {
namespace {

// Shared with the NSEC3 half (denial_nsec3.cc).
using denial_detail::bitmap_denies;
using denial_detail::bogus;
using denial_detail::Denials;
using denial_detail::denials_collect;
using denial_detail::fail;
using denial_detail::labels_of;
using denial_detail::name_strictly_under;
using denial_detail::nsec3_ds_absence;
using denial_detail::nsec3_nodata;
using denial_detail::nsec3_nxdomain;
using denial_detail::nsec3_wildcard_answer;
using denial_detail::NsecRecord;
using denial_detail::secure;
using denial_detail::wildcard_of;

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
  return nsec3_fn(denials);
}

}  // namespace

DenialVerdict nxdomain_prove(std::string_view qname, std::string_view zone,
                             std::span<const Rr> denials, const ValidationOptions& options) {
  return denial_prove(
      qname, zone, denials, options, [&](const NsecProver& p) { return nsec_nxdomain(qname, p); },
      [&](const Denials& d) { return nsec3_nxdomain(qname, zone, d, options); });
}

DenialVerdict nodata_prove(std::string_view qname, std::uint16_t qtype, std::string_view zone,
                           std::span<const Rr> denials, const ValidationOptions& options) {
  return denial_prove(
      qname, zone, denials, options,
      [&](const NsecProver& p) { return nsec_nodata(qname, qtype, p); },
      [&](const Denials& d) { return nsec3_nodata(qname, qtype, zone, d, options); });
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
      [&](const Denials& d) {
        return nsec3_wildcard_answer(qname, closest_encloser, zone, d, options);
      });
}

DenialVerdict ds_absence_prove(std::string_view name, std::string_view zone,
                               std::span<const Rr> denials, const ValidationOptions& options) {
  if (name_valid(name) && name_valid(zone) && name_equal(name, zone)) {
    return bogus(Ede::kDnssecBogus, "a zone cannot deny its own DS");
  }
  return denial_prove(
      name, zone, denials, options, [&](const NsecProver& p) { return nsec_ds_absence(name, p); },
      [&](const Denials& d) { return nsec3_ds_absence(name, zone, d, options); });
}

}  // namespace dp::dnssec
