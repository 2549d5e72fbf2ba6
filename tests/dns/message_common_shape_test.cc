// The common-shape reader of query_parse against ldns: for every message it accepts, it must
// give what ldns gives (the same Query, or the same error); everything else it hands to ldns.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "dns/message.h"

namespace dp::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes query_wire(const Bytes& name, std::uint16_t qtype = 1, std::uint16_t qclass = 1) {
  Bytes wire = {0x12, 0x34, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0};  // RD, CD
  wire.insert(wire.end(), name.begin(), name.end());
  wire.insert(wire.end(),
              {static_cast<std::uint8_t>(qtype >> 8), static_cast<std::uint8_t>(qtype),
               static_cast<std::uint8_t>(qclass >> 8), static_cast<std::uint8_t>(qclass)});
  return wire;
}

const Bytes kName = {3, 'W', 'w', 'W', 7, 'e', 'X', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0};

// Appends an OPT RR with `options` as RDATA and bumps ARCOUNT.
void add_opt(Bytes& wire, std::uint16_t udp_size, std::uint8_t version, bool dnssec_ok,
             const Bytes& options = {}) {
  wire.insert(
      wire.end(),
      {0, 0, 41, static_cast<std::uint8_t>(udp_size >> 8), static_cast<std::uint8_t>(udp_size), 0,
       version, static_cast<std::uint8_t>(dnssec_ok ? 0x80 : 0), 0,
       static_cast<std::uint8_t>(options.size() >> 8), static_cast<std::uint8_t>(options.size())});
  wire.insert(wire.end(), options.begin(), options.end());
  ++wire[11];
}

// A name of `total` wire bytes (root label included), in labels of up to 63 bytes.
Bytes long_name(std::size_t total) {
  Bytes name;
  std::size_t left = total - 1;
  while (left > 0) {
    const std::size_t label = std::min<std::size_t>(63, left - 1);
    name.push_back(static_cast<std::uint8_t>(label));
    name.insert(name.end(), label, 'a');
    left -= label + 1;
  }
  name.push_back(0);
  return name;
}

// Both halves agree on `wire`; returns whether the common shape took it.
bool agree(const Bytes& wire) {
  const auto common = query_parse_common_shape(wire);
  const auto full = query_parse_ldns(wire);
  if (!common) return false;
  EXPECT_EQ(common->has_value(), full.has_value());
  if (common->has_value() && full.has_value()) {
    EXPECT_TRUE(**common == *full);
  } else if (!common->has_value() && !full.has_value()) {
    EXPECT_EQ(query_error_name(common->error()), query_error_name(full.error()));
  }
  return true;
}

TEST(QueryCommonShape, ReadsPlainAndEdnsQueriesAsLdnsDoes) {
  Bytes plain = query_wire(kName);
  ASSERT_TRUE(agree(plain));
  const auto parsed = **query_parse_common_shape(plain);
  EXPECT_EQ(parsed.id, 0x1234);
  EXPECT_TRUE(parsed.rd);
  EXPECT_TRUE(parsed.cd);
  EXPECT_FALSE(parsed.has_edns);
  EXPECT_EQ(parsed.question.qname_lower, std::string("\3www\7example\3com", 17));

  Bytes edns = query_wire(kName, 28);
  add_opt(edns, 4096, 0, true, {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8});  // a client cookie
  ASSERT_TRUE(agree(edns));
  const auto with_opt = **query_parse_common_shape(edns);
  EXPECT_TRUE(with_opt.has_edns);
  EXPECT_TRUE(with_opt.dnssec_ok);
  EXPECT_EQ(with_opt.edns_udp_size, 4096);
  EXPECT_EQ(with_opt.question.qtype, 28);
}

TEST(QueryCommonShape, GivesTheSameErrorsAsLdns) {
  Bytes bad_version = query_wire(kName);
  add_opt(bad_version, 1232, 1, false);
  ASSERT_TRUE(agree(bad_version));
  EXPECT_EQ(query_parse_common_shape(bad_version)->error(), QueryError::kBadEdnsVersion);
  for (const std::uint16_t qtype : {251, 252}) ASSERT_TRUE(agree(query_wire(kName, qtype)));
  ASSERT_TRUE(agree(query_wire(kName, 1, 4)));  // class HS: REFUSED
  ASSERT_TRUE(agree(query_wire(Bytes{0})));     // the root
}

TEST(QueryCommonShape, NameLengthLimitIsLdnsOwn) {
  EXPECT_TRUE(agree(query_wire(long_name(255))));
  EXPECT_FALSE(agree(query_wire(long_name(256))));  // over RFC 1035's limit: ldns decides
  EXPECT_FALSE(query_parse(query_wire(long_name(256))).has_value());
}

TEST(QueryCommonShape, LeavesEverythingElseToLdns) {
  Bytes pointer = query_wire(Bytes{0xc0, 0x0c});
  Bytes trailing = query_wire(kName);
  trailing.push_back(0);
  Bytes two_opts = query_wire(kName);
  add_opt(two_opts, 1232, 0, false);
  add_opt(two_opts, 1232, 0, false);
  Bytes opt_named = query_wire(kName);
  add_opt(opt_named, 1232, 0, false);
  opt_named[kName.size() + 16] = 1;  // the OPT's owner is no longer the root
  Bytes bad_options = query_wire(kName);
  add_opt(bad_options, 1232, 0, false, {0, 10, 0, 9, 1});  // option longer than its RDATA
  for (const Bytes& wire : {pointer, trailing, two_opts, opt_named, bad_options}) {
    EXPECT_FALSE(query_parse_common_shape(wire).has_value());
    const auto via_parse = query_parse(wire);
    const auto via_ldns = query_parse_ldns(wire);
    ASSERT_EQ(via_parse.has_value(), via_ldns.has_value());
    if (!via_ldns.has_value()) {
      EXPECT_EQ(via_parse.error(), via_ldns.error());
    }
  }
  EXPECT_EQ(query_parse(two_opts).error(), QueryError::kDuplicateOpt);
}

// Seeded mutations of valid queries: wherever the common shape answers, ldns answers the same.
TEST(QueryCommonShape, AgreesWithLdnsOnMutatedQueries) {
  Bytes edns = query_wire(kName);
  add_opt(edns, 1232, 0, true, {0, 12, 0, 2, 0, 0});
  const std::vector<Bytes> seeds = {query_wire(kName), edns, query_wire(long_name(255), 16, 3)};
  std::mt19937 rng(20261202);
  int taken = 0;
  constexpr int kRounds = 60000;
  for (int i = 0; i < kRounds; ++i) {
    Bytes wire = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 4) {
        case 0:
          wire[rng() % wire.size()] = static_cast<std::uint8_t>(rng());
          break;
        case 1:
          wire[rng() % wire.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
          break;
        case 2:
          if (wire.size() > 1) wire.resize(rng() % wire.size());
          break;
        default:
          wire.push_back(static_cast<std::uint8_t>(rng()));
      }
      if (wire.empty()) wire.push_back(0);
    }
    if (agree(wire)) ++taken;
    if (::testing::Test::HasFailure()) FAIL() << "diverged at mutation " << i;
  }
  EXPECT_GT(taken, kRounds / 5);  // the comparison ran on a good share of the inputs
}

}  // namespace
}  // namespace dp::dns
