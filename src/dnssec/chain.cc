#include "dnssec/chain.h"

#include <algorithm>

#include "dnssec/denial.h"
#include "dnssec/key_set.h"

namespace dp::dnssec {
namespace {

std::size_t labels_of(std::string_view name) {
  std::size_t labels = 0;
  for (std::size_t at = 0; at < name.size() && name[at] != 0;
       at += 1 + static_cast<std::uint8_t>(name[at])) {
    ++labels;
  }
  return labels;
}

ZoneTrust trust_of(Status status, std::optional<Ede> ede, std::string reason) {
  ZoneTrust trust;
  trust.verdict = {status, ede, std::move(reason)};
  return trust;
}

const TrustAnchor* anchor_for(const ChainConfig& config, std::string_view target) {
  const TrustAnchor* best = nullptr;
  for (const TrustAnchor& anchor : config.anchors) {
    if (name_is_under(target, anchor.owner) &&
        (best == nullptr || anchor.owner.size() > best->owner.size())) {
      best = &anchor;
    }
  }
  return best;
}

ZoneEntry entry_failed(const Verdict& verdict, std::uint32_t expires) {
  ZoneEntry entry;
  entry.kind = verdict.status == Status::kInsecure ? ZoneKind::kInsecure : ZoneKind::kBogus;
  entry.verdict = verdict;
  entry.expires = expires;
  return entry;
}

std::vector<Rr> records_of(const std::vector<Rr>& section, std::string_view owner,
                           std::uint16_t type) {
  std::vector<Rr> out;
  for (const Rr& rr : section) {
    if (rr.type == type && name_equal(rr.owner, owner)) out.push_back(rr);
  }
  return out;
}

std::uint32_t ttl_end(std::uint32_t now, std::uint32_t ttl) { return now + ttl; }

void absorb_dnskey(KeyCache& cache, const ChainConfig& config, const ChainFetch& fetch,
                   const AnswerRecords& answer, std::uint32_t now, ChainWork& work) {
  const std::vector<Rr> dnskeys = records_of(answer.answer, fetch.name, kTypeDnskey);
  const TrustAnchor* anchor = anchor_for(config, fetch.name);
  KeySetVerdict verdict;
  if (anchor != nullptr && name_equal(anchor->owner, fetch.name)) {
    verdict = anchor->ds.empty()
                  ? dnskey_set_validate_by_anchor_keys(fetch.name, dnskeys, answer.answer,
                                                       anchor->keys, now, config.options)
                  : dnskey_set_validate(fetch.name, dnskeys, answer.answer, anchor->ds, now,
                                        config.options);
  } else {
    const ZoneEntry* above = cache.find(fetch.name, now);
    if (above == nullptr || above->kind != ZoneKind::kDelegationDs) return;  // the walk redoes it
    verdict =
        dnskey_set_validate(fetch.name, dnskeys, answer.answer, above->ds, now, config.options);
  }
  work.verifications += verdict.verifications;
  work.limit_tripped = work.limit_tripped || verdict.limit_tripped;
  if (verdict.verdict.status == Status::kSecure) {
    // Decoded once here, for every signature the zone's keys check while they are cached.
    for (Dnskey& key : verdict.keys) (void)dnskey_prepare(key);
    ZoneEntry entry;
    entry.kind = ZoneKind::kSecureZone;
    entry.keys = std::make_shared<const std::vector<Dnskey>>(std::move(verdict.keys));
    entry.expires = ttl_end(now, std::max<std::uint32_t>(verdict.ttl, 1));
    cache.insert(fetch.name, std::move(entry));
    return;
  }
  const bool lasting = verdict.verdict.status == Status::kInsecure;
  cache.insert(
      fetch.name,
      entry_failed(verdict.verdict,
                   ttl_end(now, lasting ? std::max<std::uint32_t>(verdict.ttl, config.bogus_ttl)
                                        : config.bogus_ttl)));
}

void absorb_ds(KeyCache& cache, const ChainConfig& config, const ChainFetch& fetch,
               const AnswerRecords& answer, std::uint32_t now, ChainWork& work) {
  const ZoneTrust& parent = fetch.parent;
  const std::span<const Dnskey> keys =
      parent.keys ? std::span<const Dnskey>(*parent.keys) : std::span<const Dnskey>();
  const auto fail = [&](Status status, Ede ede, std::string reason) {
    cache.insert(fetch.name,
                 entry_failed({status, ede, std::move(reason)}, ttl_end(now, config.bogus_ttl)));
  };
  const auto count = [&](const RrsetVerdict& verdict) {
    work.verifications += verdict.verifications;
    work.limit_tripped = work.limit_tripped || verdict.limit_tripped;
  };

  // A DS set (a zone cut, its keys next) or a CNAME (RFC 2181 §10.1: nothing else at that
  // name, so no cut), checked with the parent's keys; what it proves is kept while it holds.
  const auto absorb_rrset = [&](const std::vector<Rr>& rrset, ZoneKind kind) {
    const RrsetVerdict verdict =
        rrset_verify(rrset, answer.answer, parent.zone, keys, now, config.options);
    count(verdict);
    if (verdict.verdict.status != Status::kSecure) {
      cache.insert(fetch.name, entry_failed(verdict.verdict, ttl_end(now, config.bogus_ttl)));
      return;
    }
    ZoneEntry entry;
    entry.kind = kind;
    if (kind == ZoneKind::kDelegationDs) {
      for (const Rr& rr : rrset) {
        if (const auto ds = ds_parse(rr.rdata)) entry.ds.push_back(*ds);
      }
    }
    entry.expires = ttl_end(now, std::max<std::uint32_t>(verdict.ttl, 1));
    cache.insert(fetch.name, std::move(entry));
  };
  if (const std::vector<Rr> ds_rrs = records_of(answer.answer, fetch.name, kTypeDs);
      !ds_rrs.empty()) {
    absorb_rrset(ds_rrs, ZoneKind::kDelegationDs);
    return;
  }
  if (answer.rcode != 0 && answer.rcode != 3) {
    fail(Status::kIndeterminate, Ede::kNoReachableAuthority,
         "the DS query for " + name_to_text(fetch.name) + " got rcode " +
             std::to_string(answer.rcode));
    return;
  }
  if (const std::vector<Rr> cnames = records_of(answer.answer, fetch.name, kTypeCname);
      !cnames.empty()) {
    absorb_rrset(cnames, ZoneKind::kNotACut);
    return;
  }
  // A denial: its NSEC or NSEC3 RRsets validated with the parent's keys, none expanded from a
  // wildcard (CVE-2017-15107), then what they prove.
  std::vector<Rr> denials;
  std::uint32_t ttl = UINT32_MAX;
  Verdict unproven{Status::kBogus, Ede::kNsecMissing,
                   "no NSEC or NSEC3 denies the DS of " + name_to_text(fetch.name)};
  for (std::size_t i = 0; i < answer.authority.size(); ++i) {
    const Rr& rr = answer.authority[i];
    if (rr.type != kTypeNsec && rr.type != kTypeNsec3) continue;
    bool seen = false;
    for (std::size_t j = 0; j < i && !seen; ++j) {
      seen = answer.authority[j].type == rr.type && name_equal(answer.authority[j].owner, rr.owner);
    }
    if (seen) continue;
    const std::vector<Rr> rrset = records_of(answer.authority, rr.owner, rr.type);
    const RrsetVerdict verdict =
        rrset_verify(rrset, answer.authority, parent.zone, keys, now, config.options);
    count(verdict);
    if (verdict.verdict.status != Status::kSecure) {
      unproven = verdict.verdict;
      continue;
    }
    if (verdict.wildcard) continue;
    ttl = std::min(ttl, verdict.ttl);
    denials.insert(denials.end(), rrset.begin(), rrset.end());
  }
  if (work.limit_tripped) {
    fail(Status::kBogus, Ede::kDnssecBogus,
         "KeyTrap limit while checking the DS denial of " + name_to_text(fetch.name));
    return;
  }
  if (denials.empty()) {
    cache.insert(fetch.name, entry_failed(unproven, ttl_end(now, config.bogus_ttl)));
    return;
  }
  const DenialVerdict proof = ds_absence_prove(fetch.name, parent.zone, denials, config.options);
  ZoneEntry entry;
  entry.expires = ttl_end(now, std::max<std::uint32_t>(ttl, 1));
  if (proof.verdict.status == Status::kInsecure) {
    entry.kind = ZoneKind::kInsecure;
    entry.verdict = proof.verdict;
  } else if (proof.verdict.status != Status::kSecure) {
    cache.insert(fetch.name, entry_failed(proof.verdict, ttl_end(now, config.bogus_ttl)));
    return;
  } else {
    switch (proof.ds_absence) {
      case DsAbsence::kNotACut:
        entry.kind = ZoneKind::kNotACut;
        break;
      case DsAbsence::kInsecureDelegation:
        entry.kind = ZoneKind::kInsecure;
        entry.verdict = {Status::kInsecure, std::nullopt,
                         name_to_text(fetch.name) + " is an unsigned delegation"};
        break;
      case DsAbsence::kNameMissing:
        entry.kind = ZoneKind::kMissing;
        break;
    }
  }
  cache.insert(fetch.name, std::move(entry));
}

}  // namespace

ChainStep chain_walk(KeyCache& cache, const ChainConfig& config, std::string_view target,
                     std::uint32_t now) {
  ChainStep step;
  for (const std::string& domain : config.insecure_domains) {
    if (name_is_under(target, domain)) {
      step.trust = trust_of(Status::kInsecure, std::nullopt,
                            "negative trust anchor " + name_to_text(domain));
      return step;
    }
  }
  const TrustAnchor* anchor = anchor_for(config, target);
  if (anchor == nullptr) {
    step.trust = trust_of(Status::kIndeterminate, std::nullopt,
                          "no trust anchor covers " + name_to_text(target));
    return step;
  }
  std::string zone = anchor->owner;
  const ZoneEntry* top = cache.find(zone, now);
  if (top == nullptr) {
    step.fetch = ChainFetch{zone, kTypeDnskey, {}};
    return step;
  }
  if (top->kind != ZoneKind::kSecureZone) {
    step.trust.verdict = top->verdict;
    return step;
  }
  KeySet keys = top->keys;
  const std::size_t target_labels = labels_of(target);
  for (std::size_t depth = labels_of(zone) + 1; depth <= target_labels; ++depth) {
    const std::string_view name = name_suffix(target, depth);
    const ZoneEntry* entry = cache.find(name, now);
    if (entry == nullptr) {
      ZoneTrust parent;
      parent.verdict.status = Status::kSecure;
      parent.zone = zone;
      parent.keys = keys;
      step.fetch = ChainFetch{std::string(name), kTypeDs, std::move(parent)};
      return step;
    }
    switch (entry->kind) {
      case ZoneKind::kSecureZone:
        zone = std::string(name);
        keys = entry->keys;
        break;
      case ZoneKind::kDelegationDs:
        step.fetch = ChainFetch{std::string(name), kTypeDnskey, {}};
        return step;
      case ZoneKind::kNotACut:
        break;
      case ZoneKind::kMissing:
        depth = target_labels;  // nothing below exists: the zone above holds the answer
        break;
      case ZoneKind::kInsecure:
      case ZoneKind::kBogus:
        step.trust.verdict = entry->verdict;
        step.trust.zone = std::string(name);
        return step;
    }
  }
  step.trust.verdict.status = Status::kSecure;
  step.trust.zone = std::move(zone);
  step.trust.keys = std::move(keys);
  return step;
}

ChainWork chain_absorb(KeyCache& cache, const ChainConfig& config, const ChainFetch& fetch,
                       const AnswerRecords* answer, std::string_view failure, std::uint32_t now) {
  ChainWork work;
  if (answer == nullptr) {
    const char* what = fetch.type == kTypeDs ? "DS" : "DNSKEY";
    cache.insert(fetch.name,
                 entry_failed({Status::kIndeterminate, Ede::kNoReachableAuthority,
                               std::string("the ") + what + " query for " +
                                   name_to_text(fetch.name) + " failed: " + std::string(failure)},
                              now + config.bogus_ttl));
    return work;
  }
  if (fetch.type == kTypeDnskey) {
    absorb_dnskey(cache, config, fetch, *answer, now, work);
  } else {
    absorb_ds(cache, config, fetch, *answer, now, work);
  }
  return work;
}

}  // namespace dp::dnssec
