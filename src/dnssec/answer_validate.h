// One upstream answer judged (RFC 4035 §5, RFC 5155 §8): every RRset of its answer and
// authority sections checked with the keys of its signer's zone, CNAME and DNAME chains
// followed zone by zone, denials and wildcard expansions proven, and the whole given one
// status. Which zone signs what, and with which keys, comes from the chain planner
// (dnssec/chain.h) through `TrustLookup`. Pure: `now` is given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dnssec/answer_records.h"
#include "dnssec/chain.h"
#include "dnssec/rrset_verify.h"
#include "dnssec/status.h"

namespace dp::dnssec {

// Per-answer caps (issue #16): KeyTrap's and CNAME loops'.
struct AnswerLimits {
  std::size_t max_verifications = 32;  // signature checks for one answer, its chain's included
  std::size_t max_cname_steps = 8;
  std::size_t max_fetches = 16;  // DS and DNSKEY fetches one miss may cause
};

struct AnswerVerdict {
  Verdict verdict;
  // kSecure: the answer may be kept no longer than this (RFC 4035 §5.3.3: the least of its
  // RRsets' validated TTLs, which stop at their signatures' expiry).
  std::uint32_t ttl = UINT32_MAX;
  Verifications verifications{};
  bool limit_tripped = false;
};

// The names whose zone the answer's validation needs: each RRSIG's signer, the owner of each
// RRset no RRSIG covers, and the name a negative answer denies. Lowercased, each once.
std::vector<std::string> answer_trust_targets(const AnswerRecords& answer,
                                              const AnswerLimits& limits = {});

// The walk's outcome for a name answer_trust_targets gave; null when not known.
using TrustLookup = std::function<const ZoneTrust*(std::string_view name)>;

// Judges `answer` (a response to its question, as the upstream sent it, CD=1). kSecure: every
// RRset in the answer section is secure, and so is the proof of a denial or of a wildcard
// expansion; then what is not secure in the authority section and the additional section
// (glue, hints: RFC 4035 §5 validates neither) is dropped from `answer`, so that AD covers all
// a client sees (RFC 6840 §5.8). kInsecure: some part is provably unsigned (or no anchor
// covers it). kIndeterminate with EDE 22: a fetch its chain needed failed. kBogus with the EDE
// of the first failure: anything else, a limit of `limits` tripped included.
[[nodiscard]] AnswerVerdict answer_validate(AnswerRecords& answer, const TrustLookup& trust,
                                            std::uint32_t now, const ValidationOptions& options,
                                            const AnswerLimits& limits = {});

}  // namespace dp::dnssec
