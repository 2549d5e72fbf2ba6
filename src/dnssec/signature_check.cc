#include "dnssec/signature_check.h"

// OpenSSL directly, here only (scripts/lint): ldns's verify functions decode the key on every
// call, and what ldns offers to decode once (ldns_key_buf2rsa_raw's RSA, ldns_ecdsa2pkey_raw's
// EC_KEY) is OpenSSL 3's deprecated legacy API, whose keys are converted again on first use.
// Keys built here are the providers' own, read-only once made, so threads may share them.
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace dp::dnssec {

namespace detail {
void evp_pkey_release(evp_pkey_st* key) noexcept { EVP_PKEY_free(key); }
}  // namespace detail

namespace {

using KeyPtr = CPtr<evp_pkey_st, detail::evp_pkey_release>;
using KeyCtxPtr = CPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtxPtr = CPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using BignumPtr = CPtr<BIGNUM, BN_free>;
using ParamBuildPtr = CPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamsPtr = CPtr<OSSL_PARAM, OSSL_PARAM_free>;

constexpr std::size_t kRsaKeyMaxBytes = 3 + 512 + 512;  // exponent length, exponent, 4096 bits
constexpr std::size_t kEcdsaMaxHalfBytes = 48;          // P-384's r, s and coordinates

// The sizes RFC 6605 §4 (ECDSA) and RFC 8080 §3 (EdDSA) fix for key and signature; 0: any.
struct Sizes {
  std::size_t key = 0;
  std::size_t signature = 0;
};

Sizes sizes_of(std::uint8_t algorithm) {
  switch (algorithm) {
    case kAlgorithmEcdsaP256:
      return {64, 64};
    case kAlgorithmEcdsaP384:
      return {96, 96};
    case kAlgorithmEd25519:
      return {32, 64};
    case kAlgorithmEd448:
      return {57, 114};
    default:
      return {};
  }
}

bool is_ecdsa(std::uint8_t algorithm) {
  return algorithm == kAlgorithmEcdsaP256 || algorithm == kAlgorithmEcdsaP384;
}

// The key checks signature_verify makes before any maths.
bool key_size_fits(std::uint8_t algorithm, std::span<const std::uint8_t> public_key) {
  const Sizes sizes = sizes_of(algorithm);
  if (sizes.key != 0 && public_key.size() != sizes.key) return false;
  return !public_key.empty() && public_key.size() <= kRsaKeyMaxBytes;
}

bool signature_size_fits(std::uint8_t algorithm, std::span<const std::uint8_t> signature) {
  const Sizes sizes = sizes_of(algorithm);
  if (sizes.signature != 0 && signature.size() != sizes.signature) return false;
  return !signature.empty();
}

// A failed OpenSSL call leaves errors in the thread's queue; a refused key or signature is an
// answer here, not an error to report later, and nothing should find it there.
template <class T>
T clear_errors(T result) {
  ERR_clear_error();
  return result;
}

KeyPtr key_from_params(const char* type, OSSL_PARAM* params) {
  const KeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return clear_errors(KeyPtr());
  }
  return KeyPtr(key);
}

// RFC 3110 §2: exponent length (one byte, or 0 and two bytes), exponent, modulus.
KeyPtr rsa_key_decode(std::span<const std::uint8_t> key) {
  std::size_t offset = 1;
  std::size_t exponent_size = key[0];
  if (exponent_size == 0) {
    if (key.size() < 3) return {};
    exponent_size = (std::size_t{key[1]} << 8) | key[2];
    offset = 3;
  }
  if (key.size() < offset + exponent_size + 1) return {};  // a modulus of at least one byte
  const std::span<const std::uint8_t> exponent = key.subspan(offset, exponent_size);
  const std::span<const std::uint8_t> modulus = key.subspan(offset + exponent_size);
  const BignumPtr e(BN_bin2bn(exponent.data(), static_cast<int>(exponent.size()), nullptr));
  const BignumPtr n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  const ParamBuildPtr build(OSSL_PARAM_BLD_new());
  if (!e || !n || !build ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(build.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return clear_errors(KeyPtr());
  }
  const ParamsPtr params(OSSL_PARAM_BLD_to_param(build.get()));
  if (!params) return clear_errors(KeyPtr());
  return key_from_params("RSA", params.get());
}

// RFC 6605 §4: x | y, uncompressed. OpenSSL checks that the point is on the curve.
KeyPtr ecdsa_key_decode(std::uint8_t algorithm, std::span<const std::uint8_t> key) {
  std::array<std::uint8_t, 1 + 2 * kEcdsaMaxHalfBytes> point{};
  point[0] = 0x04;  // uncompressed (SEC 1 §2.3.3)
  std::copy(key.begin(), key.end(), point.begin() + 1);
  // OSSL_PARAM takes non-const pointers; OpenSSL only reads through them.
  char* group = const_cast<char*>(algorithm == kAlgorithmEcdsaP256 ? "prime256v1" : "secp384r1");
  std::array<OSSL_PARAM, 3> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), 1 + key.size()),
      OSSL_PARAM_construct_end()};
  return key_from_params("EC", params.data());
}

// The key decoded for `algorithm`, or null when the sizes are wrong or OpenSSL refuses it.
KeyPtr key_decode(std::uint8_t algorithm, std::span<const std::uint8_t> key) {
  if (!algorithm_supported(algorithm) || !key_size_fits(algorithm, key)) return {};
  switch (algorithm) {
    case kAlgorithmRsaSha256:
    case kAlgorithmRsaSha512:
      return rsa_key_decode(key);
    case kAlgorithmEcdsaP256:
    case kAlgorithmEcdsaP384:
      return ecdsa_key_decode(algorithm, key);
    case kAlgorithmEd25519:
    case kAlgorithmEd448: {
      // RFC 8080 §3: the key is the raw public key of RFC 8032.
      KeyPtr out(EVP_PKEY_new_raw_public_key(
          algorithm == kAlgorithmEd25519 ? EVP_PKEY_ED25519 : EVP_PKEY_ED448, nullptr, key.data(),
          key.size()));
      if (!out) return clear_errors(KeyPtr());
      return out;
    }
    default:
      return {};
  }
}

