// The signature maths behind one small interface: does this DNSKEY's public key verify this
// signature over these bytes? Everything above (which bytes, which key, when) is the caller's.
// A key decoded once (PreparedKey) verifies many signatures without decoding it again.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/c_ptr.h"

// OpenSSL's EVP_PKEY, complete only in signature_check.cc: OpenSSL stays out of our headers.
struct evp_pkey_st;

namespace dp::dnssec {

enum class SignatureCheck {
  kOk,           // the signature verifies
  kBad,          // it does not, or the key or signature is malformed for its algorithm
  kUnsupported,  // we do not do this algorithm: a zone signed only with it is insecure
};

// DNSKEY algorithm numbers (RFC 8624 §3.1). Only those we verify, and the SHA-1 ones we refuse.
inline constexpr std::uint8_t kAlgorithmRsaSha1 = 5;
inline constexpr std::uint8_t kAlgorithmRsaSha1Nsec3 = 7;
inline constexpr std::uint8_t kAlgorithmRsaSha256 = 8;
inline constexpr std::uint8_t kAlgorithmRsaSha512 = 10;
inline constexpr std::uint8_t kAlgorithmEcdsaP256 = 13;
inline constexpr std::uint8_t kAlgorithmEcdsaP384 = 14;
inline constexpr std::uint8_t kAlgorithmEd25519 = 15;
inline constexpr std::uint8_t kAlgorithmEd448 = 16;

// True for 8, 10, 13, 14, 15 and 16. False for everything else, 5 and 7 (RSA/SHA-1) included:
// RFC 9905 deprecates SHA-1 signatures, so a zone signed only with them validates as insecure.
// RSA/MD5 (1), DSA (3, 6) and GOST (12) are not recommended for validation either (RFC 8624
// §3.1) and are refused likewise.
bool algorithm_supported(std::uint8_t algorithm);

// Whether `signature` (the RRSIG's Signature field, as on the wire) over `signed_data` checks
// with `public_key` (the DNSKEY's Public Key field, after flags, protocol and algorithm).
// Fails with
//   kUnsupported  when algorithm_supported(algorithm) is false;
//   kBad          when the signature does not verify; when the key or signature has a size its
//                 algorithm cannot have (RFC 6605 §4, RFC 8080 §3) or the RSA key is over
//                 4096 bits (RFC 3110 §2 caps it there; bigger keys only cost us time); when
//                 the crypto library refuses the key.
[[nodiscard]] SignatureCheck signature_verify(std::uint8_t algorithm,
                                              std::span<const std::uint8_t> public_key,
                                              std::span<const std::uint8_t> signed_data,
                                              std::span<const std::uint8_t> signature);

namespace detail {
void evp_pkey_release(evp_pkey_st* key) noexcept;  // EVP_PKEY_free, for CPtr
}  // namespace detail

// A DNSKEY's public key decoded once for its algorithm, for verifying many signatures.
// Decoding costs 3-20 µs a key (bench/dnssec; through ldns it was most of issue #16's 108 µs for
// P-256 and 262 µs for Ed25519); verify() is then the maths alone. Immutable once made: verify()
// may run on several threads at once (the key cache shares it between workers). Movable, not
// copyable; share it through a shared_ptr (Dnskey::prepared).
class PreparedKey {
 public:
  // nullopt when signature_verify would fail with kUnsupported or kBad whatever the signature:
  // the algorithm is not supported, the key has a size its algorithm cannot have, or the crypto
  // library refuses it (an ECDSA point not on the curve, an RSA key over 4096 bits, ...).
  [[nodiscard]] static std::optional<PreparedKey> make(std::uint8_t algorithm,
                                                       std::span<const std::uint8_t> public_key);

  // As signature_verify with this key and its algorithm. Fails with
  //   kBad  when the signature does not verify, or has a size the algorithm cannot have.
  [[nodiscard]] SignatureCheck verify(std::span<const std::uint8_t> signed_data,
                                      std::span<const std::uint8_t> signature) const;

  std::uint8_t algorithm() const { return algorithm_; }
  // Whether this is `public_key` decoded for `algorithm`: a caller holding a key beside its
  // RDATA checks that the two still agree before trusting the prepared one.
  bool prepared_from(std::uint8_t algorithm, std::span<const std::uint8_t> public_key) const;

 private:
  using KeyPtr = CPtr<evp_pkey_st, detail::evp_pkey_release>;
  PreparedKey(std::uint8_t algorithm, std::span<const std::uint8_t> public_key, KeyPtr key);

  std::uint8_t algorithm_;
  std::vector<std::uint8_t> public_key_;  // what it was made from, for prepared_from
  KeyPtr key_;
};

}  // namespace dp::dnssec
