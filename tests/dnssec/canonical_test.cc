// canonical: RFC 4034 §6 canonical form, and the signed bytes compared with those ldns builds.
#include "dnssec/canonical.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/dnssec/test_signer.h"

namespace dp::dnssec {
namespace {

using testing::name_wire;
using testing::rr_parse;
using testing::TestKey;

// `text`'s RDATA after rdata_canonicalize, compared with the RDATA of `lowered`.
void expect_lowered(const std::string& text, const std::string& lowered) {
  const Rr rr = rr_parse(text);
  Bytes rdata = rr.rdata;
  ASSERT_TRUE(rdata_canonicalize(rr.type, rdata)) << text;
  EXPECT_EQ(rdata, rr_parse(lowered).rdata) << text;
}

void expect_unchanged(const std::string& text) {
  const Rr rr = rr_parse(text);
  Bytes rdata = rr.rdata;
  ASSERT_TRUE(rdata_canonicalize(rr.type, rdata)) << text;
  EXPECT_EQ(rdata, rr.rdata) << text;
}

TEST(Canonical, NamesInListedTypesAreLowered) {
  expect_lowered("a. IN NS NS1.Example.", "a. IN NS ns1.example.");
  expect_lowered("a. IN CNAME Target.Example.", "a. IN CNAME target.example.");
  expect_lowered("a. IN DNAME Target.Example.", "a. IN DNAME target.example.");
  expect_lowered("a. IN PTR Host.Example.", "a. IN PTR host.example.");
  expect_lowered("a. IN MX 10 MAIL.Example.", "a. IN MX 10 mail.example.");
  expect_lowered("a. IN SOA NS.Example. Host.Example. 1 2 3 4 5",
                 "a. IN SOA ns.example. host.example. 1 2 3 4 5");
  expect_lowered("a. IN SRV 1 2 3 SIP.Example.", "a. IN SRV 1 2 3 sip.example.");
  expect_lowered("a. IN NAPTR 1 2 \"S\" \"SIP+D2U\" \"\" _SIP._udp.Example.",
                 "a. IN NAPTR 1 2 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.");
  expect_lowered("a. IN RP Mbox.Example. Txt.Example.", "a. IN RP mbox.example. txt.example.");
  expect_lowered("a. IN KX 1 KX.Example.", "a. IN KX 1 kx.example.");
  expect_lowered("a. IN AFSDB 1 AFS.Example.", "a. IN AFSDB 1 afs.example.");
}

TEST(Canonical, OtherTypesKeepTheirCase) {
  expect_unchanged("a. IN NSEC Next.Example. A RRSIG NSEC");  // RFC 6840 §5.1
  expect_unchanged("a. IN HINFO \"INTEL\" \"Linux\"");        // strings, not names
  expect_unchanged("a. IN TXT \"Mixed Case\"");
  expect_unchanged("a. IN A 192.0.2.1");
  expect_unchanged("a. IN CAA 0 issue \"Example.Net\"");
}

TEST(Canonical, RrsigSignerIsLowered) {
  const TestKey key("example.", LDNS_SIGN_ED25519, 256);
  Rr sig = key.sign({rr_parse("www.example. 300 IN A 192.0.2.1")});
  const Bytes lower = sig.rdata;
  sig.rdata[18 + 1] = 'E';  // "\7Example"
  Bytes rdata = sig.rdata;
  ASSERT_TRUE(rdata_canonicalize(kTypeRrsig, rdata));
  EXPECT_EQ(rdata, lower);
}

TEST(Canonical, MalformedNamesAreRefused) {
  Bytes mx = rr_parse("a. IN MX 10 mail.example.").rdata;
  mx.pop_back();  // no root label
  EXPECT_FALSE(rdata_canonicalize(15, mx));
  Bytes soa = rr_parse("a. IN SOA ns.example. host.example. 1 2 3 4 5").rdata;
  soa.resize(soa.size() - 1);  // a counter short
  EXPECT_FALSE(rdata_canonicalize(6, soa));
  Bytes pointer = {0, 10, 0xc0, 0x0c};  // MX with a compressed target
  EXPECT_FALSE(rdata_canonicalize(15, pointer));
  Bytes empty;
  EXPECT_FALSE(rdata_canonicalize(2, empty));
  EXPECT_TRUE(rdata_canonicalize(1, empty));  // an A is not ours to judge
}

TEST(Canonical, RdatasAreSortedAndDuplicatesDropped) {
  const std::vector<Rr> rrset = {rr_parse("a. IN TXT \"ab\""), rr_parse("a. IN TXT \"a\""),
                                 rr_parse("a. IN TXT \"b\""), rr_parse("a. IN TXT \"a\"")};
  const auto rdatas = rrset_canonical_rdatas(rrset);
  ASSERT_TRUE(rdatas.has_value());
  // As octet strings: \1a < \1b < \2ab (the length byte first).
  ASSERT_EQ(rdatas->size(), 3U);
  EXPECT_EQ((*rdatas)[0], rr_parse("a. IN TXT \"a\"").rdata);
  EXPECT_EQ((*rdatas)[1], rr_parse("a. IN TXT \"b\"").rdata);
  EXPECT_EQ((*rdatas)[2], rr_parse("a. IN TXT \"ab\"").rdata);
  // A prefix sorts first (RFC 4034 §6.3: absence of an octet sorts before a zero octet).
  const std::vector<Rr> prefix = {rr_parse("a. IN TYPE65280 \\# 2 0000"),
                                  rr_parse("a. IN TYPE65280 \\# 1 00")};
  const auto sorted = rrset_canonical_rdatas(prefix);
  ASSERT_TRUE(sorted.has_value());
  EXPECT_EQ((*sorted)[0].size(), 1U);
}

// The bytes we verify are the bytes ldns signs: an MX RRset in mixed case and any order.
TEST(Canonical, SignedDataIsWhatLdnsSigns) {
  const TestKey key("Example.", LDNS_SIGN_ED25519, 256);
  const std::vector<Rr> rrset = {rr_parse("EXAMPLE. 300 IN MX 20 Backup.EXAMPLE."),
                                 rr_parse("example. 300 IN MX 10 MAIL.example.")};
  const Rr sig_rr = key.sign(rrset);
  const Rrsig sig = *rrsig_parse(sig_rr.rdata);

  Bytes ours;
  signed_data_build(sig_rr.rdata, sig, rrset[0].owner, rrset[0].type, rrset[0].rclass,
                    *rrset_canonical_rdatas(rrset), ours);

  const testing::LdnsRrListPtr list = testing::rr_list_to_ldns(rrset);
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(list.get()); ++i) {
    ldns_rr2canonical(ldns_rr_list_rr(list.get(), i));
  }
  ldns_rr_list_sort(list.get());
  const testing::LdnsRrPtr ldns_sig = testing::rr_to_ldns(sig_rr);
  const testing::LdnsBufferPtr buffer(ldns_buffer_new(4096));
  ASSERT_EQ(ldns_rrsig2buffer_wire(buffer.get(), ldns_sig.get()), LDNS_STATUS_OK);
  ASSERT_EQ(ldns_rr_list2buffer_wire(buffer.get(), list.get()), LDNS_STATUS_OK);
  const Bytes theirs(ldns_buffer_begin(buffer.get()),
                     ldns_buffer_begin(buffer.get()) + ldns_buffer_position(buffer.get()));
  EXPECT_EQ(ours, theirs);
}

TEST(Canonical, WildcardOwnerIsRebuiltFromTheLabels) {
  const TestKey key("example.", LDNS_SIGN_ED25519, 256);
  const std::vector<Rr> wildcard = {rr_parse("*.example. 300 IN A 192.0.2.1")};
  const Rr sig_rr = key.sign(wildcard);
  const Rrsig sig = *rrsig_parse(sig_rr.rdata);
  Bytes from_wildcard;
  Bytes from_expansion;
  signed_data_build(sig_rr.rdata, sig, wildcard[0].owner, 1, 1, *rrset_canonical_rdatas(wildcard),
                    from_wildcard);
  signed_data_build(sig_rr.rdata, sig, name_wire("A.Deep.Example."), 1, 1,
                    *rrset_canonical_rdatas(wildcard), from_expansion);
  EXPECT_EQ(from_wildcard, from_expansion);
}

}  // namespace
}  // namespace dp::dnssec
