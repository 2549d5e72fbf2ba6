// The fetch driver over a fake upstream: which DS and DNSKEY queries it sends (DO=1, CD=1),
// that one query serves every answer waiting for the same set, and what a failure gives.
#include "proxy/dnssec_validator.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "proxy/worker_snapshot.h"
#include "tests/dnssec/signed_tree.h"
#include "tests/dnssec/test_signer.h"
#include "tests/fakes/fake_upstream.h"

namespace dp::proxy {
namespace {

using dnssec::testing::answer_make;
using dnssec::testing::kNow;
using dnssec::testing::rr_parse;
using dnssec::testing::signed_by;

class ProxyDnssecValidatorTest : public ::testing::Test {
 protected:
  ProxyDnssecValidatorTest()
      : validator_(
            std::make_shared<const dnssec::ChainConfig>(tree_.config()), 1 << 20,
            [this](std::string_view) -> upstream::Upstream& { return upstream_; },
            [] { return kNow; }) {}

  void validate_www() {
    validator_.validate(
        answer_make("www.example.", 1, 0,
                    signed_by(tree_.example(), {rr_parse("www.example. 300 IN A 192.0.2.1")})),
        [this](dnssec::AnswerRecords&&, const ValidationReport& report) {
          reports_.push_back(report);
        });
  }
  // Answers call `i` as the tree's upstream would.
  void answer(std::size_t i) {
    const auto& call = upstream_.calls.at(i);
    dnssec::ChainFetch fetch{call.question.qname_lower, call.question.qtype, {}};
    const auto reply = tree_.fetch_answer(fetch);
    ASSERT_TRUE(reply) << "no answer for " << dnssec::name_to_text(fetch.name);
    std::vector<std::uint8_t> wire;
    ASSERT_TRUE(dnssec::answer_records_write(*reply, true, false, wire));
    upstream_.answer(i, wire);
  }

  dnssec::testing::SignedTree tree_;
  testing::FakeUpstream upstream_;
  DnssecValidator validator_;
  std::vector<ValidationReport> reports_;
};

TEST_F(ProxyDnssecValidatorTest, FetchesTheChainWithDoAndCdThenJudges) {
  validate_www();
  ASSERT_EQ(upstream_.calls.size(), 1u);
  EXPECT_EQ(upstream_.calls[0].question.qtype, dnssec::kTypeDnskey);
  const std::vector<std::uint8_t>& query = upstream_.calls[0].query;
  EXPECT_TRUE(query[3] & 0x10) << "CD=1 (RFC 6840 §5.9)";
  // The OPT's TTL flags are the 4th-last.. of its fixed part; DO is the top bit of them.
  bool do_bit = false;
  for (std::size_t i = 12; i + 11 <= query.size(); ++i) {
    if (query[i] == 0 && query[i + 1] == 0 && query[i + 2] == 41)
      do_bit = (query[i + 7] & 0x80) != 0;
  }
  EXPECT_TRUE(do_bit) << "DO=1";
  answer(0);
  ASSERT_EQ(upstream_.calls.size(), 2u);
  EXPECT_EQ(upstream_.calls[1].question.qtype, dnssec::kTypeDs);
  answer(1);
  ASSERT_EQ(upstream_.calls.size(), 3u);
  answer(2);
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].verdict.verdict.status, dnssec::Status::kSecure)
      << reports_[0].verdict.verdict.reason;
  EXPECT_EQ(reports_[0].fetches, 3u);
  EXPECT_EQ(validator_.pending(), 0u);
  // Warm: judged before validate() returns, nothing fetched.
  validate_www();
  EXPECT_EQ(upstream_.calls.size(), 3u);
  ASSERT_EQ(reports_.size(), 2u);
  EXPECT_EQ(reports_[1].verdict.verdict.status, dnssec::Status::kSecure);
  EXPECT_EQ(reports_[1].fetches, 0u);
}

