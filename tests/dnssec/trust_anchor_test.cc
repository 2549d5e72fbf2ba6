// Trust anchors: the root's two KSKs built in, and a file of DS or DNSKEY records read with
// its mistakes named by line.
#include "dnssec/trust_anchor.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/dnssec/test_signer.h"

namespace dp::dnssec {
namespace {

TEST(DnssecTrustAnchorTest, TheBuiltInAnchorsAreTheRootsKsk2017AndKsk2024) {
  const std::vector<TrustAnchor> anchors = trust_anchors_builtin();
  ASSERT_EQ(anchors.size(), 1u);
  EXPECT_EQ(anchors[0].owner, std::string(1, '\0'));
  ASSERT_EQ(anchors[0].ds.size(), 2u);
  EXPECT_EQ(anchors[0].ds[0].key_tag, 20326);
  EXPECT_EQ(anchors[0].ds[1].key_tag, 38696);
  for (const Ds& ds : anchors[0].ds) {
    EXPECT_EQ(ds.algorithm, 8);
    EXPECT_EQ(ds.digest_type, kDigestSha256);
    EXPECT_EQ(ds.digest.size(), 32u);
  }
  EXPECT_EQ(trust_anchors_describe(anchors), ". 2 DS (tags 20326 38696)");
}

// Debian's /usr/share/dns/root.ds, as it is.
TEST(DnssecTrustAnchorTest, DebiansRootDsFileParses) {
  const auto anchors = trust_anchors_parse(
      ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
      ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n");
  ASSERT_TRUE(anchors) << anchors.error();
  EXPECT_EQ(trust_anchors_describe(*anchors), trust_anchors_describe(trust_anchors_builtin()));
}

TEST(DnssecTrustAnchorTest, DnskeyRecordsCommentsAndOwnersGiveOneAnchorPerOwner) {
  const testing::TestKey key("example.", LDNS_SIGN_ECDSAP256SHA256);
  const testing::LdnsRrPtr rr(testing::rr_to_ldns(key.dnskey()));
  char* text = ldns_rr2str(rr.get());
  const std::string dnskey_line(text);
  free(text);  // NOLINT: ldns allocates with malloc
  const auto anchors = trust_anchors_parse(
      "; the lab's anchors\n\n$TTL 600\n" + dnskey_line +
      "test. 3600 IN DS 1 13 2 0000000000000000000000000000000000000000000000000000000000000000\n");
  ASSERT_TRUE(anchors) << anchors.error();
  ASSERT_EQ(anchors->size(), 2u);
  EXPECT_EQ((*anchors)[0].keys.size(), 1u);
  EXPECT_EQ((*anchors)[0].keys[0].key_tag, key.key_tag());
  EXPECT_EQ((*anchors)[1].ds.size(), 1u);
}

TEST(DnssecTrustAnchorTest, MistakesAreNamedByLine) {
  const auto garbage = trust_anchors_parse("; fine\n. IN DS 20326 8 2 not-hex\n");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().rfind("line 2: ", 0), 0u) << garbage.error();
  const auto wrong_type = trust_anchors_parse("www.example. IN A 192.0.2.1\n");
  ASSERT_FALSE(wrong_type);
  EXPECT_NE(wrong_type.error().find("only DS and DNSKEY"), std::string::npos);
  const auto empty = trust_anchors_parse("; nothing\n");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), "no DS or DNSKEY record");
}

TEST(DnssecKeyCacheTest, EntriesExpireAndTheOldestGoWhenOverBudget) {
  KeyCache cache(4096);
  ZoneEntry entry;
  entry.kind = ZoneKind::kNotACut;
  entry.expires = 100;
  cache.insert(testing::name_wire("a.example."), entry);
  ASSERT_NE(cache.find(testing::name_wire("a.example."), 99), nullptr);
  EXPECT_EQ(cache.find(testing::name_wire("a.example."), 100), nullptr);
  EXPECT_EQ(cache.entries(), 0u);
  for (int i = 0; i < 100; ++i) {
    cache.insert(testing::name_wire("n" + std::to_string(i) + ".example."), entry);
    EXPECT_LE(cache.bytes(), 4096u);
  }
  EXPECT_LT(cache.entries(), 100u);
  EXPECT_NE(cache.find(testing::name_wire("n99.example."), 1), nullptr);  // the newest stays
  EXPECT_EQ(cache.find(testing::name_wire("n0.example."), 1), nullptr);   // the oldest went
}

}  // namespace
}  // namespace dp::dnssec
