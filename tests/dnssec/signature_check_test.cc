// signature_verify and PreparedKey over signatures ldns made, for every algorithm ldns makes.
#include "dnssec/signature_check.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/dnssec/test_signer.h"

namespace dp::dnssec {
namespace {

using testing::TestKey;

struct Signed {
  Bytes public_key;
  Bytes data;
  Bytes signature;
};

// `text` signed by `key` with ldns_sign_public_buffer, which gives the signature in DNS form
// (ECDSA as r|s).
Signed sign_bytes_with(const TestKey& key, const std::string& text) {
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

// The same with a fresh key of `algorithm`.
Signed sign_bytes(ldns_signing_algorithm algorithm, const std::string& text) {
  const TestKey key("example.", algorithm);
  return sign_bytes_with(key, text);
}

class DnssecSignatureCheckByAlgorithmTest
    : public ::testing::TestWithParam<ldns_signing_algorithm> {};

TEST_P(DnssecSignatureCheckByAlgorithmTest, GoodSignatureVerifies) {
  const Signed s = sign_bytes(GetParam(), "the bytes an RRSIG covers");
  EXPECT_EQ(
      signature_verify(static_cast<std::uint8_t>(GetParam()), s.public_key, s.data, s.signature),
      SignatureCheck::kOk);
}

TEST_P(DnssecSignatureCheckByAlgorithmTest, ChangedDataOrSignatureDoesNot) {
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

TEST_P(DnssecSignatureCheckByAlgorithmTest, EmptyOrTruncatedIsBad) {
  const Signed s = sign_bytes(GetParam(), "x");
  const auto algorithm = static_cast<std::uint8_t>(GetParam());
  EXPECT_EQ(signature_verify(algorithm, s.public_key, s.data, {}), SignatureCheck::kBad);
  EXPECT_EQ(signature_verify(algorithm, {}, s.data, s.signature), SignatureCheck::kBad);
  const std::span<const std::uint8_t> short_sig(s.signature.data(), s.signature.size() - 1);
  EXPECT_EQ(signature_verify(algorithm, s.public_key, s.data, short_sig), SignatureCheck::kBad);
}

TEST_P(DnssecSignatureCheckByAlgorithmTest, PreparedKeyVerifiesWhatSignatureVerifyDoes) {
  const auto algorithm = static_cast<std::uint8_t>(GetParam());
  const TestKey key("example.", GetParam());
  const Signed first = sign_bytes_with(key, "the bytes an RRSIG covers");
  const std::optional<PreparedKey> prepared = PreparedKey::make(algorithm, first.public_key);
  ASSERT_TRUE(prepared.has_value());
  EXPECT_EQ(prepared->algorithm(), algorithm);
  // One key, many signatures: what it is prepared for.
  for (const std::string text : {"the bytes an RRSIG covers", "", "another RRset", "x"}) {
    Signed s = sign_bytes_with(key, text);
    ASSERT_EQ(s.public_key, first.public_key);
    EXPECT_EQ(signature_verify(algorithm, s.public_key, s.data, s.signature), SignatureCheck::kOk);
    EXPECT_EQ(prepared->verify(s.data, s.signature), SignatureCheck::kOk) << text;
    s.data.push_back('!');
    EXPECT_EQ(signature_verify(algorithm, s.public_key, s.data, s.signature), SignatureCheck::kBad);
    EXPECT_EQ(prepared->verify(s.data, s.signature), SignatureCheck::kBad) << text;
  }
}

TEST_P(DnssecSignatureCheckByAlgorithmTest, PreparedKeyRefusesChangedSignaturesAndWrongSizes) {
  const auto algorithm = static_cast<std::uint8_t>(GetParam());
  Signed s = sign_bytes(GetParam(), "the bytes an RRSIG covers");
  const std::optional<PreparedKey> prepared = PreparedKey::make(algorithm, s.public_key);
  ASSERT_TRUE(prepared.has_value());
  for (const std::size_t at : {std::size_t{0}, s.signature.size() / 2, s.signature.size() - 1}) {
    s.signature[at] ^= 0x40;
    EXPECT_EQ(prepared->verify(s.data, s.signature), SignatureCheck::kBad) << at;
    s.signature[at] ^= 0x40;
  }
  EXPECT_EQ(prepared->verify(s.data, s.signature), SignatureCheck::kOk);
  EXPECT_EQ(prepared->verify(s.data, {}), SignatureCheck::kBad);
  const std::span<const std::uint8_t> short_sig(s.signature.data(), s.signature.size() - 1);
  EXPECT_EQ(prepared->verify(s.data, short_sig), SignatureCheck::kBad);
  Bytes long_sig = s.signature;
  long_sig.push_back(0);
  EXPECT_EQ(prepared->verify(s.data, long_sig), SignatureCheck::kBad);

  EXPECT_FALSE(PreparedKey::make(algorithm, {}).has_value());
  if (algorithm != kAlgorithmRsaSha256 && algorithm != kAlgorithmRsaSha512) {
    // RFC 6605 §4, RFC 8080 §3: one size only.
    const std::span<const std::uint8_t> short_key(s.public_key.data(), s.public_key.size() - 1);
    EXPECT_FALSE(PreparedKey::make(algorithm, short_key).has_value());
    Bytes long_key = s.public_key;
    long_key.push_back(0);
    EXPECT_FALSE(PreparedKey::make(algorithm, long_key).has_value());
  }
}

// A key prepared for one algorithm verifies only that algorithm's signatures: another
// algorithm's key bytes are refused, or prepared into a key that verifies nothing of theirs.
TEST_P(DnssecSignatureCheckByAlgorithmTest, PreparedKeyIsForItsOwnAlgorithmOnly) {
  const auto algorithm = static_cast<std::uint8_t>(GetParam());
  const Signed s = sign_bytes(GetParam(), "the bytes an RRSIG covers");
  for (const std::uint8_t other : {kAlgorithmRsaSha256, kAlgorithmRsaSha512, kAlgorithmEcdsaP256,
                                   kAlgorithmEcdsaP384, kAlgorithmEd25519, kAlgorithmEd448}) {
    if (other == algorithm) continue;
    const std::optional<PreparedKey> prepared = PreparedKey::make(other, s.public_key);
    if (prepared) {
      EXPECT_EQ(prepared->algorithm(), other);
      EXPECT_EQ(prepared->verify(s.data, s.signature), SignatureCheck::kBad) << int{other};
      EXPECT_FALSE(prepared->prepared_from(algorithm, s.public_key));
    }
    EXPECT_EQ(signature_verify(other, s.public_key, s.data, s.signature), SignatureCheck::kBad)
        << int{other};
  }
}

TEST_P(DnssecSignatureCheckByAlgorithmTest, PreparedFromSaysWhichKeyItWasMadeFrom) {
  const auto algorithm = static_cast<std::uint8_t>(GetParam());
  const Signed s = sign_bytes(GetParam(), "x");
  const std::optional<PreparedKey> prepared = PreparedKey::make(algorithm, s.public_key);
  ASSERT_TRUE(prepared.has_value());
  EXPECT_TRUE(prepared->prepared_from(algorithm, s.public_key));
  Bytes changed = s.public_key;
  changed.back() ^= 1;
  EXPECT_FALSE(prepared->prepared_from(algorithm, changed));
  EXPECT_FALSE(prepared->prepared_from(algorithm, std::span(s.public_key).first(4)));
  EXPECT_FALSE(prepared->prepared_from(kAlgorithmRsaSha1, s.public_key));
}

TEST_P(DnssecSignatureCheckByAlgorithmTest, MovedPreparedKeyStillVerifies) {
  const auto algorithm = static_cast<std::uint8_t>(GetParam());
  const Signed s = sign_bytes(GetParam(), "x");
  std::optional<PreparedKey> prepared = PreparedKey::make(algorithm, s.public_key);
  ASSERT_TRUE(prepared.has_value());
  const PreparedKey moved = std::move(*prepared);
  EXPECT_EQ(moved.verify(s.data, s.signature), SignatureCheck::kOk);
  // The husk holds no key: it verifies nothing and matches nothing.
  EXPECT_EQ(prepared->verify(s.data, s.signature),  // NOLINT(bugprone-use-after-move)
            SignatureCheck::kBad);
  EXPECT_FALSE(prepared->prepared_from(algorithm, s.public_key));
}

// Debian 12's ldns 1.8.3 makes and verifies all six (LDNS_BUILD_CONFIG_USE_ED25519/ED448 set).
INSTANTIATE_TEST_SUITE_P(Algorithms, DnssecSignatureCheckByAlgorithmTest,
                         ::testing::Values(LDNS_SIGN_RSASHA256, LDNS_SIGN_RSASHA512,
                                           LDNS_SIGN_ECDSAP256SHA256, LDNS_SIGN_ECDSAP384SHA384,
                                           LDNS_SIGN_ED25519, LDNS_SIGN_ED448));

TEST(DnssecSignatureCheckTest, Sha1AlgorithmsAreUnsupportedEvenWhenTheSignatureIsGood) {
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

TEST(DnssecSignatureCheckTest, SupportedAlgorithmsAreTheSixWeVerify) {
  for (int algorithm = 0; algorithm < 256; ++algorithm) {
    const bool expected = algorithm == 8 || algorithm == 10 || (algorithm >= 13 && algorithm <= 16);
    EXPECT_EQ(algorithm_supported(static_cast<std::uint8_t>(algorithm)), expected) << algorithm;
  }
}

TEST(DnssecSignatureCheckTest, PreparedKeyRefusesUnsupportedAlgorithmsAndOversizedRsaKeys) {
  const Signed s = sign_bytes(LDNS_SIGN_RSASHA1, "data");
  EXPECT_FALSE(PreparedKey::make(kAlgorithmRsaSha1, s.public_key).has_value());
  EXPECT_FALSE(PreparedKey::make(kAlgorithmRsaSha1Nsec3, s.public_key).has_value());
  EXPECT_FALSE(PreparedKey::make(0, s.public_key).has_value());
  EXPECT_FALSE(PreparedKey::make(253, s.public_key).has_value());  // PRIVATEDNS

  // The cap: 3 + 512 + 512 bytes, a 4096-bit exponent and modulus with the long length form.
  Bytes key = {3, 1, 0, 1};   // exponent 65537
  key.resize(4 + 512, 0xab);  // a 4096-bit modulus
  EXPECT_TRUE(PreparedKey::make(kAlgorithmRsaSha256, key).has_value());
  key.resize(3 + 512 + 512 + 1, 0xab);  // one byte over
  EXPECT_FALSE(PreparedKey::make(kAlgorithmRsaSha256, key).has_value());
  EXPECT_EQ(signature_verify(kAlgorithmRsaSha256, key, s.data, s.signature), SignatureCheck::kBad);
  // An exponent length that runs past the key, and no modulus at all.
  EXPECT_FALSE(PreparedKey::make(kAlgorithmRsaSha256, Bytes{5, 1, 0, 1}).has_value());
  EXPECT_FALSE(PreparedKey::make(kAlgorithmRsaSha256, Bytes{3, 1, 0, 1}).has_value());
  EXPECT_FALSE(PreparedKey::make(kAlgorithmRsaSha256, Bytes{0, 0}).has_value());
}

// RFC 6605 §4: an ECDSA key is a point on its curve; OpenSSL checks it when the key is made.
TEST(DnssecSignatureCheckTest, EcdsaKeyOffTheCurveIsRefused) {
  const Signed s = sign_bytes(LDNS_SIGN_ECDSAP256SHA256, "data");
  ASSERT_TRUE(PreparedKey::make(kAlgorithmEcdsaP256, s.public_key).has_value());
  Bytes off = s.public_key;
  off.back() ^= 1;  // y changed: not on the curve
  EXPECT_FALSE(PreparedKey::make(kAlgorithmEcdsaP256, off).has_value());
  EXPECT_EQ(signature_verify(kAlgorithmEcdsaP256, off, s.data, s.signature), SignatureCheck::kBad);
}

// The DNS carries ECDSA's r and s at full size (RFC 6605 §4); OpenSSL wants minimal DER
// INTEGERs: a leading zero byte dropped, a zero byte added before a top bit. Signed until each
// shape has been seen (a leading zero byte in r or s about once in 128 signatures).
TEST(DnssecSignatureCheckTest, EcdsaSignaturesOfEveryIntegerShapeVerify) {
  for (const auto algorithm : {LDNS_SIGN_ECDSAP256SHA256, LDNS_SIGN_ECDSAP384SHA384}) {
    const TestKey key("example.", algorithm);
    std::optional<PreparedKey> prepared;
    bool leading_zero = false;
    bool top_bit = false;
    bool neither = false;
    int signed_count = 0;
    for (; signed_count < 3000 && !(leading_zero && top_bit && neither); ++signed_count) {
      const Signed s = sign_bytes_with(key, "message " + std::to_string(signed_count));
      if (!prepared)
        prepared = PreparedKey::make(static_cast<std::uint8_t>(algorithm), s.public_key);
      ASSERT_TRUE(prepared.has_value());
      const std::size_t half = s.signature.size() / 2;
      for (const std::uint8_t first : {s.signature[0], s.signature[half]}) {
        leading_zero = leading_zero || first == 0;
        top_bit = top_bit || (first & 0x80) != 0;
        neither = neither || (first != 0 && (first & 0x80) == 0);
      }
      ASSERT_EQ(prepared->verify(s.data, s.signature), SignatureCheck::kOk) << signed_count;
      ASSERT_EQ(
          signature_verify(static_cast<std::uint8_t>(algorithm), s.public_key, s.data, s.signature),
          SignatureCheck::kOk);
    }
    EXPECT_TRUE(leading_zero && top_bit && neither) << "after " << signed_count << " signatures";
  }
}

// ldns's raw verify reads the signed bytes up to the buffer's position: a buffer made with
// ldns_buffer_new_frm_data (position 0) verifies an empty message. Ours no longer goes through
// ldns (it hands OpenSSL the bytes as they are), but the trap is pinned for whoever does.
TEST(DnssecSignatureCheckTest, LdnsRawVerifyReadsUpToThePosition) {
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
