// records: RRSIG/DNSKEY/DS parsing, key tags and DS digests against ldns, wire-name helpers.
#include "dnssec/records.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dnssec/signature_check.h"
#include "dnssec/status.h"
#include "tests/dnssec/test_signer.h"

namespace dp::dnssec {
namespace {

using testing::name_wire;
using testing::rr_parse;
using testing::TestKey;

TEST(DnssecRecordsTest, KeyTagIsLdnsKeyTag) {
  for (const auto algorithm :
       {LDNS_SIGN_RSASHA256, LDNS_SIGN_ECDSAP256SHA256, LDNS_SIGN_ED25519, LDNS_SIGN_ED448}) {
    const TestKey key("example.", algorithm, 257);
    const testing::LdnsRrPtr rr(ldns_key2rr(key.get()));
    const auto parsed = dnskey_parse(key.dnskey().rdata);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(parsed->key_tag, ldns_calc_keytag(rr.get()));
    EXPECT_EQ(parsed->flags, 257);
    EXPECT_EQ(parsed->protocol, 3);
    EXPECT_EQ(parsed->algorithm, static_cast<std::uint8_t>(algorithm));
    EXPECT_TRUE(parsed->usable_zone_key());
  }
}

TEST(DnssecRecordsTest, DnskeyPrepareDecodesOnceAndCopiesShareIt) {
  for (const auto algorithm : {LDNS_SIGN_RSASHA256, LDNS_SIGN_RSASHA512, LDNS_SIGN_ECDSAP256SHA256,
                               LDNS_SIGN_ECDSAP384SHA384, LDNS_SIGN_ED25519, LDNS_SIGN_ED448}) {
    Dnskey key = TestKey("example.", algorithm, 256).parsed();
    EXPECT_EQ(key.prepared, nullptr);  // dnskey_parse leaves it to the caller
    ASSERT_TRUE(dnskey_prepare(key)) << algorithm;
    ASSERT_NE(key.prepared, nullptr);
    EXPECT_EQ(key.prepared->algorithm(), static_cast<std::uint8_t>(algorithm));
    EXPECT_TRUE(key.prepared->prepared_from(key.algorithm, key.public_key()));
    const PreparedKey* first = key.prepared.get();
    EXPECT_TRUE(dnskey_prepare(key));
    EXPECT_EQ(key.prepared.get(), first);  // already prepared: kept
    const Dnskey copy = key;               // copyable; the copy shares the decoded key
    EXPECT_EQ(copy.prepared.get(), first);
  }
}

TEST(DnssecRecordsTest, DnskeyPrepareFollowsTheRdata) {
  const TestKey one("example.", LDNS_SIGN_ED25519, 256);
  const TestKey two("example.", LDNS_SIGN_ED25519, 256);
  Dnskey key = one.parsed();
  ASSERT_TRUE(dnskey_prepare(key));
  const Dnskey other = two.parsed();
  key.rdata = other.rdata;  // the same object now holds another key: prepared again
  EXPECT_FALSE(key.prepared->prepared_from(key.algorithm, key.public_key()));
  ASSERT_TRUE(dnskey_prepare(key));
  EXPECT_TRUE(key.prepared->prepared_from(key.algorithm, key.public_key()));
}

TEST(DnssecRecordsTest, DnskeyPrepareRefusesWhatNoSignatureCouldUse) {
  Dnskey sha1 = TestKey("example.", LDNS_SIGN_RSASHA1, 256).parsed();
  EXPECT_FALSE(dnskey_prepare(sha1));  // RFC 9905: SHA-1 is not validated
  EXPECT_EQ(sha1.prepared, nullptr);

  Dnskey ed = TestKey("example.", LDNS_SIGN_ED25519, 256).parsed();
  ASSERT_TRUE(dnskey_prepare(ed));
  ed.rdata.pop_back();  // 31 bytes: no Ed25519 key (RFC 8080 §3), and the old one is dropped
  EXPECT_FALSE(dnskey_prepare(ed));
  EXPECT_EQ(ed.prepared, nullptr);

  Dnskey empty;
  EXPECT_FALSE(dnskey_prepare(empty));
  EXPECT_EQ(empty.prepared, nullptr);
}

// The root's KSK-2017 and KSK-2024 and their DS records, as Debian's dns-root-data ships them:
// fixed vectors for the key tag and the DS digest, made by no code of ours.
TEST(DnssecRecordsTest, RootKeysHaveTheirPublishedTagsAndDigests) {
  const Rr ksk2017 = rr_parse(
      ". IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7Hrx"
      "RixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVL"
      "rjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjV"
      "c1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUT"
      "V74bU=");
  const Rr ksk2024 = rr_parse(
      ". IN DNSKEY 257 3 8 AwEAAa96jeuknZlaeSrvyAJj6ZHv28hhOKkx3rLGXVaC6rXTsDc449/cidltpkyGwCJN"
      "nOAlFNKF2jBosZBU5eeHspaQWOmOElZsjICMQMC3aeHbGiShvZsx4wMYSjH8e7Vrhbu6irwCzVBApESjbUdpWWmEnh"
      "athWu1jo+siFUiRAAxm9qyJNg/wOZqqzL/dL/q8PkcRU5oUKEpUge71M3ej2/7CPqpdVwuMoTvoB+ZOT4YeGyxMvHmb"
      "rxlFzGOHOijtzN+u1TQNatX2XBuzZNQ1K+s2CXkPIZo7s6JgZyvaBevYtxPvYLw4z9mR7K2vaF18UYH9Z9GNUUeayff"
      "KC73PYc=");
  const Rr ds2017 = rr_parse(
      ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D");
  const Rr ds2024 = rr_parse(
      ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16");
  const Dnskey key2017 = *dnskey_parse(ksk2017.rdata);
  const Dnskey key2024 = *dnskey_parse(ksk2024.rdata);
  EXPECT_EQ(key2017.key_tag, 20326);
  EXPECT_EQ(key2024.key_tag, 38696);
  EXPECT_TRUE(ds_matches(*ds_parse(ds2017.rdata), name_wire("."), key2017));
  EXPECT_TRUE(ds_matches(*ds_parse(ds2024.rdata), name_wire("."), key2024));
  EXPECT_FALSE(ds_matches(*ds_parse(ds2017.rdata), name_wire("."), key2024));
}

TEST(DnssecRecordsTest, FlagsDecideUsability) {
  Dnskey key = TestKey("example.", LDNS_SIGN_ED25519, 256).parsed();
  EXPECT_TRUE(key.usable_zone_key());
  key.flags = 0;
  EXPECT_FALSE(key.usable_zone_key());
  key.flags = 256 | Dnskey::kFlagRevoke;
  EXPECT_FALSE(key.usable_zone_key());
  key.flags = 256;
  key.protocol = 2;
  EXPECT_FALSE(key.usable_zone_key());
}

TEST(DnssecRecordsTest, RrsigParseReadsEveryField) {
  const TestKey key("Example.", LDNS_SIGN_ED25519, 256);
  const Rr sig = key.sign({rr_parse("www.example. 300 IN A 192.0.2.1")});
  const auto parsed = rrsig_parse(sig.rdata);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->type_covered, 1);
  EXPECT_EQ(parsed->algorithm, 15);
  EXPECT_EQ(parsed->labels, 2);
  EXPECT_EQ(parsed->original_ttl, 300U);
  EXPECT_EQ(parsed->inception, testing::kInception);
  EXPECT_EQ(parsed->expiration, testing::kExpiration);
  EXPECT_EQ(parsed->key_tag, key.key_tag());
  EXPECT_EQ(parsed->signer, name_wire("example."));  // ldns lowers the signer it writes
  EXPECT_EQ(parsed->signature.size(), 64U);
}

TEST(DnssecRecordsTest, MalformedRdataIsRefused) {
  const TestKey key("example.", LDNS_SIGN_ED25519, 256);
  const Rr sig = key.sign({rr_parse("www.example. 300 IN A 192.0.2.1")});
  EXPECT_FALSE(rrsig_parse(std::span(sig.rdata).first(17)).has_value());
  EXPECT_FALSE(rrsig_parse(std::span(sig.rdata).first(18 + 9)).has_value());  // no signature
  Bytes pointer(sig.rdata.begin(), sig.rdata.begin() + 18);
  pointer.insert(pointer.end(), {0xc0, 0x0c, 1, 2, 3});  // a compressed signer
  EXPECT_FALSE(rrsig_parse(pointer).has_value());
  EXPECT_FALSE(dnskey_parse(Bytes{1, 1, 3, 15}).has_value());
  EXPECT_FALSE(ds_parse(Bytes{0, 1, 8, 2}).has_value());
}

TEST(DnssecRecordsTest, DsMatchesLdnsDigestsIgnoringOwnerCase) {
  const TestKey key("example.", LDNS_SIGN_ECDSAP256SHA256, 257);
  const Dnskey dnskey = key.parsed();
  for (const auto hash : {LDNS_SHA1, LDNS_SHA256, LDNS_SHA384}) {
    const Ds ds = key.ds(hash);
    EXPECT_TRUE(ds_matches(ds, name_wire("example."), dnskey)) << hash;
    EXPECT_TRUE(ds_matches(ds, name_wire("EXAMPLE."), dnskey)) << hash;
    EXPECT_FALSE(ds_matches(ds, name_wire("example.org."), dnskey)) << hash;
    Ds wrong_tag = ds;
    ++wrong_tag.key_tag;
    EXPECT_FALSE(ds_matches(wrong_tag, name_wire("example."), dnskey));
    Ds truncated = ds;
    truncated.digest.pop_back();
    EXPECT_FALSE(ds_matches(truncated, name_wire("example."), dnskey));
  }
  Ds gost = key.ds(LDNS_SHA256);
  gost.digest_type = 3;
  EXPECT_FALSE(ds_matches(gost, name_wire("example."), dnskey));
  EXPECT_FALSE(digest_supported(3));
  EXPECT_TRUE(digest_supported(1) && digest_supported(2) && digest_supported(4));
}

TEST(DnssecRecordsTest, NameHelpers) {
  EXPECT_EQ(name_label_count(name_wire(".")), 0U);
  EXPECT_EQ(name_label_count(name_wire("www.example.")), 2U);
  EXPECT_EQ(name_label_count(name_wire("*.example.")), 1U);  // RFC 4034 §3.1.3
  EXPECT_EQ(name_label_count(name_wire("a.*.example.")), 3U);

  EXPECT_TRUE(name_is_under(name_wire("www.Example."), name_wire("example.")));
  EXPECT_TRUE(name_is_under(name_wire("example."), name_wire("EXAMPLE.")));
  EXPECT_TRUE(name_is_under(name_wire("example."), name_wire(".")));
  EXPECT_FALSE(name_is_under(name_wire("www.example."), name_wire("xample.")));
  EXPECT_FALSE(name_is_under(name_wire("example."), name_wire("www.example.")));
  EXPECT_FALSE(name_is_under(name_wire("wwwexample."), name_wire("example.")));

  EXPECT_EQ(name_suffix(name_wire("a.b.example."), 1), name_wire("example."));
  EXPECT_EQ(name_suffix(name_wire("a.b.example."), 0), name_wire("."));
  EXPECT_EQ(name_suffix(name_wire("example."), 5), name_wire("example."));

  EXPECT_TRUE(name_valid(name_wire("www.example.")));
  EXPECT_FALSE(name_valid(std::string("\3www", 4)));     // no root
  EXPECT_FALSE(name_valid(std::string("\xc0\x0c", 2)));  // a pointer
  EXPECT_FALSE(name_valid(std::string("\1a\0\0", 4)));   // bytes after the root
  EXPECT_FALSE(name_valid(std::string(1, '\x40') + std::string(64, 'a') + std::string(1, '\0')));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(1, '\x3f') + std::string(63, 'a');
  long_name.push_back('\0');
  EXPECT_FALSE(name_valid(long_name));  // 321 bytes

  EXPECT_EQ(name_lower(name_wire("WwW.Example.")), name_wire("www.example."));
  EXPECT_TRUE(name_equal(name_wire("WwW.Example."), name_wire("www.EXAMPLE.")));
  EXPECT_EQ(name_to_text(name_wire("www.example.")), "www.example.");
  EXPECT_EQ(name_to_text(name_wire(".")), ".");
}

// RFC 4034 §6.1's own example, in order.
TEST(DnssecRecordsTest, NameCompareIsTheCanonicalOrder) {
  const std::vector<std::string> ordered = {
      "example.",   "a.example.",       "yljkjljk.a.example.", "Z.a.example.",    "zABC.a.EXAMPLE.",
      "z.example.", "\\001.z.example.", "*.z.example.",        "\\200.z.example."};
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    for (std::size_t j = 0; j < ordered.size(); ++j) {
      const int got = name_compare(name_wire(ordered[i]), name_wire(ordered[j]));
      const int want = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(got < 0 ? -1 : (got > 0 ? 1 : 0), want) << ordered[i] << " vs " << ordered[j];
    }
  }
  EXPECT_EQ(name_compare(name_wire("A.Example."), name_wire("a.example.")), 0);
  EXPECT_LT(name_compare(name_wire("."), name_wire("com.")), 0);
  // Labels compare as bytes, not as text: "b" sorts after "a.b"'s leftmost but the right
  // labels decide first.
  EXPECT_LT(name_compare(name_wire("z.a."), name_wire("a.b.")), 0);
}

TEST(DnssecRecordsTest, NameCommonLabelsAndParent) {
  EXPECT_EQ(name_common_labels(name_wire("a.b.example."), name_wire("c.B.Example.")), 2U);
  EXPECT_EQ(name_common_labels(name_wire("a.example."), name_wire("a.other.")), 0U);
  EXPECT_EQ(name_common_labels(name_wire("ab.example."), name_wire("b.example.")), 1U);
  EXPECT_EQ(name_common_labels(name_wire("*.example."), name_wire("*.example.")), 2U);
  EXPECT_EQ(name_parent(name_wire("a.example.")), name_wire("example."));
  EXPECT_EQ(name_parent(name_wire(".")), name_wire("."));
}

// RFC 5155 Appendix A: salt aabbccdd, 12 iterations.
TEST(DnssecRecordsTest, Nsec3HashMatchesRfc5155) {
  const Bytes salt{0xaa, 0xbb, 0xcc, 0xdd};
  const auto h = [&](std::string_view name) {
    return base32hex_encode(nsec3_hash(name_wire(name), salt, 12));
  };
  EXPECT_EQ(h("example."), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
  EXPECT_EQ(h("EXAMPLE."), "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom");
  EXPECT_EQ(h("a.example."), "35mthgpgcu1qg68fab165klnsnk3dpvl");
  EXPECT_EQ(h("ns1.example."), "2t7b4g4vsa5smi47k61mv5bv1a22bojr");
  EXPECT_EQ(h("*.w.example."), "r53bq7cc2uvmubfu5ocmm6pers9tk9en");
  EXPECT_EQ(h("x.y.w.example."), "2vptu5timamqttgl4luu9kg21e0aor3s");
  // And as ldns computes it, with another salt and count.
  const Bytes salt2{0x01, 0x02};
  const testing::LdnsRdfPtr name = testing::dname_new("Some.Name.Example.");
  Bytes salt_copy = salt2;
  const testing::LdnsRdfPtr hashed(ldns_nsec3_hash_name(
      name.get(), 1, 3, static_cast<std::uint8_t>(salt_copy.size()), salt_copy.data()));
  ASSERT_TRUE(hashed);
  const std::string label(reinterpret_cast<const char*>(ldns_rdf_data(hashed.get())) + 1,
                          ldns_rdf_data(hashed.get())[0]);
  EXPECT_EQ(name_lower(label),
            base32hex_encode(nsec3_hash(name_wire("Some.Name.Example."), salt2, 3)));
  EXPECT_EQ(nsec3_hash(name_wire("example."), {}, 0).size(), 20U);
}

TEST(DnssecRecordsTest, Base32HexRoundTripsAndRejectsJunk) {
  const Bytes data{0x00, 0x01, 0x7f, 0x80, 0xff, 0x10, 0x20};
  for (std::size_t n = 0; n <= data.size(); ++n) {
    const Bytes part(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    const auto back = base32hex_decode(base32hex_encode(part));
    ASSERT_TRUE(back.has_value()) << n;
    EXPECT_EQ(*back, part);
  }
  EXPECT_EQ(base32hex_decode("0P9MHAVEQVM6T7VBL5LOP2U3T2RP3TOM"),
            base32hex_decode("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom"));
  EXPECT_EQ(base32hex_decode("0p9mhaveqvm6t7vbl5lop2u3t2rp3tom")->size(), 20U);
  EXPECT_FALSE(base32hex_decode("w0").has_value());   // outside the alphabet
  EXPECT_FALSE(base32hex_decode("0").has_value());    // 5 bits: no byte
  EXPECT_FALSE(base32hex_decode("01").has_value());   // trailing bits not zero
  EXPECT_FALSE(base32hex_decode("000").has_value());  // 15 bits: a character too many
}

TEST(DnssecRecordsTest, NsecParseAndTypeBitmaps) {
  const Rr rr = rr_parse("a.example. IN NSEC B.example. A MX RRSIG NSEC TYPE1234");
  const auto nsec = nsec_parse(rr.rdata);
  ASSERT_TRUE(nsec.has_value());
  EXPECT_EQ(nsec->next, name_wire("B.example."));  // case kept (RFC 6840 §5.1)
  EXPECT_TRUE(type_bitmap_has(nsec->types, 1));
  EXPECT_TRUE(type_bitmap_has(nsec->types, 15));
  EXPECT_TRUE(type_bitmap_has(nsec->types, kTypeRrsig));
  EXPECT_TRUE(type_bitmap_has(nsec->types, kTypeNsec));
  EXPECT_TRUE(type_bitmap_has(nsec->types, 1234));
  EXPECT_FALSE(type_bitmap_has(nsec->types, 28));
  EXPECT_FALSE(type_bitmap_has(nsec->types, 1235));
  EXPECT_FALSE(type_bitmap_has(nsec->types, 0xff01));  // a window that is not there
  EXPECT_FALSE(type_bitmap_has(nsec->types, 400));     // past the window's bytes

  EXPECT_TRUE(type_bitmap_valid({}));
  const Bytes descending{4, 1, 0x80, 0, 1, 0x40};
  const Bytes empty_window{0, 0};
  const Bytes too_long{0, 33};
  const Bytes truncated{0, 2, 0x40};
  const Bytes lone{0};
  for (const Bytes& bad : {descending, empty_window, too_long, truncated, lone}) {
    EXPECT_FALSE(type_bitmap_valid(bad));
    const std::string next = name_wire("b.example.");
    Bytes rdata(next.begin(), next.end());
    rdata.insert(rdata.end(), bad.begin(), bad.end());
    EXPECT_FALSE(nsec_parse(rdata).has_value());
  }
  EXPECT_FALSE(nsec_parse(Bytes{0xc0, 0x0c}).has_value());
  EXPECT_FALSE(nsec_parse(Bytes{}).has_value());
}

TEST(DnssecRecordsTest, Nsec3ParseReadsEveryField) {
  // RFC 5155 Appendix A.
  const Rr rr = rr_parse(
      "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom.example. IN NSEC3 1 1 12 aabbccdd "
      "2t7b4g4vsa5smi47k61mv5bv1a22bojr MX DNSKEY NS SOA NSEC3PARAM RRSIG");
  const auto nsec3 = nsec3_parse(rr.rdata);
  ASSERT_TRUE(nsec3.has_value());
  EXPECT_EQ(nsec3->hash_algorithm, 1);
  EXPECT_TRUE(nsec3->opt_out());
  EXPECT_EQ(nsec3->iterations, 12);
  EXPECT_EQ(Bytes(nsec3->salt.begin(), nsec3->salt.end()), (Bytes{0xaa, 0xbb, 0xcc, 0xdd}));
  EXPECT_EQ(base32hex_encode(nsec3->next_hashed), "2t7b4g4vsa5smi47k61mv5bv1a22bojr");
  EXPECT_TRUE(type_bitmap_has(nsec3->types, kTypeSoa));
  EXPECT_FALSE(type_bitmap_has(nsec3->types, 1));
  for (std::size_t size = 0; size < 30; ++size) {  // every cut before the bitmap's end
    EXPECT_FALSE(nsec3_parse(std::span(rr.rdata).first(size)).has_value()) << size;
  }
  Bytes no_hash{1, 0, 0, 0, 0, 0};  // hash length 0
  EXPECT_FALSE(nsec3_parse(no_hash).has_value());
}

TEST(DnssecRecordsTest, StatusAndEdeNames) {
  EXPECT_EQ(status_name(Status::kBogus), "bogus");
  EXPECT_EQ(status_name(Status::kIndeterminate), "indeterminate");
  EXPECT_EQ(ede_name(Ede::kSignatureExpired), "signature_expired");
  EXPECT_EQ(static_cast<int>(Ede::kUnsupportedNsec3Iterations), 27);
  EXPECT_EQ(static_cast<int>(Ede::kNsecMissing), 12);
  EXPECT_EQ(static_cast<int>(Ede::kDnskeyMissing), 9);
}

}  // namespace
}  // namespace dp::dnssec