// The control channel's flushes: the keys of a name (and below) are forgotten and fetched again.
TEST_F(ProxyDnssecValidatorTest, ForgottenKeysAreFetchedAgain) {
  validate_www();
  for (std::size_t i = 0; i < 3; ++i) answer(i);
  ASSERT_EQ(reports_.size(), 1u);
  ASSERT_EQ(reports_[0].verdict.verdict.status, dnssec::Status::kSecure);
  const std::size_t held = validator_.keys().entries();
  ASSERT_GE(held, 2u) << "the root's keys and example.'s";
  EXPECT_EQ(validator_.keys_forget(dnssec::testing::name_wire("www.example."), true), 0u);
  EXPECT_EQ(validator_.keys_forget(dnssec::testing::name_wire("example."), false), 1u);
  EXPECT_EQ(validator_.keys().entries(), held - 1);
  // example.'s keys are fetched again (the root's are still known: no DNSKEY . query).
  validate_www();
  ASSERT_EQ(upstream_.calls.size(), 4u);
  EXPECT_EQ(dnssec::name_to_text(upstream_.calls[3].question.qname_lower), "example.");
  EXPECT_EQ(upstream_.calls[3].question.qtype, dnssec::kTypeDs);
  // Each answer may send the next fetch (DNSKEY example.): answered as they come.
  for (std::size_t i = 3; i < upstream_.calls.size(); ++i) answer(i);
  EXPECT_EQ(upstream_.calls.size(), 5u);
  ASSERT_EQ(reports_.size(), 2u);
  EXPECT_EQ(reports_[1].verdict.verdict.status, dnssec::Status::kSecure);
  // flush-zone of the root: everything; flush-all (empty name) on an empty cache: nothing.
  EXPECT_EQ(validator_.keys_forget(dnssec::testing::name_wire("."), true), held);
  EXPECT_EQ(validator_.keys().entries(), 0u);
  EXPECT_EQ(validator_.keys_forget("", true), 0u);
}

TEST_F(ProxyDnssecValidatorTest, AnswersWaitingForTheSameKeysShareOneFetch) {
  validate_www();
  validate_www();
  validate_www();
  ASSERT_EQ(upstream_.calls.size(), 1u);
  EXPECT_EQ(validator_.pending(), 3u);
  answer(0);
  ASSERT_EQ(upstream_.calls.size(), 2u);
  answer(1);
  answer(2);
  ASSERT_EQ(reports_.size(), 3u);
  for (const auto& report : reports_) {
    EXPECT_EQ(report.verdict.verdict.status, dnssec::Status::kSecure);
    // Its own check only: the chain's are the validator's, counted once below.
    EXPECT_EQ(report.verdict.verifications.total, 1u);
  }
  // The shared fetches' checks (DNSKEY ., DS example., DNSKEY example.: one each) are in the
  // metric once, not once per answer that waited for them.
  WorkerSnapshot snapshot;
  validator_.snapshot_fill(snapshot, DnssecMode::kValidate);
  std::uint64_t chain_checks = 0;
  for (const std::uint64_t n : snapshot.queries.dnssec_verifications) chain_checks += n;
  EXPECT_EQ(chain_checks, 3u);
  EXPECT_EQ(snapshot.queries
                .dnssec_verifications[static_cast<std::size_t>(dnssec::AlgorithmSlot::kEcdsaP256)],
            3u)
      << "the tree signs with ECDSAP256SHA256 only";
}

TEST_F(ProxyDnssecValidatorTest, AFailedFetchFailsTheAnswersWaitingWithEde22) {
  validate_www();
  upstream_.fail(0, upstream::UpstreamError::kTimeout);
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_EQ(reports_[0].verdict.verdict.status, dnssec::Status::kIndeterminate);
  EXPECT_EQ(reports_[0].verdict.verdict.ede, dnssec::Ede::kNoReachableAuthority);
  EXPECT_NE(reports_[0].verdict.verdict.reason.find("timeout"), std::string::npos)
      << reports_[0].verdict.verdict.reason;
}

// An upstream that answers at once (inside resolve()) must not re-enter a validation that is
// still being stepped.
TEST_F(ProxyDnssecValidatorTest, AnAnswerThatComesBeforeResolveReturnsIsQueued) {
  struct Instant final : upstream::Upstream {
    const dnssec::testing::SignedTree* tree = nullptr;
    void resolve(std::span<const std::uint8_t>, const dns::Question& question,
                 Callback done) override {
      dnssec::ChainFetch fetch{question.qname_lower, question.qtype, {}};
      const auto reply = tree->fetch_answer(fetch);
      std::vector<std::uint8_t> wire;
      (void)dnssec::answer_records_write(*reply, true, false, wire);
      done(upstream::UpstreamResult(std::span<const std::uint8_t>(wire)));
    }
  } instant;
  instant.tree = &tree_;
  DnssecValidator validator(
      std::make_shared<const dnssec::ChainConfig>(tree_.config()), 1 << 20,
      [&](std::string_view) -> upstream::Upstream& { return instant; }, [] { return kNow; });
  std::optional<dnssec::Status> status;
  validator.validate(
      answer_make("www.example.", 1, 0,
                  signed_by(tree_.example(), {rr_parse("www.example. 300 IN A 192.0.2.1")})),
      [&](dnssec::AnswerRecords&&, const ValidationReport& report) {
        status = report.verdict.verdict.status;
      });
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, dnssec::Status::kSecure);
  EXPECT_EQ(validator.pending(), 0u);
}

}  // namespace
}  // namespace dp::proxy
