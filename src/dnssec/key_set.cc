#include "dnssec/key_set.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "dnssec/signature_check.h"

namespace dp::dnssec {
namespace {

KeySetVerdict fail(Status status, std::optional<Ede> ede, std::string reason) {
  KeySetVerdict out;
  out.verdict = {status, ede, std::move(reason)};
  return out;
}

// Every DNSKEY of the set parsed; nullopt when the set is empty, holds other types or owners,
// or a key is malformed.
std::optional<std::vector<Dnskey>> keys_parse(std::string_view zone, std::span<const Rr> dnskeys) {
  if (dnskeys.empty() || !name_valid(zone)) return std::nullopt;
  std::vector<Dnskey> keys;
  keys.reserve(dnskeys.size());
  for (const Rr& rr : dnskeys) {
    if (rr.type != kTypeDnskey || !name_equal(rr.owner, zone)) return std::nullopt;
    auto key = dnskey_parse(rr.rdata);
    if (!key) return std::nullopt;
    keys.push_back(std::move(*key));
  }
  return keys;
}

// The DNSKEY RRset checked with the keys `trusted` (a subset of `keys`); the verdict carries
// all of `keys` when it is secure.
KeySetVerdict key_set_verify(std::string_view zone, std::span<const Rr> dnskeys,
                             std::span<const Rr> rrsigs, std::vector<Dnskey> keys,
                             const std::vector<Dnskey>& trusted, std::uint32_t now,
                             const ValidationOptions& options) {
  const RrsetVerdict checked = rrset_verify(dnskeys, rrsigs, zone, trusted, now, options);
  KeySetVerdict out;
  out.verdict = checked.verdict;
  out.verifications = checked.verifications;
  out.limit_tripped = checked.limit_tripped;
  if (checked.verdict.status == Status::kSecure) {
    out.keys = std::move(keys);
    out.ttl = checked.ttl;
  }
  return out;
}

}  // namespace

KeySetVerdict dnskey_set_validate(std::string_view zone, std::span<const Rr> dnskeys,
                                  std::span<const Rr> rrsigs, std::span<const Ds> ds_set,
                                  std::uint32_t now, const ValidationOptions& options) {
  if (ds_set.empty()) {
    return fail(Status::kIndeterminate, std::nullopt, "no DS for " + name_to_text(zone));
  }
  const auto counts = [](const Ds& ds) {
    return algorithm_supported(ds.algorithm) && digest_supported(ds.digest_type);
  };
  const bool strong = std::any_of(ds_set.begin(), ds_set.end(), [&](const Ds& ds) {
    return counts(ds) && ds.digest_type != kDigestSha1;
  });
  std::vector<const Ds*> usable;
  for (const Ds& ds : ds_set) {
    if (counts(ds) && !(strong && ds.digest_type == kDigestSha1)) usable.push_back(&ds);
  }
  if (usable.empty()) {
    const bool algorithm_known = std::any_of(ds_set.begin(), ds_set.end(), [](const Ds& ds) {
      return algorithm_supported(ds.algorithm);
    });
    return algorithm_known ? fail(Status::kInsecure, Ede::kUnsupportedDsDigestType,
                                  "no DS of " + name_to_text(zone) + " uses a supported digest")
                           : fail(Status::kInsecure, Ede::kUnsupportedDnskeyAlgorithm,
                                  "no DS of " + name_to_text(zone) + " uses a supported algorithm");
  }

  std::optional<std::vector<Dnskey>> keys = keys_parse(zone, dnskeys);
  if (!keys) {
    return fail(Status::kBogus, Ede::kDnskeyMissing,
                "no well-formed DNSKEY set for " + name_to_text(zone));
  }
  std::vector<Dnskey> trusted;
  bool limit_tripped = false;
  for (const Ds* ds : usable) {
    std::size_t tried = 0;
    for (const Dnskey& key : *keys) {
      if (key.key_tag != ds->key_tag || key.algorithm != ds->algorithm || !key.usable_zone_key()) {
        continue;
      }
      if (tried == options.max_keys_per_tag) {
        limit_tripped = true;
        break;
      }
      ++tried;
      const bool known = std::any_of(trusted.begin(), trusted.end(),
                                     [&](const Dnskey& t) { return t.rdata == key.rdata; });
      if (!known && ds_matches(*ds, zone, key)) trusted.push_back(key);
    }
  }
  if (trusted.empty()) {
    KeySetVerdict out = fail(Status::kBogus, Ede::kDnskeyMissing,
                             std::string(limit_tripped ? "KeyTrap limit: " : "") + "no DNSKEY of " +
                                 name_to_text(zone) + " matches its DS");
    out.limit_tripped = limit_tripped;
    return out;
  }
  KeySetVerdict out =
      key_set_verify(zone, dnskeys, rrsigs, std::move(*keys), trusted, now, options);
  out.limit_tripped = out.limit_tripped || limit_tripped;
  return out;
}

KeySetVerdict dnskey_set_validate_by_anchor_keys(std::string_view zone, std::span<const Rr> dnskeys,
                                                 std::span<const Rr> rrsigs,
                                                 std::span<const Dnskey> anchors, std::uint32_t now,
                                                 const ValidationOptions& options) {
  if (anchors.empty()) {
    return fail(Status::kIndeterminate, std::nullopt, "no trust anchor for " + name_to_text(zone));
  }
  if (std::none_of(anchors.begin(), anchors.end(),
                   [](const Dnskey& a) { return algorithm_supported(a.algorithm); })) {
    return fail(Status::kInsecure, Ede::kUnsupportedDnskeyAlgorithm,
                "no trust anchor of " + name_to_text(zone) + " uses a supported algorithm");
  }
  std::optional<std::vector<Dnskey>> keys = keys_parse(zone, dnskeys);
  if (!keys) {
    return fail(Status::kBogus, Ede::kDnskeyMissing,
                "no well-formed DNSKEY set for " + name_to_text(zone));
  }
  std::vector<Dnskey> trusted;
  for (const Dnskey& key : *keys) {
    if (!key.usable_zone_key() || !algorithm_supported(key.algorithm)) continue;
    if (std::any_of(anchors.begin(), anchors.end(),
                    [&](const Dnskey& a) { return a.rdata == key.rdata; })) {
      trusted.push_back(key);
    }
  }
  if (trusted.empty()) {
    return fail(Status::kBogus, Ede::kDnskeyMissing,
                "no usable DNSKEY of " + name_to_text(zone) + " is a trust anchor");
  }
  return key_set_verify(zone, dnskeys, rrsigs, std::move(*keys), trusted, now, options);
}

}  // namespace dp::dnssec
