#include "dns/local_zones.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "dns/ldns_include.h"
#include "tests/dns/test_packets.h"

namespace dp::dns {
namespace {

using namespace ::dp::dns::testing;  // NOLINT: test helpers

using RdfPtr = CPtr<ldns_rdf, ldns_rdf_deep_free>;

constexpr std::uint16_t kTestId = 0x5a5a;

struct QueryOptions {
  bool rd = true;
  bool cd = false;
  bool edns = false;
  bool dnssec_ok = false;
  ldns_rr_class rr_class = LDNS_RR_CLASS_IN;
};

// A client query for `name` (case kept, as a client using 0x20 would send it).
Bytes query_wire(const std::string& name, ldns_rr_type type, QueryOptions options = {}) {
  ldns_pkt* raw = nullptr;
  EXPECT_EQ(ldns_pkt_query_new_frm_str(&raw, name.c_str(), type, options.rr_class,
                                       options.rd ? LDNS_RD : 0),
            LDNS_STATUS_OK);
  const PacketPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), kTestId);
  ldns_pkt_set_cd(pkt.get(), options.cd);
  if (options.edns) {
    ldns_pkt_set_edns_udp_size(pkt.get(), 4096);
    ldns_pkt_set_edns_do(pkt.get(), options.dnssec_ok);
  }
  return to_wire(pkt.get());
}

// The records of `section` as ldns prints them, without the trailing newline.
std::vector<std::string> records(const PacketPtr& pkt, ldns_pkt_section section) {
  std::vector<std::string> out;
  const ldns_rr_list* list = ldns_pkt_get_section_clone(pkt.get(), section);
  for (std::size_t i = 0; i < ldns_rr_list_rr_count(list); ++i) {
    char* text = ldns_rr2str(ldns_rr_list_rr(list, i));
    std::string line(text);
    std::free(text);  // NOLINT: ldns allocates with malloc
    if (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  ldns_rr_list_deep_free(const_cast<ldns_rr_list*>(list));  // NOLINT: the clone is ours
  return out;
}

std::string soa_of(const std::string& zone) {
  return zone + "\t10800\tIN\tSOA\t" + zone + " nobody.invalid. 1 3600 1200 604800 10800";
}

class DnsLocalZonesTest : public ::testing::Test {
 protected:
  // The local answer to `wire`, checked for what every local answer shares, parsed by ldns.
  PacketPtr local(const Bytes& wire) {
    const Query query = parsed(wire);
    const auto reply = zones_.answer(query);
    if (!reply) {
      ADD_FAILURE() << "not answered locally";
      return PacketPtr(ldns_pkt_new());
    }
    EXPECT_LE(reply->size(), kMaxUdpReplyNoEdns);
    PacketPtr pkt = ldns_parse(*reply);
    if (!pkt) return PacketPtr(ldns_pkt_new());
    EXPECT_EQ(ldns_pkt_id(pkt.get()), kTestId);
    EXPECT_TRUE(ldns_pkt_qr(pkt.get()));
    EXPECT_TRUE(ldns_pkt_aa(pkt.get()));
    EXPECT_TRUE(ldns_pkt_ra(pkt.get()));
    EXPECT_FALSE(ldns_pkt_tc(pkt.get()));
    EXPECT_FALSE(ldns_pkt_ad(pkt.get()));
    EXPECT_EQ(ldns_pkt_rd(pkt.get()), query.rd);
    EXPECT_EQ(ldns_pkt_cd(pkt.get()), query.cd);
    EXPECT_EQ(ldns_pkt_get_opcode(pkt.get()), LDNS_PACKET_QUERY);
    // The question bytes come back exactly as sent, case included.
    EXPECT_EQ(Bytes(reply->begin() + 12, reply->begin() + 12 + query.question_wire.size()),
              Bytes(query.question_wire.begin(), query.question_wire.end()));
    EXPECT_EQ(u16(*reply, 4), 1);
    EXPECT_EQ(ldns_pkt_edns(pkt.get()), query.has_edns);
    return pkt;
  }

  bool is_local(const std::string& name, ldns_rr_type type = LDNS_RR_TYPE_A) const {
    return zones_.answer(parsed(query_wire(name, type))).has_value();
  }

  LocalZones zones_ = LocalZones::defaults();
};

TEST_F(DnsLocalZonesTest, LocalhostAIsLoopback) {
  const PacketPtr pkt = local(query_wire("localhost.", LDNS_RR_TYPE_A));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER),
            std::vector<std::string>{"localhost.\t10800\tIN\tA\t127.0.0.1"});
  EXPECT_TRUE(records(pkt, LDNS_SECTION_AUTHORITY).empty());
  EXPECT_TRUE(records(pkt, LDNS_SECTION_ADDITIONAL).empty());
}

