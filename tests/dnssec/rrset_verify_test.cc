// rrset_verify: RFC 4035 §5.3 over RRsets and RRSIGs ldns made, and the checks ldns skips.
#include "dnssec/rrset_verify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dnssec/signature_check.h"
#include "tests/dnssec/test_signer.h"

namespace dp::dnssec {
namespace {

using testing::kDay;
using testing::kExpiration;
using testing::kInception;
using testing::kNow;
using testing::name_wire;
using testing::rr_parse;
using testing::TestKey;

const std::string kZone = name_wire("example.");

std::vector<Rr> www_a() {
  return {rr_parse("www.example. 300 IN A 192.0.2.1"), rr_parse("www.example. 300 IN A 192.0.2.2")};
}

RrsetVerdict verify(const std::vector<Rr>& rrset, const std::vector<Rr>& sigs,
                    const std::vector<Dnskey>& keys, std::uint32_t now = kNow,
                    const ValidationOptions& options = {}) {
  return rrset_verify(rrset, sigs, kZone, keys, now, options);
}

void expect_bogus(const RrsetVerdict& v, Ede ede, const std::string& reason_part) {
  EXPECT_EQ(v.verdict.status, Status::kBogus);
  EXPECT_EQ(v.verdict.ede, ede);
  EXPECT_NE(v.verdict.reason.find(reason_part), std::string::npos) << v.verdict.reason;
}

class DnssecRrsetVerifyByAlgorithmTest : public ::testing::TestWithParam<ldns_signing_algorithm> {};

TEST_P(DnssecRrsetVerifyByAlgorithmTest, GoodSignatureIsSecure) {
  const TestKey key("example.", GetParam(), 256);
  const auto rrset = www_a();
  const RrsetVerdict v = verify(rrset, {key.sign(rrset)}, {key.parsed()});
  EXPECT_EQ(v.verdict.status, Status::kSecure) << v.verdict.reason;
  EXPECT_FALSE(v.verdict.ede.has_value());
  EXPECT_EQ(v.key_tag, key.key_tag());
  EXPECT_EQ(v.algorithm, static_cast<std::uint8_t>(GetParam()));
  EXPECT_EQ(v.verifications.total, 1U);
  // Counted under its own algorithm (the metric's label), never under "other".
  const AlgorithmSlot slot = algorithm_slot(static_cast<std::uint8_t>(GetParam()));
  EXPECT_NE(slot, AlgorithmSlot::kOther);
  EXPECT_EQ(v.verifications.by_algorithm[static_cast<std::size_t>(slot)], 1U);
  EXPECT_FALSE(v.wildcard);
  EXPECT_EQ(v.expiration, kExpiration);
}

TEST_P(DnssecRrsetVerifyByAlgorithmTest, TamperedRdataIsBogus) {
  const TestKey key("example.", GetParam(), 256);
  auto rrset = www_a();
  const Rr sig = key.sign(rrset);
  rrset[1].rdata[3] = 99;  // 192.0.2.99: edited after signing
  expect_bogus(verify(rrset, {sig}, {key.parsed()}), Ede::kDnssecBogus, "does not verify");
}

// What a key cache holds: keys prepared once (dnskey_prepare), verifying as unprepared ones do.
TEST_P(DnssecRrsetVerifyByAlgorithmTest, PreparedKeyGivesTheSameVerdicts) {
  const TestKey key("example.", GetParam(), 256);
  auto rrset = www_a();
  const Rr sig = key.sign(rrset);
  Dnskey prepared = key.parsed();
  ASSERT_TRUE(dnskey_prepare(prepared));
  const RrsetVerdict v = verify(rrset, {sig}, {prepared});
  EXPECT_EQ(v.verdict.status, Status::kSecure) << v.verdict.reason;
  EXPECT_EQ(v.key_tag, key.key_tag());
  EXPECT_EQ(v.verifications.total, 1U);
  EXPECT_EQ(v.expiration, kExpiration);
  rrset[1].rdata[3] = 99;
  expect_bogus(verify(rrset, {sig}, {prepared}), Ede::kDnssecBogus, "does not verify");
}

INSTANTIATE_TEST_SUITE_P(Algorithms, DnssecRrsetVerifyByAlgorithmTest,
                         ::testing::Values(LDNS_SIGN_RSASHA256, LDNS_SIGN_RSASHA512,
                                           LDNS_SIGN_ECDSAP256SHA256, LDNS_SIGN_ECDSAP384SHA384,
                                           LDNS_SIGN_ED25519, LDNS_SIGN_ED448));

class DnssecRrsetVerifyTest : public ::testing::Test {
 protected:
  TestKey key_{"example.", LDNS_SIGN_ED25519, 256};
  std::vector<Rr> rrset_ = www_a();

