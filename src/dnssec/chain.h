// The chain planner: walks from a trust anchor down to a name, label by label, over what the
// key cache knows, and says either what the name's zone is (secure with its keys, insecure,
// bogus) or which DS or DNSKEY set to fetch next. The fetched answers are absorbed here too,
// validated with the keys above them, into the key cache. Pure: `now` is given, the fetching
// is the caller's (proxy/validator.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec/answer_records.h"
#include "dnssec/key_cache.h"
#include "dnssec/records.h"
#include "dnssec/rrset_verify.h"
#include "dnssec/status.h"

namespace dp::dnssec {

// A point of trust (RFC 4035 §4.4): a zone's DS records or DNSKEYs, given, not fetched.
struct TrustAnchor {
  std::string owner;  // lowercased wire form; "\0" for the root
  std::vector<Ds> ds;
  std::vector<Dnskey> keys;
};

struct ChainConfig {
  std::vector<TrustAnchor> anchors;
  // Negative trust anchors (RFC 7646): names at or under these are insecure, unasked.
  std::vector<std::string> insecure_domains;  // lowercased wire form
  ValidationOptions options;
  std::uint32_t bogus_ttl = 5;  // how long a failed DS or DNSKEY set is remembered (seconds)
};

// What the walk found for one name. The walk goes as deep as the signer's name (or, for data
// without signatures, the owner's), not below: like Unbound, an RRSIG by an ancestor zone
// that holds valid keys is taken even when a cut lies between it and the owner. That zone
// controls the DS of every zone below it, so it could sign for them anyway; walking to every
// owner would cost a DS query per name.
struct ZoneTrust {
  // kSecure: the name lies in `zone`, signed with `keys`. kInsecure: under an insecure
  // delegation or a negative trust anchor. kIndeterminate: no anchor covers it (no EDE), or a
  // fetch failed (EDE 22). kBogus: the DS or DNSKEY set above it failed.
  Verdict verdict;
  std::string zone;
  KeySet keys;
};

// What to fetch next, with what is needed to validate its answer.
struct ChainFetch {
  std::string name;              // lowercased wire form
  std::uint16_t type = kTypeDs;  // kTypeDs or kTypeDnskey
  ZoneTrust parent;              // kTypeDs: the zone whose keys sign the DS (or its denial)
};

struct ChainStep {
  std::optional<ChainFetch> fetch;  // set: the walk needs this first
  ZoneTrust trust;                  // otherwise: the outcome
};

// Walks towards `target` (lowercased wire form). Reads, and drops expired entries of, `cache`.
ChainStep chain_walk(KeyCache& cache, const ChainConfig& config, std::string_view target,
                     std::uint32_t now);

// Work an absorbed answer cost, for the per-answer KeyTrap cap and the metrics.
struct ChainWork {
  Verifications verifications{};
  bool limit_tripped = false;
};

// Validates the answer to `fetch` and writes what it proves into `cache` (always something,
// so that the walk moves on: a failure is remembered for config.bogus_ttl).
// `answer` null: the fetch failed (`failure` says how, for the reason).
ChainWork chain_absorb(KeyCache& cache, const ChainConfig& config, const ChainFetch& fetch,
                       const AnswerRecords* answer, std::string_view failure, std::uint32_t now);

}  // namespace dp::dnssec