TEST_F(DnsLocalZonesTest, LocalhostAaaaIsLoopback) {
  const PacketPtr pkt = local(query_wire("localhost.", LDNS_RR_TYPE_AAAA));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER),
            std::vector<std::string>{"localhost.\t10800\tIN\tAAAA\t::1"});
}

TEST_F(DnsLocalZonesTest, NameUnderLocalhostIsLoopback) {
  const PacketPtr pkt = local(query_wire("db.app.localhost.", LDNS_RR_TYPE_A));
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER),
            std::vector<std::string>{"db.app.localhost.\t10800\tIN\tA\t127.0.0.1"});
}

TEST_F(DnsLocalZonesTest, LocalhostMxIsNoDataWithSoa) {
  const PacketPtr pkt = local(query_wire("localhost.", LDNS_RR_TYPE_MX));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(records(pkt, LDNS_SECTION_ANSWER).empty());
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY), std::vector<std::string>{soa_of("localhost.")});
}

TEST_F(DnsLocalZonesTest, MxUnderLocalhostIsNoDataNotNxDomain) {
  const PacketPtr pkt = local(query_wire("mail.localhost.", LDNS_RR_TYPE_MX));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY), std::vector<std::string>{soa_of("localhost.")});
}

TEST_F(DnsLocalZonesTest, LocalhostAnyGetsBothAddressesAndSoa) {
  const PacketPtr pkt = local(query_wire("localhost.", LDNS_RR_TYPE_ANY));
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER),
            (std::vector<std::string>{"localhost.\t10800\tIN\tA\t127.0.0.1",
                                      "localhost.\t10800\tIN\tAAAA\t::1", soa_of("localhost.")}));
}

TEST_F(DnsLocalZonesTest, MixedCaseLocalhostMatchesAndEchoesCase) {
  const PacketPtr pkt = local(query_wire("LocalHost.", LDNS_RR_TYPE_A));
  const auto answer = records(pkt, LDNS_SECTION_ANSWER);
  ASSERT_EQ(answer.size(), 1u);
  // The owner points at the question, so it keeps the client's case (0x20 checks pass).
  EXPECT_EQ(answer[0], "LocalHost.\t10800\tIN\tA\t127.0.0.1");
  EXPECT_TRUE(is_local("WWW.LOCALHOST."));
}

TEST_F(DnsLocalZonesTest, InvalidIsNxDomainWithSoa) {
  const PacketPtr pkt = local(query_wire("www.example.invalid.", LDNS_RR_TYPE_A));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(records(pkt, LDNS_SECTION_ANSWER).empty());
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY), std::vector<std::string>{soa_of("invalid.")});
}

TEST_F(DnsLocalZonesTest, InvalidApexIsNoData) {
  const PacketPtr pkt = local(query_wire("invalid.", LDNS_RR_TYPE_A));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY), std::vector<std::string>{soa_of("invalid.")});
}

TEST_F(DnsLocalZonesTest, HomeArpaIsNxDomainBelowTheApex) {
  PacketPtr pkt = local(query_wire("printer.home.arpa.", LDNS_RR_TYPE_AAAA));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY), std::vector<std::string>{soa_of("home.arpa.")});

  pkt = local(query_wire("home.arpa.", LDNS_RR_TYPE_NS));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(records(pkt, LDNS_SECTION_ANSWER).empty());
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY), std::vector<std::string>{soa_of("home.arpa.")});
}

TEST_F(DnsLocalZonesTest, PrivateV4ReverseIsNxDomainWithZoneSoa) {
  const PacketPtr pkt = local(query_wire("1.0.168.192.in-addr.arpa.", LDNS_RR_TYPE_PTR));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_TRUE(records(pkt, LDNS_SECTION_ANSWER).empty());
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY),
            std::vector<std::string>{soa_of("168.192.in-addr.arpa.")});
  EXPECT_EQ(ldns_pkt_nscount(pkt.get()), 1);
}

