// One RRset's signatures checked against a validated DNSKEY set (RFC 4035 §5.3): every check
// of §5.3.1 (signer, labels, type, class, key flags, times) before the maths, KeyTrap caps on
// how much maths one RRset may cost. Pure: `now` is given, nothing is fetched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "dnssec/records.h"
#include "dnssec/status.h"

namespace dp::dnssec {

// Tunables of validation; defaults as issue #16 sets them.
struct ValidationOptions {
  // KeyTrap (CVE-2023-50387): the work one RRset may cause, whatever the answer holds.
  std::size_t max_verifications_per_rrset = 8;  // signature checks, all RRSIGs and keys
  std::size_t max_keys_per_tag = 4;             // keys tried for one RRSIG (colliding tags)
  // Clock tolerance on RRSIG validity, as Unbound's: a share of the signature's lifetime,
  // clamped. A device whose clock is a little off still validates.
  std::uint32_t skew_percent = 10;
  std::uint32_t skew_min_seconds = 3600;   // 1 hour
  std::uint32_t skew_max_seconds = 86400;  // 1 day
  // RFC 9276 §3.2: NSEC3 records with more iterations make the zone insecure (EDE 27), so a
  // hostile zone cannot make us hash without end. 150 as Unbound and BIND since 2021.
  std::uint16_t max_nsec3_iterations = 150;
  // Names one denial proof may hash (the closest encloser search walks up from the qname, one
  // hash per label): a bound on the work a hostile answer with a deep qname may cause.
  std::size_t max_nsec3_hashes = 16;
};

// What rrset_verify found.
struct RrsetVerdict {
  Verdict verdict;
  // kSecure only: the TTL the RRset may be kept for (RFC 4035 §5.3.3: min of its TTL, the
  // RRSIG's original TTL and the time left until the RRSIG expires) and that RRSIG's expiry.
  std::uint32_t ttl = 0;
  std::uint32_t expiration = 0;
  std::uint16_t key_tag = 0;  // the key that validated it
  std::uint8_t algorithm = 0;
  // kSecure only: the RRSIG's labels are fewer than the owner's, so the RRset was synthesised
  // from a wildcard (RFC 4035 §5.3.4). The answer is secure only with a proof that no closer
  // name exists (NSEC/NSEC3), which is the caller's to check. Both names wire form, lowercase.
  bool wildcard = false;
  std::string closest_encloser;     // the wildcard's parent: the owner's rightmost labels
  std::string source_of_synthesis;  // "*." + closest_encloser
  // Work done, for the per-answer cap and the metrics; whether a KeyTrap cap stopped us.
  Verifications verifications{};
  bool limit_tripped = false;
};

// Checks `rrset` (one owner, type and class; at least one RR) with the RRSIGs among `rrsigs`
// that cover it (same owner and class, type covered = the RRset's type; others are ignored)
// and the DNSKEYs `keys` of `zone`, a set the caller has validated (dnskey_set_validate).
// kSecure: one RRSIG passes every check of RFC 4035 §5.3.1 and verifies (§5.3.2).
// Fails with
//   kInsecure, EDE 1  when no usable key in `keys` has an algorithm we support: the zone is
//                     signed only with algorithms we do not do (RFC 4035 §5.2);
//   kBogus, EDE 10    when no RRSIG covers the RRset (an unreadable one at its owner is EDE 6),
//                     or none uses a supported algorithm;
//   kBogus, EDE 7/8   when the best RRSIG has expired / is not yet valid (with the skew);
//   kBogus, EDE 9     when its signer is not `zone`, or no usable key has its tag and algorithm;
//   kBogus, EDE 6     when the RRset is not one RRset, or is malformed; the signer is not the
//                     owner or an ancestor of it (CVE-2022-3346); its labels exceed the
//                     owner's; the keys with its tag are not zone keys, revoked or not
//                     protocol 3; the signature does not verify; a KeyTrap cap stopped us
//                     first (limit_tripped).
// Where several RRSIGs fail, the reason is that of the one that got furthest.
[[nodiscard]] RrsetVerdict rrset_verify(std::span<const Rr> rrset, std::span<const Rr> rrsigs,
                                        std::string_view zone, std::span<const Dnskey> keys,
                                        std::uint32_t now, const ValidationOptions& options = {});

}  // namespace dp::dnssec
