// records_check: ldns reads every record where our walk says it is, or the message is refused.
#include "dns/record_check.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dns/answer_check.h"
#include "dns/message.h"

namespace dp::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes from_hex(const std::string& hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// QR set, one question "Www.test." A IN, then `records` in the additional section.
Bytes answer_with_additional(const std::vector<Bytes>& records) {
  Bytes wire = {0, 1, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(records.size())};
  const Bytes question = {3, 'W', 'w', 'w', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
  wire.insert(wire.end(), question.begin(), question.end());
  for (const Bytes& rr : records) wire.insert(wire.end(), rr.begin(), rr.end());
  return wire;
}

// Root-owned record of `type` with `rdata` and an RDLENGTH of `rdlength`.
Bytes record(std::uint16_t type, const Bytes& rdata, std::uint16_t rdlength) {
  Bytes rr = {0,
              static_cast<std::uint8_t>(type >> 8),
              static_cast<std::uint8_t>(type),
              0,
              1,
              0,
              0,
              0,
              0,
              static_cast<std::uint8_t>(rdlength >> 8),
              static_cast<std::uint8_t>(rdlength)};
  rr.insert(rr.end(), rdata.begin(), rdata.end());
  return rr;
}

TEST(RecordCheck, GivesTheQuestionAsSent) {
  const auto checked = records_check(answer_with_additional({record(1, {192, 0, 2, 1}, 4)}));
  ASSERT_TRUE(checked.has_value());
  EXPECT_EQ(checked->name, std::string("\3Www\4test", 10));
  EXPECT_EQ(checked->qtype, 1);
  EXPECT_EQ(checked->qclass, 1);
}

TEST(RecordCheck, RefusesRdataThatLdnsReadsPastItsLength) {
  // A TSIG whose RDLENGTH ends one byte into its 6-byte time field: ldns reads the field
  // whole, out of the bytes that follow.
  const Bytes tsig_rdata = {3, 'a', 'l', 'g', 0, 0, 0, 0, 0, 0, 0, 1, 44, 0, 0, 0, 1, 0, 0, 0, 0};
  EXPECT_FALSE(records_check(answer_with_additional({record(250, tsig_rdata, 6)})).has_value());
  EXPECT_TRUE(records_check(answer_with_additional({record(250, tsig_rdata, 21)})).has_value());
}

// answer_check leaves the question it asked to itself and ldns only the records: the verdict
// must still be ldns's, record by record, as records_check gives it.
TEST(RecordCheck, AnswerCheckOfOurOwnQuestionStillRefusesWhatLdnsRefuses) {
  const Question asked{std::string("\3www\4test", 10), 1, 1};
  const Bytes tsig_rdata = {3, 'a', 'l', 'g', 0, 0, 0, 0, 0, 0, 0, 1, 44, 0, 0, 0, 1, 0, 0, 0, 0};
  for (const std::uint16_t rdlength : {6, 21}) {
    const Bytes wire = answer_with_additional({record(250, tsig_rdata, rdlength)});
    EXPECT_EQ(section_records_check(wire), records_check(wire).has_value()) << rdlength;
    EXPECT_EQ(answer_check(wire, asked).has_value(), records_check(wire).has_value()) << rdlength;
  }
  const Bytes short_a = answer_with_additional({record(1, {192, 0, 2}, 3)});  // A needs 4 bytes
  EXPECT_FALSE(records_check(short_a).has_value());
  EXPECT_EQ(answer_check(short_a, asked).error(), AnswerError::kMalformed);
}

// Answers of the shapes section_records_check judges without ldns (A, AAAA, root OPT; owners
// plain or pointing at the question), and some it hands to ldns, as upstreams send them.
std::vector<Bytes> answer_shapes() {
  const Bytes header = {0, 1, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 1};
  const Bytes question = {3, 'w', 'w', 'w', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
  const Bytes to_question = {0xc0, 12};
  const Bytes plain = {3, 'f', 'o', 'o', 4, 't', 'e', 's', 't', 0};
  auto rr = [](const Bytes& owner, std::uint16_t type, const Bytes& rdata) {
    Bytes out = owner;
    const Bytes fixed = {static_cast<std::uint8_t>(type >> 8),
                         static_cast<std::uint8_t>(type),
                         0,
                         1,
                         0,
                         0,
                         0x0e,
                         0x10,
                         0,
                         static_cast<std::uint8_t>(rdata.size())};
    out.insert(out.end(), fixed.begin(), fixed.end());
    out.insert(out.end(), rdata.begin(), rdata.end());
    return out;
  };
  const Bytes opt = {0, 0, 41, 4, 0xd0, 0, 0, 0x80, 0, 0, 8, 0, 12, 0, 4, 0, 0, 0, 0};
  const Bytes aaaa(16, 0x20);
  std::vector<std::vector<Bytes>> answers = {
      {rr(to_question, 1, {192, 0, 2, 1}), rr(to_question, 1, {192, 0, 2, 2}),
       rr(plain, 1, {192, 0, 2, 3})},
      {rr(to_question, 28, aaaa), rr(plain, 28, aaaa), rr(to_question, 1, {})},
      {rr(to_question, 5, plain), rr({0xc0, 26}, 1, {192, 0, 2, 1}),
       rr(plain, 16, {3, 'a', 'b', 'c'})},
  };
  std::vector<Bytes> out;
  for (const auto& records : answers) {
    Bytes wire = header;
    wire.insert(wire.end(), question.begin(), question.end());
    for (const Bytes& r : records) wire.insert(wire.end(), r.begin(), r.end());
    wire.insert(wire.end(), opt.begin(), opt.end());
    out.push_back(wire);
  }
  return out;
}

TEST(RecordCheck, WithoutLdnsForTheCommonRecordsTheVerdictIsStillLdnss) {
  std::mt19937 rng(20261202);  // seeded: the same inputs every run
  const std::uint8_t interesting[] = {0, 1, 4, 5, 12, 16, 26, 28, 41, 63, 64, 0x80, 0xc0, 0xff};
  int judged = 0;
  int refused = 0;
  for (const Bytes& shape : answer_shapes()) {
    ASSERT_TRUE(section_records_check_ldns(shape));
    ASSERT_TRUE(section_records_check(shape));
    for (int i = 0; i < 20'000; ++i) {
      Bytes wire = shape;
      for (int k = 1 + static_cast<int>(rng() % 3); k > 0; --k) {
        const std::size_t at = 12 + rng() % (wire.size() - 12);
        wire[at] = rng() % 2 == 0 ? interesting[rng() % sizeof interesting]
                                  : static_cast<std::uint8_t>(rng());
      }
      if (rng() % 8 == 0) wire.resize(12 + rng() % (wire.size() - 12));
      const bool expected = section_records_check_ldns(wire);
      ASSERT_EQ(section_records_check(wire), expected) << ::testing::PrintToString(wire);
      ++judged;
      refused += expected ? 0 : 1;
    }
  }
  EXPECT_GT(refused, judged / 10);  // the mutations reach both verdicts
  EXPECT_LT(refused, judged * 9 / 10);
}

// Found by dns_message_fuzz: ldns's parse runs off the records' bounds, sees a second TSIG and
// leaked the first (LeakSanitizer, in the sanitizer run of this test, would say so).
TEST(RecordCheck, FuzzFoundTsigLeakIsRefusedBeforeLdnsKeepsAnything) {
  Bytes wire = from_hex(
      "beef0100000100000000000b0000000001004700000000000000000000000000002cbeef01000001000000000000"
      "0454"
      "652f00000000010000000000000000002cbeef010000010000000000000454652f0000000001002b2c1234010000"
      "0000"
      "0000040000005c000000002c122f603d000000010000000000000000006b00000000010000fa0000000000000020"
      "2b2c"
      "12340100010000010000000000000454652f00000000010000000000000000002cbeef0100000100000000000004"
      "5465"
      "2f0000000001002b2c123401000000000000040000005c000000002c122f603d000000010000000000000000006b"
      "0000"
      "0000010000fa00000000000000202b2c123401000000000000040000005c000000002c122f603d00000000010000"
      "0000"
      "000000006b000000000100");
  EXPECT_FALSE(records_check(wire).has_value());
  EXPECT_EQ(query_parse(wire).error(), QueryError::kMalformed);
  wire[2] |= 0x80;
  const Question asked{std::string(1, '\0'), 0, 1};
  const auto checked = answer_check(wire, asked);
  ASSERT_FALSE(checked.has_value());
  EXPECT_EQ(checked.error(), AnswerError::kMalformed);
}

}  // namespace
}  // namespace dp::dns