TEST_F(DnsLocalZonesTest, EveryRfc6303ZoneIsLocal) {
  for (int octet = 16; octet <= 31; ++octet) {
    EXPECT_TRUE(is_local("4.3.2." + std::to_string(octet) + ".172.in-addr.arpa.")) << octet;
  }
  for (const char* name :
       {"4.3.2.10.in-addr.arpa.", "4.3.2.0.in-addr.arpa.", "4.3.2.127.in-addr.arpa.",
        "4.3.254.169.in-addr.arpa.", "4.2.0.192.in-addr.arpa.", "4.100.51.198.in-addr.arpa.",
        "4.113.0.203.in-addr.arpa.", "255.255.255.255.in-addr.arpa.",
        "1.2.3.4.5.6.7.8.9.a.b.c.d.f.ip6.arpa.", "1.8.e.f.ip6.arpa.", "1.9.e.f.ip6.arpa.",
        "1.a.e.f.ip6.arpa.", "1.b.e.f.ip6.arpa.", "1.8.b.d.0.1.0.0.2.ip6.arpa.",
        "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.", "localhost.",
        "invalid.", "home.arpa."}) {
    EXPECT_TRUE(is_local(name, LDNS_RR_TYPE_PTR)) << name;
  }
  // Neighbours of the zones go upstream.
  for (const char* name :
       {"4.3.2.15.172.in-addr.arpa.", "4.3.2.32.172.in-addr.arpa.", "4.3.169.192.in-addr.arpa.",
        "4.3.2.11.in-addr.arpa.", "1.c.e.f.ip6.arpa.", "1.c.f.ip6.arpa.",
        "1.9.b.d.0.1.0.0.2.ip6.arpa.",
        "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
        "0.0.0.0.ip6.arpa.", "in-addr.arpa.", "arpa.", "ip6.arpa.", "."}) {
    EXPECT_FALSE(is_local(name, LDNS_RR_TYPE_PTR)) << name;
  }
}

TEST_F(DnsLocalZonesTest, V4LoopbackReverseIsLocalhost) {
  PacketPtr pkt = local(query_wire("1.0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER),
            std::vector<std::string>{"1.0.0.127.in-addr.arpa.\t10800\tIN\tPTR\tlocalhost."});
  EXPECT_TRUE(records(pkt, LDNS_SECTION_AUTHORITY).empty());

  // The name exists, so other types are NODATA; 2.0.0.127 does not.
  pkt = local(query_wire("1.0.0.127.in-addr.arpa.", LDNS_RR_TYPE_TXT));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY),
            std::vector<std::string>{soa_of("127.in-addr.arpa.")});
  pkt = local(query_wire("2.0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
}

TEST_F(DnsLocalZonesTest, AncestorOfLoopbackPtrIsNoDataNotNxDomain) {
  // RFC 8020: NXDOMAIN for 0.0.127.in-addr.arpa would deny 1.0.0.127.in-addr.arpa too.
  const PacketPtr pkt = local(query_wire("0.0.127.in-addr.arpa.", LDNS_RR_TYPE_PTR));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(records(pkt, LDNS_SECTION_ANSWER).empty());
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY),
            std::vector<std::string>{soa_of("127.in-addr.arpa.")});
}

TEST_F(DnsLocalZonesTest, V6LoopbackReverseIsLocalhost) {
  const std::string name =
      "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.";
  PacketPtr pkt = local(query_wire(name, LDNS_RR_TYPE_PTR));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER),
            std::vector<std::string>{name + "\t10800\tIN\tPTR\tlocalhost."});

  // The zone is that one name: its apex has the SOA, and nothing lies below it.
  pkt = local(query_wire(name, LDNS_RR_TYPE_SOA));
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER), std::vector<std::string>{soa_of(name)});
  pkt = local(query_wire("x." + name, LDNS_RR_TYPE_PTR));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY), std::vector<std::string>{soa_of(name)});
}

TEST_F(DnsLocalZonesTest, ApexSoaQueryGetsTheSoa) {
  const PacketPtr pkt = local(query_wire("168.192.in-addr.arpa.", LDNS_RR_TYPE_SOA));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER),
            std::vector<std::string>{soa_of("168.192.in-addr.arpa.")});
  EXPECT_TRUE(records(pkt, LDNS_SECTION_AUTHORITY).empty());
}

TEST_F(DnsLocalZonesTest, ApexOtherTypeIsNoData) {
  const PacketPtr pkt = local(query_wire("10.in-addr.arpa.", LDNS_RR_TYPE_NS));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NOERROR);
  EXPECT_TRUE(records(pkt, LDNS_SECTION_ANSWER).empty());
  EXPECT_EQ(records(pkt, LDNS_SECTION_AUTHORITY),
            std::vector<std::string>{soa_of("10.in-addr.arpa.")});
}

TEST_F(DnsLocalZonesTest, SoaOwnerKeepsTheClientsCase) {
  const PacketPtr pkt = local(query_wire("1.0.168.192.IN-ADDR.Arpa.", LDNS_RR_TYPE_PTR));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
  const ldns_rr_list* authority = ldns_pkt_authority(pkt.get());
  ASSERT_EQ(ldns_rr_list_rr_count(authority), 1u);
  const ldns_rr* soa = ldns_rr_list_rr(authority, 0);
  const RdfPtr zone(ldns_dname_new_frm_str("168.192.in-addr.arpa."));
  EXPECT_EQ(ldns_dname_compare(ldns_rr_owner(soa), zone.get()), 0);
  EXPECT_EQ(ldns_dname_compare(ldns_rr_rdf(soa, 0), zone.get()), 0);
}