  Rr sign_times(std::uint32_t inception, std::uint32_t expiration) {
    return key_.sign_edited(rrset_, [&](ldns_rr* sig) {
      ldns_rr_rrsig_set_inception(sig, testing::u32_rdf(inception));
      ldns_rr_rrsig_set_expiration(sig, testing::u32_rdf(expiration));
    });
  }
  RrsetVerdict verify_at(const Rr& sig, std::uint32_t now, const ValidationOptions& options = {}) {
    return verify(rrset_, {sig}, {key_.parsed()}, now, options);
  }
};

TEST_F(DnssecRrsetVerifyTest, EditedSignerThatIsAnAncestorButNotTheKeyOwnerIsBogus) {
  // A signature good for what it says, made by example.'s key, naming the root as signer.
  const Rr sig = key_.sign_edited(
      rrset_, [](ldns_rr* s) { ldns_rr_rrsig_set_signame(s, testing::dname_new(".").release()); });
  expect_bogus(verify(rrset_, {sig}, {key_.parsed()}), Ede::kDnskeyMissing, "not the key owner");
}

// goresolver CVE-2022-3346: attacker.test. signs www.example.'s data with its own, validly
// chained keys; a validator that follows the signer name and checks only the maths accepts it.
TEST_F(DnssecRrsetVerifyTest, SignerThatIsNotAnAncestorOfTheOwnerIsBogus) {
  const TestKey attacker("attacker.test.", LDNS_SIGN_ED25519, 256);
  const Rr sig = attacker.sign(rrset_);
  const RrsetVerdict v = rrset_verify(rrset_, std::vector<Rr>{sig}, name_wire("attacker.test."),
                                      std::vector<Dnskey>{attacker.parsed()}, kNow, {});
  expect_bogus(v, Ede::kDnssecBogus, "is not an ancestor");
  EXPECT_EQ(v.verifications.total, 0U);
  // The same signature over attacker.test.'s own name passes: only the name check stopped it.
  std::vector<Rr> own = rrset_;
  for (Rr& rr : own) rr.owner = name_wire("www.attacker.test.");
  const Rr own_sig = attacker.sign(own);
  EXPECT_EQ(rrset_verify(own, std::vector<Rr>{own_sig}, name_wire("attacker.test."),
                         std::vector<Dnskey>{attacker.parsed()}, kNow, {})
                .verdict.status,
            Status::kSecure);
}

TEST_F(DnssecRrsetVerifyTest, WildcardExpansionIsSecureAndSaysSo) {
  std::vector<Rr> wildcard = {rr_parse("*.example. 300 IN A 192.0.2.7")};
  Rr sig = key_.sign(wildcard);  // labels 1
  std::vector<Rr> expanded = wildcard;
  expanded[0].owner = name_wire("a.B.example.");
  sig.owner = expanded[0].owner;
  const RrsetVerdict v = verify(expanded, {sig}, {key_.parsed()});
  EXPECT_EQ(v.verdict.status, Status::kSecure) << v.verdict.reason;
  EXPECT_TRUE(v.wildcard);
  EXPECT_EQ(v.closest_encloser, name_wire("example."));
  EXPECT_EQ(v.source_of_synthesis, name_wire("*.example."));

  // The wildcard itself, asked for by name, is no expansion.
  Rr own_sig = key_.sign(wildcard);
  const RrsetVerdict literal = verify(wildcard, {own_sig}, {key_.parsed()});
  EXPECT_EQ(literal.verdict.status, Status::kSecure) << literal.verdict.reason;
  EXPECT_FALSE(literal.wildcard);
}

TEST_F(DnssecRrsetVerifyTest, WildcardSignatureDoesNotCoverAnotherZonesName) {
  std::vector<Rr> wildcard = {rr_parse("*.example. 300 IN A 192.0.2.7")};
  Rr sig = key_.sign(wildcard);
  std::vector<Rr> elsewhere = wildcard;
  elsewhere[0].owner = name_wire("a.example.org.");
  sig.owner = elsewhere[0].owner;
  expect_bogus(verify(elsewhere, {sig}, {key_.parsed()}), Ede::kDnssecBogus, "not an ancestor");
}

TEST_F(DnssecRrsetVerifyTest, LabelsAboveTheOwnersAreBogus) {
  const Rr sig = key_.sign_edited(rrset_, [](ldns_rr* s) {
    ldns_rr_rrsig_set_labels(s, testing::u8_rdf(3));  // www.example. has 2
  });
  const RrsetVerdict v = verify(rrset_, {sig}, {key_.parsed()});
  expect_bogus(v, Ede::kDnssecBogus, "labels 3 exceed");
  EXPECT_EQ(v.verifications.total, 0U);
}

TEST_F(DnssecRrsetVerifyTest, ExpiredAndNotYetValid) {
  // 30-day lifetime: 10 % is 3 days, clamped to the 1-day maximum.
  expect_bogus(verify_at(sign_times(kNow - 31 * kDay, kNow - 2 * kDay), kNow),
               Ede::kSignatureExpired, "expired");
  expect_bogus(verify_at(sign_times(kNow + 2 * kDay, kNow + 32 * kDay), kNow),
               Ede::kSignatureNotYetValid, "not yet valid");
  // Inside the tolerance.
  const RrsetVerdict late = verify_at(sign_times(kNow - 30 * kDay, kNow - 3600), kNow);
  EXPECT_EQ(late.verdict.status, Status::kSecure) << late.verdict.reason;
  EXPECT_EQ(late.ttl, 0U);  // nothing left to keep it for
  const RrsetVerdict early = verify_at(sign_times(kNow + 3600, kNow + 30 * kDay), kNow);
  EXPECT_EQ(early.verdict.status, Status::kSecure) << early.verdict.reason;
  // Without tolerance one second either side is enough.
  ValidationOptions strict;
  strict.skew_min_seconds = 0;
  strict.skew_max_seconds = 0;
  expect_bogus(verify_at(sign_times(kNow - 30 * kDay, kNow - 1), kNow, strict),
               Ede::kSignatureExpired, "expired");
  expect_bogus(verify_at(sign_times(kNow + 1, kNow + 30 * kDay), kNow, strict),
               Ede::kSignatureNotYetValid, "not yet valid");
  EXPECT_EQ(verify_at(sign_times(kNow, kNow), kNow, strict).verdict.status, Status::kSecure);
}

TEST_F(DnssecRrsetVerifyTest, ShortLivedSignatureGetsTheOneHourMinimum) {
  const Rr sig = sign_times(kNow - 7200, kNow - 1800);  // 2 hours: 10 % is 12 minutes
  EXPECT_EQ(verify_at(sig, kNow).verdict.status, Status::kSecure);
  expect_bogus(verify_at(sig, kNow + 1800 + 3601), Ede::kSignatureExpired, "expired");
}

TEST_F(DnssecRrsetVerifyTest, TimesUseSerialArithmeticAcrossTheWrap) {
  // Inception 1000 s before 2^32, expiration 5000 s after it (2106: RFC 4034 §3.1.5).
  const std::uint32_t inception = 0xFFFFFFFFU - 999;
  const std::uint32_t expiration = 5000;
  const Rr sig = sign_times(inception, expiration);
  ValidationOptions strict;
  strict.skew_min_seconds = 0;
  strict.skew_max_seconds = 0;
  EXPECT_EQ(verify_at(sig, 100, strict).verdict.status, Status::kSecure);
  EXPECT_EQ(verify_at(sig, 0xFFFFFFFFU - 500, strict).verdict.status, Status::kSecure);
  expect_bogus(verify_at(sig, 5001, strict), Ede::kSignatureExpired, "expired");
  expect_bogus(verify_at(sig, inception - 1, strict), Ede::kSignatureNotYetValid, "not yet");
  // An effective TTL counted across the wrap: 4900 s left at 100.
  EXPECT_EQ(verify_at(sig, 100, strict).ttl, 300U);
  const RrsetVerdict near_end = verify_at(sig, 4900, strict);
  EXPECT_EQ(near_end.ttl, 100U);
}

TEST_F(DnssecRrsetVerifyTest, KeyThatIsNotAUsableZoneKeyIsBogus) {
  const TestKey other("example.", LDNS_SIGN_ED25519, 256);  // keeps the set usable
  struct Case {
    std::uint16_t flags;
    const char* reason;
  };
  for (const Case& c : {Case{0, "zone-key bit clear"}, Case{256 | 0x80, "is revoked"},
                        Case{257 | 0x80, "is revoked"}}) {
    const TestKey key("example.", LDNS_SIGN_ED25519, c.flags);
    const Rr sig = key.sign_edited(rrset_, [](ldns_rr*) {});
    const RrsetVerdict v = verify(rrset_, {sig}, {key.parsed(), other.parsed()});
    expect_bogus(v, Ede::kDnssecBogus, c.reason);
    EXPECT_EQ(v.verifications.total, 0U);
  }
}

TEST_F(DnssecRrsetVerifyTest, ProtocolOtherThanThreeIsBogus) {
  Dnskey bad = key_.parsed();
  bad.rdata[2] = 2;
  bad = *dnskey_parse(bad.rdata);  // a new key tag, same public key
  const Rr sig = key_.sign_edited(rrset_, [&](ldns_rr* s) {
    ldns_rr_rrsig_set_keytag(s, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, bad.key_tag));
  });
  const TestKey other("example.", LDNS_SIGN_ED25519, 256);
  expect_bogus(verify(rrset_, {sig}, {bad, other.parsed()}), Ede::kDnssecBogus, "protocol 2");
  // The same key with protocol 3 would have passed: the maths is not what failed.
  Dnskey good = bad;
  good.protocol = 3;
  EXPECT_EQ(verify(rrset_, {sig}, {good}).verdict.status, Status::kSecure);
}

TEST_F(DnssecRrsetVerifyTest, KeyTagOrAlgorithmNobodyHasIsDnskeyMissing) {
  const TestKey other("example.", LDNS_SIGN_ED25519, 256);
  expect_bogus(verify(rrset_, {key_.sign(rrset_)}, {other.parsed()}), Ede::kDnskeyMissing,
               "no DNSKEY");
  expect_bogus(verify(rrset_, {key_.sign(rrset_)}, {}), Ede::kDnskeyMissing, "no usable DNSKEY");
}

TEST_F(DnssecRrsetVerifyTest, ZoneWithOnlyUnsupportedAlgorithmsIsInsecure) {
  const TestKey sha1("example.", LDNS_SIGN_RSASHA1, 256);
  const RrsetVerdict v = verify(rrset_, {sha1.sign(rrset_)}, {sha1.parsed()});
  EXPECT_EQ(v.verdict.status, Status::kInsecure);
  EXPECT_EQ(v.verdict.ede, Ede::kUnsupportedDnskeyAlgorithm);
  EXPECT_EQ(v.verifications.total, 0U);
}

TEST_F(DnssecRrsetVerifyTest, OnlyAnUnsupportedRrsigWhereASupportedKeyExistsIsBogus) {
  // A downgrade: the zone has an Ed25519 key, the answer carries only a SHA-1 RRSIG.
  const TestKey sha1("example.", LDNS_SIGN_RSASHA1, 256);
  expect_bogus(verify(rrset_, {sha1.sign(rrset_)}, {sha1.parsed(), key_.parsed()}),
               Ede::kRrsigsMissing, "supported algorithm");
}

TEST_F(DnssecRrsetVerifyTest, MissingOrUnrelatedRrsigsAreRrsigsMissing) {
  expect_bogus(verify(rrset_, {}, {key_.parsed()}), Ede::kRrsigsMissing, "no RRSIG covers");
  std::vector<Rr> aaaa = {rr_parse("www.example. 300 IN AAAA 2001:db8::1")};
  expect_bogus(verify(rrset_, {key_.sign(aaaa)}, {key_.parsed()}), Ede::kRrsigsMissing,
               "no RRSIG covers");
  std::vector<Rr> mail = {rr_parse("mail.example. 300 IN A 192.0.2.1")};
  expect_bogus(verify(rrset_, {key_.sign(mail)}, {key_.parsed()}), Ede::kRrsigsMissing,
               "no RRSIG covers");
}

TEST_F(DnssecRrsetVerifyTest, CaseOrderAndDuplicatesOfTheRrsetDoNotMatter) {
  const Rr sig = key_.sign(rrset_);
  std::vector<Rr> shuffled = {rrset_[1], rrset_[0], rrset_[1]};
  for (Rr& rr : shuffled) rr.owner = name_wire("WwW.ExAmPlE.");
  Rr sig_upper = sig;
  sig_upper.owner = name_wire("WWW.EXAMPLE.");
  const RrsetVerdict v = verify(shuffled, {sig_upper}, {key_.parsed()});
  EXPECT_EQ(v.verdict.status, Status::kSecure) << v.verdict.reason;
}

TEST_F(DnssecRrsetVerifyTest, NamesInRdataAreLoweredForTheListedTypes) {
  // ldns lowers MX and SRV targets when it signs; the answer may carry any case.
  const std::vector<Rr> mx = {rr_parse("Example. 300 IN MX 10 MAIL.Example."),
                              rr_parse("Example. 300 IN MX 20 Backup.EXAMPLE.")};
  std::vector<Rr> mixed = mx;
  mixed[0] = rr_parse("example. 300 IN MX 10 mail.eXample.");
  EXPECT_EQ(verify(mixed, {key_.sign(mx)}, {key_.parsed()}).verdict.status, Status::kSecure);

  const std::vector<Rr> srv = {rr_parse("_sip._udp.example. 300 IN SRV 1 2 5060 SIP.Example.")};
  std::vector<Rr> srv_lower = {rr_parse("_sip._udp.example. 300 IN SRV 1 2 5060 sip.example.")};
  EXPECT_EQ(verify(srv_lower, {key_.sign(srv)}, {key_.parsed()}).verdict.status, Status::kSecure);
}

TEST_F(DnssecRrsetVerifyTest, NsecNextNameKeepsItsCase) {
  // RFC 6840 §5.1: NSEC is not in the list; its next name is signed as sent.
  const std::vector<Rr> nsec = {rr_parse("a.example. 300 IN NSEC B.example. A RRSIG NSEC")};
  const Rr sig = key_.sign(nsec);
  EXPECT_EQ(verify(nsec, {sig}, {key_.parsed()}).verdict.status, Status::kSecure);
  const std::vector<Rr> lowered = {rr_parse("a.example. 300 IN NSEC b.example. A RRSIG NSEC")};
  expect_bogus(verify(lowered, {sig}, {key_.parsed()}), Ede::kDnssecBogus, "does not verify");
}

TEST_F(DnssecRrsetVerifyTest, EffectiveTtlIsTheLeastOfTtlOriginalTtlAndTimeLeft) {
  const Rr sig = key_.sign(rrset_);  // original TTL 300
  EXPECT_EQ(verify(rrset_, {sig}, {key_.parsed()}).ttl, 300U);
  std::vector<Rr> raised = rrset_;
  for (Rr& rr : raised) rr.ttl = 86400;  // an upstream that raised the TTL
  EXPECT_EQ(verify(raised, {sig}, {key_.parsed()}).ttl, 300U);
  std::vector<Rr> aged = rrset_;
  aged[0].ttl = 120;  // a cache upstream counted one down
  EXPECT_EQ(verify(aged, {sig}, {key_.parsed()}).ttl, 120U);
  EXPECT_EQ(verify(rrset_, {sig}, {key_.parsed()}, kExpiration - 100).ttl, 100U);
}

TEST_F(DnssecRrsetVerifyTest, AnyOneGoodSignatureIsEnough) {
  const TestKey other("example.", LDNS_SIGN_ECDSAP256SHA256, 256);
  Rr broken = other.sign(rrset_);
  broken.rdata.back() ^= 1;
  const RrsetVerdict v =
      verify(rrset_, {broken, key_.sign(rrset_)}, {other.parsed(), key_.parsed()});
  EXPECT_EQ(v.verdict.status, Status::kSecure) << v.verdict.reason;
  EXPECT_EQ(v.verifications.total, 2U);
}

TEST_F(DnssecRrsetVerifyTest, TheReasonIsThatOfTheSignatureThatGotFurthest) {
  const TestKey other("example.", LDNS_SIGN_ED25519, 256);
  Rr broken = key_.sign(rrset_);
  broken.rdata.back() ^= 1;
  const Rr expired = sign_times(kNow - 40 * kDay, kNow - 10 * kDay);
  expect_bogus(verify(rrset_, {expired, broken}, {key_.parsed(), other.parsed()}),
               Ede::kDnssecBogus, "does not verify");
  expect_bogus(verify(rrset_, {expired}, {key_.parsed()}), Ede::kSignatureExpired, "expired");
}

// KeyTrap (CVE-2023-50387): many keys sharing a key tag and many RRSIGs must not buy many
// signature checks.
TEST_F(DnssecRrsetVerifyTest, KeyTrapStopsAtTheLimitsAndSaysSo) {
  std::vector<Dnskey> keys;
  for (std::uint32_t i = 0; i < 20; ++i) {
    keys.push_back(testing::key_forge_with_tag(key_.key_tag(), kAlgorithmEd25519, 32, i));
    ASSERT_EQ(keys.back().key_tag, key_.key_tag());
  }
  std::vector<Rr> sigs;
  for (int i = 0; i < 20; ++i) {
    sigs.push_back(key_.sign(rrset_));
    sigs.back().rdata.back() ^= static_cast<std::uint8_t>(i + 1);  // none verifies
  }
  const RrsetVerdict v = verify(rrset_, sigs, keys);
  expect_bogus(v, Ede::kDnssecBogus, "KeyTrap limit");
  EXPECT_TRUE(v.limit_tripped);
  EXPECT_EQ(v.verifications.total, 8U);

  // One RRSIG, the real key 20th among its colliding tags: four are tried, then we stop.
  keys.push_back(key_.parsed());
  ValidationOptions many;
  many.max_verifications_per_rrset = 100;
  const RrsetVerdict per_tag = verify(rrset_, {key_.sign(rrset_)}, keys, kNow, many);
  expect_bogus(per_tag, Ede::kDnssecBogus, "more than 4 keys");
  EXPECT_TRUE(per_tag.limit_tripped);
  EXPECT_EQ(per_tag.verifications.total, 4U);

  // Within the limits the same work succeeds, and says nothing tripped.
  std::vector<Dnskey> few(keys.begin(), keys.begin() + 3);
  few.push_back(key_.parsed());
  const RrsetVerdict ok = verify(rrset_, {key_.sign(rrset_)}, few);
  EXPECT_EQ(ok.verdict.status, Status::kSecure) << ok.verdict.reason;
  EXPECT_FALSE(ok.limit_tripped);
  EXPECT_EQ(ok.verifications.total, 4U);
}

// A prepared key is trusted only while it is the key beside it: a DNSKEY whose RDATA is one
// key and whose `prepared` is another's (copied, edited) is checked with its RDATA's key.
TEST_F(DnssecRrsetVerifyTest, PreparedKeyOfAnotherKeyIsNotUsed) {
  const TestKey other("example.", LDNS_SIGN_ED25519, 256);
  Dnskey mixed = key_.parsed();
  Dnskey other_key = other.parsed();
  ASSERT_TRUE(dnskey_prepare(other_key));
  mixed.prepared = other_key.prepared;
  // Signed by `other` but naming key_'s tag: only key_'s RDATA may judge it.
  const Rr forged = other.sign_edited(rrset_, [&](ldns_rr* s) {
    ldns_rr_rrsig_set_keytag(s, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, key_.key_tag()));
  });
  expect_bogus(verify(rrset_, {forged}, {mixed}), Ede::kDnssecBogus, "does not verify");
  // ... and key_'s own signature still verifies with it.
  EXPECT_EQ(verify(rrset_, {key_.sign(rrset_)}, {mixed}).verdict.status, Status::kSecure);
}

TEST_F(DnssecRrsetVerifyTest, RecordsOfTwoRrsetsAreRefused) {
  std::vector<Rr> mixed = rrset_;
  mixed.push_back(rr_parse("mail.example. 300 IN A 192.0.2.9"));
  expect_bogus(verify(mixed, {key_.sign(rrset_)}, {key_.parsed()}), Ede::kDnssecBogus,
               "more than one RRset");
  expect_bogus(verify({}, {}, {key_.parsed()}), Ede::kDnssecBogus, "empty");
}

TEST_F(DnssecRrsetVerifyTest, MalformedRrsigIsBogus) {
  Rr sig = key_.sign(rrset_);
  sig.rdata.resize(20);  // cut inside the signer name
  expect_bogus(verify(rrset_, {sig}, {key_.parsed()}), Ede::kDnssecBogus, "malformed RRSIG");
}

}  // namespace
}  // namespace dp::dnssec