// The digest each algorithm signs (RFC 5702 §3, RFC 6605 §4); EdDSA hashes inside (RFC 8080).
const EVP_MD* digest_of(std::uint8_t algorithm) {
  switch (algorithm) {
    case kAlgorithmRsaSha256:
    case kAlgorithmEcdsaP256:
      return EVP_sha256();
    case kAlgorithmEcdsaP384:
      return EVP_sha384();
    case kAlgorithmRsaSha512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

// ECDSA-Sig-Value (RFC 3279 §2.2.3): the DER SEQUENCE of two INTEGERs OpenSSL verifies, at most
// 2 + 2 × (2 + 1 + 48) bytes, so every length fits DER's one-byte form.
using EcdsaDer = std::array<std::uint8_t, 2 + 2 * (2 + 1 + kEcdsaMaxHalfBytes)>;

// RFC 6605 §4: the DNS carries r | s, each the curve's size. Written into `out` (no allocation);
// returns the DER's size.
std::size_t ecdsa_signature_to_der(std::span<const std::uint8_t> signature, EcdsaDer& out) {
  const std::size_t half = signature.size() / 2;
  std::size_t at = 2;
  for (std::span<const std::uint8_t> part : {signature.first(half), signature.subspan(half)}) {
    // DER INTEGERs are minimal and signed: leading zero bytes go, and a value whose top bit is
    // set gets one zero byte in front so that it stays positive.
    while (part.size() > 1 && part[0] == 0) part = part.subspan(1);
    const bool pad = (part[0] & 0x80) != 0;
    out[at++] = 0x02;  // INTEGER
    out[at++] = static_cast<std::uint8_t>(part.size() + (pad ? 1 : 0));
    if (pad) out[at++] = 0;
    std::copy(part.begin(), part.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
    at += part.size();
  }
  out[0] = 0x30;  // SEQUENCE
  out[1] = static_cast<std::uint8_t>(at - 2);
  return at;
}

// The maths, with a key decoded for `algorithm` and a signature of a size it may have.
SignatureCheck key_verify(std::uint8_t algorithm, EVP_PKEY* key,
                          std::span<const std::uint8_t> signed_data,
                          std::span<const std::uint8_t> signature) {
  EcdsaDer der;
  const std::uint8_t* sig = signature.data();
  std::size_t sig_size = signature.size();
  if (is_ecdsa(algorithm)) {
    sig_size = ecdsa_signature_to_der(signature, der);
    sig = der.data();
  }
  const MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest_of(algorithm), nullptr, key) != 1) {
    return clear_errors(SignatureCheck::kBad);
  }
  // One call for every algorithm: EdDSA cannot be fed in parts.
  if (EVP_DigestVerify(ctx.get(), sig, sig_size, signed_data.data(), signed_data.size()) != 1) {
    return clear_errors(SignatureCheck::kBad);
  }
  return SignatureCheck::kOk;
}

}  // namespace

bool algorithm_supported(std::uint8_t algorithm) {
  switch (algorithm) {
    case kAlgorithmRsaSha256:
    case kAlgorithmRsaSha512:
    case kAlgorithmEcdsaP256:
    case kAlgorithmEcdsaP384:
    case kAlgorithmEd25519:
    case kAlgorithmEd448:
      return true;
    default:
      return false;
  }
}

SignatureCheck signature_verify(std::uint8_t algorithm, std::span<const std::uint8_t> public_key,
                                std::span<const std::uint8_t> signed_data,
                                std::span<const std::uint8_t> signature) {
  if (!algorithm_supported(algorithm)) return SignatureCheck::kUnsupported;
  // Sizes first: a signature that cannot be right costs no key decoding.
  if (!key_size_fits(algorithm, public_key) || !signature_size_fits(algorithm, signature)) {
    return SignatureCheck::kBad;
  }
  const KeyPtr key = key_decode(algorithm, public_key);
  if (!key) return SignatureCheck::kBad;
  return key_verify(algorithm, key.get(), signed_data, signature);
}

PreparedKey::PreparedKey(std::uint8_t algorithm, std::span<const std::uint8_t> public_key,
                         KeyPtr key)
    : algorithm_(algorithm),
      public_key_(public_key.begin(), public_key.end()),
      key_(std::move(key)) {}

std::optional<PreparedKey> PreparedKey::make(std::uint8_t algorithm,
                                             std::span<const std::uint8_t> public_key) {
  KeyPtr key = key_decode(algorithm, public_key);
  if (!key) return std::nullopt;
  return PreparedKey(algorithm, public_key, std::move(key));
}

SignatureCheck PreparedKey::verify(std::span<const std::uint8_t> signed_data,
                                   std::span<const std::uint8_t> signature) const {
  // A moved-from key verifies nothing.
  if (!key_ || !signature_size_fits(algorithm_, signature)) return SignatureCheck::kBad;
  return key_verify(algorithm_, key_.get(), signed_data, signature);
}

bool PreparedKey::prepared_from(std::uint8_t algorithm,
                                std::span<const std::uint8_t> public_key) const {
  return key_ && algorithm == algorithm_ &&
         std::equal(public_key.begin(), public_key.end(), public_key_.begin(), public_key_.end());
}

}  // namespace dp::dnssec
