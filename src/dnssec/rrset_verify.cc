#include "dnssec/rrset_verify.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "dnssec/canonical.h"
#include "dnssec/signature_check.h"

namespace dp::dnssec {
namespace {

// RFC 1982 §3.2 via RFC 4034 §3.1.5: whether serial `a` is at or before `b`.
bool serial_at_or_before(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(b - a) >= 0;
}

enum class Timing { kValid, kExpired, kNotYetValid };

// RFC 4035 §5.3.1: inception <= now <= expiration, widened by the skew on both sides.
Timing signature_timing(const Rrsig& sig, std::uint32_t now, const ValidationOptions& options) {
  // A lifetime of 2^31 s or more (expiration "before" inception) cannot be valid at any time.
  if (!serial_at_or_before(sig.inception, sig.expiration)) return Timing::kExpired;
  const std::uint64_t lifetime = sig.expiration - sig.inception;
  const auto skew = static_cast<std::uint32_t>(
      std::clamp<std::uint64_t>(lifetime * options.skew_percent / 100, options.skew_min_seconds,
                                std::max(options.skew_min_seconds, options.skew_max_seconds)));
  if (!serial_at_or_before(sig.inception, now + skew)) return Timing::kNotYetValid;
  if (!serial_at_or_before(now - skew, sig.expiration)) return Timing::kExpired;
  return Timing::kValid;
}

// The failure of the RRSIG that got furthest through the checks: its reason is the answer's.
enum Stage : int {
  kStageMalformed,
  kStageSigner,
  kStageSignerZone,
  kStageLabels,
  kStageTime,
  kStageNoKey,
  kStageKeyFlags,
  kStageCrypto,
  kStageLimit,
};

struct Failure {
  int stage = -1;
  Ede ede = Ede::kDnssecBogus;
  std::string reason;

