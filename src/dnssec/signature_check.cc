#include "dnssec/signature_check.h"

#include <cstddef>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"

namespace dp::dnssec {
namespace {

using BufferPtr = CPtr<ldns_buffer, ldns_buffer_free>;
// An rdf over bytes we own: ldns_rdf_free releases the struct and leaves the data alone.
using BorrowedRdfPtr = CPtr<ldns_rdf, ldns_rdf_free>;

constexpr std::size_t kRsaKeyMaxBytes = 3 + 512 + 512;  // exponent length, exponent, 4096 bits

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
  const Sizes sizes = sizes_of(algorithm);
  if (sizes.key != 0 && (public_key.size() != sizes.key || signature.size() != sizes.signature)) {
    return SignatureCheck::kBad;
  }
  if (public_key.empty() || signature.empty() || public_key.size() > kRsaKeyMaxBytes) {
    return SignatureCheck::kBad;
  }

  // ldns verifies the bytes before the buffer's position, not up to its limit: written, not
  // wrapped (ldns_buffer_new_frm_data would leave the position at 0 and verify nothing).
  const BufferPtr data(ldns_buffer_new(signed_data.size()));
  if (!data) return SignatureCheck::kBad;
  ldns_buffer_write(data.get(), signed_data.data(), signed_data.size());

  // ldns_verify_rrsig_buffers_raw wants ECDSA signatures in OpenSSL's DER, as its own
  // ldns_verify_rrsig converts them first; the DNS carries r|s (RFC 6605 §4).
  BufferPtr der;
  const std::uint8_t* sig = signature.data();
  std::size_t sig_size = signature.size();
  if (algorithm == kAlgorithmEcdsaP256 || algorithm == kAlgorithmEcdsaP384) {
    // ldns reads the rdf and never writes it.
    const BorrowedRdfPtr rdf(ldns_rdf_new(LDNS_RDF_TYPE_B64, signature.size(),
                                          const_cast<std::uint8_t*>(signature.data())));
    der.reset(ldns_buffer_new(signature.size() + 16));
    if (!rdf || !der || ldns_convert_ecdsa_rrsig_rdf2asn1(der.get(), rdf.get()) != LDNS_STATUS_OK) {
      return SignatureCheck::kBad;
    }
    sig = ldns_buffer_begin(der.get());
    sig_size = ldns_buffer_position(der.get());
  }
  // The raw functions take non-const pointers and only read through them.
  const ldns_status status = ldns_verify_rrsig_buffers_raw(
      const_cast<std::uint8_t*>(sig), sig_size, data.get(),
      const_cast<std::uint8_t*>(public_key.data()), public_key.size(), algorithm);
  return status == LDNS_STATUS_OK ? SignatureCheck::kOk : SignatureCheck::kBad;
}

}  // namespace dp::dnssec
