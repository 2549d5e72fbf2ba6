// A zone's DNSKEY set made trusted from above (RFC 4035 §5.2): from the parent's validated DS
// set, or from a trust anchor given as DS or DNSKEY records. Pure: `now` is given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "dnssec/records.h"
#include "dnssec/rrset_verify.h"
#include "dnssec/status.h"

namespace dp::dnssec {

struct KeySetVerdict {
  Verdict verdict;
  // kSecure only: every DNSKEY of the set, parsed (the RRset is what was validated; each of
  // its keys may now sign the zone's data), and how long the set may be kept.
  std::vector<Dnskey> keys;
  std::uint32_t ttl = 0;
  Verifications verifications{};
  bool limit_tripped = false;
};

// Validates `dnskeys` (the DNSKEY RRset of `zone`) with its `rrsigs` from `ds_set`, the DS
// RRset the parent's validated answer or a trust anchor gives. A DS counts when we support
// its algorithm and digest; SHA-1 DS (digest 1) count only when the DS set has no SHA-256 or
// SHA-384 DS we could use (RFC 4509 §3 says "if SHA-256 is present", set-wide: a zone that
// publishes both for different keys is judged on its strong ones, as Unbound's
// val_favorite_ds_algo does). kSecure: a counted DS matches a DNSKEY that is a usable zone key
// (RFC 4035 §5.2) and that key's RRSIG over the DNSKEY RRset passes rrset_verify.
// Fails with
//   kIndeterminate     when `ds_set` is empty: nothing says the zone is signed;
//   kInsecure, EDE 1   when no DS uses an algorithm we support (RFC 4035 §5.2);
//   kInsecure, EDE 2   when some do, but none with a digest we support (RFC 4509 §3);
//   kBogus, EDE 9      when no DNSKEY matches a counted DS (or the set is empty or not DNSKEYs
//                      of `zone`); limit_tripped when more than max_keys_per_tag keys share a
//                      DS's key tag and none of those tried matched;
//   anything rrset_verify fails with, for the DNSKEY RRset signed by the matching keys.
[[nodiscard]] KeySetVerdict dnskey_set_validate(std::string_view zone, std::span<const Rr> dnskeys,
                                                std::span<const Rr> rrsigs,
                                                std::span<const Ds> ds_set, std::uint32_t now,
                                                const ValidationOptions& options = {});

// The same from a trust anchor given as DNSKEY records (RFC 4035 §4.4; Unbound's
// trust-anchor-file takes either): a DNSKEY of the set whose RDATA equals an anchor's, with
// the zone-key bit and not revoked, must sign the set.
// Fails with
//   kIndeterminate     when `anchors` is empty;
//   kInsecure, EDE 1   when no anchor uses an algorithm we support;
//   kBogus, EDE 9      when no usable DNSKEY of the set is an anchor (a revoked one is not);
//   anything rrset_verify fails with.
[[nodiscard]] KeySetVerdict dnskey_set_validate_by_anchor_keys(
    std::string_view zone, std::span<const Rr> dnskeys, std::span<const Rr> rrsigs,
    std::span<const Dnskey> anchors, std::uint32_t now, const ValidationOptions& options = {});

}  // namespace dp::dnssec