  void note(int at, Ede code, std::string why) {
    if (at <= stage) return;
    stage = at;
    ede = code;
    reason = std::move(why);
  }
};

std::string key_text(std::uint16_t key_tag, std::uint8_t algorithm) {
  return "key tag " + std::to_string(key_tag) + " algorithm " + std::to_string(algorithm);
}

std::string key_flags_problem(const Dnskey& key) {
  if ((key.flags & Dnskey::kFlagZone) == 0) return "has the zone-key bit clear";
  if ((key.flags & Dnskey::kFlagRevoke) != 0) return "is revoked";
  return "has protocol " + std::to_string(key.protocol) + ", not 3";
}

// With the key decoded once when the key set was prepared (dnskey_prepare), else decoded now.
// A prepared key that no longer matches the RDATA beside it is not trusted.
SignatureCheck key_verify(const Dnskey& key, std::span<const std::uint8_t> signed_data,
                          std::span<const std::uint8_t> signature) {
  if (key.prepared && key.prepared->prepared_from(key.algorithm, key.public_key())) {
    return key.prepared->verify(signed_data, signature);
  }
  return signature_verify(key.algorithm, key.public_key(), signed_data, signature);
}

}  // namespace

RrsetVerdict rrset_verify(std::span<const Rr> rrset, std::span<const Rr> rrsigs,
                          std::string_view zone, std::span<const Dnskey> keys, std::uint32_t now,
                          const ValidationOptions& options) {
  RrsetVerdict out;
  const auto fail = [&out](Status status, Ede ede, std::string reason) {
    out.verdict = {status, ede, std::move(reason)};
    return out;
  };
  if (rrset.empty()) return fail(Status::kBogus, Ede::kDnssecBogus, "empty RRset");
  const Rr& first = rrset.front();
  if (!name_valid(first.owner) || !name_valid(zone)) {
    return fail(Status::kBogus, Ede::kDnssecBogus, "malformed owner or zone name");
  }
  std::uint32_t rrset_ttl = first.ttl;
  for (const Rr& rr : rrset) {
    if (rr.type != first.type || rr.rclass != first.rclass || !name_equal(rr.owner, first.owner)) {
      return fail(Status::kBogus, Ede::kDnssecBogus, "records of more than one RRset");
    }
    rrset_ttl = std::min(rrset_ttl, rr.ttl);
  }
  // Only failures put it into words.
  const auto what = [&first] {
    return name_to_text(first.owner) + " type " + std::to_string(first.type);
  };

  // RFC 4035 §5.2: a zone whose keys all use algorithms we do not do is insecure. Keys we
  // cannot use at all are no keys.
  const auto usable = [](const Dnskey& key) { return key.usable_zone_key(); };
  if (std::none_of(keys.begin(), keys.end(), usable)) {
    return fail(Status::kBogus, Ede::kDnskeyMissing, "no usable DNSKEY for " + name_to_text(zone));
  }
  if (std::none_of(keys.begin(), keys.end(), [&](const Dnskey& key) {
        return usable(key) && algorithm_supported(key.algorithm);
      })) {
    return fail(Status::kInsecure, Ede::kUnsupportedDnskeyAlgorithm,
                "the keys of " + name_to_text(zone) + " use only unsupported algorithms");
  }

  const std::size_t owner_labels = name_label_count(first.owner);
  std::optional<std::vector<Bytes>> rdatas;  // made once, at the first signature to check
  Bytes signed_data;
  Failure failure;
  bool covered = false;
  for (const Rr& sig_rr : rrsigs) {
    if (sig_rr.type != kTypeRrsig || sig_rr.rclass != first.rclass ||
        !name_equal(sig_rr.owner, first.owner)) {
      continue;
    }
    const std::optional<Rrsig> sig = rrsig_parse(sig_rr.rdata);
    if (!sig) {
      failure.note(kStageMalformed, Ede::kDnssecBogus, "malformed RRSIG for " + what());
      continue;
    }
    if (sig->type_covered != first.type) continue;
    covered = true;
    if (!algorithm_supported(sig->algorithm)) {
      failure.note(kStageMalformed, Ede::kRrsigsMissing,
                   "no RRSIG with a supported algorithm for " + what());
      continue;
    }
    // CVE-2022-3346: a key may sign only its own zone's data.
    if (!name_is_under(first.owner, sig->signer)) {
      failure.note(kStageSigner, Ede::kDnssecBogus,
                   "signer " + name_to_text(sig->signer) + " is not an ancestor of " + what());
      continue;
    }
    if (!name_equal(sig->signer, zone)) {
      failure.note(
          kStageSignerZone, Ede::kDnskeyMissing,
          "signer " + name_to_text(sig->signer) + " is not the key owner " + name_to_text(zone));
      continue;
    }
    if (sig->labels > owner_labels) {
      failure.note(
          kStageLabels, Ede::kDnssecBogus,
          "RRSIG labels " + std::to_string(sig->labels) + " exceed the owner's for " + what());
      continue;
    }
    const Timing timing = signature_timing(*sig, now, options);
    if (timing != Timing::kValid) {
      const bool expired = timing == Timing::kExpired;
      failure.note(kStageTime, expired ? Ede::kSignatureExpired : Ede::kSignatureNotYetValid,
                   std::string(expired ? "expired" : "not yet valid") + " RRSIG for " + what());
      continue;
    }

    bool tag_seen = false;
    std::size_t tried = 0;
    for (const Dnskey& key : keys) {
      if (key.key_tag != sig->key_tag || key.algorithm != sig->algorithm) continue;
      tag_seen = true;
      if (!key.usable_zone_key()) {
        failure.note(kStageKeyFlags, Ede::kDnssecBogus,
                     key_text(key.key_tag, key.algorithm) + " " + key_flags_problem(key));
        continue;
      }
      if (tried == options.max_keys_per_tag ||
          out.verifications.total == options.max_verifications_per_rrset) {
        out.limit_tripped = true;
        failure.note(kStageLimit, Ede::kDnssecBogus,
                     tried == options.max_keys_per_tag
                         ? "KeyTrap limit: more than " + std::to_string(tried) + " keys with " +
                               key_text(key.key_tag, key.algorithm)
                         : "KeyTrap limit: " + std::to_string(out.verifications.total) +
                               " signature checks for " + what());
        break;
      }
      ++tried;
      out.verifications.add(key.algorithm);
      if (!rdatas) {
        rdatas = rrset_canonical_rdatas(rrset);
        if (!rdatas) return fail(Status::kBogus, Ede::kDnssecBogus, "malformed RDATA in " + what());
      }
      signed_data_build(sig_rr.rdata, *sig, first.owner, first.type, first.rclass, *rdatas,
                        signed_data);
      if (key_verify(key, signed_data, sig->signature) == SignatureCheck::kOk) {
        out.verdict = {Status::kSecure, std::nullopt, {}};
        // RFC 4035 §5.3.3; an RRSIG inside its skew past expiry leaves nothing to keep.
        const std::uint32_t left =
            serial_at_or_before(now, sig->expiration) ? sig->expiration - now : 0;
        out.ttl = std::min({rrset_ttl, sig->original_ttl, left});
        out.expiration = sig->expiration;
        out.key_tag = key.key_tag;
        out.algorithm = key.algorithm;
        if (sig->labels < owner_labels) {
          out.wildcard = true;
          out.closest_encloser = name_lower(name_suffix(first.owner, sig->labels));
          out.source_of_synthesis = "\1*" + out.closest_encloser;
        }
        return out;
      }
      failure.note(
          kStageCrypto, Ede::kDnssecBogus,
          "RRSIG by " + key_text(key.key_tag, key.algorithm) + " does not verify for " + what());
    }
    if (!tag_seen) {
      failure.note(
          kStageNoKey, Ede::kDnskeyMissing,
          "no DNSKEY of " + name_to_text(zone) + " with " + key_text(sig->key_tag, sig->algorithm));
    }
    if (out.limit_tripped && out.verifications.total == options.max_verifications_per_rrset) break;
  }
  // An RRSIG at the owner we could not even read says more than "missing".
  if (!covered && failure.stage < 0) {
    return fail(Status::kBogus, Ede::kRrsigsMissing, "no RRSIG covers " + what());
  }
  return fail(Status::kBogus, failure.ede, failure.reason);
}

}  // namespace dp::dnssec
