// The validator's vocabulary: the four security states of RFC 4035 §4.3 and the Extended DNS
// Error codes (RFC 8914) a bogus or downgraded answer carries, with the reason in words.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dp::dnssec {

// RFC 4035 §4.3. Names double as metric labels (status_name).
enum class Status {
  kSecure,         // a chain of signatures from a trust anchor covers the data
  kInsecure,       // proven unsigned: no DS, or only algorithms/digests we do not support
  kBogus,          // should be signed and is not, or the signatures do not check
  kIndeterminate,  // no trust anchor says whether it should be signed
  kLast = kIndeterminate,
};

// RFC 8914 §4 codes the validator gives. 1 and 2 come with kInsecure (RFC 4035 §5.2: an
// unsupported algorithm makes a zone insecure) and are for logs; the rest make SERVFAIL.
enum class Ede : std::uint16_t {
  kUnsupportedDnskeyAlgorithm = 1,
  kUnsupportedDsDigestType = 2,
  kDnssecBogus = 6,
  kSignatureExpired = 7,
  kSignatureNotYetValid = 8,
  kDnskeyMissing = 9,
  kRrsigsMissing = 10,
  kNsecMissing = 12,
  kNoReachableAuthority = 22,        // a DS or DNSKEY fetch failed: not bogus, not known either
  kUnsupportedNsec3Iterations = 27,  // RFC 9276 §3.2
};

// A verdict as the client will see it: the state, the EDE (none for kSecure) and the reason
// for the EDE's EXTRA-TEXT and the log.
struct Verdict {
  Status status = Status::kIndeterminate;
  std::optional<Ede> ede;
  std::string reason;
};

// The EDE codes that fail an answer, densely numbered for per-code counters.
enum class EdeSlot : std::uint8_t {
  kDnssecBogus,
  kSignatureExpired,
  kSignatureNotYetValid,
  kDnskeyMissing,
  kRrsigsMissing,
  kNsecMissing,
  kNoReachableAuthority,
  kOther,  // 1, 2, 27: they make a zone insecure, not an answer fail; counted if they ever do
  kLast = kOther,
};
EdeSlot ede_slot(Ede ede);
std::string_view ede_slot_name(EdeSlot slot);

// Signature checks by algorithm (the metric's label; the IANA mnemonics of RFC 8624 §3.1):
// what validation costs depends on it (an RSA check is cheap, ECDSA's several times dearer).
enum class AlgorithmSlot : std::uint8_t {
  kRsaSha1,    // 5 and 7 (RSASHA1-NSEC3-SHA1)
  kRsaSha256,  // 8
  kRsaSha512,  // 10
  kEcdsaP256,  // 13
  kEcdsaP384,  // 14
  kEd25519,    // 15
  kEd448,      // 16
  kOther,
  kLast = kOther,
};
AlgorithmSlot algorithm_slot(std::uint8_t algorithm);
std::string_view algorithm_slot_name(AlgorithmSlot slot);

// Signature checks done: the total, for the KeyTrap caps, and by algorithm, for the metrics.
struct Verifications {
  std::size_t total = 0;
  std::array<std::uint32_t, static_cast<std::size_t>(AlgorithmSlot::kLast) + 1> by_algorithm{};

  void add(std::uint8_t algorithm) {
    ++total;
    ++by_algorithm[static_cast<std::size_t>(algorithm_slot(algorithm))];
  }
  Verifications& operator+=(const Verifications& other) {
    total += other.total;
    for (std::size_t i = 0; i < by_algorithm.size(); ++i) by_algorithm[i] += other.by_algorithm[i];
    return *this;
  }
};

// "secure", "insecure", "bogus", "indeterminate".
std::string_view status_name(Status status);
// "dnssec_bogus", "signature_expired", ...: the EDE's RFC 8914 name as a metric label.
std::string_view ede_name(Ede ede);

}  // namespace dp::dnssec