TEST_F(DnsLocalZonesTest, MatchingIsOnLabelBoundaries) {
  EXPECT_FALSE(is_local("x10.in-addr.arpa.", LDNS_RR_TYPE_PTR));
  EXPECT_FALSE(is_local("10.in-addr.arpa.example.", LDNS_RR_TYPE_PTR));
  EXPECT_FALSE(is_local("notlocalhost."));
  EXPECT_FALSE(is_local("localhost.example."));
  EXPECT_FALSE(is_local("myhome.arpa."));
  EXPECT_FALSE(is_local("www.example.com."));
  // The label "x\00210" holds the bytes of a length byte and "10": only a byte-wise search
  // would find 10.in-addr.arpa's wire form in it.
  EXPECT_FALSE(is_local("x\\00210.in-addr.arpa.", LDNS_RR_TYPE_PTR));
  EXPECT_TRUE(is_local("x.10.in-addr.arpa.", LDNS_RR_TYPE_PTR));
}

TEST_F(DnsLocalZonesTest, NoneAnswersNothing) {
  const LocalZones none = LocalZones::none();
  for (const char* name : {"localhost.", "x.invalid.", "home.arpa.", "1.0.168.192.in-addr.arpa.",
                           "1.0.0.127.in-addr.arpa."}) {
    EXPECT_FALSE(none.answer(parsed(query_wire(name, LDNS_RR_TYPE_A))).has_value()) << name;
  }
}

TEST_F(DnsLocalZonesTest, EdnsClientGetsOurOpt) {
  const Bytes wire = query_wire("localhost.", LDNS_RR_TYPE_A, {.edns = true, .dnssec_ok = true});
  const auto reply = zones_.answer(parsed(wire));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(u16(*reply, 10), 1);  // ARCOUNT: the OPT and nothing else
  const PacketPtr pkt = local(wire);
  EXPECT_TRUE(ldns_pkt_edns(pkt.get()));
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), kMaxUdpReplyEdns);
  EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
  EXPECT_EQ(ldns_pkt_edns_version(pkt.get()), 0);
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER).size(), 1u);
}

TEST_F(DnsLocalZonesTest, NxDomainWithEdnsKeepsRcode) {
  const PacketPtr pkt = local(query_wire("a.invalid.", LDNS_RR_TYPE_A, {.edns = true}));
  EXPECT_EQ(ldns_pkt_get_rcode(pkt.get()), LDNS_RCODE_NXDOMAIN);
  EXPECT_FALSE(ldns_pkt_edns_do(pkt.get()));
}

TEST_F(DnsLocalZonesTest, NoEdnsMeansNoOpt) {
  const Query query = parsed(query_wire("localhost.", LDNS_RR_TYPE_A));
  const auto reply = zones_.answer(query);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(u16(*reply, 10), 0);
}

TEST_F(DnsLocalZonesTest, FlagsEchoed) {
  PacketPtr pkt = local(query_wire("localhost.", LDNS_RR_TYPE_A, {.rd = false, .cd = true}));
  EXPECT_FALSE(ldns_pkt_rd(pkt.get()));
  EXPECT_TRUE(ldns_pkt_cd(pkt.get()));
  pkt = local(query_wire("localhost.", LDNS_RR_TYPE_A, {.rd = true, .cd = false}));
  EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
  EXPECT_FALSE(ldns_pkt_cd(pkt.get()));
}

TEST_F(DnsLocalZonesTest, ChaosClassInLocalZoneIsRefused) {
  const Query query =
      parsed(query_wire("localhost.", LDNS_RR_TYPE_TXT, {.rr_class = LDNS_RR_CLASS_CH}));
  const auto reply = zones_.answer(query);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(ldns_pkt_get_rcode(ldns_parse(*reply).get()), LDNS_RCODE_REFUSED);
  EXPECT_FALSE(zones_
                   .answer(parsed(query_wire("version.bind.", LDNS_RR_TYPE_TXT,
                                             {.rr_class = LDNS_RR_CLASS_CH})))
                   .has_value());
}

TEST_F(DnsLocalZonesTest, LongestNameFitsUdp) {
  // A 255-byte name under localhost. (the longest there is), ANY, EDNS: the biggest reply.
  std::string name;
  const std::string label(61, 'a');
  for (int i = 0; i < 3; ++i) name += label + ".";
  name += std::string(57, 'b') + ".localhost.";
  const Bytes wire = query_wire(name, LDNS_RR_TYPE_ANY, {.edns = true});
  const Query query = parsed(wire);
  ASSERT_EQ(query.question.qname_lower.size(), 255u);
  const PacketPtr pkt = local(wire);
  EXPECT_EQ(records(pkt, LDNS_SECTION_ANSWER).size(), 2u);  // A and AAAA; not the apex
}

}  // namespace
}  // namespace dp::dns
