// dnskey_set_validate: a zone's DNSKEY set trusted from a DS set or a trust anchor (RFC 4035
// §5.2), then used for the zone's data.
#include "dnssec/key_set.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/dnssec/test_signer.h"

namespace dp::dnssec {
namespace {

using testing::kNow;
using testing::name_wire;
using testing::rr_parse;
using testing::TestKey;

class DnssecKeySetTest : public ::testing::Test {
 protected:
  const std::string zone_ = name_wire("example.");
  TestKey ksk_{"example.", LDNS_SIGN_ECDSAP256SHA256, 257};
  TestKey zsk_{"example.", LDNS_SIGN_ECDSAP256SHA256, 256};
  std::vector<Rr> dnskeys_ = {ksk_.dnskey(), zsk_.dnskey()};
  std::vector<Rr> sigs_ = {ksk_.sign(dnskeys_)};  // the KSK signs the key set, as usual

  KeySetVerdict validate(const std::vector<Ds>& ds_set) {
    return dnskey_set_validate(zone_, dnskeys_, sigs_, ds_set, kNow);
  }
};

void expect_status(const KeySetVerdict& v, Status status, std::optional<Ede> ede,
                   const std::string& reason_part = "") {
  EXPECT_EQ(v.verdict.status, status) << v.verdict.reason;
  EXPECT_EQ(v.verdict.ede, ede);
  EXPECT_NE(v.verdict.reason.find(reason_part), std::string::npos) << v.verdict.reason;
}

TEST_F(DnssecKeySetTest, Sha256DsMakesTheWholeSetSecureAndItsZskSignsData) {
  const KeySetVerdict v = validate({ksk_.ds(LDNS_SHA256)});
  expect_status(v, Status::kSecure, std::nullopt);
  ASSERT_EQ(v.keys.size(), 2U);
  EXPECT_EQ(v.ttl, 3600U);
  EXPECT_EQ(v.verifications.total, 1U);

  // The chain's next link: data signed by the ZSK, which no DS names.
  const std::vector<Rr> a = {rr_parse("www.example. 300 IN A 192.0.2.1")};
  const std::vector<Rr> a_sigs = {zsk_.sign(a)};
  const RrsetVerdict data = rrset_verify(a, a_sigs, zone_, v.keys, kNow);
  EXPECT_EQ(data.verdict.status, Status::kSecure) << data.verdict.reason;
}

TEST_F(DnssecKeySetTest, Sha384DsWorksToo) {
  expect_status(validate({ksk_.ds(LDNS_SHA384)}), Status::kSecure, std::nullopt);
}

TEST_F(DnssecKeySetTest, Sha1DsAloneCounts) {
  expect_status(validate({ksk_.ds(LDNS_SHA1)}), Status::kSecure, std::nullopt);
}

TEST_F(DnssecKeySetTest, Sha1DsIsIgnoredWhenASha256DsIsPresent) {
  // RFC 4509 §3: the SHA-1 DS matches, the SHA-256 one does not; only SHA-256 counts.
  Ds wrong = ksk_.ds(LDNS_SHA256);
  wrong.digest[0] ^= 1;
  expect_status(validate({ksk_.ds(LDNS_SHA1), wrong}), Status::kBogus, Ede::kDnskeyMissing,
                "matches its DS");
  // Set-wide: a SHA-256 DS of another key also hides the SHA-1 one.
  const TestKey other("example.", LDNS_SIGN_ED25519, 257);
  expect_status(validate({ksk_.ds(LDNS_SHA1), other.ds(LDNS_SHA256)}), Status::kBogus,
                Ede::kDnskeyMissing);
  // With a good SHA-256 beside it, secure.
  expect_status(validate({ksk_.ds(LDNS_SHA1), ksk_.ds(LDNS_SHA256)}), Status::kSecure,
                std::nullopt);
}

TEST_F(DnssecKeySetTest, DsOfNoKeyInTheSetIsDnskeyMissing) {
  const TestKey other("example.", LDNS_SIGN_ECDSAP256SHA256, 257);
  expect_status(validate({other.ds(LDNS_SHA256)}), Status::kBogus, Ede::kDnskeyMissing,
                "no DNSKEY of example. matches its DS");
}

TEST_F(DnssecKeySetTest, DsOfAKeyThatDoesNotSignTheSetIsBogus) {
  // The DS names the ZSK, which did not sign the DNSKEY RRset.
  expect_status(validate({zsk_.ds(LDNS_SHA256)}), Status::kBogus, Ede::kDnskeyMissing,
                "no DNSKEY of example. with key tag");
  // The set changed after signing.
  dnskeys_.push_back(TestKey("example.", LDNS_SIGN_ED25519, 256).dnskey());
  expect_status(validate({ksk_.ds(LDNS_SHA256)}), Status::kBogus, Ede::kDnssecBogus,
                "does not verify");
}

TEST_F(DnssecKeySetTest, DsOfAKeyWithoutTheZoneBitIsNotAMatch) {
  const TestKey not_zone("example.", LDNS_SIGN_ECDSAP256SHA256, 1);
  dnskeys_ = {not_zone.dnskey(), zsk_.dnskey()};
  sigs_ = {not_zone.sign_edited(dnskeys_, [](ldns_rr*) {})};
  expect_status(validate({not_zone.ds(LDNS_SHA256)}), Status::kBogus, Ede::kDnskeyMissing);
}

TEST_F(DnssecKeySetTest, UnsupportedAlgorithmOrDigestIsInsecure) {
  const TestKey sha1("example.", LDNS_SIGN_RSASHA1, 257);
  expect_status(validate({sha1.ds(LDNS_SHA256)}), Status::kInsecure,
                Ede::kUnsupportedDnskeyAlgorithm);
  Ds gost = ksk_.ds(LDNS_SHA256);
  gost.digest_type = 3;
  expect_status(validate({gost}), Status::kInsecure, Ede::kUnsupportedDsDigestType);
  // One supported DS among unsupported ones is enough to require a match.
  const TestKey other("example.", LDNS_SIGN_ECDSAP256SHA256, 257);
  expect_status(validate({sha1.ds(LDNS_SHA256), other.ds(LDNS_SHA256)}), Status::kBogus,
                Ede::kDnskeyMissing);
}

TEST_F(DnssecKeySetTest, NoDsIsIndeterminate) {
  expect_status(validate({}), Status::kIndeterminate, std::nullopt, "no DS");
}

TEST_F(DnssecKeySetTest, ExpiredKeySetSignatureIsExpired) {
  sigs_ = {ksk_.sign_edited(dnskeys_, [](ldns_rr* s) {
    ldns_rr_rrsig_set_inception(s, testing::u32_rdf(kNow - 40 * testing::kDay));
    ldns_rr_rrsig_set_expiration(s, testing::u32_rdf(kNow - 10 * testing::kDay));
  })};
  expect_status(validate({ksk_.ds(LDNS_SHA256)}), Status::kBogus, Ede::kSignatureExpired);
}

TEST_F(DnssecKeySetTest, TrustAnchorAsDs) {
  // A root-style anchor file holds DS records: the same path as a parent's DS.
  const Ds anchor = ksk_.ds(LDNS_SHA256);
  const KeySetVerdict v = dnskey_set_validate(zone_, dnskeys_, sigs_, {&anchor, 1}, kNow);
  expect_status(v, Status::kSecure, std::nullopt);
}

TEST_F(DnssecKeySetTest, TrustAnchorAsDnskey) {
  const Dnskey anchor = ksk_.parsed();
  const KeySetVerdict v =
      dnskey_set_validate_by_anchor_keys(zone_, dnskeys_, sigs_, {&anchor, 1}, kNow);
  expect_status(v, Status::kSecure, std::nullopt);
  EXPECT_EQ(v.keys.size(), 2U);

  const Dnskey stranger = TestKey("example.", LDNS_SIGN_ED25519, 257).parsed();
  expect_status(dnskey_set_validate_by_anchor_keys(zone_, dnskeys_, sigs_, {&stranger, 1}, kNow),
                Status::kBogus, Ede::kDnskeyMissing, "is a trust anchor");
  // The anchor is the ZSK, which did not sign the set.
  const Dnskey zsk = zsk_.parsed();
  expect_status(dnskey_set_validate_by_anchor_keys(zone_, dnskeys_, sigs_, {&zsk, 1}, kNow),
                Status::kBogus, Ede::kDnskeyMissing);
  const Dnskey sha1 = TestKey("example.", LDNS_SIGN_RSASHA1, 257).parsed();
  expect_status(dnskey_set_validate_by_anchor_keys(zone_, dnskeys_, sigs_, {&sha1, 1}, kNow),
                Status::kInsecure, Ede::kUnsupportedDnskeyAlgorithm);
  expect_status(dnskey_set_validate_by_anchor_keys(zone_, dnskeys_, sigs_, {}, kNow),
                Status::kIndeterminate, std::nullopt);
}

TEST_F(DnssecKeySetTest, RevokedAnchorKeyIsNotTrusted) {
  // RFC 5011 §2.1: the zone revokes its KSK (flags | REVOKE) and self-signs with it.
  const Dnskey anchor = ksk_.parsed();
  ldns_key_set_flags(ksk_.get(), 257 | 0x80);
  ldns_key_set_keytag(ksk_.get(), ksk_.parsed().key_tag);  // the flags are in the tag
  dnskeys_ = {ksk_.dnskey(), zsk_.dnskey()};
  sigs_ = {ksk_.sign(dnskeys_)};
  expect_status(dnskey_set_validate_by_anchor_keys(zone_, dnskeys_, sigs_, {&anchor, 1}, kNow),
                Status::kBogus, Ede::kDnskeyMissing);
}

// KeyTrap (CVE-2023-50387) at the DS step: keys sharing the DS's key tag ahead of the real one.
TEST_F(DnssecKeySetTest, ManyKeysWithTheDsKeyTagStopAtTheLimit) {
  std::vector<Rr> crowded;
  for (std::uint32_t i = 0; i < 20; ++i) {
    const Dnskey forged = testing::key_forge_with_tag(ksk_.key_tag(), 13, 64, i);
    crowded.push_back(Rr{zone_, kTypeDnskey, kClassIn, 3600, forged.rdata});
  }
  crowded.insert(crowded.end(), dnskeys_.begin(), dnskeys_.end());
  dnskeys_ = crowded;
  sigs_ = {ksk_.sign(dnskeys_)};
  const KeySetVerdict v = validate({ksk_.ds(LDNS_SHA256)});
  expect_status(v, Status::kBogus, Ede::kDnskeyMissing, "KeyTrap limit");
  EXPECT_TRUE(v.limit_tripped);
  EXPECT_EQ(v.verifications.total, 0U);
  // A higher cap lets the same set through: the limit, not the data, stopped it.
  ValidationOptions lenient;
  lenient.max_keys_per_tag = 32;
  const KeySetVerdict ok = dnskey_set_validate(
      zone_, dnskeys_, sigs_, std::vector<Ds>{ksk_.ds(LDNS_SHA256)}, kNow, lenient);
  expect_status(ok, Status::kSecure, std::nullopt);
  EXPECT_FALSE(ok.limit_tripped);
}

TEST_F(DnssecKeySetTest, DnskeySetOfAnotherOwnerIsRefused) {
  std::vector<Rr> elsewhere = dnskeys_;
  elsewhere[1].owner = name_wire("other.");
  expect_status(
      dnskey_set_validate(zone_, elsewhere, sigs_, std::vector<Ds>{ksk_.ds(LDNS_SHA256)}, kNow),
      Status::kBogus, Ede::kDnskeyMissing, "well-formed");
}

}  // namespace
}  // namespace dp::dnssec
