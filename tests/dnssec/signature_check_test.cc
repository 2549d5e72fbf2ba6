// signature_verify: ldns's raw verify behind our interface, for every algorithm ldns makes.
#include "dnssec/signature_check.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/dnssec/test_signer.h"

namespace dp::dnssec {
namespace {

using testing::TestKey;

struct Signed {
  Bytes public_key;
  Bytes data;
  Bytes signature;
};

// `data` signed by a fresh key of `algorithm` with ldns_sign_public_buffer, which gives the
// signature in DNS form (ECDSA as r|s).
Signed sign_bytes(ldns_signing_algorithm algorithm, const std::string& text) {
  const TestKey key("example.", algorithm);
  Signed out;
  const Dnskey dnskey = key.parsed();
  out.public_key.assign(dnskey.public_key().begin(), dnskey.public_key().end());
  out.data.assign(text.begin(), text.end());
  const testing::LdnsBufferPtr buffer(ldns_buffer_new(text.size()));
  ldns_buffer_write(buffer.get(), text.data(), text.size());
  const testing::LdnsRdfPtr sig(ldns_sign_public_buffer(buffer.get(), key.get()));
  EXPECT_NE(sig, nullptr);
  if (sig)
    out.signature.assign(ldns_rdf_data(sig.get()),
                         ldns_rdf_data(sig.get()) + ldns_rdf_size(sig.get()));
  return out;
}

class SignatureCheckByAlgorithm : public ::testing::TestWithParam<ldns_signing_algorithm> {};

TEST_P(SignatureCheckByAlgorithm, GoodSignatureVerifies) {
  const Signed s = sign_bytes(GetParam(), "the bytes an RRSIG covers");
  EXPECT_EQ(
      signature_verify(static_cast<std::uint8_t>(GetParam()), s.public_key, s.data, s.signature),
      SignatureCheck::kOk);
}

TEST_P(SignatureCheckByAlgorithm, ChangedDataOrSignatureDoesNot) {
  Signed s = sign_bytes(GetParam(), "the bytes an RRSIG covers");
  const auto algorithm = static_cast<std::uint8_t>(GetParam());
  s.data[3] ^= 1;
  EXPECT_EQ(signature_verify(algorithm, s.public_key, s.data, s.signature), SignatureCheck::kBad);
  s.data[3] ^= 1;
  s.signature[s.signature.size() / 2] ^= 0x40;
  EXPECT_EQ(signature_verify(algorithm, s.public_key, s.data, s.signature), SignatureCheck::kBad);
  s.signature[s.signature.size() / 2] ^= 0x40;
  s.public_key[s.public_key.size() - 1] ^= 1;
  EXPECT_EQ(signature_verify(algorithm, s.public_key, s.data, s.signature), SignatureCheck::kBad);
}

TEST_P(SignatureCheckByAlgorithm, EmptyOrTruncatedIsBad) {
  const Signed s = sign_bytes(GetParam(), "x");
  const auto algorithm = static_cast<std::uint8_t>(GetParam());
  EXPECT_EQ(signature_verify(algorithm, s.public_key, s.data, {}), SignatureCheck::kBad);
  EXPECT_EQ(signature_verify(algorithm, {}, s.data, s.signature), SignatureCheck::kBad);
  const std::span<const std::uint8_t> short_sig(s.signature.data(), s.signature.size() - 1);
  EXPECT_EQ(signature_verify(algorithm, s.public_key, s.data, short_sig), SignatureCheck::kBad);
}

// Debian 12's ldns 1.8.3 makes and verifies all six (LDNS_BUILD_CONFIG_USE_ED25519/ED448 set).
INSTANTIATE_TEST_SUITE_P(Algorithms, SignatureCheckByAlgorithm,
                         ::testing::Values(LDNS_SIGN_RSASHA256, LDNS_SIGN_RSASHA512,
                                           LDNS_SIGN_ECDSAP256SHA256, LDNS_SIGN_ECDSAP384SHA384,
                                           LDNS_SIGN_ED25519, LDNS_SIGN_ED448));

TEST(SignatureCheck, Sha1AlgorithmsAreUnsupportedEvenWhenTheSignatureIsGood) {
  const Signed s = sign_bytes(LDNS_SIGN_RSASHA1, "data");
  // ldns itself verifies it: refusing is our decision (RFC 9905), not ldns's inability.
  const testing::LdnsBufferPtr data(ldns_buffer_new(s.data.size()));
  ldns_buffer_write(data.get(), s.data.data(), s.data.size());
  EXPECT_EQ(ldns_verify_rrsig_buffers_raw(
                const_cast<std::uint8_t*>(s.signature.data()), s.signature.size(), data.get(),
                const_cast<std::uint8_t*>(s.public_key.data()), s.public_key.size(), LDNS_RSASHA1),
            LDNS_STATUS_OK);
  EXPECT_EQ(signature_verify(kAlgorithmRsaSha1, s.public_key, s.data, s.signature),
            SignatureCheck::kUnsupported);
  EXPECT_EQ(signature_verify(kAlgorithmRsaSha1Nsec3, s.public_key, s.data, s.signature),
            SignatureCheck::kUnsupported);
}

TEST(SignatureCheck, SupportedAlgorithmsAreTheSixWeVerify) {
  for (int algorithm = 0; algorithm < 256; ++algorithm) {
    const bool expected = algorithm == 8 || algorithm == 10 || (algorithm >= 13 && algorithm <= 16);
    EXPECT_EQ(algorithm_supported(static_cast<std::uint8_t>(algorithm)), expected) << algorithm;
  }
}

// ldns's raw verify reads the signed bytes up to the buffer's position: a buffer made with
// ldns_buffer_new_frm_data (position 0) verifies an empty message. Pinned so that a change in
// ldns shows here, not as every signature failing.
TEST(SignatureCheck, LdnsRawVerifyReadsUpToThePosition) {
  const Signed s = sign_bytes(LDNS_SIGN_ED25519, "");
  const std::string other = "not empty";
  ldns_buffer wrapped{};
  ldns_buffer_new_frm_data(&wrapped, other.data(), other.size());
  EXPECT_EQ(ldns_verify_rrsig_buffers_raw(
                const_cast<std::uint8_t*>(s.signature.data()), s.signature.size(), &wrapped,
                const_cast<std::uint8_t*>(s.public_key.data()), s.public_key.size(), LDNS_ED25519),
            LDNS_STATUS_OK);
  free(ldns_buffer_begin(&wrapped));  // NOLINT: ldns allocated it with malloc
  // Ours verifies what it is given.
  EXPECT_EQ(
      signature_verify(kAlgorithmEd25519, s.public_key,
                       std::span(reinterpret_cast<const std::uint8_t*>(other.data()), other.size()),
                       s.signature),
      SignatureCheck::kBad);
}

}  // namespace
}  // namespace dp::dnssec
