// The signature maths behind one small interface: does this DNSKEY's public key verify this
// signature over these bytes? Everything above (which bytes, which key, when) is the caller's.
#pragma once

#include <cstdint>
#include <span>

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

}  // namespace dp::dnssec
