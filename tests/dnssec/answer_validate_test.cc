// The chain planner and the answer judge together over a signed tree made at test time: what
// is secure, insecure and bogus, the CVEs other validators had, and the limits.
#include "dnssec/answer_validate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/dnssec/signed_tree.h"

namespace dp::dnssec {
namespace {

using testing::answer_make;
using testing::joined;
using testing::kNow;
using testing::rr_parse;
using testing::signed_by;
using testing::SignedTree;
using testing::TestKey;

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint8_t kNxDomain = 3;

class DnssecAnswerValidateTest : public ::testing::Test {
 protected:
  AnswerVerdict validate(AnswerRecords answer, std::size_t* fetches = nullptr) {
    return tree_.validate(answer, cache_, config_, fetches);
  }
  AnswerRecords www_a(std::vector<Rr> answer) {
    return answer_make("www.example.", kTypeA, 0, std::move(answer));
  }

  SignedTree tree_;
  ChainConfig config_ = tree_.config();
  KeyCache cache_{1 << 20};
};

TEST_F(DnssecAnswerValidateTest, ASignedAnswerIsSecureAndKeptNoLongerThanItsTtl) {
  std::size_t fetches = 0;
  const AnswerVerdict verdict = validate(
      www_a(signed_by(tree_.example(), {rr_parse("www.example. 300 IN A 192.0.2.1")})), &fetches);
  EXPECT_EQ(verdict.verdict.status, Status::kSecure) << verdict.verdict.reason;
  EXPECT_EQ(verdict.ttl, 300u);
  EXPECT_EQ(fetches, 3u);  // . DNSKEY, example. DS, example. DNSKEY
  // Warm keys: the next answer from the zone fetches nothing.
  const AnswerVerdict again = validate(
      www_a(signed_by(tree_.example(), {rr_parse("www.example. 60 IN A 192.0.2.2")})), &fetches);
  EXPECT_EQ(again.verdict.status, Status::kSecure);
  EXPECT_EQ(fetches, 0u);
}

TEST_F(DnssecAnswerValidateTest, AForgedUnsignedAnswerInASignedZoneIsBogusRrsigsMissing) {
  const AnswerVerdict verdict = validate(www_a({rr_parse("www.example. 300 IN A 192.0.2.99")}));
  EXPECT_EQ(verdict.verdict.status, Status::kBogus);
  EXPECT_EQ(verdict.verdict.ede, Ede::kRrsigsMissing) << verdict.verdict.reason;
}

TEST_F(DnssecAnswerValidateTest, ARecordChangedAfterSigningIsBogus) {
  std::vector<Rr> answer =
      signed_by(tree_.example(), {rr_parse("www.example. 300 IN A 192.0.2.1")});
  answer[0].rdata.back() = 99;
  const AnswerVerdict verdict = validate(www_a(answer));
  EXPECT_EQ(verdict.verdict.status, Status::kBogus);
  EXPECT_EQ(verdict.verdict.ede, Ede::kDnssecBogus) << verdict.verdict.reason;
}

// CVE-2022-3346: a key of another zone signs example.'s name; the signature verifies, the
// signer does not own the name.
TEST_F(DnssecAnswerValidateTest, ASignerThatIsNotAnAncestorIsBogus) {
  const TestKey other("other.", LDNS_SIGN_ECDSAP256SHA256);
  const AnswerVerdict verdict =
      validate(www_a(signed_by(other, {rr_parse("www.example. 300 IN A 192.0.2.1")})));
  EXPECT_EQ(verdict.verdict.status, Status::kBogus);
  EXPECT_NE(verdict.verdict.reason.find("not an ancestor"), std::string::npos)
      << verdict.verdict.reason;
}

TEST_F(DnssecAnswerValidateTest, AnUnsignedDelegationProvenByNsecIsInsecure) {
  const AnswerVerdict verdict = validate(
      answer_make("www.insecure.", kTypeA, 0, {rr_parse("www.insecure. 300 IN A 192.0.2.40")}));
  EXPECT_EQ(verdict.verdict.status, Status::kInsecure) << verdict.verdict.reason;
}

// The root's NSEC says insecure. has NS but no DS; a forged DS answer that drops the NSEC
// cannot make the delegation insecure without proof.
TEST_F(DnssecAnswerValidateTest, ADsDenialWithoutProofIsBogus) {
  tree_.fetch_set("insecure.", kTypeDs, answer_make("insecure.", kTypeDs, 0, {}));
  const AnswerVerdict verdict = validate(
      answer_make("www.insecure.", kTypeA, 0, {rr_parse("www.insecure. 300 IN A 192.0.2.40")}));
  EXPECT_EQ(verdict.verdict.status, Status::kBogus) << verdict.verdict.reason;
}

TEST_F(DnssecAnswerValidateTest, AFailedKeyFetchIsIndeterminateWithEde22) {
  tree_.fetch_remove("example.", kTypeDnskey);
  const AnswerVerdict verdict =
      validate(www_a(signed_by(tree_.example(), {rr_parse("www.example. 300 IN A 192.0.2.1")})));
  EXPECT_EQ(verdict.verdict.status, Status::kIndeterminate);
  EXPECT_EQ(verdict.verdict.ede, Ede::kNoReachableAuthority) << verdict.verdict.reason;
}

TEST_F(DnssecAnswerValidateTest, ADsMatchingNoKeyIsBogusDnskeyMissing) {
  const TestKey stranger("example.", LDNS_SIGN_ECDSAP256SHA256);
  tree_.fetch_set(
      "example.", kTypeDnskey,
      answer_make("example.", kTypeDnskey, 0, signed_by(stranger, {stranger.dnskey()})));
  const AnswerVerdict verdict =
      validate(www_a(signed_by(stranger, {rr_parse("www.example. 300 IN A 192.0.2.1")})));
  EXPECT_EQ(verdict.verdict.status, Status::kBogus);
  EXPECT_EQ(verdict.verdict.ede, Ede::kDnskeyMissing) << verdict.verdict.reason;
}

TEST_F(DnssecAnswerValidateTest, ANegativeTrustAnchorMakesItsNamesInsecureUnasked) {
  config_.insecure_domains.push_back(testing::name_wire("example."));
  std::size_t fetches = 1;
  const AnswerVerdict verdict =
      validate(www_a({rr_parse("www.example. 300 IN A 192.0.2.99")}), &fetches);
  EXPECT_EQ(verdict.verdict.status, Status::kInsecure);
  EXPECT_EQ(fetches, 0u);
}

TEST_F(DnssecAnswerValidateTest, ANameNoAnchorCoversIsIndeterminateWithoutEde) {
  config_.anchors.front().owner = testing::name_wire("example.");
  config_.anchors.front().ds = {tree_.example().ds(LDNS_SHA256)};
  const AnswerVerdict verdict =
      validate(answer_make("www.other.", kTypeA, 0, {rr_parse("www.other. 300 IN A 192.0.2.3")}));
  EXPECT_EQ(verdict.verdict.status, Status::kIndeterminate);
  EXPECT_FALSE(verdict.verdict.ede);
}

TEST_F(DnssecAnswerValidateTest, ASecureCnameChainIsSecureAndAnUnsignedLinkIsBogus) {
  const auto chain =
      joined(signed_by(tree_.example(), {rr_parse("a.example. 300 IN CNAME www.example.")}),
             signed_by(tree_.example(), {rr_parse("www.example. 300 IN A 192.0.2.1")}));
  EXPECT_EQ(validate(answer_make("a.example.", kTypeA, 0, chain)).verdict.status, Status::kSecure);
  const auto forged =
      joined(signed_by(tree_.example(), {rr_parse("a.example. 300 IN CNAME www.example.")}),
             {rr_parse("www.example. 300 IN A 192.0.2.99")});
  EXPECT_EQ(validate(answer_make("a.example.", kTypeA, 0, forged)).verdict.status, Status::kBogus);
}

TEST_F(DnssecAnswerValidateTest, MoreThanEightCnamesTripTheLimit) {
  std::vector<Rr> chain;
  for (int i = 0; i < 10; ++i) {
    chain = joined(chain, signed_by(tree_.example(),
                                    {rr_parse("c" + std::to_string(i) + ".example. 300 IN CNAME c" +
                                              std::to_string(i + 1) + ".example.")}));
  }
  const AnswerVerdict verdict = validate(answer_make("c0.example.", kTypeA, 0, chain));
  EXPECT_EQ(verdict.verdict.status, Status::kBogus);
  EXPECT_TRUE(verdict.limit_tripped);
}

// KeyTrap (CVE-2023-50387): many bad signatures over one answer cost at most the per-answer
// cap in verifications.
TEST_F(DnssecAnswerValidateTest, ManyBadSignaturesStopAtTheVerificationCap) {
  std::vector<Rr> answer;
  for (int i = 0; i < 20; ++i) {
    const std::string owner = "n" + std::to_string(i) + ".example.";
    std::vector<Rr> rrset = signed_by(tree_.example(), {rr_parse(owner + " 300 IN A 192.0.2.1")});
    rrset[0].rdata.back() = 7;  // every signature fails
    for (int copy = 0; copy < 4; ++copy) rrset.push_back(rrset[1]);
    answer = joined(answer, rrset);
  }
  const AnswerVerdict verdict = validate(answer_make("n0.example.", kTypeA, 0, answer));
  EXPECT_EQ(verdict.verdict.status, Status::kBogus);
  EXPECT_LE(verdict.verifications.total, AnswerLimits{}.max_verifications + 1);  // + the chain's
}

TEST_F(DnssecAnswerValidateTest, AnNxdomainWithoutProofInASignedZoneIsBogus) {
  const auto soa = signed_by(tree_.example(),
                             {rr_parse("example. 300 IN SOA ns.example. h.example. 1 2 3 4 300")});
  const AnswerVerdict verdict = validate(answer_make("nx.example.", kTypeA, kNxDomain, {}, soa));
  EXPECT_EQ(verdict.verdict.status, Status::kBogus);
  EXPECT_EQ(verdict.verdict.ede, Ede::kNsecMissing) << verdict.verdict.reason;
}

TEST_F(DnssecAnswerValidateTest, AnNxdomainProvenByNsecIsSecure) {
  const auto authority = joined(
      signed_by(tree_.example(),
                {rr_parse("example. 300 IN SOA ns.example. h.example. 1 2 3 4 300")}),
      joined(signed_by(tree_.example(),
                       {rr_parse("example. 300 IN NSEC www.example. SOA NS RRSIG NSEC DNSKEY")}),
             signed_by(tree_.example(),
                       {rr_parse("www.example. 300 IN NSEC example. A RRSIG NSEC")})));
  const AnswerVerdict verdict =
      validate(answer_make("nx.example.", kTypeA, kNxDomain, {}, authority));
  EXPECT_EQ(verdict.verdict.status, Status::kSecure) << verdict.verdict.reason;
}

// A wildcard expansion without the NSEC that no closer name exists is bogus (RFC 4035
// §5.3.4).
TEST_F(DnssecAnswerValidateTest, AWildcardExpansionWithoutProofIsBogus) {
  std::vector<Rr> rrset = {rr_parse("*.example. 300 IN A 192.0.2.20")};
  const Rr sig = tree_.example().sign(rrset);
  Rr expanded = rrset[0];
  expanded.owner = testing::name_wire("x.example.");
  Rr expanded_sig = sig;
  expanded_sig.owner = expanded.owner;
  const AnswerVerdict verdict =
      validate(answer_make("x.example.", kTypeA, 0, {expanded, expanded_sig}));
  EXPECT_EQ(verdict.verdict.status, Status::kBogus) << verdict.verdict.reason;
}

TEST_F(DnssecAnswerValidateTest, ASecurePositiveAnswerDropsUnsignedAuthorityAndAdditional) {
  AnswerRecords answer =
      www_a(signed_by(tree_.example(), {rr_parse("www.example. 300 IN A 192.0.2.1")}));
  answer.authority = {rr_parse("example. 300 IN NS ns.evil.")};
  answer.additional = {rr_parse("ns.evil. 300 IN A 192.0.2.66")};
  const AnswerVerdict verdict = tree_.validate(answer, cache_, config_);
  ASSERT_EQ(verdict.verdict.status, Status::kSecure) << verdict.verdict.reason;
  EXPECT_TRUE(answer.authority.empty());  // AD must cover all a client sees (RFC 6840 §5.8)
  EXPECT_TRUE(answer.additional.empty());
  EXPECT_EQ(answer.answer.size(), 2u);
}

TEST(DnssecAnswerRecordsTest, ARoundTripKeepsEveryRecordAndStripsDnssecForDoZero) {
  SignedTree tree;
  AnswerRecords answer =
      answer_make("www.example.", kTypeA, 0,
                  signed_by(tree.example(), {rr_parse("www.example. 300 IN A 192.0.2.1")}));
  std::vector<std::uint8_t> wire;
  ASSERT_TRUE(answer_records_write(answer, true, true, wire));
  const auto parsed = answer_records_parse(wire);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->answer.size(), 2u);
  EXPECT_EQ(parsed->qname, answer.qname);
  EXPECT_TRUE(wire[3] & 0x20);  // AD
  ASSERT_TRUE(answer_records_write(answer, false, false, wire));
  const auto stripped = answer_records_parse(wire);
  ASSERT_TRUE(stripped);
  ASSERT_EQ(stripped->answer.size(), 1u);
  EXPECT_EQ(stripped->answer[0].type, kTypeA);
  EXPECT_FALSE(wire[3] & 0x20);
}

// Owner names are compressed against the question and earlier owners, byte for byte: the
// message is smaller and reads back record for record, case included.
TEST(DnssecAnswerRecordsTest, OwnersAreCompressedAndReadBackExactly) {
  AnswerRecords answer = answer_make(
      "www.example.", kTypeA, 0,
      {rr_parse("www.example. 300 IN CNAME Web.Example."),
       rr_parse("Web.Example. 300 IN A 192.0.2.1"), rr_parse("Web.Example. 300 IN A 192.0.2.2"),
       rr_parse("Web.Example. 300 IN A 192.0.2.3")});
  answer.authority = {rr_parse("example. 300 IN NS ns1.example."),
                      rr_parse("example. 300 IN NS ns2.example.")};
  answer.additional = {rr_parse("ns1.example. 300 IN A 192.0.2.53")};
  std::size_t whole = 12 + answer.question.size();
  for (const auto* section : {&answer.answer, &answer.authority, &answer.additional}) {
    for (const Rr& rr : *section) whole += rr.owner.size() + 10 + rr.rdata.size();
  }
  std::vector<std::uint8_t> wire;
  ASSERT_TRUE(answer_records_write(answer, true, false, wire));
  // www.example. once in the question, then pointers or a label and a pointer.
  EXPECT_LT(wire.size(), whole - 40) << "uncompressed: " << whole;
  const auto parsed = answer_records_parse(wire);
  ASSERT_TRUE(parsed);
  for (const auto& [written, read] : {std::pair{&answer.answer, &parsed->answer},
                                      std::pair{&answer.authority, &parsed->authority},
                                      std::pair{&answer.additional, &parsed->additional}}) {
    ASSERT_EQ(read->size(), written->size());
    for (std::size_t i = 0; i < written->size(); ++i) {
      EXPECT_EQ((*read)[i].owner, (*written)[i].owner) << "record " << i;  // case kept
      EXPECT_EQ((*read)[i].type, (*written)[i].type);
      EXPECT_EQ((*read)[i].rdata, (*written)[i].rdata);
    }
  }
}

// Past 16 KiB a pointer cannot reach a name: owners first written there are written whole
// every time (never pointed at), earlier ones are still pointed at, and the message reads back.
TEST(DnssecAnswerRecordsTest, ALargeAnswerStillReadsBack) {
  std::vector<Rr> records;
  const std::string text(200, 'x');
  for (int i = 0; i < 150; ++i) {
    // n0..n49 first (below 16 KiB), then from the 90th record (past it) m0..m29 twice each.
    const std::string owner = i < 90 ? "n" + std::to_string(i % 50) : "m" + std::to_string(i % 30);
    records.push_back(rr_parse(owner + ".big.example. 300 IN TXT \"" + text + "\""));
  }
  AnswerRecords answer = answer_make("big.example.", 16, 0, records);
  std::vector<std::uint8_t> wire;
  ASSERT_TRUE(answer_records_write(answer, true, false, wire));
  ASSERT_GT(wire.size(), 0x4000u);
  const auto parsed = answer_records_parse(wire);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->answer.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(parsed->answer[i].owner, records[i].owner) << "record " << i;
  }
}

TEST(DnssecAnswerRecordsTest, GarbageDoesNotParse) {
  const std::vector<std::uint8_t> garbage = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
  EXPECT_FALSE(answer_records_parse(garbage));
}

}  // namespace
}  // namespace dp::dnssec
